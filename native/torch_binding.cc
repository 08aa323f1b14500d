// Entry point of the mnas libtorch addon.
#include "common.h"

namespace {

// node-addon-api turns only Napi::Error into a JS exception here; anything else would abort.
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  try {
    mnas::RegisterTensorFunctions(env, exports);
    mnas::RegisterOps(env, exports);
    mnas::RegisterOptimizers(env, exports);
    mnas::RegisterProcessGuard(env, exports);
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, std::string("mnas addon: ") + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string("mnas addon: ") + e.what());
  }
  return exports;
}

}  // namespace

NODE_API_MODULE(mnas_torch, Init)
