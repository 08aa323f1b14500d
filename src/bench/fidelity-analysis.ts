/**
 * The figures of a proxy-fidelity study, computed from the trained table: per proxy setting, the
 * Spearman rank correlation of its accuracy with the final recipe's test accuracy over the same
 * architectures, its cost per trial, its seed noise against the spread between architectures.
 *
 * Two answers to "which setting": the most faithful (the cheapest whose correlation is within
 * FIDELITY_TOLERANCE of the best one's), and the recommended one, the best fidelity per second:
 * the setting whose first choice has the highest expected final accuracy when every setting gets
 * the same proxy-training budget (src/bench/budget-pick.ts), averaged over budgets of
 * BUDGET_TRIALS trials of the dearest setting. The correlation weighs every rank alike; a search
 * keeps only its top, and a cheaper proxy sees more candidates for the same seconds.
 *
 * With 20 architectures both are known roughly, so the report says how far to trust them: 90%
 * bootstrap intervals, and how often each rule picks each setting when the architectures are
 * resampled (all settings scored on the same resample).
 */
import { spearman } from '../latency/correlation.js';
import { forEachResample, percentileInterval } from '../util/bootstrap.js';
import { expectedTopPick, trialsFor, type PoolItem } from './budget-pick.js';
import { mean, median, pooledStd, sampleStd } from '../util/stats.js';
import { settingKey, type TrainedTable, type TrainRow, type TrainSetting } from '../trained/table.js';

export const FIDELITY_TOLERANCE = 0.05;
export const BOOTSTRAP_ROUNDS = 2000;
export const BOOTSTRAP_SEED = 0;
/** Equal budgets, in trials of the dearest setting. */
export const BUDGET_TRIALS: readonly number[] = [2, 4, 8];
const INTERVAL_LEVEL = 0.9;

export interface SettingFidelity {
  readonly setting: string;
  readonly images: number;
  readonly epochs: number;
  /** Architectures with a seed-0 proxy accuracy and a final test accuracy. */
  readonly archs: number;
  readonly spearman: number | null;
  /** 90% percentile bootstrap interval of the correlation (architectures resampled). */
  readonly spearman_ci90: readonly [number, number] | null;
  /** Share of bootstrap resamples in which the correlation rule (the most faithful) picks this setting. */
  readonly faithful_share: number | null;
  /** Median seconds of this setting's trainings in the table. */
  readonly median_seconds: number | null;
  /** Seconds per trial the budgets are counted in: given (measured on a quiet machine), else median_seconds. */
  readonly seconds_per_trial: number | null;
  readonly seconds_source: 'given' | 'table' | null;
  /** Per equal budget (FidelityReport.budget): architectures it pays for, whether the pool ran out first, expected final accuracy of the pick. */
  readonly budget_trials: readonly number[];
  readonly budget_exhausted: readonly boolean[];
  readonly budget_pick: readonly number[];
  /** Mean of budget_pick over the budgets, its 90% bootstrap interval, and the share of resamples in which it is the highest (the recommendation). */
  readonly mean_pick: number | null;
  readonly mean_pick_ci90: readonly [number, number] | null;
  /** 90% bootstrap interval of mean_pick minus the most faithful setting's, on the same resamples. */
  readonly gain_over_faithful_ci90: readonly [number, number] | null;
  readonly picked_share: number | null;
  readonly trials_per_hour: number | null;
  /** Median 1-minute load average when those trainings ended: seconds taken on a busy machine are not a quiet one's. */
  readonly median_load: number | null;
  readonly mean_accuracy: number | null;
  /** Standard deviation of accuracy between seeds of one architecture (pooled), in points. */
  readonly seed_noise_pts: number | null;
  readonly noise_archs: number;
  /** Standard deviation of seed-0 accuracy between architectures, in points. */
  readonly arch_spread_pts: number | null;
  readonly failed: number;
}

