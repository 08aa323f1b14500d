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
import { escapeXml, niceTicks, shortNumber } from '../latency/svg.js';
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

/** Where the best reward so far rises: after n finished trials, trial `trial` set it to `reward` (what the dashboard's compare page draws). */
export function rewardImprovements(trials: readonly TrialBrief[]): { n: number; trial: number; reward: number }[] {
  const out: { n: number; trial: number; reward: number }[] = [];
  finishedInOrder(trials).forEach((t, i) => {
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
  const W = 760, H = 480;
  const m = { left: 78, right: 24, top: 48, bottom: c.notes.length ? 84 : 64 };
  const pw = W - m.left - m.right, ph = H - m.top - m.bottom;
  const values = c.runs.flatMap((r) => r.best.filter((b): b is number => b !== null));
  const longest = Math.max(1, ...c.runs.map((r) => r.trials));
  const lo = values.length ? Math.min(...values) : 0, hi = values.length ? Math.max(...values) : 1;
  const pad = (hi - lo) * 0.05 || 0.01;
  const yt = niceTicks(lo - pad, hi + pad), xt = niceTicks(0, longest);
  const ymin = Math.min(lo - pad, yt[0]!), ymax = Math.max(hi + pad, yt.at(-1)!);
  const xmax = Math.max(longest, xt.at(-1)!);
  const f = (v: number) => (Math.round(v * 100) / 100).toString();
  const sx = (v: number) => m.left + (v / xmax) * pw;
  const sy = (v: number) => m.top + ph - ((v - ymin) / (ymax - ymin)) * ph;
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    '<g stroke="#e5e5e5" stroke-width="1">',
    ...xt.filter((t) => t <= xmax).map((t) => `<line x1="${f(sx(t))}" y1="${m.top}" x2="${f(sx(t))}" y2="${m.top + ph}"/>`),
    ...yt.filter((t) => t >= ymin && t <= ymax).map((t) => `<line x1="${m.left}" y1="${f(sy(t))}" x2="${m.left + pw}" y2="${f(sy(t))}"/>`),
    '</g>',
    `<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`,
    '<g fill="#333">',
    ...xt.filter((t) => t <= xmax).map((t) => `<text x="${f(sx(t))}" y="${m.top + ph + 16}" text-anchor="middle">${escapeXml(shortNumber(t))}</text>`),
    ...yt.filter((t) => t >= ymin && t <= ymax).map((t) => `<text x="${m.left - 6}" y="${f(sy(t) + 4)}" text-anchor="end">${escapeXml(shortNumber(t))}</text>`),
    '</g>',
    `<text x="${m.left + pw / 2}" y="${m.top + ph + 40}" text-anchor="middle">finished trials</text>`,
    `<text transform="translate(20 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">best reward so far</text>`,
  ];
  c.runs.forEach((r, i) => {
    const color = COLORS[i % COLORS.length]!;
    const points: string[] = [];
    let last: number | null = null;
    r.best.forEach((b, k) => {
      if (b === null) return;
      if (last !== null && b !== last) points.push(`${f(sx(k + 1))},${f(sy(last))}`);
      points.push(`${f(sx(k + 1))},${f(sy(b))}`);
      last = b;
    });
    if (last !== null) points.push(`${f(sx(r.trials))},${f(sy(last))}`);
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.join(' ')}"><title>${escapeXml(`${r.name} (${r.strategy}, seed ${r.seed})`)}</title></polyline>`);
    const y = m.top + ph - 12 - (c.runs.length - 1 - i) * 16;
    out.push(`<line x1="${m.left + pw - 180}" y1="${y - 4}" x2="${m.left + pw - 164}" y2="${y - 4}" stroke="${color}" stroke-width="2"/>`);
    out.push(`<text x="${m.left + pw - 158}" y="${y}">${escapeXml(`${r.name} (${r.strategy})`)}</text>`);
  });
  if (c.notes.length) out.push(`<text x="${m.left}" y="${H - 12}" fill="#555" font-size="11">${escapeXml(c.notes.join('; '))}</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
