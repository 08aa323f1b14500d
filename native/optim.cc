// Optimizer steps, fused over all parameters in one native call (no per-parameter crossing of
// the JS boundary). State tensors are owned by TypeScript and passed in; the update rules
// follow torch.optim exactly (SGD, RMSprop, Adam/AdamW) plus TensorFlow-style RMSProp.
#include "common.h"

#include <cmath>

namespace mnas {

namespace {

void RequireSameLength(const Args& a, size_t i, const char* name, size_t got, size_t want) {
  if (got != want) a.Fail(i, name, "must have one entry per parameter (" + std::to_string(want) + "), got " + std::to_string(got));
}

// sgdStep(params, momentumBuffers, lr, momentum, dampening, weightDecay, nesterov, firstStep)
Napi::Value SgdStep(const Args& a) {
  at::NoGradGuard ng;
  auto params = a.TensorList(0, "params");
  auto bufs = a.TensorList(1, "momentumBuffers");
  double lr = a.Double(2, "lr"), momentum = a.Double(3, "momentum"), dampening = a.Double(4, "dampening");
  double wd = a.Double(5, "weightDecay");
  bool nesterov = a.Bool(6, "nesterov"), first = a.Bool(7, "firstStep");
  if (momentum != 0) RequireSameLength(a, 1, "momentumBuffers", bufs.size(), params.size());
  for (size_t i = 0; i < params.size(); i++) {
    at::Tensor& p = params[i];
    const at::Tensor& g0 = p.grad();
    if (!g0.defined()) continue;
    at::Tensor d = wd != 0 ? g0.add(p, wd) : g0;
    if (momentum != 0) {
      at::Tensor& buf = bufs[i];
      if (first) buf.copy_(d);
      else buf.mul_(momentum).add_(d, 1 - dampening);
      d = nesterov ? d.add(buf, momentum) : buf;
    }
    p.add_(d, -lr);
  }
  return a.env().Undefined();
}

// rmspropStep(params, squareAvg, momentumBuffers, lr, alpha, eps, weightDecay, momentum, tfStyle)
// tfStyle: eps inside the square root and the learning rate inside the momentum buffer, as
// TensorFlow's RMSPropOptimizer (the MnasNet recipe); the caller initialises squareAvg to 1.
Napi::Value RmspropStep(const Args& a) {
  at::NoGradGuard ng;
  auto params = a.TensorList(0, "params");
  auto sq = a.TensorList(1, "squareAvg");
  auto bufs = a.TensorList(2, "momentumBuffers");
  double lr = a.Double(3, "lr"), alpha = a.Double(4, "alpha"), eps = a.Double(5, "eps");
  double wd = a.Double(6, "weightDecay"), momentum = a.Double(7, "momentum");
  bool tf = a.Bool(8, "tfStyle");
  RequireSameLength(a, 1, "squareAvg", sq.size(), params.size());
  if (momentum > 0) RequireSameLength(a, 2, "momentumBuffers", bufs.size(), params.size());
  for (size_t i = 0; i < params.size(); i++) {
    at::Tensor& p = params[i];
    const at::Tensor& g0 = p.grad();
    if (!g0.defined()) continue;
    at::Tensor g = wd != 0 ? g0.add(p, wd) : g0;
    sq[i].mul_(alpha).addcmul_(g, g, 1 - alpha);
    at::Tensor avg = tf ? sq[i].add(eps).sqrt_() : sq[i].sqrt().add_(eps);
    if (momentum > 0) {
      if (tf) {
        bufs[i].mul_(momentum).addcdiv_(g, avg, lr);
        p.sub_(bufs[i]);
      } else {
        bufs[i].mul_(momentum).addcdiv_(g, avg);
        p.add_(bufs[i], -lr);
      }
    } else {
      p.addcdiv_(g, avg, -lr);
    }
  }
  return a.env().Undefined();
}

// adamStep(params, expAvg, expAvgSq, step, lr, beta1, beta2, eps, weightDecay, decoupled)
Napi::Value AdamStep(const Args& a) {
  at::NoGradGuard ng;
  auto params = a.TensorList(0, "params");
  auto m = a.TensorList(1, "expAvg");
  auto v = a.TensorList(2, "expAvgSq");
  int64_t step = a.Int(3, "step");
  if (step < 1) a.Fail(3, "step", "must be >= 1");
  double lr = a.Double(4, "lr"), b1 = a.Double(5, "beta1"), b2 = a.Double(6, "beta2"), eps = a.Double(7, "eps");
  double wd = a.Double(8, "weightDecay");
  bool decoupled = a.Bool(9, "decoupled");
  RequireSameLength(a, 1, "expAvg", m.size(), params.size());
  RequireSameLength(a, 2, "expAvgSq", v.size(), params.size());
  double bc1 = 1 - std::pow(b1, static_cast<double>(step));
  double bc2 = 1 - std::pow(b2, static_cast<double>(step));
  for (size_t i = 0; i < params.size(); i++) {
    at::Tensor& p = params[i];
    const at::Tensor& g0 = p.grad();
    if (!g0.defined()) continue;
    at::Tensor g = g0;
    if (wd != 0) {
      if (decoupled) p.mul_(1 - lr * wd);
      else g = g0.add(p, wd);
    }
    m[i].mul_(b1).add_(g, 1 - b1);
    v[i].mul_(b2).addcmul_(g, g, 1 - b2);
    at::Tensor denom = v[i].sqrt().div_(std::sqrt(bc2)).add_(eps);
    p.addcdiv_(m[i], denom, -lr / bc1);
  }
  return a.env().Undefined();
}

// clipGradNorm(params, maxNorm) -> total L2 norm of the gradients before clipping.
Napi::Value ClipGradNorm(const Args& a) {
  at::NoGradGuard ng;
  auto params = a.TensorList(0, "params");
  double maxNorm = a.Double(1, "maxNorm");
  double total = 0;
  for (auto& p : params)
    if (p.grad().defined()) total += p.grad().pow(2).sum().item<double>();
  total = std::sqrt(total);
  if (std::isfinite(total) && maxNorm > 0 && total > maxNorm) {
    double scale = maxNorm / (total + 1e-6);
    for (auto& p : params)
      if (p.grad().defined()) p.mutable_grad().mul_(scale);
  }
  return Napi::Number::New(a.env(), total);
}

}  // namespace

void RegisterOptimizers(Napi::Env env, Napi::Object exports) {
  MNAS_EXPORT(exports, "sgdStep", SgdStep);
  MNAS_EXPORT(exports, "rmspropStep", RmspropStep);
  MNAS_EXPORT(exports, "adamStep", AdamStep);
  MNAS_EXPORT(exports, "clipGradNorm", ClipGradNorm);
}

}  // namespace mnas
