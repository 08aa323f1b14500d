/**
 * The figures of a proxy-fidelity study, computed from the trained table: per proxy setting, the
 * Spearman rank correlation of its accuracy with the final recipe's test accuracy over the same
 * architectures, its cost per trial, its seed noise against the spread between architectures;
 * and the setting to choose: the cheapest whose correlation is within FIDELITY_TOLERANCE of the
 * best one's (a setting that ranks as well as the best for less time buys more candidates).
 *
 * With 20 architectures a correlation is known to about +-0.3, so the report says how far to trust
 * it: a 90% bootstrap interval per setting, and how often the same rule picks each setting when
 * the architectures are resampled (all settings scored on the same resample).
 */
import { spearman } from '../latency/correlation.js';
import { forEachResample, percentileInterval } from '../util/bootstrap.js';
import { mean, median, pooledStd, sampleStd } from '../util/stats.js';
import { settingKey, type TrainedTable, type TrainRow, type TrainSetting } from '../trained/table.js';

export const FIDELITY_TOLERANCE = 0.05;
export const BOOTSTRAP_ROUNDS = 2000;
export const BOOTSTRAP_SEED = 0;
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
  /** Share of bootstrap resamples in which the recommendation rule picks this setting. */
  readonly picked_share: number | null;
  readonly median_seconds: number | null;
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

export function fidelityReport(table: TrainedTable, archs: readonly string[], settings: { proxies: readonly TrainSetting[]; final: TrainSetting }, space: string): FidelityReport {
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
  const seconds = base.map((r) => r.median_seconds);
  const resampled = base.map(() => [] as number[]);
  const picks = base.map(() => 0);
  let pickRounds = 0;
  if (finalArchs.length >= 3) {
    const drawn = new Array<string>(finalArchs.length);
    forEachResample(finalArchs.length, BOOTSTRAP_ROUNDS, BOOTSTRAP_SEED, (indices) => {
      indices.forEach((k, i) => (drawn[i] = finalArchs[k]!));
      const rhos = scores.map((proxy) => correlation(proxy, drawn, finalAccuracy));
      rhos.forEach((rho, i) => Number.isFinite(rho) && resampled[i]!.push(rho));
      const pick = pickIndex(rhos, seconds);
      if (pick >= 0) {
        picks[pick]!++;
        pickRounds++;
      }
    });
  }
  const rows: SettingFidelity[] = base.map((r, i) => ({
    ...r,
    spearman_ci90: r.spearman === null ? null : percentileInterval(resampled[i]!, INTERVAL_LEVEL),
    picked_share: r.spearman === null || pickRounds === 0 ? null : picks[i]! / pickRounds,
  }));
  const { recommended, why } = recommend(rows, archs.length);
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
    recommended,
    why,
    bootstrap: { rounds: BOOTSTRAP_ROUNDS, seed: BOOTSTRAP_SEED },
  };
}

function recommend(rows: readonly SettingFidelity[], archs: number): { recommended: string | null; why: string } {
  const index = pickIndex(rows.map((r) => r.spearman ?? NaN), rows.map((r) => r.median_seconds));
  if (index < 0) return { recommended: null, why: 'no proxy setting has both proxy and final accuracies of 3 architectures yet' };
  const pick = rows[index]!;
  const best = Math.max(...rows.flatMap((r) => (r.spearman === null || r.median_seconds === null ? [] : [r.spearman])));
  const complete = rows.every((r) => r.spearman === null || r.archs === archs);
  const ci = pick.spearman_ci90;
  const why =
    `the cheapest setting whose Spearman correlation with final test accuracy (${pick.spearman!.toFixed(3)}) is within ${FIDELITY_TOLERANCE} of the best (${best.toFixed(3)}), ` +
    `at ${pick.median_seconds!.toFixed(1)} s per trial` +
    (ci ? `; 90% bootstrap interval ${ci[0].toFixed(2)} to ${ci[1].toFixed(2)}` : '') +
    (pick.picked_share !== null ? `, and the rule picks it in ${(100 * pick.picked_share).toFixed(0)}% of ${BOOTSTRAP_ROUNDS} resamples of the architectures` : '') +
    (complete ? '' : ` (partial: not every architecture has its final accuracy yet)`);
  return { recommended: pick.setting, why };
}