export interface FidelityReport {
  readonly space: string;
  readonly archs: number;
  readonly final: {
    readonly setting: string;
    readonly epochs: number;
    readonly archs_done: number;
    readonly failed: number;
    readonly median_seconds: number | null;
    readonly mean_test_accuracy: number | null;
    readonly best_test_accuracy: number | null;
    readonly seed_noise_pts: number | null;
    readonly noise_archs: number;
  };
  readonly settings: readonly SettingFidelity[];
  /** The equal budgets: seconds, in trials of the dearest setting; the pool of architectures every setting and the final recipe trained. */
  readonly budget: {
    readonly trials_of: string | null;
    readonly seconds: readonly number[];
    readonly pool: number;
    readonly pool_mean_final: number | null;
    readonly pool_best_final: number | null;
  };
  /** The cheapest setting whose correlation is within FIDELITY_TOLERANCE of the best. */
  readonly most_faithful: string | null;
  /** The best fidelity per second: the highest mean_pick. */
  readonly recommended: string | null;
  readonly why: string;
  readonly bootstrap: { readonly rounds: number; readonly seed: number };
}

/** Pooled standard deviation over architectures with >= 2 seeds, and how many there were. */
function seedNoise(byArch: Map<string, TrainRow[]>, accuracy: (r: TrainRow) => number | null): { pts: number | null; archs: number } {
  const groups = [...byArch.values()].map((rows) => rows.map(accuracy).filter((x): x is number => x !== null));
  const std = pooledStd(groups);
  return { pts: std === null ? null : 100 * std, archs: groups.filter((xs) => xs.length >= 2).length };
}


function failedCount(table: TrainedTable, archs: ReadonlySet<string>, setting: TrainSetting): number {
  const key = settingKey(setting);
  return table.trainRows().filter((r) => r.status === 'failed' && archs.has(r.arch) && settingKey(r) === key).length;
}

interface ProxyScores {
  readonly setting: TrainSetting;
  /** Seed-0 proxy accuracy per architecture that also has a final accuracy. */
  readonly byArch: Map<string, number>;
}

function correlation(scores: ProxyScores, archs: readonly string[], finalAccuracy: ReadonlyMap<string, number>): number {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const arch of archs) {
    const x = scores.byArch.get(arch);
    if (x === undefined) continue;
    xs.push(x);
    ys.push(finalAccuracy.get(arch)!);
  }
  return xs.length >= 3 ? spearman(xs, ys) : NaN;
}

/** The rule: the cheapest setting whose correlation is within the tolerance of the best; -1 when none has one. */
function pickIndex(rhos: readonly number[], seconds: readonly (number | null)[]): number {
  let best = -Infinity;
  rhos.forEach((rho, i) => {
    if (Number.isFinite(rho) && seconds[i] !== null && rho > best) best = rho;
  });
  let pick = -1;
  rhos.forEach((rho, i) => {
    const cost = seconds[i];
    if (!Number.isFinite(rho) || cost === null || cost === undefined || rho < best - FIDELITY_TOLERANCE) return;
    if (pick < 0 || cost < (seconds[pick] as number)) pick = i;
  });
  return pick;
}

/**
 * trialSeconds: seconds per trial by setting ('5000x1'), measured on a quiet machine; a setting
 * not in it is counted at the median of its trainings in the table (which may have shared a busy machine).
 */
