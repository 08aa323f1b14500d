// Differentiable ops, each a direct call into ATen; autograd records them when grad mode is on.
#include "common.h"

#include <limits>
#include <sstream>

namespace mnas {

namespace {

using T = at::Tensor;

void RequireRank(const Args& a, size_t i, const char* name, const T& t, int64_t rank) {
  if (t.dim() != rank) {
    std::ostringstream m;
    m << "must be rank " << rank << ", got rank " << t.dim() << " with shape " << t.sizes();
    a.Fail(i, name, m.str());
  }
}

// Float ops take float32 (training) or float64 (precise gradient checks).
void RequireFloat(const Args& a, size_t i, const char* name, const T& t) {
  if (t.scalar_type() != at::kFloat && t.scalar_type() != at::kDouble)
    a.Fail(i, name, "must be float32 or float64, got " + DtypeName(t.scalar_type()));
}

// A size list for reshape/expand: -1 entries are inferred; the product of the others must fit
// in int64 (an overflowing product could otherwise pass libtorch's numel check and make a view
// that reaches outside its storage).
std::vector<int64_t> SizeList(const Args& a, size_t i, const char* name) {
  std::vector<int64_t> s = a.IntList(i, name);
  if (s.size() > 64) a.Fail(i, name, "has more than 64 dimensions");
  int64_t n = 1;
  for (int64_t d : s) {
    if (d < -1) a.Fail(i, name, "has a negative dimension " + std::to_string(d));
    if (d <= 0) continue;
    if (n > std::numeric_limits<int64_t>::max() / d) a.Fail(i, name, "has more elements than int64 can count");
    n *= d;
  }
  return s;
}

#define UNARY(fn_name, expr)                              \
  Napi::Value fn_name(const Args& a) {                    \
    T x = a.Tensor(0, "input");                           \
    return Ret(a.env(), expr);                            \
  }

UNARY(Relu, at::relu(x))
// In place: for activations whose input autograd does not need (e.g. right after batch norm).
Napi::Value ReluInPlace(const Args& a) {
  T x = a.Tensor(0, "input");
  at::relu_(x);
  return a.env().Undefined();
}
UNARY(Relu6, at::hardtanh(x, 0.0, 6.0))
UNARY(Sigmoid, at::sigmoid(x))
UNARY(Tanh, at::tanh(x))
UNARY(Exp, at::exp(x))
UNARY(Log, at::log(x))
UNARY(Sqrt, at::sqrt(x))
UNARY(Neg, at::neg(x))
UNARY(Abs, at::abs(x))
UNARY(SumAll, at::sum(x))
UNARY(MeanAll, at::mean(x))
UNARY(AllFinite, at::isfinite(x).all())

#define BINARY(fn_name, expr)                              \
  Napi::Value fn_name(const Args& a) {                     \
    T x = a.Tensor(0, "a");                                \
    T y = a.Tensor(1, "b");                                \
    return Ret(a.env(), expr);                             \
  }

BINARY(Add, at::add(x, y))
BINARY(Sub, at::sub(x, y))
BINARY(Mul, at::mul(x, y))
BINARY(Div, at::div(x, y))
BINARY(Maximum, at::maximum(x, y))
BINARY(Minimum, at::minimum(x, y))
BINARY(Matmul, at::matmul(x, y))
BINARY(Eq, at::eq(x, y))
BINARY(Gt, at::gt(x, y))
BINARY(Lt, at::lt(x, y))

Napi::Value AddScalar(const Args& a) { return Ret(a.env(), at::add(a.Tensor(0, "input"), a.Double(1, "scalar"))); }
Napi::Value MulScalar(const Args& a) { return Ret(a.env(), at::mul(a.Tensor(0, "input"), a.Double(1, "scalar"))); }
Napi::Value PowScalar(const Args& a) { return Ret(a.env(), at::pow(a.Tensor(0, "input"), a.Double(1, "exponent"))); }

Napi::Value Clamp(const Args& a) {
  c10::optional<at::Scalar> lo, hi;
  if (a.info.Length() > 1 && !a.info[1].IsNull() && !a.info[1].IsUndefined()) lo = a.Double(1, "min");
  if (a.info.Length() > 2 && !a.info[2].IsNull() && !a.info[2].IsUndefined()) hi = a.Double(2, "max");
  return Ret(a.env(), at::clamp(a.Tensor(0, "input"), lo, hi));
}

Napi::Value Where(const Args& a) {
  T c = a.Tensor(0, "condition");
  if (c.scalar_type() != at::kBool) a.Fail(0, "condition", "must be a bool tensor");
  return Ret(a.env(), at::where(c, a.Tensor(1, "a"), a.Tensor(2, "b")));
}

Napi::Value Sum(const Args& a) {
  return Ret(a.env(), at::sum(a.Tensor(0, "input"), a.IntList(1, "dims"), a.Bool(2, "keepdim")));
}
Napi::Value Mean(const Args& a) {
  return Ret(a.env(), at::mean(a.Tensor(0, "input"), a.IntList(1, "dims"), a.Bool(2, "keepdim")));
}
Napi::Value Max(const Args& a) {
  return Ret(a.env(), std::get<0>(at::max(a.Tensor(0, "input"), a.Int(1, "dim"), a.Bool(2, "keepdim"))));
}
Napi::Value Argmax(const Args& a) {
  return Ret(a.env(), at::argmax(a.Tensor(0, "input"), a.Int(1, "dim"), a.Bool(2, "keepdim")));
}

Napi::Value Softmax(const Args& a) { return Ret(a.env(), at::softmax(a.Tensor(0, "input"), a.Int(1, "dim"))); }
Napi::Value LogSoftmax(const Args& a) { return Ret(a.env(), at::log_softmax(a.Tensor(0, "input"), a.Int(1, "dim"))); }

Napi::Value Linear(const Args& a) {
  T x = a.Tensor(0, "input");
  T w = a.Tensor(1, "weight");
  RequireFloat(a, 0, "input", x);
  RequireRank(a, 1, "weight", w, 2);
  if (x.dim() < 1 || x.size(-1) != w.size(1)) {
    std::ostringstream m;
    m << "input features " << (x.dim() ? x.size(-1) : 0) << " do not match weight shape " << w.sizes();
    a.Fail(0, "input", m.str());
  }
  return Ret(a.env(), at::linear(x, w, a.OptTensor(2, "bias")));
}

Napi::Value Conv2d(const Args& a) {
  T x = a.Tensor(0, "input");
  T w = a.Tensor(1, "weight");
  RequireFloat(a, 0, "input", x);
  RequireRank(a, 0, "input", x, 4);
  RequireRank(a, 1, "weight", w, 4);
  int64_t groups = a.Int(6, "groups");
  if (groups < 1 || x.size(1) % groups != 0 || x.size(1) / groups != w.size(1)) {
    std::ostringstream m;
    m << "input channels " << x.size(1) << " with groups " << groups << " do not match weight shape " << w.sizes();
    a.Fail(1, "weight", m.str());
  }
  c10::optional<T> bias = a.OptTensor(2, "bias");
  std::vector<int64_t> stride = a.IntList(3, "stride"), padding = a.IntList(4, "padding"), dilation = a.IntList(5, "dilation");
  if (UsesOwnDepthwiseGradient(x, w, stride, padding, dilation, groups)) return Ret(a.env(), DepthwiseConv2d(x, w, bias, stride, padding));
  return Ret(a.env(), at::conv2d(x, w, bias, stride, padding, dilation, groups));
}

// batchNorm(x, weight, bias, runningMean, runningVar, training, momentum, eps, relu): with relu,
// a ReLU follows (fused in where UsesOwnBatchNorm allows, in place on libtorch's output otherwise).
Napi::Value BatchNorm(const Args& a) {
  T x = a.Tensor(0, "input");
  RequireFloat(a, 0, "input", x);
  if (x.dim() < 2) a.Fail(0, "input", "must have a channel dimension");
  c10::optional<T> weight = a.OptTensor(1, "weight"), bias = a.OptTensor(2, "bias");
  c10::optional<T> running_mean = a.OptTensor(3, "runningMean"), running_var = a.OptTensor(4, "runningVar");
  const bool training = a.Bool(5, "training"), relu = a.Bool(8, "relu");
  const double momentum = a.Double(6, "momentum"), eps = a.Double(7, "eps");
  if (UsesOwnBatchNorm(x, weight, bias, running_mean, running_var, training)) {
    return Ret(a.env(), BatchNormRelu(x, *weight, *bias, *running_mean, *running_var, momentum, eps, relu));
  }
  T y = at::batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps, true);
  return Ret(a.env(), relu ? at::relu_(y) : y);
}

// squeezeExcite(x, w1, b1, w2, b2): w1 [r, C], b1 [r], w2 [C, r], b2 [C].
Napi::Value SqueezeExciteOp(const Args& a) {
  T x = a.Tensor(0, "input");
  RequireFloat(a, 0, "input", x);
  RequireRank(a, 0, "input", x, 4);
  T w1 = a.Tensor(1, "reduceWeight"), b1 = a.Tensor(2, "reduceBias"), w2 = a.Tensor(3, "expandWeight"), b2 = a.Tensor(4, "expandBias");
  RequireRank(a, 1, "reduceWeight", w1, 2);
  RequireRank(a, 3, "expandWeight", w2, 2);
  const int64_t c = x.size(1), r = w1.size(0);
  if (w1.size(1) != c || w2.size(0) != c || w2.size(1) != r || b1.dim() != 1 || b1.size(0) != r || b2.dim() != 1 || b2.size(0) != c) {
    std::ostringstream m;
    m << "weights " << w1.sizes() << ", " << b1.sizes() << ", " << w2.sizes() << ", " << b2.sizes() << " do not fit " << c << " input channels";
    a.Fail(1, "reduceWeight", m.str());
  }
  return Ret(a.env(), SqueezeExcite(x, w1, b1, w2, b2));
}

Napi::Value AvgPool2d(const Args& a) {
  T x = a.Tensor(0, "input");
  RequireRank(a, 0, "input", x, 4);
  return Ret(a.env(), at::avg_pool2d(x, a.IntList(1, "kernel"), a.IntList(2, "stride"), a.IntList(3, "padding"),
                                     a.Bool(4, "ceilMode"), a.Bool(5, "countIncludePad")));
}

Napi::Value MaxPool2d(const Args& a) {
  T x = a.Tensor(0, "input");
  RequireRank(a, 0, "input", x, 4);
  return Ret(a.env(), at::max_pool2d(x, a.IntList(1, "kernel"), a.IntList(2, "stride"), a.IntList(3, "padding"), {1, 1},
                                     a.Bool(4, "ceilMode")));
}

Napi::Value AdaptiveAvgPool2d(const Args& a) {
  T x = a.Tensor(0, "input");
  RequireRank(a, 0, "input", x, 4);
  return Ret(a.env(), at::adaptive_avg_pool2d(x, a.IntList(1, "outputSize")));
}

Napi::Value Reshape(const Args& a) { return Ret(a.env(), at::reshape(a.Tensor(0, "input"), SizeList(a, 1, "shape"))); }
Napi::Value Permute(const Args& a) { return Ret(a.env(), a.Tensor(0, "input").permute(a.IntList(1, "dims"))); }
Napi::Value Transpose(const Args& a) {
  return Ret(a.env(), a.Tensor(0, "input").transpose(a.Int(1, "dim0"), a.Int(2, "dim1")));
}
Napi::Value Flatten(const Args& a) {
  return Ret(a.env(), at::flatten(a.Tensor(0, "input"), a.Int(1, "startDim"), a.Int(2, "endDim")));
}
Napi::Value Unsqueeze(const Args& a) { return Ret(a.env(), a.Tensor(0, "input").unsqueeze(a.Int(1, "dim"))); }
Napi::Value Squeeze(const Args& a) { return Ret(a.env(), a.Tensor(0, "input").squeeze(a.Int(1, "dim"))); }
Napi::Value Expand(const Args& a) { return Ret(a.env(), a.Tensor(0, "input").expand(SizeList(a, 1, "shape"))); }

Napi::Value Slice(const Args& a) {
  T x = a.Tensor(0, "input");
  int64_t dim = a.Int(1, "dim");
  if (dim < -x.dim() || dim >= x.dim()) a.Fail(1, "dim", "is out of range for rank " + std::to_string(x.dim()));
  int64_t step = a.Int(4, "step");
  if (step < 1) a.Fail(4, "step", "must be positive");
  return Ret(a.env(), x.slice(dim, a.Int(2, "start"), a.Int(3, "end"), step));
}

Napi::Value Cat(const Args& a) {
  auto ts = a.TensorList(0, "tensors");
  if (ts.empty()) a.Fail(0, "tensors", "must not be empty");
  return Ret(a.env(), at::cat(ts, a.Int(1, "dim")));
}
Napi::Value Stack(const Args& a) {
  auto ts = a.TensorList(0, "tensors");
  if (ts.empty()) a.Fail(0, "tensors", "must not be empty");
  return Ret(a.env(), at::stack(ts, a.Int(1, "dim")));
}

Napi::Value IndexSelect(const Args& a) {
  T idx = a.Tensor(2, "index");
  if (idx.scalar_type() != at::kLong) a.Fail(2, "index", "must be int64");
  return Ret(a.env(), at::index_select(a.Tensor(0, "input"), a.Int(1, "dim"), idx));
}
Napi::Value Gather(const Args& a) {
  T idx = a.Tensor(2, "index");
  if (idx.scalar_type() != at::kLong) a.Fail(2, "index", "must be int64");
  return Ret(a.env(), at::gather(a.Tensor(0, "input"), a.Int(1, "dim"), idx));
}

Napi::Value Pad(const Args& a) {
  return Ret(a.env(), at::constant_pad_nd(a.Tensor(0, "input"), a.IntList(1, "pads"), a.Double(2, "value")));
}
Napi::Value Flip(const Args& a) { return Ret(a.env(), at::flip(a.Tensor(0, "input"), a.IntList(1, "dims"))); }

Napi::Value CrossEntropy(const Args& a) {
  T logits = a.Tensor(0, "logits");
  T target = a.Tensor(1, "target");
  RequireFloat(a, 0, "logits", logits);
  RequireRank(a, 0, "logits", logits, 2);
  if (target.scalar_type() != at::kLong) a.Fail(1, "target", "must be int64 class indices");
  if (target.dim() != 1 || target.size(0) != logits.size(0)) {
    std::ostringstream m;
    m << "shape " << target.sizes() << " does not match logits " << logits.sizes();
    a.Fail(1, "target", m.str());
  }
  double smoothing = a.Double(2, "labelSmoothing");
  if (!(smoothing >= 0 && smoothing <= 1)) a.Fail(2, "labelSmoothing", "must be in [0, 1]");
  std::string reduction = "mean";
  if (a.info.Length() > 3 && !a.info[3].IsUndefined()) {
    if (!a.info[3].IsString()) a.Fail(3, "reduction", "must be mean, sum or none");
    reduction = a.info[3].As<Napi::String>().Utf8Value();
  }
  int64_t r = reduction == "mean" ? at::Reduction::Mean : reduction == "sum" ? at::Reduction::Sum : reduction == "none" ? at::Reduction::None : -1;
  if (r < 0) a.Fail(3, "reduction", "must be mean, sum or none");
  return Ret(a.env(), at::cross_entropy_loss(logits, target, c10::nullopt, r, -100, smoothing));
}

Napi::Value Dropout(const Args& a) {
  double p = a.Double(1, "p");
  if (!(p >= 0 && p < 1)) a.Fail(1, "p", "must be in [0, 1)");
  return Ret(a.env(), at::dropout(a.Tensor(0, "input"), p, a.Bool(2, "training")));
}

Napi::Value LstmCell(const Args& a) {
  auto hc = at::lstm_cell(a.Tensor(0, "input"), {a.Tensor(1, "h"), a.Tensor(2, "c")}, a.Tensor(3, "weightIH"),
                          a.Tensor(4, "weightHH"), a.OptTensor(5, "biasIH"), a.OptTensor(6, "biasHH"));
  return RetList(a.env(), {std::get<0>(hc), std::get<1>(hc)});
}

Napi::Value Multinomial(const Args& a) {
  return Ret(a.env(), at::multinomial(a.Tensor(0, "probs"), a.Int(1, "samples"), a.Bool(2, "replacement"), a.OptGenerator(3)));
}

// Turns a batch of uint8 NHWC images into normalized float32 NCHW (channels_last memory),
// with per-sample crop offsets (after zero padding by `pad`) and horizontal flips:
// the data pipeline's hot path, done in one pass without JavaScript touching pixels.
Napi::Value AugmentBatch(const Args& a) {
  T images = a.Tensor(0, "images");
  if (images.scalar_type() != at::kByte || images.dim() != 4) a.Fail(0, "images", "must be a uint8 NHWC tensor");
  T index = a.Tensor(1, "index");
  if (index.scalar_type() != at::kLong || index.dim() != 1) a.Fail(1, "index", "must be a 1-D int64 tensor");
  std::vector<int64_t> offY = a.IntList(2, "offsetY"), offX = a.IntList(3, "offsetX"), flips = a.IntList(4, "flip");
  int64_t pad = a.Int(5, "pad");
  std::vector<double> mean = a.DoubleList(6, "mean"), stdv = a.DoubleList(7, "std");
  T img = images.contiguous();
  T idx = index.contiguous();
  int64_t n = idx.size(0), H = img.size(1), W = img.size(2), C = img.size(3), N = img.size(0);
  if (static_cast<int64_t>(offY.size()) != n || static_cast<int64_t>(offX.size()) != n || static_cast<int64_t>(flips.size()) != n)
    a.Fail(2, "offsetY", "offsetY, offsetX and flip must have one entry per index");
  if (static_cast<int64_t>(mean.size()) != C || static_cast<int64_t>(stdv.size()) != C)
    a.Fail(6, "mean", "mean and std must have one entry per channel");
  if (pad < 0) a.Fail(5, "pad", "must be >= 0");
  T out = at::empty({n, H, W, C}, at::TensorOptions().dtype(at::kFloat));
  const uint8_t* src = img.data_ptr<uint8_t>();
  const int64_t* ix = idx.data_ptr<int64_t>();
  float* dst = out.data_ptr<float>();
  std::vector<float> scale(C), shift(C), zero(C);
  for (int64_t c = 0; c < C; c++) {
    scale[c] = static_cast<float>(1.0 / (255.0 * stdv[c]));
    shift[c] = static_cast<float>(-mean[c] / stdv[c]);
    zero[c] = shift[c];
  }
  for (int64_t b = 0; b < n; b++) {
    int64_t s = ix[b];
    if (s < 0 || s >= N) throw std::out_of_range("augmentBatch: index " + std::to_string(s) + " out of range [0, " + std::to_string(N) + ")");
    int64_t oy = offY[b] - pad, ox = offX[b] - pad;
    if (offY[b] < 0 || offY[b] > 2 * pad || offX[b] < 0 || offX[b] > 2 * pad)
      throw std::out_of_range("augmentBatch: crop offset out of range [0, 2*pad]");
    bool flip = flips[b] != 0;
    const uint8_t* im = src + s * H * W * C;
    float* o = dst + b * H * W * C;
    for (int64_t y = 0; y < H; y++) {
      int64_t sy = y + oy;
      for (int64_t x = 0; x < W; x++) {
        int64_t sx = (flip ? (W - 1 - x) : x) + ox;
        float* px = o + (y * W + x) * C;
        if (sy < 0 || sy >= H || sx < 0 || sx >= W) {
          for (int64_t c = 0; c < C; c++) px[c] = zero[c];
        } else {
          const uint8_t* q = im + (sy * W + sx) * C;
          for (int64_t c = 0; c < C; c++) px[c] = q[c] * scale[c] + shift[c];
        }
      }
    }
  }
  // NHWC memory viewed as NCHW: exactly PyTorch's channels_last layout.
  return Ret(a.env(), out.permute({0, 3, 1, 2}));
}

}  // namespace

