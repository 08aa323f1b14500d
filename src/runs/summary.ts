/**
 * What a run directory holds, in one record: its settings, its state, how far it got, the best
 * trial, and timings. Read from the store opened read-only, without taking the run lock, so it
 * works while a search writes (the store's WAL lets readers and the writer go on together).
 *
 * States: running (a live process holds the run lock), finished (every trial of the budget is
 * done or failed), stopped (ended early on a stop request or a signal; resumable), interrupted
 * (ended early without saying so: killed, crashed, power loss; resumable), empty (no trial yet).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { isSkippedTrial } from '../search/evaluator.js';
import { parseRunRecord, type RunRecord } from '../search/run-config.js';
import { runLockState, type LockHolder, type RunLockState } from '../search/run-lock.js';
import { ExperimentStore, DB_FILE, type TrialBrief } from '../search/store.js';
import { activeSeconds } from '../search/trial-times.js';
import { readStopNote, stopRequested, type StopNote } from '../search/stop-request.js';
import { InputError } from '../util/input-error.js';
import { correctedTrials, driftSummary, interleavedReferenceTimes, speedRetriedTrials, type DriftSummary } from '../search/drift.js';
import type { DriftCheck } from '../search/run-store.js';

export type RunState = 'running' | 'finished' | 'stopped' | 'interrupted' | 'empty';

export interface RunSummary {
  /** Absolute path of the run directory. */
  dir: string;
  /** The directory's name. */
  name: string;
  state: RunState;
  space: string;
  strategy: string;
  /** Where latencies come from: a device kind, 'predictor', '<kind> (MACs)', or 'synthetic'. */
  device: string;
  evaluator: string;
  seed: number;
  targetMs: number | null;
  budget: number | null;
  trialsDone: number;
  trialsFailed: number;
  /** Of the failed, those not trained because their latency missed a hard target. */
  trialsSkipped: number;
  /** Proposed but not finished (pending or being evaluated; a stopped run re-runs them on resume). */
  trialsPending: number;
  bestReward: number | null;
  bestTrialId: number | null;
  /** When the first trial was proposed. */
  startedAt: string | null;
  /** The latest write of any trial. */
  updatedAt: string | null;
  /** Seconds during which trials were being evaluated, over every session (gaps between sessions left out). */
  elapsedSec: number | null;
  /** Estimated seconds to the budget at the current session's pace (running runs only). */
  etaSec: number | null;
  /** The process holding the run, when running and it wrote itself down. */
  holder?: { pid: number; host: string; since: string };
  /** A stop was asked for (`mnas runs stop`) and the search has not yet seen it. */
  stopRequested: boolean;
  /** Why and when a stopped run stopped. */
  stopped?: { at: string; reason: string };
  /** The latency device's drift seen by the run's checks (measured latency sources). */
  drift?: DriftSummary;
}

/** A directory that is not a run (no mnas.db), given where a run was expected. */
export class NotARunError extends InputError {
  constructor(readonly dir: string) {
    super(`${dir} is not a run directory (no ${DB_FILE} in it)`);
    this.name = 'NotARunError';
  }
}

/** How deep findRunDirs looks below its root (runs/<group>/<run> is depth 2). */
export const FIND_DEPTH = 4;
const SKIPPED_DIRS = new Set(['node_modules']);

/**
 * Run directories (holding mnas.db) at `root` and below it, up to FIND_DEPTH levels, sorted by
 * path; a run's own subfolders are not searched. An InputError if `root` is not a directory.
 */
export function findRunDirs(root: string): string[] {
  const top = path.resolve(root);
  if (!existsSync(top)) throw new InputError(`${root}: no such directory`);
  if (!statSync(top).isDirectory()) throw new InputError(`${root} is not a directory`);
  const found: string[] = [];
  const visit = (dir: string, depth: number): void => {
    if (ExperimentStore.exists(dir)) {
      found.push(dir);
      return;
    }
    if (depth >= FIND_DEPTH) return;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // unreadable folders are not runs we can show
    }
    for (const e of entries) {
      if (e.isDirectory() && !e.name.startsWith('.') && !SKIPPED_DIRS.has(e.name)) visit(path.join(dir, e.name), depth + 1);
    }
  };
  visit(top, 0);
  return found.sort();
}

/** A run as read from its directory: settings, every trial, and whether it is in use. */
export interface RunContents {
  readonly dir: string;
  readonly record: RunRecord;
  readonly trials: readonly TrialBrief[];
  readonly lock: RunLockState;
  /** Re-measurements of the run's reference architecture (none for runs without them). */
  readonly driftChecks?: readonly DriftCheck[];
}