export function fidelityReport(
  table: TrainedTable,
  archs: readonly string[],
  settings: { proxies: readonly TrainSetting[]; final: TrainSetting },
  space: string,
  trialSeconds: ReadonlyMap<string, number> = new Map(),
): FidelityReport {
  const inStudy = new Set(archs);
  const only = (m: Map<string, TrainRow[]>): Map<string, TrainRow[]> => new Map([...m].filter(([a]) => inStudy.has(a)));
  const finals = only(table.doneBySetting(settings.final));
  const finalAccuracy = new Map<string, number>();
  for (const [arch, rows] of finals) {
    const m = mean(rows.map((r) => r.testAccuracy).filter((x): x is number => x !== null));
    if (m !== null) finalAccuracy.set(arch, m);
  }
  const finalArchs = [...finalAccuracy.keys()];
  const finalNoise = seedNoise(finals, (r) => r.testAccuracy);
  const finalSeconds = [...finals.values()].flat().map((r) => r.seconds);
  const scores: ProxyScores[] = [];
  const base = settings.proxies.map((setting) => {
    const byArch = only(table.doneBySetting(setting));
    const seed0 = [...byArch].flatMap(([arch, rs]) => rs.filter((r) => r.seed === 0 && r.valAccuracy !== null).map((r) => ({ arch, acc: r.valAccuracy as number })));
    const proxy: ProxyScores = { setting, byArch: new Map(seed0.filter((p) => finalAccuracy.has(p.arch)).map((p) => [p.arch, p.acc])) };
    scores.push(proxy);
    const rho = correlation(proxy, finalArchs, finalAccuracy);
    const seconds = [...byArch.values()].flat().map((r) => r.seconds);
    const loads = [...byArch.values()].flat().flatMap((r) => (r.load === undefined ? [] : [r.load]));
    const noise = seedNoise(byArch, (r) => r.valAccuracy);
    const spread = sampleStd(seed0.map((p) => p.acc));
    const med = seconds.length ? median(seconds) : null;
    return {
      setting: settingKey(setting),
      images: setting.images,
      epochs: setting.epochs,
      archs: proxy.byArch.size,
      spearman: Number.isFinite(rho) ? rho : null,
      median_seconds: med,
      trials_per_hour: med ? 3600 / med : null,
      median_load: loads.length ? median(loads) : null,
      mean_accuracy: mean(seed0.map((p) => p.acc)),
      seed_noise_pts: noise.pts,
      noise_archs: noise.archs,
      arch_spread_pts: spread === null ? null : 100 * spread,
      failed: failedCount(table, inStudy, setting),
    };
  });
  const seconds = base.map((r, i) => trialSeconds.get(shortKey(settings.proxies[i]!)) ?? r.median_seconds);
  const budget = equalBudgets(scores, finalAccuracy, seconds);
  const faithfulIndex = pickIndex(base.map((r) => r.spearman ?? NaN), seconds);
  const resampledGain = base.map(() => [] as number[]);
  const resampledRho = base.map(() => [] as number[]);
  const resampledPick = base.map(() => [] as number[]);
  const faithfulPicks = base.map(() => 0);
  const budgetPicks = base.map(() => 0);
  let faithfulRounds = 0;
  let budgetRounds = 0;
  const inPool = new Set(budget.pool);
  if (finalArchs.length >= 3) {
    const drawn = new Array<string>(finalArchs.length);
    forEachResample(finalArchs.length, BOOTSTRAP_ROUNDS, BOOTSTRAP_SEED, (indices) => {
      indices.forEach((k, i) => (drawn[i] = finalArchs[k]!));
      const rhos = scores.map((proxy) => correlation(proxy, drawn, finalAccuracy));
      rhos.forEach((rho, i) => Number.isFinite(rho) && resampledRho[i]!.push(rho));
      const faithful = pickIndex(rhos, seconds);
      if (faithful >= 0) {
        faithfulPicks[faithful]!++;
        faithfulRounds++;
      }
      if (budget.pool.length >= 3) {
        const resampledPool = drawn.filter((arch) => inPool.has(arch));
        if (resampledPool.length === 0) return;
        const picks = budget.picks(resampledPool).map(meanOrNull);
        picks.forEach((m, i) => m !== null && resampledPick[i]!.push(m));
        const reference = faithfulIndex < 0 ? null : picks[faithfulIndex];
        if (reference !== null && reference !== undefined) picks.forEach((m, i) => m !== null && resampledGain[i]!.push(m - reference));
        const best = bestPick(picks, seconds);
        if (best >= 0) {
          budgetPicks[best]!++;
          budgetRounds++;
        }
      }
    });
  }
  const pointPicks = budget.pool.length >= 3 ? budget.picks(budget.pool) : base.map(() => null);
  const rows: SettingFidelity[] = base.map((r, i) => ({
    ...r,
    spearman_ci90: r.spearman === null ? null : percentileInterval(resampledRho[i]!, INTERVAL_LEVEL),
    faithful_share: r.spearman === null || faithfulRounds === 0 ? null : faithfulPicks[i]! / faithfulRounds,
    seconds_per_trial: seconds[i] ?? null,
    seconds_source: trialSeconds.has(shortKey(settings.proxies[i]!)) ? 'given' : r.median_seconds === null ? null : 'table',
    budget_trials: budget.trials[i]!.map((t) => t.n),
    budget_exhausted: budget.trials[i]!.map((t) => t.exhausted),
    budget_pick: pointPicks[i] ?? [],
    mean_pick: meanOrNull(pointPicks[i] ?? null),
    mean_pick_ci90: pointPicks[i] === null ? null : percentileInterval(resampledPick[i]!, INTERVAL_LEVEL),
    gain_over_faithful_ci90: pointPicks[i] === null || faithfulIndex < 0 ? null : percentileInterval(resampledGain[i]!, INTERVAL_LEVEL),
    picked_share: pointPicks[i] === null || budgetRounds === 0 ? null : budgetPicks[i]! / budgetRounds,
  }));
  const { recommended, why } = recommend(rows, budget, faithfulIndex, archs.length);
  return {
    space,
    archs: archs.length,
    final: {
      setting: settingKey(settings.final),
      epochs: settings.final.epochs,
      archs_done: finalAccuracy.size,
      failed: failedCount(table, inStudy, settings.final),
      median_seconds: finalSeconds.length ? median(finalSeconds) : null,
      mean_test_accuracy: mean([...finalAccuracy.values()]),
      best_test_accuracy: finalAccuracy.size ? Math.max(...finalAccuracy.values()) : null,
      seed_noise_pts: finalNoise.pts,
      noise_archs: finalNoise.archs,
    },
    settings: rows,
    budget: {
      trials_of: budget.dearest < 0 ? null : shortKey(settings.proxies[budget.dearest]!),
      seconds: budget.seconds,
      pool: budget.pool.length,
      pool_mean_final: mean(budget.pool.map((a) => finalAccuracy.get(a)!)),
      pool_best_final: budget.pool.length ? Math.max(...budget.pool.map((a) => finalAccuracy.get(a)!)) : null,
    },
    most_faithful: faithfulIndex < 0 ? null : rows[faithfulIndex]!.setting,
    recommended,
    why,
    bootstrap: { rounds: BOOTSTRAP_ROUNDS, seed: BOOTSTRAP_SEED },
  };
}

