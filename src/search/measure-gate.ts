/**
 * The decision of the predicted-then-measured latency source: which trained candidates are worth
 * a real measurement. Every candidate gets the predictor's latency; it is measured only if, at
 * the most optimistic latency the predictor's error allows (predicted x (1 - margin)), it could
 * enter the Pareto front of the candidates measured so far, or the top-k of their rewards.
 * Candidates that could do neither keep their predicted latency (and are marked so): they can be
 * on no stored front, which holds measured latencies only.
 *
 * The order is train first, then decide: a candidate's place on the front depends on its
 * accuracy, known only after training, and a measurement costs far less than a training, so the
 * gate decides with the accuracy in hand (except under a hard constraint, where a candidate whose
 * optimistic latency still misses T is skipped before training, as a measured one would be).
 */
import { dominates, ParetoFront } from './pareto.js';
import { computeReward, type RewardConfig } from './reward.js';
import type { TrialRecord } from './run-store.js';

/** Default predictor error allowed for when the latency table has no calibration. */
export const DEFAULT_PREDICTED_MARGIN = 0.1;

export type GateDecision = 'front' | 'top' | 'dominated';

export class MeasureGate {
  private readonly front = new ParetoFront<{ accuracy: number; latencyMs: number }>();
  /** The best `topK` rewards of measured candidates, best first. */
  private readonly top: number[] = [];

  constructor(
    private readonly reward: RewardConfig,
    /** Relative error of the predictor allowed for (0.1: a candidate may be 10% faster than predicted). */
    readonly margin: number,
    readonly topK: number,
  ) {
    if (!(margin >= 0 && margin < 1)) throw new RangeError(`predicted-then-measured margin must be in [0, 1), got ${margin}`);
    if (!(Number.isInteger(topK) && topK >= 1)) throw new RangeError(`predicted-then-measured topK must be an integer >= 1, got ${topK}`);
  }

  /** Whether a candidate of this accuracy and predicted latency could enter the measured front or top-k, and which. */
  decide(accuracy: number, predictedMs: number): { measure: boolean; why: GateDecision } {
    const optimistic = { accuracy, latencyMs: predictedMs * (1 - this.margin) };
    if (!this.front.points().some((m) => dominates(m, optimistic) || (m.accuracy === optimistic.accuracy && m.latencyMs === optimistic.latencyMs))) return { measure: true, why: 'front' };
    // rewards fall as latency grows (soft and hard alike): the optimistic latency bounds the reward from above
    const best = computeReward(this.reward, accuracy, optimistic.latencyMs);
    if (this.top.length < this.topK || best > this.top[this.top.length - 1]!) return { measure: true, why: 'top' };
    return { measure: false, why: 'dominated' };
  }

  /** A measured candidate joins the front and the top-k it is compared with. */
  record(accuracy: number, measuredMs: number): void {
    this.front.add({ accuracy, latencyMs: measuredMs });
    this.top.push(computeReward(this.reward, accuracy, measuredMs));
    this.top.sort((a, b) => b - a);
    this.top.length = Math.min(this.top.length, this.topK);
  }

  /** A resumed run: the measured candidates of earlier sessions. */
  seed(trials: readonly TrialRecord[]): void {
    for (const t of trials) {
      if (t.status !== 'done' || t.reusedFrom !== null || t.accuracy === null || t.latencyMs === null) continue;
      const stats = t.latencyStats;
      const measured = !(typeof stats === 'object' && stats !== null && !Array.isArray(stats) && stats['measured'] === false);
      if (measured) this.record(t.accuracy, t.latencyMs);
    }
  }
}

/** The margin a latency table's calibration supports: three times its fit error, at least 5%; the default without calibration. */
export function marginOfTable(calibration: { fit_mape: number } | undefined): number {
  if (!calibration || !Number.isFinite(calibration.fit_mape)) return DEFAULT_PREDICTED_MARGIN;
  return Math.min(0.5, Math.max(0.05, 3 * calibration.fit_mape));
}
