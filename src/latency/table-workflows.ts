/**
 * What `mnas latency profile|eval|study` do, as library functions: build a space's latency table
 * on a device (every distinct layer, then random whole models to calibrate the predictor), check
 * a stored table against a device and space, score the predictor on random architectures, and
 * study how well MACs (and the predictor) order real latencies. Progress comes back through
 * callbacks; nothing is printed.
 */
import { existsSync } from 'node:fs';
import type { Arch } from '../space/arch.js';
import { printArch } from '../space/arch-string.js';
import type { SearchSpace } from '../space/space.js';
import { median } from '../util/stats.js';
import type { LatencyDevice } from './device.js';
import { calibrateFrom, evaluatePredictor, LatencyPredictor, measureArchs, measureRandomArchs, sampleArchs, type MeasuredArch, type PredictionReport } from './predictor.js';
import { atSameSpeed, repeatability, type RepeatabilityReport } from './repeatability.js';
import { fastestOfPasses } from './fastest-pair.js';
import { analyzeStudy, studyRows, writeStudy, type StudyReport } from './study.js';
import { calibrationSpeed, GAUGE_EVERY_MODELS, type CalibrationSpeed } from './speed-gauge.js';
import { fastSpeedMs } from './speed-mode.js';
import { DEFAULT_PROFILE_PASSES, distinctLayers, LatencyTableError, loadTable, measureSpeedGauge, passesMeasured, profileSpace, speedGaugeModels, type LatencyTable } from './table.js';

/** Seed of the random models that calibrate a table, and the default seed of evaluated ones (distinct, so evaluation is out of sample). */
export const CALIBRATION_SEED = 1000;
export const EVALUATION_SEED = 2000;
/**
 * Calibration models by default: enough for the features model (predictor.ts MIN_FEATURE_MODELS);
 * on 257 measured fmnist architectures, fits on 120 left 98.2% of the others within 10%, on 60
 * 97.8%, on 40 96.4%, on 200 98.7% (`mnas bench predictor-fit --table
 * results/fashion-mnist/trained.jsonl --train N`, 20 splits).
 */
export const DEFAULT_CALIBRATION_MODELS = 120;

export interface BuildTableOptions {
  /** Passes over all layers (default DEFAULT_PROFILE_PASSES; table.ts profileSpace). */
  readonly passes?: number;
  /** Random whole models measured to calibrate the predictor (default DEFAULT_CALIBRATION_MODELS). */
  readonly calibrate?: number;
  readonly seed?: number;
  /** Checkpoint the table to this file while profiling, so an interrupted profile resumes. */
  readonly checkpoint?: string;
  /** Layers measured between checkpoints (default 200). */
  readonly checkpointEvery?: number;
  /** `resumed`: layer passes already in the checkpoint this profile goes on from. */
  readonly onStart?: (e: { layers: number; passes: number; resumed: number }) => void;
  /** Layer passes measured by this profile, of those it has to. */
  readonly onLayers?: (done: number, total: number) => void;
  readonly onCalibration?: (done: number, total: number) => void;
}

export async function buildLatencyTable(device: LatencyDevice, space: SearchSpace, o: BuildTableOptions = {}): Promise<LatencyTable> {
  const passes = o.passes ?? DEFAULT_PROFILE_PASSES;
  const calibrate = o.calibrate ?? DEFAULT_CALIBRATION_MODELS;
  const previous = o.checkpoint ? await checkpointToResume(o.checkpoint, device, space) : undefined;
  const distinct = distinctLayers(space);
  const layers = distinct.size;
  const resumed = Object.entries(previous?.entries ?? {}).reduce((n, [key, e]) => n + (distinct.has(key) ? Math.min(passes, passesMeasured(e)) : 0), 0);
  o.onStart?.({ layers, passes, resumed });
  const table = await profileSpace(device, space, {
    passes,
    layers: distinct,
    ...(previous ? { previous } : {}),
    onProgress: (done, total) => o.onLayers?.(done, total),
    ...(o.checkpoint ? { out: o.checkpoint, checkpointEvery: o.checkpointEvery ?? 200 } : {}),
  });
  const { measured, reference, speed } = await measureCalibrationModels(device, space, table, calibrate, o.seed ?? CALIBRATION_SEED, (d, total) => o.onCalibration?.(d, total));
  const calibration = calibrateFrom(table, measured, reference);
  if (speed) calibration.speed = speed;
  return table;
}

