// Batch normalization in training mode, with the ReLU that follows it fused in. libtorch 1.13's
// CPU batch norm reads and writes its tensors more often than the arithmetic needs and its loops
// are slow: on one thread, over a 128x96x28x28 channels_last activation, its forward pass took
// 10 ms and its backward about 20 ms where a pass over the tensor costs about 2 ms, and batch
// norm was 24-48% of a proxy-training forward pass. Here the forward pass reads the input twice
// (statistics, then normalize-and-ReLU) and writes the output once; the backward pass reads the
// output gradient and the input twice (the ReLU's mask recomputed from the input) and writes the
// input gradient once. Per-channel sums are taken in blocks of rows in the tensor's type and added up in
// double, over values shifted by the channel's first value, so that the variance is not the small
// difference of two large sums.
// MNAS_BATCHNORM=aten keeps libtorch's batch norm and a separate ReLU, for side-by-side comparisons.
#include "common.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace mnas {
namespace {

#pragma GCC push_options
#pragma GCC optimize("O3", "no-tree-loop-distribute-patterns")

// [N, C, H, W] seen as `outer` x C x `inner`: channels_last is inner == 1 (C contiguous in each
// of outer = N*H*W rows), NCHW is outer == N and inner == H*W (a plane per channel and image).
struct Layout {
  int64_t outer, c, inner;
  int64_t count() const { return outer * inner; }  // elements per channel
};

// a where the ReLU passed: where its input, x * gate_scale + gate_offset (the forward pass's
// normalization, recomputed with the same arithmetic), is positive; 0 elsewhere. V is a scalar or
// a vector of them.
template <typename V, typename S>
__attribute__((always_inline)) inline V Gated(V a, V x, S gate_scale, S gate_offset) {
  const V zero{};
  return x * gate_scale + gate_offset > zero ? a : zero;
}

// Sums per channel of (a - shift) and (a - shift)^2 (the forward pass: a = x), or with kProducts
// of a and a * (x - shift) (the backward pass: a = the output gradient, shift = the mean). With
// kMasked, a counts only where the ReLU passed it (Gated), so that the backward pass need not read
// the output too.
template <typename scalar_t, bool kMasked, bool kProducts>
__attribute__((always_inline)) inline void SumRows(const scalar_t* __restrict a, const scalar_t* __restrict x, const scalar_t* __restrict gate_scale,
                                                   const scalar_t* __restrict gate_offset, const scalar_t* __restrict shift, int64_t rows, int64_t c, double* __restrict s1,
                                                   double* __restrict s2, scalar_t* __restrict b1, scalar_t* __restrict b2) {
  for (int64_t r0 = 0; r0 < rows; r0 += kSumBlockRows) {
    std::fill(b1, b1 + c, scalar_t(0));
    std::fill(b2, b2 + c, scalar_t(0));
    const int64_t r1 = std::min(rows, r0 + kSumBlockRows);
    for (int64_t r = r0; r < r1; r++) {
      const scalar_t* ar = a + r * c;
      const scalar_t* xr = x + r * c;
      for (int64_t j = 0; j < c; j++) {
        const scalar_t av = ar[j];  // loaded whatever the gate says, so that the select vectorizes
        const scalar_t v = kMasked ? Gated(av, xr[j], gate_scale[j], gate_offset[j]) : av;
        if constexpr (kProducts) {
          b1[j] += v;
          b2[j] += v * (xr[j] - shift[j]);
        } else {
          const scalar_t d = v - shift[j];
          b1[j] += d;
          b2[j] += d * d;
        }
      }
    }
    for (int64_t j = 0; j < c; j++) {
      s1[j] += b1[j];
      s2[j] += b2[j];
    }
  }
}

// The same sums over one contiguous plane, in explicit vectors: the compiler may not split a single
// running float sum into lanes itself.
template <typename scalar_t, bool kMasked, bool kProducts, int64_t kVectorBytes>
__attribute__((always_inline)) inline void SumPlane(const scalar_t* __restrict a, const scalar_t* __restrict x, scalar_t gate_scale,
                                                    scalar_t gate_offset, scalar_t shift, int64_t n, double* s1, double* s2) {
  typedef scalar_t Vec __attribute__((vector_size(kVectorBytes)));
  constexpr int64_t lanes = kVectorBytes / sizeof(scalar_t);
  for (int64_t i0 = 0; i0 < n; i0 += kSumBlockPlaneElements) {
    const int64_t i1 = std::min(n, i0 + kSumBlockPlaneElements);
    Vec v1 = {}, v2 = {};
    int64_t i = i0;
    for (; i + lanes <= i1; i += lanes) {
      Vec av;
      std::memcpy(&av, a + i, sizeof(Vec));
      Vec xv;
      std::memcpy(&xv, x + i, sizeof(Vec));
      if constexpr (kMasked) av = Gated(av, xv, gate_scale, gate_offset);
      if constexpr (kProducts) {
        v1 += av;
        v2 += av * (xv - shift);
      } else {
        const Vec d = av - shift;
        v1 += d;
        v2 += d * d;
      }
    }
    double t1 = 0, t2 = 0;
    for (int64_t l = 0; l < lanes; l++) {
      t1 += v1[l];
      t2 += v2[l];
    }
    for (; i < i1; i++) {
      const scalar_t av = a[i];
      const scalar_t v = kMasked ? Gated(av, x[i], gate_scale, gate_offset) : av;
      if constexpr (kProducts) {
        t1 += v;
        t2 += v * (x[i] - shift);
      } else {
        const scalar_t d = v - shift;
        t1 += d;
        t2 += d * d;
      }
    }
    *s1 += t1;
    *s2 += t2;
  }
}

// out = a * p + r (+ x * q with kWithX) per channel, a gated as in SumRows with kMasked, then a
// ReLU with kRelu: normalize-and-ReLU (a = x) and the input gradient (a = the output gradient).
template <typename scalar_t, bool kMasked, bool kRelu, bool kWithX>
__attribute__((always_inline)) inline void AffineRows(const scalar_t* __restrict a, const scalar_t* __restrict x, const scalar_t* __restrict gate_scale,
                                                      const scalar_t* __restrict gate_offset, const scalar_t* __restrict p, const scalar_t* __restrict q, const scalar_t* __restrict r,
                                                      int64_t rows, int64_t c, scalar_t* __restrict out) {
  for (int64_t row = 0; row < rows; row++) {
    const scalar_t* ar = a + row * c;
    const scalar_t* xr = kWithX || kMasked ? x + row * c : nullptr;
    scalar_t* o = out + row * c;
    for (int64_t j = 0; j < c; j++) {
      const scalar_t av = ar[j];  // loaded whatever the gate says, so that the select vectorizes
      const scalar_t v = kMasked ? Gated(av, xr[j], gate_scale[j], gate_offset[j]) : av;
      scalar_t y = v * p[j] + r[j];
      if constexpr (kWithX) y += xr[j] * q[j];
      if constexpr (kRelu) y = y > scalar_t(0) ? y : scalar_t(0);
      o[j] = y;
    }
  }
}

template <typename scalar_t, bool kMasked, bool kRelu, bool kWithX>
__attribute__((always_inline)) inline void AffinePlane(const scalar_t* __restrict a, const scalar_t* __restrict x, scalar_t gate_scale,
                                                       scalar_t gate_offset, scalar_t p, scalar_t q, scalar_t r, int64_t n, scalar_t* __restrict out) {
  for (int64_t i = 0; i < n; i++) {
    const scalar_t av = a[i];
    const scalar_t v = kMasked ? Gated(av, x[i], gate_scale, gate_offset) : av;
    scalar_t y = v * p + r;
    if constexpr (kWithX) y += x[i] * q;
    if constexpr (kRelu) y = y > scalar_t(0) ? y : scalar_t(0);
    out[i] = y;
  }
}

// The loops compiled twice, with AVX2+FMA for the CPUs that have them and for any x86-64.
template <typename scalar_t, bool kMasked, bool kProducts>
MNAS_WIDE_TARGET void SumRowsWide(const scalar_t* a, const scalar_t* x, const scalar_t* gs, const scalar_t* go, const scalar_t* shift, int64_t rows,
                                  int64_t c, double* s1, double* s2, scalar_t* b1, scalar_t* b2) {
  SumRows<scalar_t, kMasked, kProducts>(a, x, gs, go, shift, rows, c, s1, s2, b1, b2);
}
template <typename scalar_t, bool kMasked, bool kProducts>
void SumRowsNarrow(const scalar_t* a, const scalar_t* x, const scalar_t* gs, const scalar_t* go, const scalar_t* shift, int64_t rows, int64_t c,
                   double* s1, double* s2, scalar_t* b1, scalar_t* b2) {
  SumRows<scalar_t, kMasked, kProducts>(a, x, gs, go, shift, rows, c, s1, s2, b1, b2);
}
template <typename scalar_t, bool kMasked, bool kProducts>
MNAS_WIDE_TARGET void SumPlaneWide(const scalar_t* a, const scalar_t* x, scalar_t gs, scalar_t go, scalar_t shift, int64_t n, double* s1, double* s2) {
  SumPlane<scalar_t, kMasked, kProducts, 32>(a, x, gs, go, shift, n, s1, s2);
}
template <typename scalar_t, bool kMasked, bool kProducts>
void SumPlaneNarrow(const scalar_t* a, const scalar_t* x, scalar_t gs, scalar_t go, scalar_t shift, int64_t n, double* s1, double* s2) {
  SumPlane<scalar_t, kMasked, kProducts, 16>(a, x, gs, go, shift, n, s1, s2);
}
template <typename scalar_t, bool kMasked, bool kRelu, bool kWithX>
MNAS_WIDE_TARGET void AffineRowsWide(const scalar_t* a, const scalar_t* x, const scalar_t* gs, const scalar_t* go, const scalar_t* p,
                                     const scalar_t* q, const scalar_t* r, int64_t rows, int64_t c, scalar_t* out) {
  AffineRows<scalar_t, kMasked, kRelu, kWithX>(a, x, gs, go, p, q, r, rows, c, out);
}
template <typename scalar_t, bool kMasked, bool kRelu, bool kWithX>
void AffineRowsNarrow(const scalar_t* a, const scalar_t* x, const scalar_t* gs, const scalar_t* go, const scalar_t* p, const scalar_t* q,
                      const scalar_t* r, int64_t rows, int64_t c, scalar_t* out) {
  AffineRows<scalar_t, kMasked, kRelu, kWithX>(a, x, gs, go, p, q, r, rows, c, out);
}
template <typename scalar_t, bool kMasked, bool kRelu, bool kWithX>
MNAS_WIDE_TARGET void AffinePlaneWide(const scalar_t* a, const scalar_t* x, scalar_t gs, scalar_t go, scalar_t p, scalar_t q, scalar_t r,
                                      int64_t n, scalar_t* out) {
  AffinePlane<scalar_t, kMasked, kRelu, kWithX>(a, x, gs, go, p, q, r, n, out);
}
template <typename scalar_t, bool kMasked, bool kRelu, bool kWithX>
void AffinePlaneNarrow(const scalar_t* a, const scalar_t* x, scalar_t gs, scalar_t go, scalar_t p, scalar_t q, scalar_t r, int64_t n,
                       scalar_t* out) {
  AffinePlane<scalar_t, kMasked, kRelu, kWithX>(a, x, gs, go, p, q, r, n, out);
}

// Per-channel sums over the whole tensor, split over threads: channels_last by rows (each thread
// its own sums, added up after), NCHW by channels.
template <typename scalar_t, bool kMasked, bool kProducts>
void ChannelSums(const Layout& l, const scalar_t* a, const scalar_t* x, const scalar_t* gs, const scalar_t* go, const scalar_t* shift,
                 std::vector<double>& s1, std::vector<double>& s2) {
  const bool wide = CpuHasWideVectors();
  s1.assign(static_cast<size_t>(l.c), 0.0);
  s2.assign(static_cast<size_t>(l.c), 0.0);
  if (l.inner == 1) {
    const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), l.outer / 64));
    std::vector<double> partial(static_cast<size_t>(parts * 2 * l.c), 0.0);
    at::parallel_for(0, parts, 1, [&](int64_t first, int64_t last) {
      std::vector<scalar_t> block(static_cast<size_t>(2 * l.c));
      for (int64_t part = first; part < last; part++) {
        const int64_t r0 = l.outer * part / parts, r1 = l.outer * (part + 1) / parts;
        double* p1 = partial.data() + part * 2 * l.c;
        const int64_t off = r0 * l.c;
        (wide ? SumRowsWide<scalar_t, kMasked, kProducts> : SumRowsNarrow<scalar_t, kMasked, kProducts>)(
            a + off, x + off, gs, go, shift, r1 - r0, l.c, p1, p1 + l.c, block.data(), block.data() + l.c);
      }
    });
    for (int64_t part = 0; part < parts; part++) {
      for (int64_t j = 0; j < l.c; j++) {
        s1[j] += partial[part * 2 * l.c + j];
        s2[j] += partial[part * 2 * l.c + l.c + j];
      }
    }
    return;
  }
  at::parallel_for(0, l.c, 1, [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; j++) {
      for (int64_t o = 0; o < l.outer; o++) {
        const int64_t off = (o * l.c + j) * l.inner;
        (wide ? SumPlaneWide<scalar_t, kMasked, kProducts> : SumPlaneNarrow<scalar_t, kMasked, kProducts>)(
            a + off, x + off, kMasked ? gs[j] : scalar_t(0), kMasked ? go[j] : scalar_t(0), shift[j], l.inner, &s1[j], &s2[j]);
      }
    }
  });
}

