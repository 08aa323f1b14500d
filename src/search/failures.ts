/**
 * Evaluator wrapper: whatever goes wrong in an evaluation becomes a failed result with a reason,
 * so the search records the trial as failed and continues. That is a thrown error (unless the
 * evaluation was aborted: then the error passes through and the trial stays in flight for a
 * resume), a result of unknown status, and metrics the reward rejects (accuracy outside [0, 1],
 * latency <= 0) - of a trained trial or of a skipped one.
 */
import { computeReward, type RewardConfig } from './reward.js';
import { skippedTimings, type EvalResult, type Evaluator } from './evaluator.js';

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Why the reward rejects these metrics, or undefined if it accepts them. */
function invalidMetrics(reward: RewardConfig, accuracy: number, latencyMs: number): string | undefined {
  try {
    computeReward(reward, accuracy, latencyMs);
    return undefined;
  } catch (e) {
    return `invalid metrics: ${message(e)}`;
  }
}

export function settleFailures(inner: Evaluator, reward: RewardConfig): Evaluator {
  return {
    async evaluate(dna, signal, context): Promise<EvalResult> {
      let r: EvalResult;
      try {
        r = await inner.evaluate(dna, signal, context);
      } catch (e) {
        if (signal.aborted) throw e;
        return { status: 'failed', reason: `evaluator threw: ${message(e)}` };
      }
      switch (r.status) {
        case 'failed':
          return r.reason ? r : { ...r, reason: 'evaluator reported failure' };
        case 'done': {
          const invalid = invalidMetrics(reward, r.accuracy, r.latencyMs);
          return invalid === undefined ? r : { status: 'failed', reason: invalid };
        }
        case 'skipped': {
          const invalid = invalidMetrics(reward, r.assumedAccuracy, r.latencyMs);
          return invalid === undefined ? r : { status: 'failed', reason: invalid, timings: skippedTimings(r) };
        }
        default:
          return { status: 'failed', reason: `evaluator returned an unknown status '${String((r as { status: unknown }).status)}'` };
      }
    },
  };
}
