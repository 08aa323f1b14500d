// Entry point of the mnas libtorch addon.
#include "common.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  mnas::RegisterTensorFunctions(env, exports);
  mnas::RegisterOps(env, exports);
  mnas::RegisterOptimizers(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(mnas_torch, Init)
