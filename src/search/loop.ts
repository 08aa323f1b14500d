/**
 * The search loop, the one driver of strategies (searches, benchmarks and tests alike):
 * propose -> settle the trial (reuse an identical architecture's result | evaluate) -> reward ->
 * feedback -> store the result, until `budget` trials exist. Each proposal and each result is
 * one event, stored in one transaction with the strategy snapshot it leads to, if any.
 *
 * Schedules (how proposals and feedback interleave when trials run concurrently):
 *  - 'ordered' (default): feedback is applied in proposal-id order and proposal k is made right
 *    after the feedback of trial k - concurrency. The strategy's event sequence is then a
 *    function of the seed alone, whatever the evaluation timings: a run is reproducible and a
 *    resumed run is identical to an uninterrupted one. Cost: a finished trial may wait for an
 *    older, slower one before its slot is refilled.
 *  - 'asap': feedback in completion order, a slot is refilled as soon as it frees. Full
 *    throughput; a resume still loses and duplicates nothing, but the stream depends on timing.
 *
 * Resume: runSearch on a store that already holds trials rebuilds the strategy from them
 * (./restore.ts: the latest snapshot if the strategy takes snapshots, then a replay of the stored
 * events), re-runs the trials that were pending/running (exactly the strategy's pending
 * proposals; checked), then continues to the budget.
 *
 * Reuse (./reuse.ts): a trial whose architecture is identical to an earlier trial's (same DNA,
 * or - with an `identity` function - DNAs that build the same network) is not evaluated: it
 * takes the result of the earlier trial (reusedFrom records the evaluated one), waiting for it if
 * it is still in flight. Failed and skipped trials are not reused (failures may be transient).
 *
 * Skipped: an evaluator may settle a trial without training it (EvalSkipped: its latency misses
 * a hard target); it is stored as failed with the reason and the reward of its assumed accuracy.
 *
 * Failure (./failures.ts): an evaluator result {status: 'failed'}, a thrown error, or metrics the
 * reward rejects (accuracy outside [0, 1], latency <= 0) record a failed trial with its reason
 * and FAILED_TRIAL_REWARD; the search continues.
 */
import { computeReward, FAILED_TRIAL_REWARD, type RewardConfig } from './reward.js';
import { LocalPool, type Executor } from './executor.js';
import { ParetoFront } from './pareto.js';
import { dnaKey, type Dna, type Json } from './space-like.js';
import { skippedReason, skippedTimings, type Evaluator, type EvalResult, type TrialEvaluation, type TrialOutcome } from './evaluator.js';
import { settleFailures } from './failures.js';
import { reuseIdenticalArchitectures } from './reuse.js';
import { restoreStrategy, takesSnapshots } from './restore.js';
import type { RunStore, TrialRecord } from './run-store.js';
import type { Proposal, Strategy, StrategySnapshot } from './strategy.js';

export type Schedule = 'ordered' | 'asap';

export interface SearchOptions {
  /** A fresh strategy, built like the run's if the store already holds trials. */
  readonly strategy: Strategy;
  readonly evaluator: Evaluator;
  readonly reward: RewardConfig;
  /** Total number of trials in the run (done + failed + reused), including earlier sessions. */
  readonly budget: number;
  readonly store: RunStore;
  /** Default: new LocalPool(1). */
  readonly executor?: Executor;
  /** Architecture string stored with each trial (e.g. the space's arch codec). */
  readonly arch?: (dna: Dna) => string;
  readonly schedule?: Schedule;
  /** Reuse results of identical architectures (default true). */
  readonly reuse?: boolean;
  /** The network a DNA builds, as a string: DNAs with equal identities share one evaluation (default: the DNA itself). */
  readonly identity?: (dna: Dna) => string;
  /** Aborting stops the search like a crash would: in-flight trials stay pending for resume. */
  readonly signal?: AbortSignal;
  /**
   * Once aborted, no trial is proposed any more: the trials in flight finish and are recorded, then
   * the search ends before its budget (interrupted, resumable) - e.g. a time limit.
   */
  readonly stopProposing?: AbortSignal;
  readonly onProgress?: (p: SearchProgress) => void;
}

export interface SearchProgress {
  readonly trialId: number;
  /** skipped: not trained, its latency missed a hard target (stored as a failed trial with the reason). */
  readonly status: 'done' | 'failed' | 'skipped';
  readonly reused: boolean;
  readonly reward: number;
  /** Finished trials (done + failed) in the run so far, and the budget. */
  readonly finished: number;
  readonly budget: number;
  readonly bestReward: number | undefined;
  readonly bestTrialId: number | undefined;
  readonly paretoSize: number;
  readonly inFlight: number;
}

