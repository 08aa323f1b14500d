// Shared plumbing of the libtorch binding: the tensor handle table, argument readers that
// validate JavaScript values, and the guard that turns every C++ exception into a JS Error.
// The binding is deliberately thin: tensors, ops, autograd and optimizer steps; no model logic.
#pragma once

#include <napi.h>
// ATen and custom autograd functions only: with the whole C++ frontend (torch/torch.h) the
// addon's build took 84 s instead of 44 s on 2 cores, about a quarter of a fresh machine's set-up.
#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace mnas {

// Tensors live in a table; JavaScript holds a numeric handle = generation * 2^22 + slot.
// The generation makes a handle to a freed-and-reused slot detectable instead of aliasing.
// Handles stay below 2^53 (the generation wraps) so a JS number holds them exactly.
constexpr int64_t kSlotBits = 22;
constexpr int64_t kSlotCount = int64_t(1) << kSlotBits;
constexpr int64_t kMaxHandle = (int64_t(1) << 53) - 1;  // Number.MAX_SAFE_INTEGER

// The table may grow or drop tensors whenever JavaScript runs (an array getter can create and
// free tensors), so lookups return a copy (a refcount bump), never a reference into the table.
int64_t StoreTensor(at::Tensor t);
at::Tensor LookupTensor(int64_t handle, const char* op, const char* arg);
bool FreeTensor(int64_t handle);
int64_t LiveTensorCount();
// libtorch's CPU allocator (cpu_allocator.cc): the caching allocator, or with
// MNAS_ALLOCATOR=system the default one; both refuse single allocations larger than the
// available memory. Returns a description of a bad setting, or "" when installed.
std::string InstallCpuAllocator();
bool CachingAllocatorActive();
struct AllocatorStats {
  size_t allocations, small_allocations, hits, misses, frees, released;
  size_t in_use_bytes, cached_bytes, reserved_bytes, peak_in_use_bytes, peak_reserved_bytes, limit_bytes;
};
AllocatorStats GetAllocatorStats();
void ResetAllocatorPeaks();
void SetAllocatorCacheLimit(size_t bytes);
void EmptyAllocatorCache();

// Native loops are compiled twice, with AVX2 and FMA for the CPUs that have them (MNAS_WIDE_TARGET)
// and for any x86-64, and chosen at run time with CpuHasWideVectors.
#if defined(__x86_64__) && defined(__GNUC__)
#define MNAS_WIDE_TARGET __attribute__((target("avx2,fma")))
inline bool CpuHasWideVectors() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}
#else
#define MNAS_WIDE_TARGET
inline bool CpuHasWideVectors() { return false; }
#endif

// Whether the environment variable `name` is "aten": the switch back to libtorch's op that each of
// mnas's own native ops has (MNAS_BATCHNORM, MNAS_DEPTHWISE, MNAS_SQUEEZE_EXCITE), for side-by-side comparisons.
inline bool LibtorchOpRequested(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && std::strcmp(v, "aten") == 0;
}

// The layout of a 4-D tensor contiguous in NCHW or channels_last (NCHW where it is both).
inline at::MemoryFormat FormatOf(const at::Tensor& x) { return x.is_contiguous() ? at::MemoryFormat::Contiguous : at::MemoryFormat::ChannelsLast; }

// Whether `t` has exactly `sizes` and is a CPU tensor of `like`'s type: a weight or statistic the native ops can read beside `like`.
inline bool FitsBeside(const at::Tensor& like, const at::Tensor& t, at::IntArrayRef sizes) {
  return t.defined() && t.sizes() == sizes && t.scalar_type() == like.scalar_type() && t.device().type() == at::kCPU;
}

// Long per-channel sums in the native loops (batch_norm.cc, squeeze_excite.cc) are taken in blocks
// in the tensor's type, then added up in double: this many rows (channels_last) or plane elements
// (NCHW) per block.
constexpr int64_t kSumBlockRows = 16;
constexpr int64_t kSumBlockPlaneElements = 4096;

// Batch norm in training mode with an optional ReLU fused in (batch_norm.cc): used when
// UsesOwnBatchNorm says the call qualifies (4-D float or double input contiguous in NCHW or
// channels_last, weight, bias and running statistics given, more than one value per channel).
bool UsesOwnBatchNorm(const at::Tensor& x, const c10::optional<at::Tensor>& weight, const c10::optional<at::Tensor>& bias,
                      const c10::optional<at::Tensor>& running_mean, const c10::optional<at::Tensor>& running_var, bool training);