// out = (a masked) * p + x * q + r (+ ReLU) over the whole tensor, split over threads.
template <typename scalar_t, bool kMasked, bool kRelu, bool kWithX>
void ChannelAffine(const Layout& l, const scalar_t* a, const scalar_t* x, const scalar_t* gs, const scalar_t* go, const scalar_t* p,
                   const scalar_t* q, const scalar_t* r, scalar_t* out) {
  const bool wide = CpuHasWideVectors();
  if (l.inner == 1) {
    at::parallel_for(0, l.outer, 256, [&](int64_t begin, int64_t end) {
      const int64_t off = begin * l.c;
      (wide ? AffineRowsWide<scalar_t, kMasked, kRelu, kWithX> : AffineRowsNarrow<scalar_t, kMasked, kRelu, kWithX>)(
          a + off, x + off, gs, go, p, q, r, end - begin, l.c, out + off);
    });
    return;
  }
  at::parallel_for(0, l.outer * l.c, 1, [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; plane++) {
      const int64_t j = plane % l.c, off = plane * l.inner;
      (wide ? AffinePlaneWide<scalar_t, kMasked, kRelu, kWithX> : AffinePlaneNarrow<scalar_t, kMasked, kRelu, kWithX>)(
          a + off, x + off, kMasked ? gs[j] : scalar_t(0), kMasked ? go[j] : scalar_t(0), p[j], kWithX ? q[j] : scalar_t(0), r[j], l.inner,
          out + off);
    }
  });
}