/** Rounds of measuring again the calibration models whose reference ran off the calibration's speed. */
export const CALIBRATION_OFF_SPEED_ROUNDS = 2;

/**
 * The calibration models, measured interleaved with the space's default where the device can; a
 * model whose pair found the default off the calibration's speed (beyond SAME_SPEED_TOLERANCE of
 * its fast speed over all the pairs, speed-mode.ts) is measured again, up to CALIBRATION_OFF_SPEED_ROUNDS times,
 * and its pair at speed replaces it: on this VM the ratios move in the slow mode, and the fit
 * must see the ratios of one speed, as the table's layers are (table.ts profileSpace). A gauge
 * pair every GAUGE_EVERY_MODELS models, checked against the profile's, brings a calibration that
 * ran slow nearly throughout back to the profile's speed (speed-gauge.ts).
 */
async function measureCalibrationModels(
  device: LatencyDevice,
  space: SearchSpace,
  table: LatencyTable,
  n: number,
  seed: number,
  onProgress: (done: number, total: number) => void,
): Promise<{ measured: MeasuredArch[]; reference?: { arch: string; ms: number }; speed?: CalibrationSpeed }> {
  const gauge = device.measureAgainst && table.speed_gauge?.timings_ms.length ? speedGaugeModels(space) : undefined;
  const { passes: _, ...gaugeProtocol } = table.protocol;
  const gaugeTimings: number[] = [];
  const defaultArch = space.decode(space.defaultDna());
  // interleaved with the default (measureArchs), in runs of GAUGE_EVERY_MODELS with a gauge pair before each run
  const measureGauged = async (archs: readonly Arch[], name: (i: number) => string, progress: () => void): Promise<MeasuredArch[]> => {
    const run = gauge ? GAUGE_EVERY_MODELS : archs.length;
    const measured: MeasuredArch[] = [];
    for (let start = 0; start < archs.length; start += run) {
      if (gauge) gaugeTimings.push(await measureSpeedGauge(device, gauge, gaugeProtocol));
      measured.push(...(await measureArchs(device, space, archs.slice(start, start + run), { reference: defaultArch, name: (i) => name(start + i), onProgress: progress })));
    }
    return measured;
  };
  let done = 0;
  let total = n;
  const first = await measureGauged(sampleArchs(space, n, seed), (i) => `${space.name}#${seed}.${i}`, () => onProgress(++done, total));
  if (!device.measureAgainst) return { measured: first };
  const calibrationMs = fastSpeedMs(first.map((m) => m.reference_ms!));
  const offSpeed = (m: MeasuredArch): boolean => !atSameSpeed(m.reference_ms!, calibrationMs);
  const measured = [...first];
  for (let round = 0; round < CALIBRATION_OFF_SPEED_ROUNDS; round++) {
    const again = measured.flatMap((m, i) => (offSpeed(m) ? [i] : []));
    if (again.length === 0) break;
    total += again.length;
    const remeasured = await measureGauged(again.map((i) => measured[i]!.arch), (j) => `${space.name}#${seed}.${again[j]}`, () => onProgress(++done, total));
    remeasured.forEach((m, j) => {
      if (!offSpeed(m)) measured[again[j]!] = m;
    });
  }
  const speed = gauge ? calibrationSpeed(table.speed_gauge!.timings_ms, gaugeTimings) : undefined;
  const ms = calibrationMs / (speed?.slowdown ?? 1);
  return { measured: measured.map((m) => ({ ...m, measured_ms: m.ratio! * ms })), reference: { arch: printArch(defaultArch), ms }, ...(speed ? { speed } : {}) };
}

/** The table in `file`, checked to be a finished table for this device and space (LatencyTableError otherwise). */
export async function loadTableFor(file: string, device: LatencyDevice, space: SearchSpace): Promise<LatencyTable> {
  if (!existsSync(file)) throw new LatencyTableError(`table file '${file}' does not exist`);
  const table = loadTable(file);
  const id = (await device.describe()).id;
  if (table.device.id !== id) throw new LatencyTableError(`table '${file}' was measured on '${table.device.id}', not on '${id}'`);
  if (table.space !== space.name) throw new LatencyTableError(`table '${file}' is for space '${table.space}', not '${space.name}'`);
  if (table.partial) throw new LatencyTableError(`table '${file}' is the checkpoint of an unfinished profile: run \`mnas latency profile --out ${file}\` with the same --device and --space to finish it`);
  return table;
}

