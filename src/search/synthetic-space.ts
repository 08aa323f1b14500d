/**
 * The `synthetic` evaluator for a real search space: the closed-form accuracy of
 * SyntheticProblem (known optimum) with latency taken from the cost model. MACs are approximated
 * by the best separable model (one cost per decision choice, fitted by least squares and
 * quantised into integer ticks), which keeps latency separable so the optimum reward stays exactly
 * computable by dynamic programming; 1 ms is charged per `macsPerMs` MACs.
 */
import { costOfPlan } from '../model/cost.js';
import { buildPlan } from '../model/plan.js';
import type { SearchSpace } from '../space/space.js';
import { Rng } from '../util/rng.js';
import type { Dna } from './space-like.js';
import { SyntheticProblem, type SeparableLatency } from './synthetic.js';

export interface CostModelSyntheticOptions {
  seed: number;
  /** MACs per millisecond of the linearised latency (default 2e6: ~2 GMAC/s, a phone core). */
  macsPerMs?: number;
  /** Resolution of the latency ticks: the default architecture spans about this many (default 400). */
  ticksForDefault?: number;
}

export function macsOf(space: SearchSpace, dna: Dna): number {
  return costOfPlan(buildPlan(space.decode(dna))).macs;
}

/**
 * The best separable (one cost per decision choice) approximation of the space's MACs: a
 * non-negative least-squares fit on seeded random samples (costs and intercept >= 0).
 */
export function costModelLatency(space: SearchSpace, o: CostModelSyntheticOptions): SeparableLatency {
  const decisions = space.decisions();
  const offsets: number[] = [];
  let p = 0;
  for (const d of decisions) {
    offsets.push(p);
    p += d.count;
  }
  const rng = new Rng(o.seed ^ 0x5eed);
  const samples = [space.defaultDna(), ...Array.from({ length: Math.max(200, 4 * p) }, () => space.sample(rng))];
  // normal equations of [1, one-hot(dna)] -> MACs
  const n = p + 1;
  const A = Array.from({ length: n }, () => new Float64Array(n));
  const b = new Float64Array(n);
  for (const dna of samples) {
    const idx = [0, ...dna.map((c, i) => 1 + (offsets[i] as number) + c)];
    const y = macsOf(space, dna);
    for (const r of idx) {
      b[r] = (b[r] as number) + y;
      const row = A[r] as Float64Array;
      for (const c of idx) row[c] = (row[c] as number) + 1;
    }
  }
  const w = nonNegativeLeastSquares(A, b);
  const intercept = w[0] as number;
  const cost = decisions.map((d, i) => Array.from({ length: d.count }, (_, c) => w[1 + (offsets[i] as number) + c] as number));
  const baseMacs = macsOf(space, space.defaultDna());
  const tickMacs = baseMacs / (o.ticksForDefault ?? 400);
  const macsPerMs = o.macsPerMs ?? 2e6;
  return {
    kind: 'separable',
    tickMs: tickMacs / macsPerMs,
    baseTicks: Math.max(1, Math.round(intercept / tickMacs)),
    ticks: cost.map((cs) => cs.map((v) => Math.round(v / tickMacs))),
  };
}

/**
 * min |Xw - y|^2 subject to w >= 0, from the normal equations A = X'X, b = X'y, by projected
 * Gauss-Seidel (coordinate descent): every cost and the intercept stay non-negative, as the
 * synthetic problem's latency ticks must.
 */
function nonNegativeLeastSquares(A: Float64Array[], b: Float64Array, sweeps = 2000): Float64Array {
  const n = b.length;
  const w = new Float64Array(n);
  for (let s = 0; s < sweeps; s++) {
    let change = 0;
    for (let j = 0; j < n; j++) {
      const row = A[j] as Float64Array;
      const diag = row[j] as number;
      if (diag <= 0) continue;
      let g = -(b[j] as number);
      for (let k = 0; k < n; k++) g += (row[k] as number) * (w[k] as number);
      const next = Math.max(0, (w[j] as number) - g / diag);
      change = Math.max(change, Math.abs(next - (w[j] as number)));
      w[j] = next;
    }
    if (change < 1e-6) break;
  }
  return w;
}

export function syntheticProblemForSpace(space: SearchSpace, o: CostModelSyntheticOptions): SyntheticProblem {
  return new SyntheticProblem(space, { seed: o.seed, latency: costModelLatency(space, o) });
}