export interface SearchSummary {
  /** Finished trials in the run (all sessions). */
  readonly finished: number;
  /** Evaluator calls made by this session. */
  readonly evaluated: number;
  /** Trials of this session that reused a result. */
  readonly reused: number;
  /** Trials of this session that failed. */
  readonly failed: number;
  /** Of the failed, those not trained because their latency missed a hard target (stored as failed, with a reason that says so). */
  readonly skipped: number;
  /** In-flight trials found at start and re-run (0 for a fresh run). */
  readonly resumed: number;
  /** True if stopped by the abort signal before the budget. */
  readonly interrupted: boolean;
  readonly best: TrialRecord | undefined;
  /** Pareto front (accuracy max, latency min) of done trials, in trial order. */
  readonly pareto: readonly TrialRecord[];
}

type Settled = Extract<TrialOutcome, { status: 'settled' }>;

interface Running {
  readonly proposal: Proposal;
  readonly outcome: Promise<TrialOutcome>;
}

type ParetoEntry = { accuracy: number; latencyMs: number; id: number };

const ABORTED: TrialOutcome = { status: 'aborted' };

export async function runSearch(o: SearchOptions): Promise<SearchSummary> {
  const { strategy, store, budget } = o;
  if (!Number.isInteger(budget) || budget < 0) throw new Error(`runSearch: budget must be an integer >= 0, got ${budget}`);
  const executor = o.executor ?? new LocalPool(1);
  const schedule = o.schedule ?? 'ordered';
  const width = executor.concurrency;

  const snapshots = takesSnapshots(strategy) ? strategy : undefined;
  let storedRevision = await restoreStrategy(strategy, store);
  /** The strategy's state to store with an event: only when a snapshot strategy's revision moved. */
  const snapshotIfDue = (): StrategySnapshot | undefined => {
    if (!snapshots || snapshots.snapshotRevision() === storedRevision) return undefined;
    storedRevision = snapshots.snapshotRevision();
    return snapshots.state();
  };
  const stored = store.inFlight();
  let proposed = store.count();

  const pareto = new ParetoFront<ParetoEntry>();
  let best: { reward: number; id: number } | undefined;
  const track = (id: number, reward: number, accuracy: number, latencyMs: number) => {
    if (!best || reward > best.reward) best = { reward, id };
    pareto.add({ accuracy, latencyMs, id });
  };
  for (const t of store.listTrials({ status: 'done' })) track(t.id, t.reward!, t.accuracy!, t.latencyMs!);
  let finished = store.count('done') + store.count('failed');

  // ---- abort plumbing ------------------------------------------------------------------------
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort(o.signal?.reason ?? new Error('search aborted'));
  if (o.signal?.aborted) onOuterAbort();
  o.signal?.addEventListener('abort', onOuterAbort, { once: true });

  // ---- how a trial is settled ----------------------------------------------------------------
  let evaluated = 0;
  let reusedCount = 0;
  let failedCount = 0;
  let skippedCount = 0;
  const evaluator = settleFailures(o.evaluator, o.reward);
  const evaluateOnExecutor: TrialEvaluation = async (p) => {
    try {
      return await executor.submit(async (signal): Promise<TrialOutcome> => {
        const attempt = store.markRunning(p.id);
        evaluated++;
        const t0 = performance.now();
        const context = o.arch ? { trialId: p.id, attempt, arch: o.arch(p.dna) } : { trialId: p.id, attempt };
        let result: EvalResult;
        try {
          result = await evaluator.evaluate(p.dna, signal, context);
        } catch (e) {
          if (signal.aborted) return ABORTED;
          throw e;
        }
        return signal.aborted ? ABORTED : { status: 'settled', result, evalMs: performance.now() - t0 };
      }, stop.signal);
    } catch (e) {
      if (stop.signal.aborted) return ABORTED;
      throw e;
    }
  };
  const settle = (o.reuse ?? true) ? reuseIdenticalArchitectures(evaluateOnExecutor, { identity: o.identity ?? dnaKey, earlier: store.listTrials({ status: 'done' }) }) : evaluateOnExecutor;

  const running = new Map<number, Running>();
  const launch = (p: Proposal): void => {
    const outcome = settle(p);
    outcome.catch(() => {}); // rejections (store errors) surface when the loop awaits it; never unhandled
    running.set(p.id, { proposal: p, outcome });
  };

  /** Gives the strategy the trial's reward and stores the result with the snapshot that follows. */
  const record = async (p: Proposal, out: Settled): Promise<SearchProgress> => {
    const r = out.result;
    let reward: number;
    const reused = out.reusedFrom !== undefined;
    if (r.status === 'done') {
      reward = computeReward(o.reward, r.accuracy, r.latencyMs);
      await strategy.feedback(p, reward, { accuracy: r.accuracy, latencyMs: r.latencyMs, reused });
      const timings: { [k: string]: Json } = { ...(r.timings ?? {}), evalMs: out.evalMs };
      store.complete(
        p.id,
        {
          accuracy: r.accuracy,
          latencyMs: r.latencyMs,
          reward,
          ...(r.latencyStats !== undefined && { latencyStats: r.latencyStats }),
          ...(r.macs !== undefined && { macs: r.macs }),
          ...(r.params !== undefined && { params: r.params }),
          ...(r.extra !== undefined && { extra: r.extra as Json }),
          ...(out.reusedFrom !== undefined && { reusedFrom: out.reusedFrom }),
          timings,
        },
        snapshotIfDue(),
      );
      track(p.id, reward, r.accuracy, r.latencyMs);
      if (reused) reusedCount++;
    } else {
      const skipped = r.status === 'skipped';
      reward = skipped ? computeReward(o.reward, r.assumedAccuracy, r.latencyMs) : FAILED_TRIAL_REWARD;
      await strategy.feedback(p, reward, { failed: true, reason: r.reason });
      const timings = { ...(skipped ? skippedTimings(r) : (r.timings ?? {})), evalMs: out.evalMs };
      store.fail(p.id, { reason: skipped ? skippedReason(r) : r.reason, reward, timings }, snapshotIfDue());
      failedCount++;
      if (skipped) skippedCount++;
    }
    finished++;
    return {
      trialId: p.id,
      status: r.status === 'done' || r.status === 'skipped' ? r.status : 'failed',
      reused,
      reward,
      finished,
      budget,
      bestReward: best?.reward,
      bestTrialId: best?.id,
      paretoSize: pareto.size,
      inFlight: running.size,
    };
  };

  /** Resolves with the next trial to record: the oldest (ordered) or the first to finish (asap). */
  const next = async (): Promise<[Proposal, TrialOutcome]> => {
    if (schedule === 'ordered') {
      const id = Math.min(...running.keys());
      const r = running.get(id)!;
      return [r.proposal, await r.outcome];
    }
    return Promise.race([...running.values()].map(async (r) => [r.proposal, await r.outcome] as [Proposal, TrialOutcome]));
  };

  const resumed = stored.length;
  try {
    for (const t of stored) launch({ id: t.id, dna: t.dna });
    const proposing = () => !stop.signal.aborted && o.stopProposing?.aborted !== true && proposed < budget;
    for (;;) {
      while (proposing() && running.size < width && strategy.canPropose()) {
        const p = await strategy.propose();
        if (p.id !== proposed) throw new Error(`runSearch: strategy proposed id ${p.id}, expected ${proposed}`);
        store.addTrial(p, o.arch?.(p.dna), snapshotIfDue());
        proposed++;
        launch(p);
      }
      if (stop.signal.aborted || running.size === 0) {
        if (proposing()) throw new Error('runSearch: the strategy cannot propose and nothing is in flight');
        break;
      }
      const [p, out] = await next();
      if (stop.signal.aborted || out.status === 'aborted') break;
      running.delete(p.id);
      const progress = await record(p, out);
      o.onProgress?.(progress);
    }
  } finally {
    o.signal?.removeEventListener('abort', onOuterAbort);
    if (running.size > 0) {
      if (!stop.signal.aborted) stop.abort(new Error('search stopped'));
      await Promise.allSettled([...running.values()].map((r) => r.outcome));
    }
  }

  const interrupted = proposed < budget || store.inFlight().length > 0;
  return {
    finished,
    evaluated,
    reused: reusedCount,
    failed: failedCount,
    skipped: skippedCount,
    resumed,
    interrupted,
    best: best ? store.trial(best.id) : undefined,
    pareto: pareto.points().map((e) => store.trial(e.id)!),
  };
}
