/** Weight initialisers, all seeded through a Generator. */
import { normal_, uniform_, type Generator } from '../creation.js';
import type { Tensor } from '../tensor.js';

/** fan_in and fan_out of a conv weight OIHW (or a linear weight [out, in]). */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: (shape[1] ?? 1) * receptive, fanOut: (shape[0] ?? 1) * receptive };
}

/** PyTorch's default for Conv2d/Linear weights: kaiming_uniform(a = sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
export function pytorchDefault(t: Tensor, gen?: Generator): Tensor {
  const bound = 1 / Math.sqrt(fans(t.shape).fanIn);
  return uniform_(t, -bound, bound, gen);
}

/** tensorflow/tpu MnasNet conv init: N(0, sqrt(2 / fan_out)) (variance scaling, fan_out). */
export function convFanOutNormal(t: Tensor, gen?: Generator): Tensor {
  return normal_(t, 0, Math.sqrt(2 / fans(t.shape).fanOut), gen);
}

/** tensorflow/tpu MnasNet dense init: U(-1/sqrt(out), 1/sqrt(out)). */
export function denseUniformFanOut(t: Tensor, gen?: Generator): Tensor {
  const bound = 1 / Math.sqrt(t.shape[0] ?? 1);
  return uniform_(t, -bound, bound, gen);
}

export type InitScheme = 'pytorch' | 'tf-mnasnet';