/** '5000x1': how --trial-seconds names a proxy setting. */
export function shortKey(setting: { readonly images: number; readonly epochs: number }): string {
  return `${setting.images}x${setting.epochs}`;
}

interface EqualBudgets {
  /** Architectures with a final accuracy and a seed-0 proxy accuracy of every setting that has a cost. */
  readonly pool: readonly string[];
  /** Index of the dearest setting (-1: none has a cost), and the budgets in seconds. */
  readonly dearest: number;
  readonly seconds: readonly number[];
  /** Per setting, per budget: architectures paid for in the full pool. */
  readonly trials: readonly (readonly { n: number; exhausted: boolean }[])[];
  /** Per setting, the expected final accuracy of its pick per budget on a pool (a resample of it); null: no cost. */
  picks(pool: readonly string[]): (number[] | null)[];
}

const meanOrNull = (xs: readonly number[] | null): number | null => (xs === null ? null : mean(xs));

function equalBudgets(scores: readonly ProxyScores[], finalAccuracy: ReadonlyMap<string, number>, seconds: readonly (number | null)[]): EqualBudgets {
  const costed = scores.map((_, i) => i).filter((i) => seconds[i] !== null && seconds[i]! > 0);
  const pool = [...finalAccuracy.keys()].filter((arch) => costed.length > 0 && costed.every((i) => scores[i]!.byArch.has(arch)));
  let dearest = -1;
  for (const i of costed) if (dearest < 0 || seconds[i]! > seconds[dearest]!) dearest = i;
  const budgetSeconds = dearest < 0 ? [] : BUDGET_TRIALS.map((k) => k * seconds[dearest]!);
  const trials = scores.map((_, i) => (costed.includes(i) ? budgetSeconds.map((b) => trialsFor(b, seconds[i]!, pool.length)) : []));
  const picksAt = (items: readonly string[], i: number): number[] => {
    const poolItems: PoolItem[] = items.map((arch) => ({ proxy: scores[i]!.byArch.get(arch)!, final: finalAccuracy.get(arch)! }));
    return budgetSeconds.map((b) => expectedTopPick(poolItems, trialsFor(b, seconds[i]!, items.length).n));
  };
  return {
    pool,
    dearest,
    seconds: budgetSeconds,
    trials,
    picks: (items) => scores.map((_, i) => (costed.includes(i) && items.length > 0 ? picksAt(items, i) : null)),
  };
}