#pragma GCC pop_options

Layout LayoutOf(const at::Tensor& x) {
  const int64_t n = x.size(0), c = x.size(1), hw = x.size(2) * x.size(3);
  return x.is_contiguous() ? Layout{n, c, hw} : Layout{n * hw, c, 1};
}

// The first element of every channel: the shift that keeps the sums of squares well conditioned.
template <typename scalar_t>
std::vector<scalar_t> FirstOfChannels(const Layout& l, const scalar_t* x) {
  std::vector<scalar_t> shift(static_cast<size_t>(l.c));
  for (int64_t j = 0; j < l.c; j++) shift[j] = l.inner == 1 ? x[j] : x[j * l.inner];
  return shift;
}

struct BatchNormReluFunction : public torch::autograd::Function<BatchNormReluFunction> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, at::Tensor x, at::Tensor weight, at::Tensor bias, at::Tensor running_mean,
                            at::Tensor running_var, double momentum, double eps, bool relu) {
    const Layout l = LayoutOf(x);
    const double count = static_cast<double>(l.count());
    at::Tensor y = at::empty_like(x, x.options().memory_format(FormatOf(x)));
    at::Tensor mean = at::empty({l.c}, x.options().memory_format(at::MemoryFormat::Contiguous));
    at::Tensor invstd = at::empty({l.c}, mean.options());
    // the normalization's scale and offset per channel: the backward pass recomputes the ReLU's mask with them
    at::Tensor gate = at::empty({2, l.c}, mean.options());
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "batch_norm_relu", [&] {
      const scalar_t* xp = x.data_ptr<scalar_t>();
      std::vector<scalar_t> shift = FirstOfChannels(l, xp);
      std::vector<double> s1, s2;
      ChannelSums<scalar_t, false, false>(l, xp, xp, nullptr, nullptr, shift.data(), s1, s2);
      const at::Tensor w = weight.contiguous(), b = bias.contiguous();
      const scalar_t* wp = w.data_ptr<scalar_t>();
      const scalar_t* bp = b.data_ptr<scalar_t>();
      scalar_t* scale = gate.data_ptr<scalar_t>();
      scalar_t* offset = scale + l.c;
      at::Tensor batch_var = at::empty({l.c}, mean.options());  // unbiased, for the running variance
      scalar_t* vp = batch_var.data_ptr<scalar_t>();
      scalar_t* mp = mean.data_ptr<scalar_t>();
      scalar_t* ip = invstd.data_ptr<scalar_t>();
      for (int64_t j = 0; j < l.c; j++) {
        const double d = s1[j] / count;
        const double var = std::max(0.0, s2[j] / count - d * d);
        const double m = static_cast<double>(shift[j]) + d;
        const double is = 1.0 / std::sqrt(var + eps);
        mp[j] = static_cast<scalar_t>(m);
        ip[j] = static_cast<scalar_t>(is);
        scale[j] = static_cast<scalar_t>(static_cast<double>(wp[j]) * is);
        offset[j] = static_cast<scalar_t>(static_cast<double>(bp[j]) - m * static_cast<double>(wp[j]) * is);
        vp[j] = static_cast<scalar_t>(var * count / (count - 1));
      }
      if (relu) {
        ChannelAffine<scalar_t, false, true, false>(l, xp, xp, nullptr, nullptr, scale, nullptr, offset, y.data_ptr<scalar_t>());
      } else {
        ChannelAffine<scalar_t, false, false, false>(l, xp, xp, nullptr, nullptr, scale, nullptr, offset, y.data_ptr<scalar_t>());
      }
      // running statistics, as libtorch updates them: (1 - momentum) * running + momentum * batch (unbiased variance)
      at::NoGradGuard no_grad;
      running_mean.mul_(1 - momentum).add_(mean, momentum);
      running_var.mul_(1 - momentum).add_(batch_var, momentum);
    });
    ctx->save_for_backward({x, weight, mean, invstd, gate});
    ctx->saved_data["relu"] = relu;
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor& x = saved[0];
    const at::Tensor& weight = saved[1];
    const at::Tensor& mean = saved[2];
    const at::Tensor& invstd = saved[3];
    const bool relu = ctx->saved_data["relu"].toBool();
    const at::Tensor& gate = saved[4];
    const Layout l = LayoutOf(x);
    const double count = static_cast<double>(l.count());
    const at::Tensor g = grads[0].contiguous(FormatOf(x));
    at::Tensor grad_x, grad_weight, grad_bias;
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "batch_norm_relu_backward", [&] {
      const scalar_t* gp = g.data_ptr<scalar_t>();
      const scalar_t* xp = x.data_ptr<scalar_t>();
      const scalar_t* gs = gate.data_ptr<scalar_t>();
      const scalar_t* go = gs + l.c;
      const scalar_t* mp = mean.data_ptr<scalar_t>();
      const scalar_t* ip = invstd.data_ptr<scalar_t>();
      const at::Tensor w = weight.contiguous();
      const scalar_t* wp = w.data_ptr<scalar_t>();
      std::vector<double> sum_g, sum_gx;
      if (relu) ChannelSums<scalar_t, true, true>(l, gp, xp, gs, go, mp, sum_g, sum_gx);
      else ChannelSums<scalar_t, false, true>(l, gp, xp, gs, go, mp, sum_g, sum_gx);
      if (ctx->needs_input_grad(1)) {
        grad_weight = at::empty({l.c}, mean.options());
        scalar_t* p = grad_weight.data_ptr<scalar_t>();
        for (int64_t j = 0; j < l.c; j++) p[j] = static_cast<scalar_t>(sum_gx[j] * static_cast<double>(ip[j]));
      }
      if (ctx->needs_input_grad(2)) {
        grad_bias = at::empty({l.c}, mean.options());
        scalar_t* p = grad_bias.data_ptr<scalar_t>();
        for (int64_t j = 0; j < l.c; j++) p[j] = static_cast<scalar_t>(sum_g[j]);
      }
      if (ctx->needs_input_grad(0)) {
        // dx = w*invstd * (g - mean(g) - (x - mean) * invstd^2 * mean(g * (x - mean))) = a*g + q*x + r
        std::vector<scalar_t> a(static_cast<size_t>(l.c)), q(static_cast<size_t>(l.c)), r(static_cast<size_t>(l.c));
        for (int64_t j = 0; j < l.c; j++) {
          const double is = ip[j], aj = static_cast<double>(wp[j]) * is;
          const double qj = -aj * is * is * sum_gx[j] / count;
          a[j] = static_cast<scalar_t>(aj);
          q[j] = static_cast<scalar_t>(qj);
          r[j] = static_cast<scalar_t>(-aj * sum_g[j] / count - qj * static_cast<double>(mp[j]));
        }
        grad_x = at::empty_like(x, x.options().memory_format(FormatOf(x)));
        if (relu) ChannelAffine<scalar_t, true, false, true>(l, gp, xp, gs, go, a.data(), q.data(), r.data(), grad_x.data_ptr<scalar_t>());
        else ChannelAffine<scalar_t, false, false, true>(l, gp, xp, gs, go, a.data(), q.data(), r.data(), grad_x.data_ptr<scalar_t>());
      }
    });
    return {grad_x, grad_weight, grad_bias, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

bool UsesOwnBatchNorm(const at::Tensor& x, const c10::optional<at::Tensor>& weight, const c10::optional<at::Tensor>& bias,
                      const c10::optional<at::Tensor>& running_mean, const c10::optional<at::Tensor>& running_var, bool training) {
  if (!training || x.dim() != 4 || x.device().type() != at::kCPU) return false;
  if (x.scalar_type() != at::kFloat && x.scalar_type() != at::kDouble) return false;
  if (!(x.is_contiguous() || x.is_contiguous(at::MemoryFormat::ChannelsLast))) return false;
  const int64_t c = x.size(1);
  // a single value per channel has no variance: libtorch's batch norm says so
  if (c < 1 || x.numel() / c < 2) return false;
  for (const auto* t : {&weight, &bias, &running_mean, &running_var}) {
    if (!t->has_value() || !FitsBeside(x, **t, {c})) return false;
  }
  if (running_mean->requires_grad() || running_var->requires_grad()) return false;
  return !LibtorchOpRequested("MNAS_BATCHNORM");
}

at::Tensor BatchNormRelu(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& running_mean,
                         const at::Tensor& running_var, double momentum, double eps, bool relu) {
  return BatchNormReluFunction::apply(x, weight, bias, running_mean, running_var, momentum, eps, relu);
}

}  // namespace mnas
