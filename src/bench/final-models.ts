/**
 * `mnas bench models`: named models trained with the final recipe over several seeds, into the
 * trained table (src/trained/table.ts), then measured on latency devices; reports test accuracy
 * (mean, standard deviation, range over seeds), params, MACs and latency per device. The
 * baselines and the searched models of a result are compared with it, on the same recipe.
 * Resumable like the fidelity study: what the table holds is not trained or measured again.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { compareToBaseline, type BaselineComparison, type LatencyAgainstBaseline } from './baseline-comparison.js';
import { costOfPlan } from '../model/cost.js';
import { buildPlan } from '../model/plan.js';
import { createDevice } from '../latency/registry.js';
import { measureLatency } from '../latency/measure.js';
import type { RelativeLatencyResult } from '../latency/device.js';
import { printArch } from '../space/arch-string.js';
import { resolveArch } from '../space/resolve.js';
import { builtInPreset, getPreset, hasPreset } from '../space/presets.js';
import { CARD_FILE, ONNX_FILE, WEIGHTS_FILE } from '../space/shipped-models.js';
import { writeModelCard } from '../trained/model-card.js';
import { mean, median, sampleStd } from '../util/stats.js';
import { InputError } from '../util/input-error.js';
import { runStudyJobs, type StudyRunOptions } from '../trained/run-jobs.js';
import { finalSetting } from '../trained/final-setting.js';
import { latencyRow, type RecipeOverrides, type TrainedTable, type TrainRow, type TrainSetting } from '../trained/table.js';
import type { TrainJob } from '../trained/train-job.js';

export interface NamedModel {
  readonly name: string;
  readonly arch: string;
  /** For the model card: the preset's description, or where the arch came from. */
  readonly description: string;
}

export interface ModelsBenchOptions extends StudyRunOptions {
  readonly models: readonly NamedModel[];
  readonly seeds: number;
  readonly dataset: string;
  /** Training images held out (0: train on all, report test accuracy only). */
  readonly validation: number;
  readonly splitSeed: number;
  readonly epochs: number;
  /** Latency devices to measure every model on (once; the table keeps it). */
  readonly devices: readonly string[];
  /** Weights and ONNX of each model's seed-0 training go to DIR/<name>/. */
  readonly saveDir?: string;
  /** Recipe tuning: the final recipe with these changes, scored on the validation split only (no test accuracy). */
  readonly recipe?: RecipeOverrides;
  /** The name of one of `models` every other is compared with (./baseline-comparison.ts), measured interleaved with it where a device can. */
  readonly baseline?: string;
}

export interface ModelFigures {
  readonly name: string;
  readonly arch: string;
  readonly params: number;
  readonly macs: number;
  readonly seeds_done: number;
  readonly failed: number;
  /** Test accuracy over the seeds done: mean, sample standard deviation, min, max. */
  readonly test_mean: number | null;
  readonly test_std: number | null;
  readonly test_min: number | null;
  readonly test_max: number | null;
  /** Validation accuracy over the seeds done (with --validation N), likewise. */
  readonly val_mean: number | null;
  readonly val_std: number | null;
  readonly val_min: number | null;
  readonly val_max: number | null;
  readonly median_seconds: number | null;
  /** Median latency (ms) per device measured. */
  readonly latency_ms: { readonly [device: string]: number };
  /** Against the baseline, when one is named (absent for the baseline itself). */
  readonly vs_baseline?: BaselineComparison;
}

export interface ModelsReport {
  readonly setting: TrainSetting;
  readonly seeds: number;
  readonly models: readonly ModelFigures[];
  readonly baseline: string | null;
  readonly jobs: number;
  readonly pending: number;
}

/** Models named by preset or given as NAME=ARCH; arch strings are made canonical. */
export function resolveModels(specs: readonly string[], command = 'bench models'): NamedModel[] {
  const out: NamedModel[] = [];
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const name = eq > 0 ? spec.slice(0, eq) : spec;
    const given = eq > 0 ? spec.slice(eq + 1) : spec;
    let arch: string;
    try {
      arch = printArch(resolveArch(given));
    } catch (e) {
      throw new InputError(`${command}: '${name}': ${(e as Error).message}`);
    }
    if (out.some((m) => m.name === name)) throw new InputError(`${command}: '${name}' is named twice`);
    const description = builtInPreset(given)?.description ?? (hasPreset(given) ? getPreset(given).trained!.card.description : `${name}: ${arch}`);
    out.push({ name, arch, description });
  }
  return out;
}

