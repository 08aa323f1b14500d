/**
 * The search loop: propose -> (reuse an identical architecture's result | evaluate) -> reward ->
 * feedback -> persist trial + strategy snapshot in one transaction, until `budget` trials exist.
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
 * Resume: runSearch on a store that already holds trials restores the strategy from the latest
 * snapshot (written with the last stored event), re-runs the trials that were pending/running
 * (exactly the strategy's pending proposals; checked), then continues to the budget.
 *
 * Reuse: a trial whose architecture is identical to an earlier trial's (same DNA, or - with an
 * `identity` function - DNAs that build the same network) is not evaluated: it takes the stored
 * result of the first evaluated trial (reusedFrom records it) or waits for an identical trial
 * still in flight. Failed and skipped trials are not reused (failures may be transient).
 *
 * Skipped: an evaluator may settle a trial without training it (EvalSkipped: its latency misses
 * a hard target); it is stored as failed with the reason and the reward of its assumed accuracy.
 *
 * Failure: an evaluator result {status: 'failed'}, a thrown error, or metrics the reward rejects
 * (accuracy outside [0, 1], latency <= 0) record a failed trial with its reason and
 * FAILED_TRIAL_REWARD; the search continues.
 */
import { computeReward, FAILED_TRIAL_REWARD, type RewardConfig } from './reward.js';
import { LocalPool, type Executor } from './executor.js';
import { ParetoFront } from './pareto.js';
import { dnaKey, type Dna, type Json } from './space-like.js';
import type { EvalDone, EvalSkipped, Evaluator } from './evaluator.js';
import type { ExperimentStore, TrialRecord } from './store.js';
import type { Proposal, Strategy } from './strategy.js';

export type Schedule = 'ordered' | 'asap';

export interface SearchOptions {
  readonly strategy: Strategy;
  readonly evaluator: Evaluator;
  readonly reward: RewardConfig;
  /** Total number of trials in the run (done + failed + reused), including earlier sessions. */
  readonly budget: number;
  readonly store: ExperimentStore;
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
  readonly onProgress?: (p: SearchProgress) => void;
}

export interface SearchProgress {
  readonly trialId: number;
  readonly status: 'done' | 'failed';
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
  /** In-flight trials found at start and re-run (0 for a fresh run). */
  readonly resumed: number;
  /** True if stopped by the abort signal before the budget. */
  readonly interrupted: boolean;
  readonly best: TrialRecord | undefined;
  /** Pareto front (accuracy max, latency min) of done trials, in trial order. */
  readonly pareto: readonly TrialRecord[];
}

type Outcome =
  | { readonly kind: 'done'; readonly result: EvalDone; readonly reusedFrom?: number; readonly sourceId: number; readonly evalMs: number }
  | { readonly kind: 'skipped'; readonly result: EvalSkipped; readonly evalMs: number }
  | { readonly kind: 'failed'; readonly reason: string; readonly evalMs: number }
  | { readonly kind: 'aborted' };

interface Running {
  readonly proposal: Proposal;
  readonly outcome: Promise<Outcome>;
}

type ParetoEntry = { accuracy: number; latencyMs: number; id: number };

