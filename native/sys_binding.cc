// System calls of the measuring process, in an addon of their own that does not load libtorch (a
// worker that only measures latency has no use for it): the CPU affinity of the calling thread.
// The core choice of a latency measurement (src/latency/core-choice.ts) pins the main thread to
// one core three or four times per measurement; util-linux's taskset costs a fork of the whole
// process each time (8 ms at 250 MB), this a system call.
#include <napi.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#if defined(__linux__)
#include <sched.h>
#endif

namespace {

// Every C++ exception becomes a JavaScript error; nothing is kept across a call into JavaScript.
template <typename F>
Napi::Value Guarded(const Napi::CallbackInfo& info, const char* name, F body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string(name) + ": " + e.what());
  }
}

#if defined(__linux__)
// setThreadAffinity(cores): restricts the calling thread to `cores` (core ids, a non-empty array).
Napi::Value SetThreadAffinity(const Napi::CallbackInfo& info) {
  return Guarded(info, "setThreadAffinity", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "setThreadAffinity: cores must be an array of core ids");
    Napi::Array cores = info[0].As<Napi::Array>();
    if (cores.Length() == 0) throw Napi::RangeError::New(env, "setThreadAffinity: cores must not be empty");
    cpu_set_t set;
    CPU_ZERO(&set);
    for (uint32_t i = 0; i < cores.Length(); i++) {
      Napi::Value v = cores.Get(i);
      double c = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
      if (!(c >= 0 && c < CPU_SETSIZE && std::floor(c) == c)) {
        throw Napi::RangeError::New(env, "setThreadAffinity: cores[" + std::to_string(i) + "] must be a core id in [0, " + std::to_string(CPU_SETSIZE - 1) + "], got " + v.ToString().Utf8Value());
      }
      CPU_SET(static_cast<int>(c), &set);
    }
    if (sched_setaffinity(0, sizeof(set), &set) != 0) throw std::runtime_error(std::string("sched_setaffinity failed: ") + std::strerror(errno));
    return env.Undefined();
  });
}
#endif

Napi::Object Init(Napi::Env env, Napi::Object exports) {
#if defined(__linux__)
  exports.Set("setThreadAffinity", Napi::Function::New(env, SetThreadAffinity, "setThreadAffinity"));
#endif
  return exports;
}

}  // namespace

NODE_API_MODULE(mnas_sys, Init)
