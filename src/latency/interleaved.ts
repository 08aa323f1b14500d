/**
 * Latency relative to a reference model, measured interleaved: short blocks of the model and of
 * the reference in turn, the ratio of each pair of blocks (of a low quantile of each block's runs,
 * BLOCK_QUANTILE), the median ratio. On a machine whose
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
import { quantile, quantileSorted } from '../util/stats.js';

/** Seconds of one block: long enough to time a few runs, short enough that the machine rarely changes speed within a pair. */
export const BLOCK_SECONDS = 0.01;
/**
 * Which quantile of a block's runs a pair compares. Within a block of 10 ms the runs on this VM
 * are bimodal (a fast mode, and runs slowed by the host by up to 1.5x; bench-fmnist: p10 about
 * 0.153 ms, p90 0.21-0.23 ms), and the share of slow runs changes from block to block, so a
 * block's median moves with it while its p10 stays on the fast mode. 60 cifar archs timed twice
 * minutes apart, ratios from the same blocks (2026-12-02): within 5% of the first time for 92% with
 * the blocks' p10s against 82% with their medians (median difference 1.7% against 2.8%; p25: 88%,
 * 2.4%). The median over pairs still makes the ratio robust to a pair that straddled a change.
 */
export const BLOCK_QUANTILE = 0.1;
/** Pairs of blocks before the ratio may be called converged. */
export const MIN_PAIRS = 12;

/**
 * Sessions of each model an interleaved measurement rotates through. Each ORT session places the
 * model's weights and buffers anew, and a placement has its own speed: ten measurements of one
 * fmnist model against the reference, each in new sessions, gave ratios with a CV of 0.54-1.07%,
 * ten in one pair of sessions 0.10-0.24% (4 models, Intel host, 2026-12-04). So the ratio's
 * confidence interval over the pairs of one pair of sessions says nothing of the error that
 * matters, and timing longer in them does not reduce it; rotating the pairs through 3 sessions of
 * each averages it over 9 placements and lets the interval see it.
 */
export const SESSIONS = 3;

/**
 * The protocol an interleaved measurement follows unless told otherwise: 3 sessions of each model,
 * the ratio to +-1% (95%, over pairs from every session) after at least 0.5 s, within 3 s, after
 * 0.1 s of warm-up (the shorter warm-up of DEFAULT_PROTOCOL has not been studied for interleaved ones).
 * `node bench/session-spread.mjs 12 10 SEED` (10 measurements each of 12 random fmnist archs,
 * Intel host, 2026-12-04, seeds 0 and 1): median CV of the ratios 0.71% and 0.59% in 0.67-0.68 s
 * per measurement, against 0.77% and 1.06% in 0.63-0.70 s with one session of each to +-0.5%
 * (the protocol before; 3 sessions to +-0.5%: no lower spread, twice the time). A search takes each
 * trial's LAT/T from one such ratio; with one session the default protocol's +-2% had left only
 * 67-73% of a search's trials within 3% of a quiet re-measurement (2026-12-01).
 */
export const INTERLEAVED_PROTOCOL: Readonly<MeasureProtocol> = Object.freeze({ ...DEFAULT_PROTOCOL, warmupSeconds: 0.1, minSeconds: 0.5, relPrecision: 0.01, maxSeconds: 3, blockQuantile: BLOCK_QUANTILE, sessions: SESSIONS });

export interface PairOutcome {
  /** Median over pairs of (model block's quantile / reference block's quantile), the protocol's blockQuantile. */
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

async function timedRuns(run: () => Promise<unknown>, n: number): Promise<number[]> {
  const block: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = now();
    await run();
    block.push(now() - t0);
  }
  return block;
}

/** The protocol of an interleaved measurement: INTERLEAVED_PROTOCOL under `protocol`; a cap below the default minimum lowers the minimum with it. */
export function interleavedProtocol(protocol: Partial<MeasureProtocol> = {}): MeasureProtocol {
  const minSeconds = protocol.minSeconds ?? Math.min(INTERLEAVED_PROTOCOL.minSeconds ?? 0, protocol.maxSeconds ?? INTERLEAVED_PROTOCOL.maxSeconds);
  return resolveProtocol({ ...protocol, minSeconds }, INTERLEAVED_PROTOCOL);
}

/** Timed runs per block, from the slower model's ms per run: a block of about `blockSeconds`, 3 to 1000 runs. */
export function runsPerBlock(slowerMs: number, blockSeconds = BLOCK_SECONDS): number {
  return Math.max(3, Math.min(1000, Math.round((blockSeconds * 1000) / Math.max(slowerMs, 1e-3))));
}

/**
 * The stopping rule of an interleaved measurement, apart from the timing, so that this process's
 * loop and a browser page's pairs of blocks (./browser/pair-measurement.ts) share it: after each
 * pair of blocks, `addPair` returns true once at least MIN_PAIRS pairs and minSeconds have passed
 * and the median ratio is known to relPrecision (95%), or maxSeconds has passed. A pair's ratio
 * compares the protocol's blockQuantile of each block (BLOCK_QUANTILE unless told).
 */
