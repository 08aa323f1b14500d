/**
 * A synthetic architecture evaluator with a closed form and an exactly known optimum, so
 * strategies and the loop can be tested in milliseconds without training (NNI's best test).
 *
 * Accuracy: a chain model over the flattened decisions,
 *     s(x) = sum_i u_i[x_i] + sum_i p_i[x_i][x_{i+1}]
 *     ACC  = accLo + (accHi - accLo) * ((s - sMin) / (sMax - sMin)) ^ gamma     (gamma < 1: diminishing returns)
 * The unary terms grow with each choice's latency cost (bigger ops are more accurate and
 * slower), the pairwise terms couple neighbouring decisions (so decisions cannot be optimised
 * one by one) and the concave map makes the last accuracy points expensive: under a latency
 * target the best reward is a trade-off, not "max everything".
 *
 * Latency: pluggable. The default is separable in integer ticks,
 *     LAT = tickMs * (baseTicks + sum_i ticks_i[x_i]),
 * which makes the reward optimum exactly computable by dynamic programming over
 * (position, previous choice, accumulated ticks): for each achievable latency keep the best
 * chain score, then maximise reward over latencies (ACC is monotone in s). A custom latency
 * function (e.g. the cost model's MACs later) is supported; its optimum is found by exhaustive
 * search when the space has at most 2^22 points.
 */
import { Rng } from '../util/rng.js';
import { computeReward, type RewardConfig } from './reward.js';
import { sleep, type EvalResult, type Evaluator } from './evaluator.js';
import { validateDna } from '../space/space.js';
import { checkedDecisions, flatSpace, spaceSize, type DecisionLike, type DecisionSpaceLike, type Dna } from './space-like.js';

export interface SeparableLatency {
  readonly kind: 'separable';
  readonly tickMs: number;
  readonly baseTicks: number;
  /** ticks[i][c]: non-negative integer cost of choice c at decision i. */
  readonly ticks: readonly (readonly number[])[];
}

export interface FunctionLatency {
  readonly kind: 'function';
  readonly latencyMs: (dna: Dna) => number;
}

export type LatencyModel = SeparableLatency | FunctionLatency;

export interface SyntheticOptions {
  readonly seed: number;
  /** Scale of pairwise terms relative to unary ones (default 0.35). */
  readonly interaction?: number;
  /** Accuracy range (default [0.4, 0.95]). */
  readonly accuracyRange?: readonly [number, number];
  /** Concavity of the accuracy map, in (0, 1] (default 0.6). */
  readonly gamma?: number;
  /** Latency model; default: a random separable model correlated with the unary utilities. */
  readonly latency?: LatencyModel;
}

export interface Optimum {
  readonly dna: Dna;
  readonly reward: number;
  readonly accuracy: number;
  readonly latencyMs: number;
}

export interface SyntheticEvaluatorOptions {
  /** Simulated evaluation time in ms (default 0). */
  readonly delayMs?: number;
  /** Returns a failure reason for DNAs that should fail (deterministic failure injection). */
  readonly failWhen?: (dna: Dna) => string | undefined;
  /** Called at the start of each evaluation (counting, instrumentation). */
  readonly onEvaluate?: (dna: Dna) => void;
}

export class SyntheticProblem implements DecisionSpaceLike {
  readonly latencyModel: LatencyModel;
  private readonly ds: readonly DecisionLike[];
  private readonly unary: number[][];
  private readonly pair: number[][][]; // pair[i][a][b] couples decision i and i+1
  private readonly sMin: number;
  private readonly sMax: number;
  private readonly accLo: number;
  private readonly accHi: number;
  private readonly gamma: number;

  constructor(space: DecisionSpaceLike, options: SyntheticOptions) {
    this.ds = checkedDecisions(space, 'SyntheticProblem').map((d) => ({ label: d.label, count: d.count }));
    const rng = new Rng(options.seed);
    const interaction = options.interaction ?? 0.35;
    const [lo, hi] = options.accuracyRange ?? [0.4, 0.95];
    if (!(lo >= 0 && hi <= 1 && lo < hi)) throw new Error(`SyntheticProblem: accuracyRange must satisfy 0 <= lo < hi <= 1, got [${lo}, ${hi}]`);
    this.accLo = lo;
    this.accHi = hi;
    this.gamma = options.gamma ?? 0.6;
    if (!(this.gamma > 0 && this.gamma <= 1)) throw new Error(`SyntheticProblem: gamma must be in (0, 1], got ${this.gamma}`);

    // Default costs: per decision a random increasing-ish cost per choice (shuffled a little).
    const defaultTicks = this.ds.map((d) => {
      const step = 1 + rng.int(3);
      const t = Array.from({ length: d.count }, (_, c) => c * step + rng.int(2));
      if (rng.next() < 0.25) rng.shuffle(t); // some decisions' costs are not ordered by index
      return t;
    });
    const gains = this.ds.map(() => 0.3 + 0.7 * rng.next());
    const costForUtility = options.latency?.kind === 'separable' ? options.latency.ticks : defaultTicks;
    this.unary = this.ds.map((d, i) => Array.from({ length: d.count }, (_, c) => gains[i]! * Math.sqrt(costForUtility[i]?.[c] ?? c) + 0.3 * rng.next()));
    this.pair = this.ds.slice(0, -1).map((d, i) =>
      Array.from({ length: d.count }, () => Array.from({ length: this.ds[i + 1]!.count }, () => interaction * (2 * rng.next() - 1))),
    );
    this.latencyModel = options.latency ?? { kind: 'separable', tickMs: 0.5, baseTicks: 4, ticks: defaultTicks };
    if (this.latencyModel.kind === 'separable') this.checkSeparable(this.latencyModel);
    this.sMin = -this.chainExtreme(-1);
    this.sMax = this.chainExtreme(1);
  }

