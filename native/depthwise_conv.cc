// Depthwise convolution (one filter per channel: groups == input channels == output channels)
// in training: its own weight gradient for kernels 5 and 7 wide, and with stride 1 the input
// gradient from oneDNN's forward kernel with the kernel turned by 180 degrees, which is faster
// than oneDNN's backward-data kernel. The forward pass, stride-2 input gradients and other weight
// gradients stay with libtorch. The weight gradient of a 5x5 depthwise conv is slow there: with
// Debian's libtorch 1.13 on one thread, over 128x96x28x28 it takes 195 ms in NCHW and 61 ms in
// channels_last against 15 ms for the forward pass (a 3x3 one about as long as its forward, so
// 3x3 keeps libtorch's). Half the search space's layers are 5x5. The loops below are the textbook
// reduction, laid out so that the inner loop is a multiply-add of whole vectors with the
// accumulators in registers.
// MNAS_DEPTHWISE=aten keeps libtorch's gradients, for side-by-side comparisons.
#include "common.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace mnas {
namespace {

// -O2 vectorizes only loops that need no remainder; these need one.
#pragma GCC push_options
#pragma GCC optimize("O3", "no-tree-loop-distribute-patterns")

struct Geometry {
  int64_t n, c, h, w, out_h, out_w, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
};

// The indices o in [0, out) whose input index o * stride + k - pad falls inside [0, in).
inline void ValidRange(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad, int64_t* lo, int64_t* hi) {
  int64_t first = pad - k > 0 ? (pad - k + stride - 1) / stride : 0;
  int64_t last = in - 1 + pad - k;  // the largest o * stride allowed
  *lo = std::min(first, out);
  *hi = last < 0 ? *lo : std::max(*lo, std::min(out, last / stride + 1));
}

// Rows are a few dozen elements: an inline loop (not turned into a memcpy call, see the pragma
// above) costs a fraction of a call to libc memmove, which took 60% of the time here.
template <typename scalar_t>
__attribute__((always_inline)) inline void CopyRow(scalar_t* __restrict dst, const scalar_t* __restrict src, int64_t n) {
  for (int64_t i = 0; i < n; i++) dst[i] = src[i];
}

// Per-thread scratch. For NCHW: one image's plane of the output gradient, rows padded to whole
// vectors with zeros, and the input plane zero-padded and split by column phase (column j of phase
// q holds input column j * stride + q - pad), so that every tap reads a contiguous, bounds-free
// row. Both layouts accumulate in acc.
template <typename scalar_t>
struct Scratch {
  std::vector<scalar_t> grad_rows, phases, acc;
};

// acc[channel][ky][kx][lane] accumulates grad_out * x over every image; summing its lanes gives
// the weight gradient of tap (ky, kx). Images are the outer loop so that memory is read in order
// (reading plane by plane down one channel took twice as long). Each output row's vector is
// loaded once and used for all KW taps of a kernel row, which stay in registers over the rows.
template <typename scalar_t, int KW, int64_t kVectorBytes>
__attribute__((always_inline)) inline void AccumulateChannels(const Geometry& g, const scalar_t* grad_out, const scalar_t* x,
                                                               int64_t begin, int64_t end, Scratch<scalar_t>& s) {
  typedef scalar_t Vec __attribute__((vector_size(kVectorBytes)));
  constexpr int64_t lanes = kVectorBytes / sizeof(scalar_t);
  const int64_t chunks = (g.out_w + lanes - 1) / lanes, row = chunks * lanes;
  const int64_t sw = g.stride_w, sh = g.stride_h;
  const int64_t phase_w = row + (KW - 1) / sw + 1;
  const int64_t rows_in = (g.out_h - 1) * sh + g.kernel_h;
  const int64_t plane = g.h * g.w, out_plane = g.out_h * g.out_w;
  scalar_t* grad_rows = s.grad_rows.data();
  scalar_t* phases = s.phases.data();
  int64_t tap_offset[KW];  // where tap kx's row starts, relative to row r of phase 0
  for (int kx = 0; kx < KW; kx++) tap_offset[kx] = (kx % sw) * rows_in * phase_w + kx / sw;
  for (int64_t image = 0; image < g.n; image++) for (int64_t channel = begin; channel < end; channel++) {
    scalar_t* acc = s.acc.data() + (channel - begin) * g.kernel_h * KW * lanes;
    const scalar_t* xp = x + (image * g.c + channel) * plane;
    const scalar_t* gp = grad_out + (image * g.c + channel) * out_plane;
    for (int64_t oy = 0; oy < g.out_h; oy++) {
      CopyRow(grad_rows + oy * row, gp + oy * g.out_w, g.out_w);
    }
    // Only the cells that hold input are written: the padding cells are the same for every
    // plane and stay zero from the scratch's allocation.
    for (int64_t iy = 0; iy < g.h; iy++) {
      const int64_t r = iy + g.pad_h;
      if (r >= rows_in) break;
      const scalar_t* src = xp + iy * g.w;
      for (int64_t q = 0; q < sw; q++) {
        scalar_t* dst = phases + (q * rows_in + r) * phase_w;
        int64_t j_lo, j_hi;
        ValidRange(g.w, phase_w, q, sw, g.pad_w, &j_lo, &j_hi);
        if (sw == 1) {
          CopyRow(dst + j_lo, src + j_lo + q - g.pad_w, j_hi - j_lo);
        } else {
          for (int64_t j = j_lo; j < j_hi; j++) dst[j] = src[j * sw + q - g.pad_w];
        }
      }
    }
    for (int64_t ky = 0; ky < g.kernel_h; ky++) {
      for (int64_t c = 0; c < chunks; c++) {
        Vec sums[KW] = {};
        for (int64_t oy = 0; oy < g.out_h; oy++) {
          Vec gv;
          std::memcpy(&gv, grad_rows + oy * row + c * lanes, sizeof(Vec));
          const int64_t r = oy * sh + ky;
#pragma GCC unroll 8
          for (int kx = 0; kx < KW; kx++) {
            Vec xv;
            std::memcpy(&xv, phases + r * phase_w + c * lanes + tap_offset[kx], sizeof(Vec));
            sums[kx] += gv * xv;
          }
        }
        for (int kx = 0; kx < KW; kx++) {
          Vec total;
          std::memcpy(&total, acc + (ky * KW + kx) * lanes, sizeof(Vec));
          total += sums[kx];
          std::memcpy(acc + (ky * KW + kx) * lanes, &total, sizeof(Vec));
        }
      }
    }
  }
}

// The same reduction over channels_last (NHWC) tensors, which is what libtorch's convolutions
// hand on in training here (1x1 weights look channels_last to oneDNN, so an expansion's output is
// NHWC). Channels are the contiguous dimension: for a slice of them, the KW taps of a kernel row
// stay in registers along a whole output row, each output vector loaded once for all of them.
template <typename scalar_t, int KW, int64_t kVectorBytes>
__attribute__((always_inline)) inline void AccumulateChannelsLast(const Geometry& g, const scalar_t* grad_out, const scalar_t* x,
                                                                   int64_t begin, int64_t end, scalar_t* acc) {
  typedef scalar_t Vec __attribute__((vector_size(kVectorBytes)));
  constexpr int64_t lanes = kVectorBytes / sizeof(scalar_t);
  const int64_t width = end - begin;
  const int64_t vector_end = begin + width / lanes * lanes;
  // outputs ox in [inner_lo, inner_hi) read input columns ox * stride - pad + [0, KW) all inside [0, w)
  const int64_t inner_lo = std::min(g.out_w, (g.pad_w + g.stride_w - 1) / g.stride_w);
  const int64_t inner_hi = g.w - KW + g.pad_w < 0 ? inner_lo : std::max(inner_lo, std::min(g.out_w, (g.w - KW + g.pad_w) / g.stride_w + 1));
  for (int64_t image = 0; image < g.n; image++) {
    for (int64_t oy = 0; oy < g.out_h; oy++) {
      const scalar_t* grad_row = grad_out + (image * g.out_h + oy) * g.out_w * g.c;
      for (int64_t ky = 0; ky < g.kernel_h; ky++) {
        const int64_t iy = oy * g.stride_h + ky - g.pad_h;
        if (iy < 0 || iy >= g.h) continue;
        const scalar_t* x_row = x + (image * g.h + iy) * g.w * g.c;
        scalar_t* acc_row = acc + ky * KW * width - begin;  // acc_row[kx * width + channel]
        for (int64_t c = begin; c < vector_end; c += lanes) {
          Vec sums[KW];
          for (int kx = 0; kx < KW; kx++) std::memcpy(&sums[kx], acc_row + kx * width + c, sizeof(Vec));
          // the outputs whose taps all fall inside the row, without a test per tap; the others with one
          auto edge = [&](int64_t ox) {
            Vec gv;
            std::memcpy(&gv, grad_row + ox * g.c + c, sizeof(Vec));
            const int64_t left = ox * g.stride_w - g.pad_w;
            for (int kx = 0; kx < KW; kx++) {
              const int64_t ix = left + kx;
              if (ix < 0 || ix >= g.w) continue;
              Vec xv;
              std::memcpy(&xv, x_row + ix * g.c + c, sizeof(Vec));
              sums[kx] += gv * xv;
            }
          };
          int64_t ox = 0;
          for (; ox < inner_lo; ox++) edge(ox);
          for (; ox < inner_hi; ox++) {
            Vec gv;
            std::memcpy(&gv, grad_row + ox * g.c + c, sizeof(Vec));
            const scalar_t* xs = x_row + (ox * g.stride_w - g.pad_w) * g.c + c;
#pragma GCC unroll 8
            for (int kx = 0; kx < KW; kx++) {
              Vec xv;
              std::memcpy(&xv, xs + kx * g.c, sizeof(Vec));
              sums[kx] += gv * xv;
            }
          }
          for (; ox < g.out_w; ox++) edge(ox);
          for (int kx = 0; kx < KW; kx++) std::memcpy(acc_row + kx * width + c, &sums[kx], sizeof(Vec));
        }
        for (int64_t c = vector_end; c < end; c++) {
          for (int64_t ox = 0; ox < g.out_w; ox++) {
            const int64_t left = ox * g.stride_w - g.pad_w;
            for (int kx = 0; kx < KW; kx++) {
              const int64_t ix = left + kx;
              if (ix >= 0 && ix < g.w) acc_row[kx * width + c] += grad_row[ox * g.c + c] * x_row[ix * g.c + c];
            }
          }
        }
      }
    }
  }
}

// One copy of the loops with AVX2 and FMA (32-byte vectors), for the CPUs that have them, and one
// for any x86-64 (16-byte SSE2 vectors); chosen at run time (common.h).
template <typename scalar_t, int64_t kVectorBytes, bool kChannelsLast>
__attribute__((always_inline)) inline void AccumulateAnyWidth(const Geometry& g, const scalar_t* grad_out, const scalar_t* x,
                                                               int64_t begin, int64_t end, Scratch<scalar_t>& s) {
  if constexpr (kChannelsLast) {
    if (g.kernel_w == 5) AccumulateChannelsLast<scalar_t, 5, kVectorBytes>(g, grad_out, x, begin, end, s.acc.data());
    else AccumulateChannelsLast<scalar_t, 7, kVectorBytes>(g, grad_out, x, begin, end, s.acc.data());
  } else {
    if (g.kernel_w == 5) AccumulateChannels<scalar_t, 5, kVectorBytes>(g, grad_out, x, begin, end, s);
    else AccumulateChannels<scalar_t, 7, kVectorBytes>(g, grad_out, x, begin, end, s);
  }
}

template <typename scalar_t, bool kChannelsLast>
MNAS_WIDE_TARGET void AccumulateWide(const Geometry& g, const scalar_t* grad_out, const scalar_t* x, int64_t begin, int64_t end,
                                     Scratch<scalar_t>& s) {
  AccumulateAnyWidth<scalar_t, 32, kChannelsLast>(g, grad_out, x, begin, end, s);
}

template <typename scalar_t, bool kChannelsLast>
void AccumulateNarrow(const Geometry& g, const scalar_t* grad_out, const scalar_t* x, int64_t begin, int64_t end, Scratch<scalar_t>& s) {
  AccumulateAnyWidth<scalar_t, 16, kChannelsLast>(g, grad_out, x, begin, end, s);
}

template <typename scalar_t, bool kChannelsLast>
void Accumulate(bool wide, const Geometry& g, const scalar_t* grad_out, const scalar_t* x, int64_t begin, int64_t end, Scratch<scalar_t>& s) {
  if (wide) {
    AccumulateWide<scalar_t, kChannelsLast>(g, grad_out, x, begin, end, s);
  } else {
    AccumulateNarrow<scalar_t, kChannelsLast>(g, grad_out, x, begin, end, s);
  }
}

template <typename scalar_t>
void GradWeight(const Geometry& g, const scalar_t* grad_out, const scalar_t* x, scalar_t* grad_weight) {
  const bool wide = CpuHasWideVectors();
  const int64_t lanes = (wide ? 32 : 16) / static_cast<int64_t>(sizeof(scalar_t));
  const int64_t kw = g.kernel_w;
  const int64_t row = (g.out_w + lanes - 1) / lanes * lanes;
  const int64_t rows_in = (g.out_h - 1) * g.stride_h + g.kernel_h;
  const int64_t phase_w = row + (kw - 1) / g.stride_w + 1;
  at::parallel_for(0, g.c, 1, [&](int64_t begin, int64_t end) {
    Scratch<scalar_t> s;
    s.grad_rows.assign(static_cast<size_t>(g.out_h * row), scalar_t(0));
    s.phases.assign(static_cast<size_t>(g.stride_w * rows_in * phase_w + lanes), scalar_t(0));
    const int64_t taps = g.kernel_h * kw * lanes;
    s.acc.assign(static_cast<size_t>((end - begin) * taps), scalar_t(0));
    Accumulate<scalar_t, false>(wide, g, grad_out, x, begin, end, s);
    for (int64_t channel = begin; channel < end; channel++) {
      const scalar_t* acc = s.acc.data() + (channel - begin) * taps;
      for (int64_t ky = 0; ky < g.kernel_h; ky++) {
        for (int64_t kx = 0; kx < g.kernel_w; kx++) {
          scalar_t sum = 0;
          for (int64_t l = 0; l < lanes; l++) sum += acc[(ky * kw + kx) * lanes + l];
          grad_weight[(channel * g.kernel_h + ky) * g.kernel_w + kx] = sum;
        }
      }
    }
  });
}

template <typename scalar_t>
void GradWeightChannelsLast(const Geometry& g, const scalar_t* grad_out, const scalar_t* x, scalar_t* grad_weight) {
  const bool wide = CpuHasWideVectors();
  const int64_t taps = g.kernel_h * g.kernel_w;
  // slices of whole vectors of channels (32 bytes), so that only the last one has a scalar tail
  const int64_t group = 32 / static_cast<int64_t>(sizeof(scalar_t));
  at::parallel_for(0, (g.c + group - 1) / group, 1, [&](int64_t first, int64_t last) {
    const int64_t begin = first * group, end = std::min(g.c, last * group), width = end - begin;
    Scratch<scalar_t> s;
    s.acc.assign(static_cast<size_t>(taps * width), scalar_t(0));
    Accumulate<scalar_t, true>(wide, g, grad_out, x, begin, end, s);
    for (int64_t channel = begin; channel < end; channel++) {
      for (int64_t t = 0; t < taps; t++) grad_weight[channel * taps + t] = s.acc[t * width + (channel - begin)];
    }
  });
}

#pragma GCC pop_options

// Weight gradient of a depthwise conv with dilation 1. x: [N, C, H, W], contiguous in NCHW or
// channels_last; grad_out: [N, C, Ho, Wo], made contiguous in the same layout.
at::Tensor DepthwiseGradWeight(const at::Tensor& grad_out_in, const at::Tensor& x, at::IntArrayRef weight_sizes, at::IntArrayRef stride,
                               at::IntArrayRef padding) {
  const bool nchw = x.is_contiguous();
  const at::MemoryFormat format = nchw ? at::MemoryFormat::Contiguous : at::MemoryFormat::ChannelsLast;
  TORCH_CHECK(x.is_contiguous(format), "depthwise weight gradient: the input is neither contiguous nor channels_last");
  at::Tensor grad_out = grad_out_in.contiguous(format);
  Geometry g{x.size(0), x.size(1), x.size(2), x.size(3), grad_out.size(2), grad_out.size(3), weight_sizes[2], weight_sizes[3],
             stride[0], stride[1], padding[0], padding[1]};
  at::Tensor grad_weight = at::empty(weight_sizes, x.options().memory_format(at::MemoryFormat::Contiguous));
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "depthwise_grad_weight", [&] {
    if (nchw) {
      GradWeight<scalar_t>(g, grad_out.data_ptr<scalar_t>(), x.data_ptr<scalar_t>(), grad_weight.data_ptr<scalar_t>());
    } else {
      GradWeightChannelsLast<scalar_t>(g, grad_out.data_ptr<scalar_t>(), x.data_ptr<scalar_t>(), grad_weight.data_ptr<scalar_t>());
    }
  });
  return grad_weight;
}