/**
 * The unfinished profile checkpointed in `file`, to go on from; undefined when there is none (no
 * file, or a finished table there, which a new profile replaces). A checkpoint of another device
 * or space is refused rather than overwritten.
 */
async function checkpointToResume(file: string, device: LatencyDevice, space: SearchSpace): Promise<LatencyTable | undefined> {
  if (!existsSync(file)) return undefined;
  let table: LatencyTable;
  try {
    table = loadTable(file);
  } catch {
    return undefined;
  }
  if (!table.partial) return undefined;
  const id = (await device.describe()).id;
  const other = table.device.id !== id ? `device '${table.device.id}', not '${id}'` : table.space !== space.name ? `space '${table.space}', not '${space.name}'` : undefined;
  if (other) throw new LatencyTableError(`'${file}' is the checkpoint of an unfinished profile of ${other}: finish it with that one, or remove it to start over`);
  return table;
}

export interface EvaluatedModel {
  readonly arch: string;
  readonly predicted_ms: number;
  readonly measured_ms: number;
  readonly error_pct: number;
  /** Measured interleaved: the ratio to the reference, the reference's timing in this model's pair, and the error at the table's calibration speed. */
  readonly ratio?: number;
  readonly reference_ms?: number;
  readonly drift_free_error_pct?: number;
  /** With two passes or more: the model's ratio (its latency where not interleaved) in each pass, the kept one the lowest at speed. */
  readonly passes?: readonly number[];
}

export interface PredictorEvaluation {
  readonly report: PredictionReport;
  readonly measuredMedianMs: number;
  /** Measured interleaved with the space's default: its latency at the device's fast speed over the evaluation (and over the table's calibration, when that was measured so too). */
  readonly reference?: { arch: string; ms: number; tableMs: number | null };
  /**
   * The same comparison with the measurements brought to the device's speed when the table was
   * calibrated (x tableMs / ms): what is left is the predictor's own error, not the device's drift
   * since. Only when both were measured interleaved with the same reference.
   */
  readonly driftFree?: PredictionReport;
  /**
   * driftFree split by the machine's speed during each model's pair: the models whose reference ran
   * within SAME_SPEED_TOLERANCE of its calibration timing, and the others. On a machine that
   * switches between speeds, the ratios themselves move with the switch (repeatability.ts), so only
   * the first is the predictor's own error; a table calibrated at one speed cannot know the other.
   */
  readonly driftFreeBySpeed?: { readonly atCalibrationSpeed: PredictionReport; readonly acrossSpeed: PredictionReport };
  /** Every evaluated model, as measured (ratio and the reference's timing in its pair where interleaved) and predicted. */
  readonly models: readonly EvaluatedModel[];
  /** With `retest`: the first models measured a second time, against their first measurement (the device's own repeatability, the floor under the predictor's error). */
  readonly repeatability?: RepeatabilityReport;
  /** With two passes or more: every model's second pair against its first (fastest-pair.ts keeps the faster). */
  readonly betweenPasses?: RepeatabilityReport;
}

/**
 * Passes over the evaluated models by default: each measured twice, a pass apart (a minute and a
 * half on ort-cpu for 100 fmnist models), and the faster pair kept (fastest-pair.ts).
 */
export const DEFAULT_EVAL_PASSES = 2;

/**
 * Measures `samples` random architectures for real and compares the table's predictions with them.
 * Where the device can, each is measured interleaved with the space's default (as the table was
 * calibrated): its latency is its ratio to the default times the default's latency at the device's
 * fast speed over the evaluation. Each is measured in `passes` passes over them all, and its pair
 * at that speed with the lowest ratio kept (fastest-pair.ts): a spell that slows big models and
 * not the small default shows in one pass, not in both.
 */