void RegisterOps(Napi::Env env, Napi::Object exports) {
  MNAS_EXPORT(exports, "relu", Relu);
  MNAS_EXPORT(exports, "relu_", ReluInPlace);
  MNAS_EXPORT(exports, "relu6", Relu6);
  MNAS_EXPORT(exports, "sigmoid", Sigmoid);
  MNAS_EXPORT(exports, "tanh", Tanh);
  MNAS_EXPORT(exports, "exp", Exp);
  MNAS_EXPORT(exports, "log", Log);
  MNAS_EXPORT(exports, "sqrt", Sqrt);
  MNAS_EXPORT(exports, "neg", Neg);
  MNAS_EXPORT(exports, "abs", Abs);
  MNAS_EXPORT(exports, "sumAll", SumAll);
  MNAS_EXPORT(exports, "meanAll", MeanAll);
  MNAS_EXPORT(exports, "allFinite", AllFinite);
  MNAS_EXPORT(exports, "add", Add);
  MNAS_EXPORT(exports, "sub", Sub);
  MNAS_EXPORT(exports, "mul", Mul);
  MNAS_EXPORT(exports, "div", Div);
  MNAS_EXPORT(exports, "maximum", Maximum);
  MNAS_EXPORT(exports, "minimum", Minimum);
  MNAS_EXPORT(exports, "matmul", Matmul);
  MNAS_EXPORT(exports, "eq", Eq);
  MNAS_EXPORT(exports, "gt", Gt);
  MNAS_EXPORT(exports, "lt", Lt);
  MNAS_EXPORT(exports, "addScalar", AddScalar);
  MNAS_EXPORT(exports, "mulScalar", MulScalar);
  MNAS_EXPORT(exports, "powScalar", PowScalar);
  MNAS_EXPORT(exports, "clamp", Clamp);
  MNAS_EXPORT(exports, "where", Where);
  MNAS_EXPORT(exports, "sum", Sum);
  MNAS_EXPORT(exports, "mean", Mean);
  MNAS_EXPORT(exports, "max", Max);
  MNAS_EXPORT(exports, "argmax", Argmax);
  MNAS_EXPORT(exports, "softmax", Softmax);
  MNAS_EXPORT(exports, "logSoftmax", LogSoftmax);
  MNAS_EXPORT(exports, "linear", Linear);
  MNAS_EXPORT(exports, "conv2d", Conv2d);
  MNAS_EXPORT(exports, "batchNorm", BatchNorm);
  MNAS_EXPORT(exports, "squeezeExcite", SqueezeExciteOp);
  MNAS_EXPORT(exports, "avgPool2d", AvgPool2d);
  MNAS_EXPORT(exports, "maxPool2d", MaxPool2d);
  MNAS_EXPORT(exports, "adaptiveAvgPool2d", AdaptiveAvgPool2d);
  MNAS_EXPORT(exports, "reshape", Reshape);
  MNAS_EXPORT(exports, "permute", Permute);
  MNAS_EXPORT(exports, "transpose", Transpose);
  MNAS_EXPORT(exports, "flatten", Flatten);
  MNAS_EXPORT(exports, "unsqueeze", Unsqueeze);
  MNAS_EXPORT(exports, "squeeze", Squeeze);
  MNAS_EXPORT(exports, "expand", Expand);
  MNAS_EXPORT(exports, "slice", Slice);
  MNAS_EXPORT(exports, "cat", Cat);
  MNAS_EXPORT(exports, "stack", Stack);
  MNAS_EXPORT(exports, "indexSelect", IndexSelect);
  MNAS_EXPORT(exports, "gather", Gather);
  MNAS_EXPORT(exports, "pad", Pad);
  MNAS_EXPORT(exports, "flip", Flip);
  MNAS_EXPORT(exports, "crossEntropy", CrossEntropy);
  MNAS_EXPORT(exports, "dropout", Dropout);
  MNAS_EXPORT(exports, "lstmCell", LstmCell);
  MNAS_EXPORT(exports, "multinomial", Multinomial);
  MNAS_EXPORT(exports, "augmentBatch", AugmentBatch);
}

}  // namespace mnas
