/**
 * Test helpers for the engine: closeness assertions and a finite-difference gradient check.
 * Not imported by library code.
 */
import assert from 'node:assert/strict';
import { float64Tensor } from './creation.js';
import { mul, sum } from './ops/math.js';
import { noGrad, tidy, type Shape, type Tensor } from './tensor.js';

/** |a - e| <= atol + rtol * |e| elementwise, with the worst offender in the message. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string, rtol = 1e-5, atol = 1e-6): void {
  assert.equal(actual.length, expected.length, `${label}: length ${actual.length} != ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as number, e = expected[i] as number;
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    assert.fail(`${label}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol}; ${countBad(actual, expected, rtol, atol)} bad of ${actual.length})`);
  }
}

/**
 * The largest |a - b| relative to the largest |b|: how far two computations of the same tensor are
 * apart, at its own scale. `keep` limits the differences to the elements it selects.
 */
export function maxRelativeDifference(a: ArrayLike<number>, b: ArrayLike<number>, keep: (i: number) => boolean = () => true): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i] as number));
    if (keep(i)) diff = Math.max(diff, Math.abs((a[i] as number) - (b[i] as number)));
  }
  return diff / scale;
}

function countBad(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number): number {
  let n = 0;
  for (let i = 0; i < actual.length; i++) if (!(Math.abs((actual[i] as number) - (expected[i] as number)) <= atol + rtol * Math.abs(expected[i] as number))) n++;
  return n;
}

/** A deterministic stream of doubles in [0, 1) (mulberry32), for test data. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n values uniform in [lo, hi). */
export function randomArray(rand: () => number, n: number, lo = -1, hi = 1): Float64Array {
  return Float64Array.from({ length: n }, () => lo + (hi - lo) * rand());
}

export interface GradInput {
  data: Float64Array;
  shape: Shape;
  /** false: a constant (not perturbed, no gradient checked). */
  grad?: boolean;
}

export interface GradCheckOptions {
  eps?: number;
  rtol?: number;
  atol?: number;
  seed?: number;
}

/**
 * Checks the analytical gradient of fn (float64) against central differences. The scalar
 * checked is sum(fn(inputs) * R) for a fixed random R, so every output element contributes
 * with its own weight (a vector-Jacobian product in one backward). Returns the number of
 * gradient elements compared.
 */
export function gradCheck(label: string, fn: (xs: Tensor[]) => Tensor, inputs: readonly GradInput[], o: GradCheckOptions = {}): number {
  const eps = o.eps ?? 1e-6, rtol = o.rtol ?? 1e-6, atol = o.atol ?? 1e-8;
  const rand = seededRandom(o.seed ?? 7);
  return tidy(() => {
    const make = (datas: readonly Float64Array[], requiresGrad: boolean) =>
      inputs.map((inp, i) => float64Tensor(datas[i] as Float64Array, inp.shape, { requiresGrad: requiresGrad && inp.grad !== false }));
    const base = inputs.map((i) => i.data);
    const probe = noGrad(() => fn(make(base, false)));
    assert.equal(probe.dtype, 'float64', `${label}: fn must keep float64 (got ${probe.dtype})`);
    const weights = float64Tensor(randomArray(rand, probe.size, 0.5, 1.5), probe.shape);
    const objective = (datas: readonly Float64Array[]): number => tidy(() => noGrad(() => sum(mul(fn(make(datas, false)), weights)).item()));

    const xs = make(base, true);
    const loss = sum(mul(fn(xs), weights));
    loss.backward();
    let compared = 0;
    inputs.forEach((inp, k) => {
      if (inp.grad === false) return;
      const g = xs[k]!.grad;
      assert.ok(g, `${label}: input ${k} got no gradient`);
      const analytical = g.toFloat64Array();
      const numerical = new Float64Array(inp.data.length);
      for (let j = 0; j < inp.data.length; j++) {
        const plus = base.map((d) => d.slice());
        const minus = base.map((d) => d.slice());
        plus[k]![j]! += eps;
        minus[k]![j]! -= eps;
        numerical[j] = (objective(plus) - objective(minus)) / (2 * eps);
      }
      assertClose(analytical, numerical, `${label}: d/d input ${k}`, rtol, atol);
      compared += inp.data.length;
    });
    return compared;
  });
}