function fromRecord(r: TrialRecord): EvalDone {
  const result: { -readonly [K in keyof EvalDone]: EvalDone[K] } = { status: 'done', accuracy: r.accuracy!, latencyMs: r.latencyMs! };
  if (r.latencyStats !== null) result.latencyStats = r.latencyStats;
  if (r.macs !== null) result.macs = r.macs;
  if (r.params !== null) result.params = r.params;
  if (r.extra !== null && typeof r.extra === 'object' && !Array.isArray(r.extra)) result.extra = r.extra;
  return result;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export async function runSearch(o: SearchOptions): Promise<SearchSummary> {
  const { strategy, evaluator, store, budget } = o;
  if (!Number.isInteger(budget) || budget < 0) throw new Error(`runSearch: budget must be an integer >= 0, got ${budget}`);
  const executor = o.executor ?? new LocalPool(1);
  const schedule = o.schedule ?? 'ordered';
  const reuse = o.reuse ?? true;
  const identity = o.identity ?? dnaKey;
  const width = executor.concurrency;

  // ---- restore -------------------------------------------------------------------------------
  const latest = store.latestSnapshot();
  if (latest) strategy.restore(latest.state);
  else if (store.count() > 0) throw new Error('runSearch: the store has trials but no strategy snapshot');
  const stored = store.inFlight();
  const pending = strategy.pending();
  if (stored.length !== pending.length || stored.some((t, i) => t.id !== pending[i]!.id || dnaKey(t.dna) !== dnaKey(pending[i]!.dna)))
    throw new Error(
      `runSearch: store and strategy disagree on in-flight trials (store: ${stored.map((t) => t.id).join(',') || 'none'}; strategy: ${pending.map((p) => p.id).join(',') || 'none'})`,
    );
  let proposed = store.count();

  const pareto = new ParetoFront<ParetoEntry>();
  let best: { reward: number; id: number } | undefined;
  const track = (id: number, reward: number, accuracy: number, latencyMs: number) => {
    if (!best || reward > best.reward) best = { reward, id };
    pareto.add({ accuracy, latencyMs, id });
  };
  /** First evaluated (not reused) done trial of each architecture identity. */
  const evaluatedByIdentity = new Map<string, number>();
  for (const t of store.listTrials({ status: 'done' })) {
    track(t.id, t.reward!, t.accuracy!, t.latencyMs!);
    if (reuse && t.reusedFrom === null && !evaluatedByIdentity.has(identity(t.dna))) evaluatedByIdentity.set(identity(t.dna), t.id);
  }
  let finished = store.count('done') + store.count('failed');

  // ---- abort plumbing ------------------------------------------------------------------------
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort(o.signal?.reason ?? new Error('search aborted'));
  if (o.signal?.aborted) onOuterAbort();
  o.signal?.addEventListener('abort', onOuterAbort, { once: true });

  const running = new Map<number, Running>();
  const twins = new Map<string, { id: number; outcome: Promise<Outcome> }>();
  let evaluated = 0;
  let reusedCount = 0;
  let failedCount = 0;

  const evaluate = async (p: Proposal): Promise<Outcome> => {
    try {
      return await executor.submit(async (signal) => {
        const attempt = store.markRunning(p.id);
        evaluated++;
        const t0 = performance.now();
        const ctx = o.arch ? { trialId: p.id, attempt, arch: o.arch(p.dna) } : { trialId: p.id, attempt };
        try {
          const r = await evaluator.evaluate(p.dna, signal, ctx);
          const evalMs = performance.now() - t0;
          if (signal.aborted) return { kind: 'aborted' } as const;
          if (r.status === 'failed') return { kind: 'failed', reason: r.reason || 'evaluator reported failure', evalMs } as const;
          if (r.status === 'skipped') return { kind: 'skipped', result: r, evalMs } as const;
          if (r.status !== 'done') return { kind: 'failed', reason: `evaluator returned an unknown status '${String((r as { status: unknown }).status)}'`, evalMs } as const;
          return { kind: 'done', result: r, sourceId: p.id, evalMs } as const;
        } catch (e) {
          if (signal.aborted) return { kind: 'aborted' } as const;
          return { kind: 'failed', reason: `evaluator threw: ${message(e)}`, evalMs: performance.now() - t0 } as const;
        }
      }, stop.signal);
    } catch (e) {
      if (stop.signal.aborted) return { kind: 'aborted' };
      throw e;
    }
  };

  const launch = (p: Proposal): void => {
    const key = identity(p.dna);
    const outcome = (async (): Promise<Outcome> => {
      if (reuse) {
        const sameId = evaluatedByIdentity.get(key);
        const prior = store.findDone(p.dna) ?? (sameId !== undefined ? store.trial(sameId) : undefined);
        if (prior) return { kind: 'done', result: fromRecord(prior), reusedFrom: prior.reusedFrom ?? prior.id, sourceId: prior.reusedFrom ?? prior.id, evalMs: 0 };
        const twin = twins.get(key);
        if (twin && twin.id < p.id) {
          const t = await twin.outcome;
          if (t.kind === 'aborted') return t;
          if (t.kind === 'done') return { kind: 'done', result: t.result, reusedFrom: t.sourceId, sourceId: t.sourceId, evalMs: 0 };
        }
      }
      return evaluate(p);
    })();
    outcome.catch(() => {}); // rejections (store errors) surface when the loop awaits it; never unhandled
    if (reuse && !twins.has(key)) twins.set(key, { id: p.id, outcome });
    running.set(p.id, { proposal: p, outcome });
  };

  const apply = async (p: Proposal, out: Exclude<Outcome, { kind: 'aborted' }>): Promise<SearchProgress> => {
    let status: 'done' | 'failed';
    let reward: number;
    let reused = false;
    if (out.kind === 'done') {
      const r = out.result;
      let rw: number | undefined;
      let invalid: string | undefined;
      try {
        rw = computeReward(o.reward, r.accuracy, r.latencyMs);
      } catch (e) {
        invalid = `invalid metrics: ${message(e)}`;
      }
      if (rw !== undefined) {
        reward = rw;
        reused = out.reusedFrom !== undefined;
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
          strategy.state(),
        );
        track(p.id, reward, r.accuracy, r.latencyMs);
        if (reuse && out.reusedFrom === undefined && !evaluatedByIdentity.has(identity(p.dna))) evaluatedByIdentity.set(identity(p.dna), p.id);
        status = 'done';
        if (reused) reusedCount++;
      } else {
        reward = FAILED_TRIAL_REWARD;
        await strategy.feedback(p, reward, { failed: true, reason: invalid! });
        store.fail(p.id, invalid!, reward, strategy.state(), { evalMs: out.evalMs });
        status = 'failed';
        failedCount++;
      }
    } else if (out.kind === 'skipped') {
      const r = out.result;
      let rw: number;
      let reason = r.reason;
      try {
        rw = computeReward(o.reward, r.assumedAccuracy, r.latencyMs);
      } catch (e) {
        rw = FAILED_TRIAL_REWARD;
        reason = `invalid metrics: ${message(e)}`;
      }
      reward = rw;
      await strategy.feedback(p, reward, { failed: true, reason });
      store.fail(p.id, reason, reward, strategy.state(), { ...(r.timings ?? {}), evalMs: out.evalMs, skipped_latency_ms: r.latencyMs, assumed_accuracy: r.assumedAccuracy });
      status = 'failed';
      failedCount++;
    } else {
      reward = FAILED_TRIAL_REWARD;
      await strategy.feedback(p, reward, { failed: true, reason: out.reason });
      store.fail(p.id, out.reason, reward, strategy.state(), { evalMs: out.evalMs });
      status = 'failed';
      failedCount++;
    }
    finished++;
    const twin = twins.get(identity(p.dna));
    if (twin?.id === p.id) twins.delete(identity(p.dna));
    return {
      trialId: p.id,
      status,
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

  /** Resolves with the next trial to apply: the oldest (ordered) or the first to finish (asap). */
  const next = async (): Promise<[Proposal, Outcome]> => {
    if (schedule === 'ordered') {
      const id = Math.min(...running.keys());
      const r = running.get(id)!;
      return [r.proposal, await r.outcome];
    }
    return Promise.race([...running.values()].map(async (r) => [r.proposal, await r.outcome] as [Proposal, Outcome]));
  };

  const resumed = stored.length;
  try {
    for (const t of stored) launch({ id: t.id, dna: t.dna });
    for (;;) {
      while (!stop.signal.aborted && proposed < budget && running.size < width && strategy.canPropose()) {
        const p = await strategy.propose();
        if (p.id !== proposed) throw new Error(`runSearch: strategy proposed id ${p.id}, expected ${proposed}`);
        store.addTrial(p, o.arch?.(p.dna), strategy.state());
        proposed++;
        launch(p);
      }
      if (stop.signal.aborted || running.size === 0) {
        if (!stop.signal.aborted && proposed < budget) throw new Error('runSearch: the strategy cannot propose and nothing is in flight');
        break;
      }
      const [p, out] = await next();
      if (stop.signal.aborted || out.kind === 'aborted') break;
      running.delete(p.id);
      const progress = await apply(p, out);
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
    resumed,
    interrupted,
    best: best ? store.trial(best.id) : undefined,
    pareto: pareto.points().map((e) => store.trial(e.id)!),
  };
}