/** Reads the run in `dir` read-only; a NotARunError, RunStoreError or RunRecordError (all InputErrors) if it cannot be read. */
export function readRun(dir: string): RunContents {
  const abs = path.resolve(dir);
  if (!ExperimentStore.exists(abs)) throw new NotARunError(dir);
  // the lock first: a search that ends while the store is read shows as running, never as a run that stopped with trials in flight
  const lock = runLockState(abs);
  const store = ExperimentStore.open(abs, { readonly: true });
  try {
    return { dir: abs, record: parseRunRecord(store.config, abs), trials: store.listTrialBriefs(), lock, driftChecks: store.driftChecks() };
  } finally {
    store.close();
  }
}

/** The run in `dir`, read-only; a NotARunError, RunStoreError or RunRecordError (all InputErrors) if it cannot be read. */
export function summarizeRun(dir: string, now: Date = new Date()): RunSummary {
  return summaryOf(readRun(dir), now);
}

export function summaryOf(run: RunContents, now: Date = new Date()): RunSummary {
  const { dir: abs, record, trials, lock } = run;
  const c = record.config;
  let done = 0;
  let failed = 0;
  let skipped = 0;
  let best: TrialBrief | undefined;
  let startedAt: string | null = null;
  let updatedAt: string | null = null;
  for (const t of trials) {
    if (t.status === 'done') {
      done++;
      if (!best || (t.reward as number) > (best.reward as number)) best = t;
    } else if (t.status === 'failed') {
      failed++;
      if (isSkippedTrial(t)) skipped++;
    }
    if (startedAt === null || t.createdAt < startedAt) startedAt = t.createdAt;
    const touched = t.finishedAt ?? t.startedAt ?? t.createdAt;
    if (updatedAt === null || touched > updatedAt) updatedAt = touched;
  }
  const pending = trials.length - done - failed;
  const stopNote = readStopNote(abs);
  const state = runState(lock.held, trials.length, done + failed, pending, c.budget, stopNote);
  const running = state === 'running';
  const elapsedSec = trials.length > 0 ? activeSeconds(trials, running ? now : undefined) : null;
  const drift = driftSummary(run.driftChecks ?? [], c.drift.tolerance, correctedTrials(trials), c.device.interleave === true, speedRetriedTrials(trials), interleavedReferenceTimes(trials));
  const holder = lock.held && lock.holder ? { pid: lock.holder.pid, host: lock.holder.host, since: lock.holder.since } : undefined;
  return {
    dir: abs,
    name: path.basename(abs),
    state,
    space: c.space,
    strategy: c.strategy.kind,
    device: latencySourceOf(record),
    evaluator: c.evaluator,
    seed: c.seed,
    targetMs: record.reward.targetMs,
    budget: c.budget,
    trialsDone: done,
    trialsFailed: failed,
    trialsSkipped: skipped,
    trialsPending: pending,
    bestReward: best?.reward ?? null,
    bestTrialId: best?.id ?? null,
    startedAt,
    updatedAt,
    elapsedSec,
    etaSec: running ? etaSeconds(trials, c.budget, now, lock.held ? lock.holder : undefined) : null,
    ...(holder ? { holder } : {}),
    stopRequested: stopRequested(abs),
    ...(state === 'stopped' && stopNote ? { stopped: { at: stopNote.at, reason: stopNote.reason } } : {}),
    ...(drift ? { drift } : {}),
  };
}

function runState(held: boolean, trials: number, finished: number, pending: number, budget: number, note: StopNote | undefined): RunState {
  if (held) return 'running';
  if (trials === 0) return note ? 'stopped' : 'empty';
  if (finished >= budget && pending === 0) return 'finished';
  return note ? 'stopped' : 'interrupted';
}

function latencySourceOf(r: RunRecord): string {
  const c = r.config;
  if (c.evaluator === 'synthetic') return 'synthetic';
  if (c.latencySource === 'predictor') return 'predictor';
  if (c.latencySource === 'predicted-then-measured') return `${c.device.kind} (predicted, then measured)`;
  if (c.latencySource === 'macs') return `${c.device.kind} (MACs)`;
  return c.device.kind;
}

/** Remaining trials at the pace of the running session (since the holder took the run), or of the whole run if that is unknown. */
function etaSeconds(trials: readonly TrialBrief[], budget: number, now: Date, holder: LockHolder | undefined): number | null {
  const finished = trials.filter((t) => t.finishedAt !== null);
  const remaining = Math.max(0, budget - finished.length);
  if (remaining === 0) return 0;
  const since = holder ? Date.parse(holder.since) : NaN;
  if (Number.isFinite(since)) {
    const inSession = finished.filter((t) => Date.parse(t.finishedAt as string) >= since).length;
    if (inSession > 0) return (remaining * Math.max(0, now.getTime() - since)) / 1000 / inSession;
  }
  if (finished.length === 0) return null;
  return (remaining * activeSeconds(trials, now)) / finished.length;
}