// oneDNN's 3x3 weight gradient is as fast as these loops (channels_last) or nearly (NCHW); its
// 5x5 one is 2-13x slower. The loops are instantiated for widths 5 and 7.
bool OwnWeightGradient(int64_t kernel_w) { return kernel_w == 5 || kernel_w == 7; }

// With stride 1 the input gradient is the forward convolution of the output gradient with the
// kernel turned by 180 degrees and the complementary padding (k - 1 - p, so p < k); oneDNN's
// depthwise forward kernel runs that 1.4-2x faster than its backward-data kernel
// (bench/depthwise-backward-data.py).
bool InputGradientByForward(at::IntArrayRef stride, at::IntArrayRef padding, int64_t kernel_h, int64_t kernel_w) {
  return stride[0] == 1 && stride[1] == 1 && padding[0] < kernel_h && padding[1] < kernel_w;
}

struct DepthwiseConv2dFunction : public torch::autograd::Function<DepthwiseConv2dFunction> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, at::Tensor x, at::Tensor weight, std::vector<int64_t> stride,
                            std::vector<int64_t> padding) {
    ctx->save_for_backward({x, weight});
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["padding"] = padding;
    return at::conv2d(x, weight, c10::nullopt, stride, padding, {1, 1}, x.size(1));
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor& x = saved[0];
    const at::Tensor& weight = saved[1];
    std::vector<int64_t> stride = ctx->saved_data["stride"].toIntVector();
    std::vector<int64_t> padding = ctx->saved_data["padding"].toIntVector();
    const at::Tensor& grad_out = grads[0];
    at::Tensor grad_x, grad_weight;
    const int64_t kernel_h = weight.size(2), kernel_w = weight.size(3);
    if (ctx->needs_input_grad(0)) {
      if (InputGradientByForward(stride, padding, kernel_h, kernel_w)) {
        at::Tensor turned = at::flip(weight, {2, 3}).contiguous();
        grad_x = at::conv2d(grad_out.contiguous(x.suggest_memory_format()), turned, c10::nullopt, {1, 1},
                            {kernel_h - 1 - padding[0], kernel_w - 1 - padding[1]}, {1, 1}, x.size(1));
      } else {
        grad_x = std::get<0>(at::convolution_backward(grad_out, x, weight, c10::nullopt, stride, padding, {1, 1}, false, {0, 0}, x.size(1),
                                                      {true, false, false}));
      }
    }
    if (ctx->needs_input_grad(1)) {
      if (OwnWeightGradient(kernel_w)) {
        grad_weight = DepthwiseGradWeight(grad_out, x, weight.sizes(), stride, padding);
      } else {
        grad_weight = std::get<1>(at::convolution_backward(grad_out, x, weight, c10::nullopt, stride, padding, {1, 1}, false, {0, 0}, x.size(1),
                                                           {false, true, false}));
      }
    }
    return {grad_x, grad_weight, at::Tensor(), at::Tensor()};
  }
};

}  // namespace