export async function evaluateTable(
  device: LatencyDevice,
  space: SearchSpace,
  table: LatencyTable,
  o: {
    samples: number;
    seed?: number;
    /** Passes over the models (default DEFAULT_EVAL_PASSES). */
    passes?: number;
    /** Measure the first this many of them a second time, after all the others (at most `samples`). */
    retest?: number;
    onProgress?: (done: number, total: number) => void;
    onRetest?: (done: number, total: number) => void;
  },
): Promise<PredictorEvaluation> {
  const retest = o.retest ?? 0;
  const passCount = o.passes ?? DEFAULT_EVAL_PASSES;
  if (!Number.isInteger(retest) || retest < 0 || retest > o.samples) throw new RangeError(`retest must be an integer from 0 to samples (${o.samples}), got ${retest}`);
  if (!Number.isInteger(passCount) || passCount < 1) throw new RangeError(`passes must be an integer of at least 1, got ${passCount}`);
  const seed = o.seed ?? EVALUATION_SEED;
  const archs = sampleArchs(space, o.samples, seed);
  const defaultArch = space.decode(space.defaultDna());
  const passes: MeasuredArch[][] = [];
  for (let pass = 0; pass < passCount; pass++) {
    const onProgress = (d: number) => o.onProgress?.(pass * o.samples + d, passCount * o.samples);
    passes.push(await measureArchs(device, space, archs, { reference: defaultArch, name: (i) => `${space.name}#${seed}.${i}`, onProgress }));
  }
  const fastest = fastestOfPasses(passes);
  const measured = fastest.measured;
  const reference = fastest.referenceMs !== undefined ? { arch: printArch(defaultArch), ms: fastest.referenceMs } : undefined;
  const again = retest > 0 ? await measureArchs(device, space, archs.slice(0, retest), { reference: defaultArch, name: (i) => `${space.name}#retest.${i}`, onProgress: (d) => o.onRetest?.(d, retest) }) : undefined;
  const predictor = new LatencyPredictor(table);
  const report = evaluatePredictor(predictor, measured);
  const tableReference = table.calibration?.reference;
  const sameReference = reference !== undefined && tableReference !== undefined && tableReference.arch === reference.arch;
  const atTableSpeed = sameReference ? measured.map((m) => ({ ...m, measured_ms: (m.measured_ms * tableReference.ms) / reference.ms })) : undefined;
  const driftFree = atTableSpeed ? evaluatePredictor(predictor, atTableSpeed) : undefined;
  const models: EvaluatedModel[] = report.rows.map((r, i) => ({
    ...r,
    ...(measured[i]!.ratio !== undefined ? { ratio: measured[i]!.ratio, reference_ms: measured[i]!.reference_ms } : {}),
    ...(driftFree ? { drift_free_error_pct: driftFree.rows[i]!.error_pct } : {}),
    ...(passes.length >= 2 ? { passes: passes.map((p) => p[i]!.ratio ?? p[i]!.measured_ms) } : {}),
  }));
  return {
    report,
    measuredMedianMs: median(report.rows.map((r) => r.measured_ms)),
    ...(reference ? { reference: { ...reference, tableMs: tableReference?.ms ?? null } } : {}),
    ...(driftFree ? { driftFree } : {}),
    ...(atTableSpeed && tableReference ? { driftFreeBySpeed: splitBySpeed(predictor, atTableSpeed, tableReference.ms) } : {}),
    models,
    ...(again ? { repeatability: repeatability(passes[0]!.slice(0, retest), again) } : {}),
    ...(passes.length >= 2 ? { betweenPasses: repeatability(passes[0]!, passes[1]!) } : {}),
  };
}

function splitBySpeed(predictor: LatencyPredictor, atTableSpeed: readonly MeasuredArch[], tableReferenceMs: number) {
  const sameSpeed = (m: MeasuredArch) => m.reference_ms !== undefined && atSameSpeed(m.reference_ms, tableReferenceMs);
  return {
    atCalibrationSpeed: evaluatePredictor(predictor, atTableSpeed.filter(sameSpeed)),
    acrossSpeed: evaluatePredictor(predictor, atTableSpeed.filter((m) => !sameSpeed(m))),
  };
}

export interface LatencyStudy {
  readonly report: StudyReport;
  /** Files written: study.json, latency-vs-macs.svg, README.md. */
  readonly paths: { json: string; svg: string; markdown: string };
}

/** Measures random architectures and writes the MACs-against-latency study (and the predictor's, with a table) into `out`. */
export async function studyLatency(
  device: LatencyDevice,
  space: SearchSpace,
  o: { samples: number; out: string; seed?: number; table?: LatencyTable; onProgress?: (done: number, total: number) => void },
): Promise<LatencyStudy> {
  const measured = await measureRandomArchs(device, space, o.samples, o.seed ?? EVALUATION_SEED, { onProgress: (d) => o.onProgress?.(d, o.samples) });
  const predictor = o.table ? new LatencyPredictor(o.table) : undefined;
  const rows = studyRows(measured, predictor ? (m) => predictor.predict(m.arch) : undefined);
  const report = analyzeStudy(space.name, await device.describe(), rows);
  return { report, paths: writeStudy(o.out, report) };
}
