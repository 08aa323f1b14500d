/**
 * Several runs side by side, trial by trial: the best reward reached after n finished trials
 * (the optimization history of each strategy), the mean reward of successive windows of trials
 * (a learning strategy's proposals get better; random search's do not), and the best trial of
 * each. `mnas runs compare` prints it and draws the history as an SVG.
 *
 * Trials count in the order they finished (with parallel workers that is the order of time, not
 * of proposal). A failed trial counts as a trial with no reward. Rewards of runs with different
 * reward exponents, spaces or evaluators are not comparable: the comparison says so in its notes.
 */
import { scatterSvg, type ScatterPoint } from '../latency/svg.js';
import type { TrialBrief } from '../search/run-store.js';
import { InputError } from '../util/input-error.js';
import { readRun } from './summary.js';

export interface RunHistory {
  readonly dir: string;
  readonly name: string;
  readonly strategy: string;
  readonly seed: number;
  readonly space: string;
  readonly evaluator: string;
  readonly targetMs: number | null;
  readonly alpha: number;
  readonly beta: number;
  /** Finished trials (done or failed), in the order they finished. */
  readonly trials: number;
  /** best[k]: the best reward among the first k + 1 finished trials (null before any reward). */
  readonly best: readonly (number | null)[];
  /** Mean reward of the trials of each window (the last window may be shorter; failed trials left out). */
  readonly windowMeans: readonly (number | null)[];
  readonly bestTrial: { readonly id: number; readonly reward: number; readonly accuracy: number | null; readonly latencyMs: number | null; readonly arch: string | null } | null;
}

export interface RunComparison {
  readonly runs: readonly RunHistory[];
  /** Trial counts the table reports the best reward at. */
  readonly checkpoints: readonly number[];
  readonly window: number;
  /** Why rewards of these runs may not be comparable (empty when they are). */
  readonly notes: readonly string[];
}

/** Checkpoints when none are given: 10, 25, 50, 100, 200, 300, 500, 1000, ... up to the longest run, and its end. */
export function defaultCheckpoints(longest: number): number[] {
  const steps = [10, 25, 50, 100, 200, 300, 500];
  for (let s = 1000; s < longest; s *= 2) steps.push(s);
  return [...new Set([...steps.filter((s) => s < longest), longest])].filter((s) => s > 0);
}

export function finishedInOrder(trials: readonly TrialBrief[]): TrialBrief[] {
  return trials
    .filter((t) => (t.status === 'done' || t.status === 'failed') && t.finishedAt !== null)
    .sort((a, b) => (a.finishedAt! < b.finishedAt! ? -1 : a.finishedAt! > b.finishedAt! ? 1 : a.id - b.id));
}

/** Where the best reward so far rises among trials in finishing order (finishedInOrder): after n of them, trial `trial` set it to `reward` (what the dashboard's compare page draws). */
export function rewardImprovements(finished: readonly TrialBrief[]): { n: number; trial: number; reward: number }[] {
  const out: { n: number; trial: number; reward: number }[] = [];
  finished.forEach((t, i) => {
    if (t.status === 'done' && t.reward !== null && (out.length === 0 || t.reward > out.at(-1)!.reward)) out.push({ n: i + 1, trial: t.id, reward: t.reward });
  });
  return out;
}

export function historyOf(dir: string, window: number): RunHistory {
  const run = readRun(dir);
  const c = run.record.config;
  const finished = finishedInOrder(run.trials);
  const best: (number | null)[] = [];
  let top: TrialBrief | undefined;
  for (const t of finished) {
    if (t.status === 'done' && t.reward !== null && (top === undefined || t.reward > top.reward!)) top = t;
    best.push(top?.reward ?? null);
  }
  const windowMeans: (number | null)[] = [];
  for (let i = 0; i < finished.length; i += window) {
    const rewards = finished.slice(i, i + window).flatMap((t) => (t.status === 'done' && t.reward !== null ? [t.reward] : []));
    windowMeans.push(rewards.length ? rewards.reduce((a, b) => a + b, 0) / rewards.length : null);
  }
  return {
    dir: run.dir,
    name: run.dir.split(/[\\/]/).pop()!,
    strategy: c.strategy.kind,
    seed: c.seed,
    space: c.space,
    evaluator: c.evaluator,
    targetMs: run.record.reward.targetMs ?? null,
    alpha: run.record.reward.alpha,
    beta: run.record.reward.beta,
    trials: finished.length,
    best,
    windowMeans,
    bestTrial: top ? { id: top.id, reward: top.reward!, accuracy: top.accuracy, latencyMs: top.latencyMs, arch: top.arch } : null,
  };
}

export function compareRuns(dirs: readonly string[], o: { checkpoints?: readonly number[]; window?: number } = {}): RunComparison {
  if (dirs.length === 0) throw new InputError('runs compare: give at least one run directory');
  const window = o.window ?? 50;
  if (!Number.isInteger(window) || window < 1) throw new InputError(`runs compare: --window must be a positive integer, got ${window}`);
  const runs = dirs.map((d) => historyOf(d, window));
  const notes: string[] = [];
  const differ = (what: string, f: (r: RunHistory) => string) => {
    const values = new Set(runs.map(f));
    if (values.size > 1) notes.push(`${what} differ (${[...values].join(' / ')}): their rewards are not comparable`);
  };
  differ('spaces', (r) => r.space);
  differ('evaluators', (r) => r.evaluator);
  differ('reward exponents', (r) => `alpha ${r.alpha}, beta ${r.beta}`);
  const targets = runs.map((r) => r.targetMs).filter((t): t is number => t !== null);
  if (targets.length > 1 && Math.max(...targets) / Math.min(...targets) > 1.05) {
    notes.push(`targets T differ by ${((Math.max(...targets) / Math.min(...targets) - 1) * 100).toFixed(0)}%: each run's latencies are in its own measurement's units (drift-corrected to its reference), so rewards stay comparable only if the runs measured alike`);
  }
  const longest = Math.max(0, ...runs.map((r) => r.trials));
  return { runs, checkpoints: o.checkpoints ? [...o.checkpoints] : defaultCheckpoints(longest), window, notes };
}

/** The best reward of a run after n finished trials; null if it has not finished n. */
export function bestAt(r: RunHistory, n: number): number | null {
  return n >= 1 && n <= r.trials ? (r.best[n - 1] ?? null) : null;
}

const COLORS = ['#d9480f', '#0969da', '#1a7f37', '#8250df', '#bf8700', '#cf222e', '#1b7c83', '#6e7781'];

/** The best reward against finished trials, one step line per run, as a standalone SVG. */
export function historySvg(c: RunComparison, title = 'Best reward reached over trials'): string {
  const series = c.runs.map((r, i) => {
    const points: ScatterPoint[] = [];
    let last: number | null = null;
    r.best.forEach((b, k) => {
      if (b === null) return;
      if (last !== null && b !== last) points.push({ x: k + 1, y: last });
      points.push({ x: k + 1, y: b });
      last = b;
    });
    if (last !== null) points.push({ x: r.trials, y: last });
    return { name: `${r.name} (${r.strategy})`, color: COLORS[i % COLORS.length]!, points, line: { title: `${r.name} (${r.strategy}, seed ${r.seed})` } };
  });
  return scatterSvg({ title, xLabel: 'finished trials', yLabel: 'best reward so far', series, yFromZero: false, height: 480, ...(c.notes.length ? { footnote: c.notes.join('; ') } : {}) });
}