at::Tensor BatchNormRelu(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& running_mean,
                         const at::Tensor& running_var, double momentum, double eps, bool relu);

// Depthwise convolution with mnas's own weight gradient (depthwise_conv.cc): used by conv2d when
// UsesOwnDepthwiseGradient says the call qualifies (weight gradient needed, kernel 5 or 7 wide,
// float or double input contiguous in NCHW or channels_last).
bool UsesOwnDepthwiseGradient(const at::Tensor& x, const at::Tensor& weight, at::IntArrayRef stride, at::IntArrayRef padding,
                               at::IntArrayRef dilation, int64_t groups);
at::Tensor DepthwiseConv2d(const at::Tensor& x, const at::Tensor& weight, const c10::optional<at::Tensor>& bias, at::IntArrayRef stride,
                           at::IntArrayRef padding);

// Generators are JS externals owning a GeneratorBox: freed by freeGenerator or, failing that,
// when the external is garbage collected.
Napi::Value NewGeneratorValue(Napi::Env env, at::Generator g);
int64_t LiveGeneratorCount();

// Squeeze-and-excitation, y = x * sigmoid(w2 relu(w1 mean_hw(x) + b1) + b2) per image and channel
// (squeeze_excite.cc): one autograd function with its own backward pass when gradients are recorded
// and the input is a 4-D float or double tensor contiguous in NCHW or channels_last; libtorch's ops otherwise.
at::Tensor SqueezeExcite(const at::Tensor& x, const at::Tensor& w1, const at::Tensor& b1, const at::Tensor& w2, const at::Tensor& b2);
// Argument readers: each names the op and the argument in its error.
struct Args {
  const Napi::CallbackInfo& info;
  const char* op;
  Napi::Env env() const { return info.Env(); }
  [[noreturn]] void Fail(size_t i, const char* name, const std::string& what) const;
  [[noreturn]] void FailRange(size_t i, const char* name, const std::string& what) const;
  // A tensor handle: a safe non-negative integer (0, "no tensor", only where allow_zero).
  int64_t Handle(size_t i, const char* name, bool allow_zero) const;
  at::Tensor Tensor(size_t i, const char* name) const;
  c10::optional<at::Tensor> OptTensor(size_t i, const char* name) const;
  std::vector<at::Tensor> TensorList(size_t i, const char* name) const;
  int64_t Int(size_t i, const char* name) const;
  double Double(size_t i, const char* name) const;
  bool Bool(size_t i, const char* name) const;
  std::vector<int64_t> IntList(size_t i, const char* name) const;
  std::vector<double> DoubleList(size_t i, const char* name) const;
  c10::optional<at::Generator> OptGenerator(size_t i) const;
  bool FreeGenerator(size_t i) const;
  at::ScalarType Dtype(size_t i, const char* name) const;
  at::MemoryFormat Format(size_t i, const char* name) const;
};

Napi::Value Ret(Napi::Env env, at::Tensor t);
Napi::Value RetList(Napi::Env env, const std::vector<at::Tensor>& ts);
std::string DtypeName(at::ScalarType t);

using OpFn = Napi::Value (*)(const Args&);
// Runs an op and converts c10::Error / std::exception / anything into a JS Error carrying the
// message, prefixed by the op name.
Napi::Value Guarded(const Napi::CallbackInfo& info, const char* name, OpFn fn);

void RegisterTensorFunctions(Napi::Env env, Napi::Object exports);
void RegisterOps(Napi::Env env, Napi::Object exports);
void RegisterOptimizers(Napi::Env env, Napi::Object exports);
// exitWithParent (process_guard.cc)
void RegisterProcessGuard(Napi::Env env, Napi::Object exports);

#define MNAS_EXPORT(exports, name, fn)                                                       \
  (exports).Set(name, Napi::Function::New(                                                  \
                          env, [](const Napi::CallbackInfo& info) -> Napi::Value {          \
                            return ::mnas::Guarded(info, name, fn);                          \
                          },                                                                 \
                          name))

}  // namespace mnas
