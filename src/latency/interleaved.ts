/**
 * Latency relative to a reference model, measured interleaved: short blocks of the model and of
 * the reference in turn, the ratio of each pair of blocks, the median ratio. On a machine whose
 * speed changes (CPU frequency, other tenants of a VM host) both models see the same changes,
 * so their ratio holds still where their milliseconds do not. On this project's VM (2026-12-01):
 * 3-second windows of bench-fmnist ranged 0.140-0.151 ms (CV 2.0%) while its ratios to three
 * other models over the same windows had CVs of 0.16-0.62% (75 s of blocks in turn); and six
 * measureAgainst() calls each of fmnist-default and mnasnet-a1-fmnist against bench-fmnist gave
 * ratios 1.115-1.145 and 1.577-1.598 while the reference's own median moved 0.144-0.198 ms.
 *
 * The search uses it to take LAT / T straight from the device when T is the latency of the
 * reference (`device.interleave`): a trial's latency is its ratio times the reference's latency
 * measured when the run started.
 */
import type { LatencyStats, MeasureProtocol } from './device.js';
import { DEFAULT_PROTOCOL, medianRelHalfWidth, resolveProtocol, summarize, throwIfAborted, type RunOptions } from './protocol.js';
import { quantileSorted } from '../util/stats.js';

/** Seconds of one block: long enough to time a few runs, short enough that the machine rarely changes speed within a pair. */
export const BLOCK_SECONDS = 0.01;
/** Pairs of blocks before the ratio may be called converged. */
export const MIN_PAIRS = 12;

/**
 * The protocol an interleaved measurement follows unless told otherwise: the ratio to +-0.5%
 * (95%), within 3 s. A search takes each trial's LAT/T from one such ratio, and the default
 * protocol's +-2% left only 67-73% of a search's trials within 3% of a quiet re-measurement;
 * `mnas measure --against` of one model, 4 calls each: ratios spread 6% at +-2% and 1.6% at
 * +-0.5%, which took 0.7-3.9 s (2026-12-01).
 */
export const INTERLEAVED_PROTOCOL: Readonly<MeasureProtocol> = Object.freeze({ ...DEFAULT_PROTOCOL, minSeconds: 0.5, relPrecision: 0.005, maxSeconds: 3 });

export interface PairOutcome {
  /** Median over pairs of (model block median / reference block median). */
  readonly ratio: number;
  /** 95% CI half-width of that median, relative. */
  readonly ratio_rel_half_width: number;
  /** The model's and the reference's run times over every block. */
  readonly model: LatencyStats;
  readonly reference: LatencyStats;
  readonly pairs: number;
  readonly runs_per_block: number;
  readonly converged: boolean;
  readonly seconds: number;
}

const now = () => performance.now();

async function timedRuns(run: () => Promise<unknown>, n: number, into: number[]): Promise<number> {
  const block: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = now();
    await run();
    block.push(now() - t0);
  }
  into.push(...block);
  return quantileSorted(block.sort((a, b) => a - b), 0.5);
}

/**
 * Times `runModel` against `runReference` in alternating blocks under the protocol's caps: warm-up
 * of both, then pairs of blocks until at least MIN_PAIRS pairs and minSeconds have passed and the
 * median ratio is known to relPrecision (95%), or maxSeconds (at least MIN_PAIRS pairs are taken).
 */
export async function measureInterleaved(runModel: () => Promise<unknown>, runReference: () => Promise<unknown>, protocol: Partial<MeasureProtocol> = {}, o: RunOptions = {}): Promise<PairOutcome> {
  // a cap below the default minimum lowers the minimum with it
  const minSeconds = protocol.minSeconds ?? Math.min(INTERLEAVED_PROTOCOL.minSeconds ?? 0, protocol.maxSeconds ?? INTERLEAVED_PROTOCOL.maxSeconds);
  const p = resolveProtocol({ ...protocol, minSeconds }, INTERLEAVED_PROTOCOL);
  // warm-up: both, in turn; it also tells how many runs fill a block
  let modelMs = 0, referenceMs = 0, warm = 0;
  const w0 = now();
  for (let i = 0; i < p.warmupRuns || (now() - w0) / 1000 < (p.warmupSeconds ?? 0); i++) {
    throwIfAborted(o.signal);
    let t = now();
    await runModel();
    modelMs += now() - t;
    t = now();
    await runReference();
    referenceMs += now() - t;
    warm++;
    if ((now() - w0) / 1000 > p.maxSeconds) break;
  }
  const slower = Math.max(modelMs, referenceMs) / Math.max(1, warm);
  const perBlock = Math.max(3, Math.min(1000, Math.round((BLOCK_SECONDS * 1000) / Math.max(slower, 1e-3))));
  const modelRuns: number[] = [], referenceRuns: number[] = [], ratios: number[] = [];
  const start = now();
  let relHalfWidth = Infinity;
  for (;;) {
    throwIfAborted(o.signal);
    const m = await timedRuns(runModel, perBlock, modelRuns);
    const r = await timedRuns(runReference, perBlock, referenceRuns);
    ratios.push(m / r);
    const elapsed = (now() - start) / 1000;
    if (ratios.length < MIN_PAIRS) continue;
    const sorted = [...ratios].sort((a, b) => a - b);
    relHalfWidth = medianRelHalfWidth(sorted);
    const converged = relHalfWidth <= p.relPrecision && elapsed >= (p.minSeconds ?? 0);
    if (converged || elapsed >= p.maxSeconds) {
      return {
        ratio: quantileSorted(sorted, 0.5),
        ratio_rel_half_width: relHalfWidth,
        model: summarize(modelRuns, converged, elapsed),
        reference: summarize(referenceRuns, converged, elapsed),
        pairs: ratios.length,
        runs_per_block: perBlock,
        converged,
        seconds: elapsed,
      };
    }
  }
}