  /** Named MnasNet-like space: per block ConvOp(4) Kernel(2) SE(2) Skip(3) Filters(3) Layers(3). */
  static mnasLikeSpace(blocks: number): DecisionSpaceLike {
    const per: [string, number][] = [['conv', 4], ['kernel', 2], ['se', 2], ['skip', 3], ['filters', 3], ['layers', 3]];
    const all: [string, number][] = [];
    for (let b = 0; b < blocks; b++) for (const [n, c] of per) all.push([`b${b}_${n}`, c]);
    return flatSpace(all);
  }

  decisions(): readonly DecisionLike[] {
    return this.ds;
  }

  /** Chain score s(x). */
  score(dna: Dna): number {
    validateDna(this.ds, dna, 'SyntheticProblem');
    let s = 0;
    for (let i = 0; i < dna.length; i++) {
      s += this.unary[i]![dna[i]!]!;
      if (i + 1 < dna.length) s += this.pair[i]![dna[i]!]![dna[i + 1]!]!;
    }
    return s;
  }

  private accFromScore(s: number): number {
    const span = this.sMax - this.sMin;
    const t = span > 0 ? Math.min(1, Math.max(0, (s - this.sMin) / span)) : 1;
    return this.accLo + (this.accHi - this.accLo) * Math.pow(t, this.gamma);
  }

  accuracy(dna: Dna): number {
    return this.accFromScore(this.score(dna));
  }

  latencyMs(dna: Dna): number {
    validateDna(this.ds, dna, 'SyntheticProblem');
    const m = this.latencyModel;
    if (m.kind === 'function') return m.latencyMs(dna);
    return m.tickMs * (m.baseTicks + dna.reduce((a, c, i) => a + m.ticks[i]![c]!, 0));
  }

  /** A stand-in MAC count proportional to latency (the real cost model replaces this). */
  macs(dna: Dna): number {
    return Math.round(this.latencyMs(dna) * 1e6);
  }

  reward(cfg: RewardConfig, dna: Dna): number {
    return computeReward(cfg, this.accuracy(dna), this.latencyMs(dna));
  }

  /** Minimum and maximum achievable latency (exact for separable models; exhaustive otherwise). */
  latencyRange(): { min: number; max: number } {
    const m = this.latencyModel;
    if (m.kind === 'separable') {
      const lo = m.ticks.reduce((a, t) => a + Math.min(...t), 0);
      const hi = m.ticks.reduce((a, t) => a + Math.max(...t), 0);
      return { min: m.tickMs * (m.baseTicks + lo), max: m.tickMs * (m.baseTicks + hi) };
    }
    let min = Infinity;
    let max = -Infinity;
    this.enumerate((dna) => {
      const l = m.latencyMs(dna);
      min = Math.min(min, l);
      max = Math.max(max, l);
    });
    return { min, max };
  }

  /** A target latency that makes the constraint bind: `fraction` of the way from min to max latency. */
  suggestedTargetMs(fraction = 0.4): number {
    const { min, max } = this.latencyRange();
    return min + fraction * (max - min);
  }

  /** The exact reward-maximising DNA and its reward (ties: lowest latency, then first found). */
  optimum(cfg: RewardConfig): Optimum {
    const m = this.latencyModel;
    if (m.kind === 'separable') return this.optimumSeparable(cfg, m);
    return this.optimumExhaustive(cfg);
  }

  /** Exhaustive maximum (any latency model, small spaces only); used to cross-check the DP. */
  optimumExhaustive(cfg: RewardConfig): Optimum {
    let best: Optimum | undefined;
    this.enumerate((dna) => {
      const accuracy = this.accuracy(dna);
      const latencyMs = this.latencyMs(dna);
      const reward = computeReward(cfg, accuracy, latencyMs);
      if (!best || reward > best.reward || (reward === best.reward && latencyMs < best.latencyMs))
        best = { dna: Object.freeze(dna.slice()), reward, accuracy, latencyMs };
    });
    return best!;
  }

  /** An Evaluator over this problem. */
  evaluator(options: SyntheticEvaluatorOptions = {}): Evaluator {
    return {
      evaluate: async (dna, signal): Promise<EvalResult> => {
        options.onEvaluate?.(dna);
        if (options.delayMs) await sleep(options.delayMs, signal);
        else await Promise.resolve();
        if (signal.aborted) throw signal.reason ?? new Error('aborted');
        const reason = options.failWhen?.(dna);
        if (reason !== undefined) return { status: 'failed', reason };
        const latencyMs = this.latencyMs(dna);
        return {
          status: 'done',
          accuracy: this.accuracy(dna),
          latencyMs,
          latencyStats: { medianMs: latencyMs, runs: 1 },
          macs: this.macs(dna),
          params: dna.reduce((a, c) => a + c + 1, 0) * 1000,
          timings: { evalMs: options.delayMs ?? 0 },
        };
      },
    };
  }