export async function runModelsBench(table: TrainedTable, o: ModelsBenchOptions): Promise<ModelsReport> {
  if (o.recipe && o.saveDir) throw new InputError('bench models: --save ships models trained with the final recipe; --recipe is a tuning study on the validation split');
  if (o.recipe && o.baseline !== undefined) throw new InputError('bench models: --baseline judges models on the test set; --recipe is a tuning study on the validation split');
  const baseline = o.baseline === undefined ? undefined : o.models.find((m) => m.name === o.baseline);
  if (o.baseline !== undefined && !baseline) throw new InputError(`bench models: --baseline '${o.baseline}' is not one of --models (${o.models.map((m) => m.name).join(', ')})`);
  const setting = finalSetting(o, 'bench models');
  const say = o.onLine ?? (() => {});
  // seed-major: every model gets its first seed before any gets a second
  const all: TrainJob[] = [];
  for (let seed = 0; seed < o.seeds; seed++) for (const m of o.models) all.push({ arch: m.arch, setting, seed });
  const nameOf = (arch: string) => o.models.find((m) => m.arch === arch)!.name;
  const { pending } = await runStudyJobs(
    table,
    all,
    { ...o, ...(o.saveDir ? { saveTo: (j: TrainJob) => (j.seed === 0 ? saveFiles(o.saveDir!, nameOf(j.arch)) : undefined) } : {}) },
    `${all.length} trainings (${o.models.length} models x ${o.seeds} seeds)`,
    (j) => `${nameOf(j.arch)} seed ${j.seed}`,
  );
  if (o.train && !o.signal?.aborted) await measureMissing(table, o, baseline, say);
  const own = o.models.map((m) => figuresOf(table, m, setting, o.devices));
  const models = baseline ? own.map((f) => (f.arch === baseline.arch ? f : { ...f, vs_baseline: againstBaseline(table, f, own.find((b) => b.arch === baseline.arch)!, setting, o.devices) })) : own;
  if (o.saveDir) writeCards(table, o.models, models, setting, o.saveDir, say);
  return { setting, seeds: o.seeds, models, baseline: baseline?.name ?? null, jobs: all.length, pending };
}

/** How long one model is timed against the baseline: tighter than a search trial's, as it is done once per model. */
const BASELINE_PROTOCOL = { minSeconds: 2, maxSeconds: 10 } as const;

function againstBaseline(table: TrainedTable, model: ModelFigures, baseline: ModelFigures, setting: TrainSetting, devices: readonly string[]): BaselineComparison {
  const latency: { [device: string]: LatencyAgainstBaseline } = {};
  for (const d of devices) {
    const paired = table.latency(model.arch, d, baseline.arch);
    if (paired?.ratio !== undefined) latency[d] = { speedup: 1 / paired.ratio, interleaved: true };
    else if (model.latency_ms[d] !== undefined && baseline.latency_ms[d] !== undefined) latency[d] = { speedup: baseline.latency_ms[d]! / model.latency_ms[d]!, interleaved: false };
  }
  return compareToBaseline({ tests: testsOf(table, model.arch, setting) }, { tests: testsOf(table, baseline.arch, setting) }, latency);
}

function testsOf(table: TrainedTable, arch: string, setting: TrainSetting): number[] {
  return table.seedsOf(arch, setting).flatMap((r) => (r.status === 'done' && r.testAccuracy !== null ? [r.testAccuracy] : []));
}

export function saveFiles(dir: string, name: string): { weights: string; onnx: string } {
  return { weights: path.join(dir, name, WEIGHTS_FILE), onnx: path.join(dir, name, ONNX_FILE) };
}

/** A model card next to every model's saved seed-0 files (rewritten as seeds and devices are added). */
function writeCards(table: TrainedTable, named: readonly NamedModel[], figures: readonly ModelFigures[], setting: TrainSetting, saveDir: string, say: (line: string) => void): void {
  for (const [i, m] of named.entries()) {
    const dir = path.join(saveDir, m.name);
    const rows = table.seedsOf(m.arch, setting);
    if (!existsSync(path.join(dir, WEIGHTS_FILE)) || !existsSync(path.join(dir, ONNX_FILE)) || !rows.some((r) => r.seed === 0 && r.status === 'done')) continue;
    // every device the table has the model's own latency on, also those this run was not asked to measure
    const latencyMs = { ...Object.fromEntries(table.latencyRows().filter((r) => r.arch === m.arch && r.reference === undefined).map((r) => [r.device, r.ms])), ...figures[i]!.latency_ms };
    writeModelCard(dir, { name: m.name, description: m.description, arch: m.arch, setting, rows, shippedSeed: 0, latencyMs });
    say(`${m.name}: model card ${path.join(dir, CARD_FILE)}`);
  }
}

