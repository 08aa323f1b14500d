/**
 * The figures of a proxy-fidelity study, computed from the trained table: per proxy setting, the
 * Spearman rank correlation of its accuracy with the final recipe's test accuracy over the same
 * architectures, its cost per trial, its seed noise against the spread between architectures;
 * and the setting to choose: the cheapest whose correlation is within FIDELITY_TOLERANCE of the
 * best one's (a setting that ranks as well as the best for less time buys more candidates).
 */
import { spearman } from '../latency/correlation.js';
import { mean, median, sampleStd } from '../util/stats.js';
import { settingKey, type TrainedTable, type TrainRow, type TrainSetting } from '../trained/table.js';

export const FIDELITY_TOLERANCE = 0.05;

export interface SettingFidelity {
  readonly setting: string;
  readonly images: number;
  readonly epochs: number;
  /** Architectures with a seed-0 proxy accuracy and a final test accuracy. */
  readonly archs: number;
  readonly spearman: number | null;
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
}

/** Pooled standard deviation over architectures with >= 2 seeds, and how many there were. */
function seedNoise(byArch: Map<string, TrainRow[]>, accuracy: (r: TrainRow) => number | null): { pts: number | null; archs: number } {
  let sum = 0;
  let dof = 0;
  let archs = 0;
  for (const rows of byArch.values()) {
    const xs = rows.map(accuracy).filter((x): x is number => x !== null);
    if (xs.length < 2) continue;
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    sum += xs.reduce((a, x) => a + (x - mean) ** 2, 0);
    dof += xs.length - 1;
    archs++;
  }
  return { pts: dof > 0 ? 100 * Math.sqrt(sum / dof) : null, archs };
}


function failedCount(table: TrainedTable, archs: ReadonlySet<string>, setting: TrainSetting): number {
  const key = settingKey(setting);
  return table.trainRows().filter((r) => r.status === 'failed' && archs.has(r.arch) && settingKey(r) === key).length;
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
  const finalNoise = seedNoise(finals, (r) => r.testAccuracy);
  const finalSeconds = [...finals.values()].flat().map((r) => r.seconds);
  const rows: SettingFidelity[] = settings.proxies.map((setting) => {
    const byArch = only(table.doneBySetting(setting));
    const seed0 = [...byArch].flatMap(([arch, rs]) => rs.filter((r) => r.seed === 0 && r.valAccuracy !== null).map((r) => ({ arch, acc: r.valAccuracy as number })));
    const paired = seed0.filter((p) => finalAccuracy.has(p.arch));
    const rho = paired.length >= 3 ? spearman(paired.map((p) => p.acc), paired.map((p) => finalAccuracy.get(p.arch)!)) : NaN;
    const seconds = [...byArch.values()].flat().map((r) => r.seconds);
    const loads = [...byArch.values()].flat().flatMap((r) => (r.load === undefined ? [] : [r.load]));
    const noise = seedNoise(byArch, (r) => r.valAccuracy);
    const spread = sampleStd(seed0.map((p) => p.acc));
    const med = seconds.length ? median(seconds) : null;
    const meanAcc = mean(seed0.map((p) => p.acc));
    return {
      setting: settingKey(setting),
      images: setting.images,
      epochs: setting.epochs,
      archs: paired.length,
      spearman: Number.isFinite(rho) ? rho : null,
      median_seconds: med,
      trials_per_hour: med ? 3600 / med : null,
      median_load: loads.length ? median(loads) : null,
      mean_accuracy: meanAcc,
      seed_noise_pts: noise.pts,
      noise_archs: noise.archs,
      arch_spread_pts: spread === null ? null : 100 * spread,
      failed: failedCount(table, inStudy, setting),
    };
  });
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
  };
}

function recommend(rows: readonly SettingFidelity[], archs: number): { recommended: string | null; why: string } {
  const scored = rows.filter((r) => r.spearman !== null && r.median_seconds !== null);
  if (scored.length === 0) return { recommended: null, why: 'no proxy setting has both proxy and final accuracies of 3 architectures yet' };
  const complete = scored.every((r) => r.archs === archs);
  const best = Math.max(...scored.map((r) => r.spearman!));
  const good = scored.filter((r) => r.spearman! >= best - FIDELITY_TOLERANCE).sort((a, b) => a.median_seconds! - b.median_seconds!);
  const pick = good[0]!;
  const why =
    `the cheapest setting whose Spearman correlation with final test accuracy (${pick.spearman!.toFixed(3)}) is within ${FIDELITY_TOLERANCE} of the best (${best.toFixed(3)}), ` +
    `at ${pick.median_seconds!.toFixed(1)} s per trial` +
    (complete ? '' : ` (partial: not every architecture has its final accuracy yet)`);
  return { recommended: pick.setting, why };
}