  private checkSeparable(m: SeparableLatency): void {
    if (!(m.tickMs > 0)) throw new Error(`SyntheticProblem: tickMs must be > 0, got ${m.tickMs}`);
    if (!Number.isInteger(m.baseTicks) || m.baseTicks < 0) throw new Error(`SyntheticProblem: baseTicks must be an integer >= 0`);
    if (m.ticks.length !== this.ds.length) throw new Error(`SyntheticProblem: ticks has ${m.ticks.length} rows, the space has ${this.ds.length} decisions`);
    m.ticks.forEach((row, i) => {
      if (row.length !== this.ds[i]!.count || !row.every((t) => Number.isInteger(t) && t >= 0))
        throw new Error(`SyntheticProblem: ticks[${i}] must hold ${this.ds[i]!.count} non-negative integers`);
    });
    if (m.baseTicks + m.ticks.reduce((a, t) => a + Math.min(...t), 0) === 0) throw new Error('SyntheticProblem: the minimum latency would be 0');
  }

  /** max (sign=1) or -min (sign=-1) of the chain score, by Viterbi. */
  private chainExtreme(sign: number): number {
    let prev = this.unary[0]!.map((u) => sign * u);
    for (let i = 1; i < this.ds.length; i++) {
      prev = this.unary[i]!.map((u, b) => sign * u + Math.max(...prev.map((v, a) => v + sign * this.pair[i - 1]![a]![b]!)));
    }
    return Math.max(...prev);
  }

  private optimumSeparable(cfg: RewardConfig, m: SeparableLatency): Optimum {
    const n = this.ds.length;
    const maxSum = m.ticks.reduce((a, t) => a + Math.max(...t), 0);
    const W = maxSum + 1;
    // best[i][c*W + L]: max score of a prefix 0..i ending in choice c with prefix ticks L.
    const best: Float64Array[] = [];
    const from: Int16Array[] = [];
    for (let i = 0; i < n; i++) {
      const C = this.ds[i]!.count;
      const b = new Float64Array(C * W).fill(-Infinity);
      const f = new Int16Array(C * W).fill(-1);
      for (let c = 0; c < C; c++) {
        const t = m.ticks[i]![c]!;
        const u = this.unary[i]![c]!;
        if (i === 0) {
          b[c * W + t] = u;
          continue;
        }
        const P = this.ds[i - 1]!.count;
        const pb = best[i - 1]!;
        for (let L = 0; L + t < W; L++) {
          let v = -Infinity;
          let arg = -1;
          for (let a = 0; a < P; a++) {
            const prev = pb[a * W + L]!;
            if (prev === -Infinity) continue;
            const cand = prev + this.pair[i - 1]![a]![c]!;
            if (cand > v) {
              v = cand;
              arg = a;
            }
          }
          if (arg >= 0) {
            b[c * W + L + t] = v + u;
            f[c * W + L + t] = arg;
          }
        }
      }
      best.push(b);
      from.push(f);
    }
    let opt: { reward: number; latencyMs: number; accuracy: number; c: number; L: number } | undefined;
    const last = best[n - 1]!;
    for (let L = 0; L < W; L++) {
      for (let c = 0; c < this.ds[n - 1]!.count; c++) {
        const s = last[c * W + L]!;
        if (s === -Infinity) continue;
        const latencyMs = m.tickMs * (m.baseTicks + L);
        const accuracy = this.accFromScore(s);
        const reward = computeReward(cfg, accuracy, latencyMs);
        if (!opt || reward > opt.reward) opt = { reward, latencyMs, accuracy, c, L };
      }
    }
    const dna = new Array<number>(n);
    let c = opt!.c;
    let L = opt!.L;
    for (let i = n - 1; i >= 0; i--) {
      dna[i] = c;
      const prev = from[i]![c * W + L]!;
      L -= m.ticks[i]![c]!;
      c = prev;
    }
    // Report the values recomputed from the DNA (identical up to float summation order).
    const accuracy = this.accuracy(dna);
    const latencyMs = this.latencyMs(dna);
    return { dna: Object.freeze(dna), accuracy, latencyMs, reward: computeReward(cfg, accuracy, latencyMs) };
  }

  private enumerate(visit: (dna: number[]) => void): void {
    const size = spaceSize(this);
    if (size > 2 ** 22) throw new Error(`SyntheticProblem: exhaustive search over ${size} points refused (limit 2^22); use a separable latency model`);
    const dna = this.ds.map(() => 0);
    for (;;) {
      visit(dna);
      let i = dna.length - 1;
      while (i >= 0 && dna[i]! + 1 >= this.ds[i]!.count) dna[i--] = 0;
      if (i < 0) return;
      dna[i]!++;
    }
  }
}