/**
 * Measures, one device at a time, every model the table has no latency of on it, and with a
 * baseline, on devices that can time two models in turn, every other model interleaved with it.
 */
async function measureMissing(table: TrainedTable, o: ModelsBenchOptions, baseline: NamedModel | undefined, say: (line: string) => void): Promise<void> {
  for (const kind of o.devices) {
    const own = o.models.filter((m) => table.latency(m.arch, kind) === undefined);
    const paired = baseline ? o.models.filter((m) => m.arch !== baseline.arch && table.latency(m.arch, kind, baseline.arch) === undefined) : [];
    if (own.length === 0 && paired.length === 0) continue;
    const device = await createDevice(kind, { threads: 1 });
    try {
      if (own.length > 0) say(`measuring ${own.length} model(s) on ${kind}`);
      for (const m of own) {
        o.signal?.throwIfAborted();
        const r = await measureLatency(m.arch, { device, ...(o.signal ? { signal: o.signal } : {}) });
        table.add(latencyRow(m.arch, kind, r.result.latency_ms, r.result as unknown as Record<string, unknown>));
        say(`${m.name} on ${kind}: ${r.result.latency_ms.toFixed(4)} ms`);
      }
      // a device that cannot take two models at once is compared by the models' own medians
      if (!baseline || paired.length === 0 || !device.measureAgainst) continue;
      say(`measuring ${paired.length} model(s) on ${kind} interleaved with ${baseline.name}`);
      for (const m of paired) {
        o.signal?.throwIfAborted();
        const r = await measureLatency(m.arch, { device, against: baseline.arch, protocol: BASELINE_PROTOCOL, ...(o.signal ? { signal: o.signal } : {}) });
        const result = r.result as RelativeLatencyResult;
        table.add(latencyRow(m.arch, kind, result.latency_ms, result as unknown as Record<string, unknown>, { reference: baseline.arch, ratio: result.ratio }));
        say(`${m.name} on ${kind}: ${result.ratio.toFixed(4)} x ${baseline.name} (+-${(100 * result.ratio_rel_half_width).toFixed(2)}%)`);
      }
    } finally {
      await device.close();
    }
  }
}

function figuresOf(table: TrainedTable, m: NamedModel, setting: TrainSetting, devices: readonly string[]): ModelFigures {
  const rows = table.seedsOf(m.arch, setting);
  // a tuning setting is scored on validation only; a final one on the test set
  const scored = (r: TrainRow) => r.status === 'done' && (setting.recipe ? r.valAccuracy !== null : r.testAccuracy !== null);
  const done = rows.filter(scored);
  const test = spread(testsOf(table, m.arch, setting));
  const val = spread(done.flatMap((r) => (r.valAccuracy === null ? [] : [r.valAccuracy])));
  const cost = costOfPlan(buildPlan(resolveArch(m.arch)));
  const latency: { [device: string]: number } = {};
  for (const d of devices) {
    const l = table.latency(m.arch, d);
    if (l) latency[d] = l.ms;
  }
  return {
    name: m.name,
    arch: m.arch,
    params: cost.params,
    macs: cost.macs,
    seeds_done: done.length,
    failed: rows.length - done.length,
    test_mean: test.mean,
    test_std: test.std,
    test_min: test.min,
    test_max: test.max,
    val_mean: val.mean,
    val_std: val.std,
    val_min: val.min,
    val_max: val.max,
    median_seconds: done.length ? median(done.map((r) => r.seconds)) : null,
    latency_ms: latency,
  };
}

/** Mean, sample standard deviation (two values or more), min and max; nulls for none. */
function spread(xs: readonly number[]): { mean: number | null; std: number | null; min: number | null; max: number | null } {
  return { mean: mean(xs), std: sampleStd(xs), min: xs.length ? Math.min(...xs) : null, max: xs.length ? Math.max(...xs) : null };
}