/** The highest mean pick; a tie goes to the cheaper setting. */
function bestPick(picks: readonly (number | null)[], seconds: readonly (number | null)[]): number {
  let best = -1;
  picks.forEach((m, i) => {
    if (m === null) return;
    const b = best < 0 ? null : picks[best]!;
    if (b === null || m > b + 1e-12 || (Math.abs(m - b) <= 1e-12 && seconds[i]! < seconds[best]!)) best = i;
  });
  return best;
}

function recommend(rows: readonly SettingFidelity[], budget: EqualBudgets, faithful: number, archs: number): { recommended: string | null; why: string } {
  if (budget.pool.length < 3) return { recommended: null, why: 'fewer than 3 architectures have the final accuracy and the proxy accuracy of every setting with a cost yet' };
  const index = bestPick(rows.map((r) => r.mean_pick), rows.map((r) => r.seconds_per_trial));
  const pick = rows[index]!;
  const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
  const pts = (x: number): string => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}`;
  const ci = pick.mean_pick_ci90;
  const complete = rows.every((r) => r.spearman === null || r.archs === archs);
  const why =
    `the best fidelity per second: at equal proxy-training budgets (${BUDGET_TRIALS.join(', ')} trials of ${shortKey(rows[budget.dearest]!)}, ` +
    `${budget.seconds.map((s) => s.toFixed(0)).join(' / ')} s), the architecture it ranks first among those it can train has the highest expected final test accuracy, ` +
    `${pct(pick.mean_pick!)} on average over the budgets` +
    (ci ? ` (90% bootstrap interval ${pct(ci[0])} to ${pct(ci[1])})` : '') +
    `, at ${pick.seconds_per_trial!.toFixed(1)} s per trial (${pick.seconds_source === 'given' ? 'given' : 'the table’s median'})` +
    (pick.picked_share !== null ? `; the rule picks it in ${(100 * pick.picked_share).toFixed(0)}% of ${BOOTSTRAP_ROUNDS} resamples of the architectures` : '') +
    (faithful >= 0 && faithful !== index && pick.gain_over_faithful_ci90
      ? `; against the most faithful setting, ${shortKey(rows[faithful]!)}, its pick gains ${pts(pick.gain_over_faithful_ci90[0])} to ${pts(pick.gain_over_faithful_ci90[1])} points (90% interval)`
      : '') +
    (complete ? '' : ` (partial: not every architecture has its final accuracy yet)`);
  return { recommended: pick.setting, why };
}
