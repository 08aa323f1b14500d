// Ties a worker process's life to its parent's: the training processes of a search are stopped
// (SIGSTOP) while a latency measurement runs, and a stopped process can run no handler, so if the
// parent dies then, only the kernel can end them (PR_SET_PDEATHSIG delivers SIGKILL, which needs
// no handler).
#include "common.h"

#if defined(__linux__)
#include <cerrno>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>
#endif

namespace mnas {
namespace {

// exitWithParent(parentPid): true when armed; false when the parent is already gone (the caller
// exits) or on a system without parent-death signals.
Napi::Value ExitWithParent(const Args& a) {
  int64_t parent = a.Int(0, "parentPid");
  if (parent < 1) a.FailRange(0, "parentPid", "must be a process id >= 1, got " + std::to_string(parent));
#if defined(__linux__)
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) throw std::runtime_error(std::string("prctl(PR_SET_PDEATHSIG) failed: ") + std::strerror(errno));
  // the parent may have died before the signal was armed: then this process was reparented
  return Napi::Boolean::New(a.env(), static_cast<int64_t>(getppid()) == parent);
#else
  return Napi::Boolean::New(a.env(), false);
#endif
}

}  // namespace

void RegisterProcessGuard(Napi::Env env, Napi::Object exports) { MNAS_EXPORT(exports, "exitWithParent", ExitWithParent); }

}  // namespace mnas