bool UsesOwnDepthwiseGradient(const at::Tensor& x, const at::Tensor& weight, at::IntArrayRef stride, at::IntArrayRef padding,
                               at::IntArrayRef dilation, int64_t groups) {
  if (!at::GradMode::is_enabled() || !weight.requires_grad()) return false;
  if (x.dim() != 4 || weight.dim() != 4 || weight.size(1) != 1 || groups != x.size(1) || weight.size(0) != groups) return false;
  if (dilation.size() != 2 || dilation[0] != 1 || dilation[1] != 1 || stride.size() != 2 || padding.size() != 2) return false;
  if (x.scalar_type() != weight.scalar_type() || (x.scalar_type() != at::kFloat && x.scalar_type() != at::kDouble)) return false;
  if (x.device().type() != at::kCPU || !(x.is_contiguous() || x.is_contiguous(at::MemoryFormat::ChannelsLast))) return false;
  if (!OwnWeightGradient(weight.size(3)) && !InputGradientByForward(stride, padding, weight.size(2), weight.size(3))) return false;
  return !LibtorchOpRequested("MNAS_DEPTHWISE");
}

at::Tensor DepthwiseConv2d(const at::Tensor& x, const at::Tensor& weight, const c10::optional<at::Tensor>& bias, at::IntArrayRef stride,
                           at::IntArrayRef padding) {
  at::Tensor y = DepthwiseConv2dFunction::apply(x, weight, stride.vec(), padding.vec());
  // A bias is added outside the function, whose inputs must all be defined tensors.
  return bias.has_value() && bias->defined() ? y + bias->view({1, -1, 1, 1}) : y;
}

}  // namespace mnas