export class PairTracker {
  private readonly modelRuns: number[] = [];
  private readonly referenceRuns: number[] = [];
  private readonly ratios: number[] = [];
  private relHalfWidth = Infinity;
  private converged = false;
  private runsPerBlock = 0;
  private readonly blockQuantile: number;

  constructor(private readonly p: MeasureProtocol) {
    this.blockQuantile = p.blockQuantile ?? BLOCK_QUANTILE;
  }

  get pairs(): number {
    return this.ratios.length;
  }

  /** One pair of blocks (ms per run of each); `elapsedSeconds` since the first pair started. */
  addPair(modelBlock: readonly number[], referenceBlock: readonly number[], elapsedSeconds: number): boolean {
    if (modelBlock.length === 0 || referenceBlock.length === 0) throw new RangeError('a block has at least one run');
    this.modelRuns.push(...modelBlock);
    this.referenceRuns.push(...referenceBlock);
    this.runsPerBlock = Math.max(this.runsPerBlock, modelBlock.length);
    this.ratios.push(quantile(modelBlock, this.blockQuantile) / quantile(referenceBlock, this.blockQuantile));
    if (this.ratios.length < MIN_PAIRS) return false;
    this.relHalfWidth = medianRelHalfWidth([...this.ratios].sort((a, b) => a - b));
    this.converged = this.relHalfWidth <= this.p.relPrecision && elapsedSeconds >= (this.p.minSeconds ?? 0);
    return this.converged || elapsedSeconds >= this.p.maxSeconds;
  }

  /** The outcome so far (at least one pair). */
  finish(elapsedSeconds: number): PairOutcome {
    if (this.ratios.length === 0) throw new RangeError('no pair of blocks was timed');
    return {
      ratio: quantileSorted([...this.ratios].sort((a, b) => a - b), 0.5),
      ratio_rel_half_width: this.relHalfWidth,
      model: summarize(this.modelRuns, this.converged, elapsedSeconds, this.p.quantile),
      reference: summarize(this.referenceRuns, this.converged, elapsedSeconds, this.p.quantile),
      pairs: this.ratios.length,
      runs_per_block: this.runsPerBlock,
      converged: this.converged,
      seconds: elapsedSeconds,
    };
  }
}

/** A model's run function, or several (sessions of the same model) to rotate through block by block. */
export type Runs = (() => Promise<unknown>) | readonly (() => Promise<unknown>)[];

/**
 * Which of `modelSessions` and `referenceSessions` the pair `i` times: the model's in turn, the
 * reference's shifted by one every round of the model's, so that every combination comes up once
 * in each modelSessions x referenceSessions pairs (3 and 3: all 9 within 9 pairs).
 */
export function sessionsOfPair(i: number, modelSessions: number, referenceSessions: number): [number, number] {
  const c = i % (modelSessions * referenceSessions);
  const model = c % modelSessions;
  return [model, (model + Math.floor(c / modelSessions)) % referenceSessions];
}

/**
 * Times `runModel` against `runReference` in alternating blocks under the protocol's caps: warm-up
 * of both, then pairs of blocks until PairTracker says stop (at least MIN_PAIRS pairs are taken).
 * Given several run functions of a model (its sessions), each pair times one of them
 * (sessionsOfPair), and the warm-up runs every one.
 */
export async function measureInterleaved(runModel: Runs, runReference: Runs, protocol: Partial<MeasureProtocol> = {}, o: RunOptions = {}): Promise<PairOutcome> {
  const p = interleavedProtocol(protocol);
  const models = typeof runModel === 'function' ? [runModel] : runModel;
  const references = typeof runReference === 'function' ? [runReference] : runReference;
  if (models.length === 0 || references.length === 0) throw new RangeError('measureInterleaved: no run function of the model or of the reference');
  // warm-up: both, in turn, every session; it also tells how many runs fill a block
  let modelMs = 0, referenceMs = 0, warm = 0;
  const w0 = now();
  const sessions = Math.max(models.length, references.length);
  for (let i = 0; i < Math.max(p.warmupRuns, sessions) || (now() - w0) / 1000 < (p.warmupSeconds ?? 0); i++) {
    throwIfAborted(o.signal);
    let t = now();
    await models[i % models.length]!();
    modelMs += now() - t;
    t = now();
    await references[i % references.length]!();
    referenceMs += now() - t;
    warm++;
    if ((now() - w0) / 1000 > p.maxSeconds) break;
  }
  const perBlock = runsPerBlock(Math.max(modelMs, referenceMs) / Math.max(1, warm), p.blockSeconds);
  const tracker = new PairTracker(p);
  const start = now();
  for (let i = 0; ; i++) {
    throwIfAborted(o.signal);
    const [m, r] = sessionsOfPair(i, models.length, references.length);
    const modelBlock = await timedRuns(models[m]!, perBlock);
    const referenceBlock = await timedRuns(references[r]!, perBlock);
    const elapsed = (now() - start) / 1000;
    if (tracker.addPair(modelBlock, referenceBlock, elapsed)) return tracker.finish(elapsed);
  }
}
