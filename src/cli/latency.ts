/**
 * `mnas latency <profile|eval|study>`: layer latency tables and the predictor built on them.
 *
 *   profile --device D --space S [--out table.json] [--calibrate N]
 *       measures every distinct layer configuration of the space on D (batch 1, interleaved with a
 *       reference layer where the device can), then N random full models (interleaved with the
 *       space's default where the device can) to fit the predictor: a line on the summed layers
 *       and, from MIN_FEATURE_MODELS models on, a linear model of the whole network's features and
 *       its summed layers (predictor.ts);
 *       saves the table (JSON with the device description).
 *   eval --device D --space S --samples N [--table FILE] [--json]
 *       measures N random archs for real and reports how many the predictor gets within +-10%
 *       (profiles first when no table is given). Last line with --json: { within_10pct,
 *       within_5pct, mean_abs_pct_error, max_abs_pct_error, spearman, samples, device,
 *       drift_free: { ..., at_calibration_speed, across_speed }, repeatability, models: [...] }.
 *   study --device D --space S --samples N [--table FILE] [--out DIR] [--json]
 *       Spearman(MACs, latency), the predictor's correlation if a table is given, the most
 *       misordered pairs; writes DIR/study.json, DIR/latency-vs-macs.svg, DIR/README.md.
 */
import type { Command } from 'commander';
import type { LatencyDevice } from '../latency/device.js';
import { DEFAULT_PROFILE_PASSES, LatencyTableError, saveTable, type LatencyTable } from '../latency/table.js';
import {
  buildLatencyTable, CALIBRATION_SEED, DEFAULT_CALIBRATION_MODELS, DEFAULT_EVAL_PASSES, evaluateTable, EVALUATION_SEED, loadTableFor, studyLatency, type BuildTableOptions,
} from '../latency/table-workflows.js';
import { createDevice, deviceKinds } from '../latency/registry.js';
import type { PredictionReport } from '../latency/predictor.js';
import type { RepeatabilityReport } from '../latency/repeatability.js';
import { getSpace, spaceNames, type SearchSpace } from '../space/space.js';
import { UsageError } from './errors.js';
import { deviceOption } from './measure.js';
import { intOption } from './options.js';
import { Progress } from './progress.js';

export type Writer = (text: string) => void;

interface CommonOptions {
  device: string;
  space: string;
  threads: number;
  json?: boolean;
  quiet?: boolean;
}

interface ProfileOptions extends CommonOptions {
  out?: string;
  passes: number;
  calibrate: number;
  seed: number;
}

interface EvalOptions extends CommonOptions {
  samples: number;
  table?: string;
  out?: string;
  calibrate: number;
  seed: number;
  retest: number;
  passes: number;
}

interface StudyOptions extends CommonOptions {
  samples: number;
  table?: string;
  out?: string;
  seed: number;
}

function spaceOption(command: string): (value: string) => string {
  return (value: string) => {
    if (!spaceNames().includes(value)) throw new UsageError(`${command}: --space must be one of ${spaceNames().join(', ')}, got '${value}'`);
    return value;
  };
}

function common(cmd: Command, name: string): Command {
  return cmd
    .requiredOption('--device <kind>', `latency device (${deviceKinds().join(', ')})`, deviceOption(name))
    .requiredOption('--space <name>', `search space (${spaceNames().join(', ')})`, spaceOption(name))
    .option('--threads <n>', 'inference threads', intOption('--threads', 1, 256), 1)
    .option('--quiet', 'no progress output');
}


export function registerLatency(program: Command, write: Writer = (t) => void process.stdout.write(t)): Command {
  const latency = program.command('latency').description('layer latency tables, the latency predictor and MACs-vs-latency studies');
  common(latency.command('profile'), 'latency profile')
    .description('measure every distinct layer configuration of a space on a device and save the table')
    .option('--out <file>', 'table file (default latency-<space>-<device>.json); checkpointed while profiling, and an unfinished profile there is resumed')
    .option('--calibrate <n>', 'random full models measured to calibrate the predictor', intOption('--calibrate', 2, 10000), DEFAULT_CALIBRATION_MODELS)
    .option('--passes <n>', 'passes over all layers (timed against a reference layer where the device can: an entry is the median of its passes; alone: the lowest)', intOption('--passes', 1, 20), DEFAULT_PROFILE_PASSES)
    .option('--seed <n>', 'seed of the calibration models', intOption('--seed', 0), CALIBRATION_SEED)
    .option('--json', 'print one JSON summary on the last line')
    .action(async (o: ProfileOptions) => {
      const space = getSpace(o.space);
      const device = await createDevice(o.device, { threads: o.threads });
      try {
        const out = o.out ?? `latency-${space.name}-${o.device}.json`;
        const t0 = Date.now();
        const table = await buildLatencyTable(device, space, { passes: o.passes, calibrate: o.calibrate, seed: o.seed, checkpoint: out, ...profileProgress(space, o) });
        const path = saveTable(out, table);
        const summary = {
          table: path,
          space: space.name,
          device: table.device,
          layers: Object.keys(table.entries).length,
          overhead_ms: table.overhead_ms,
          calibration: table.calibration ? { intercept_ms: table.calibration.intercept_ms, scale: table.calibration.scale, models: table.calibration.models, fit_mape: table.calibration.fit_mape, predictor: table.calibration.coefficients ? 'features' : 'line', interleaved: table.calibration.reference !== undefined, speed: table.calibration.speed ?? null } : null,
          seconds: (Date.now() - t0) / 1000,
        };
        const slowLine = slowCalibrationLine(table);
        write(
          o.json
            ? `${JSON.stringify(summary)}\n`
            : `table ${path}: ${summary.layers} layer configs of '${space.name}' on ${table.device.id}, overhead ${table.overhead_ms.toFixed(4)} ms/run, ` +
                `calibration ${summary.calibration ? `${summary.calibration.models} models${summary.calibration.interleaved ? ' interleaved with the default arch' : ''}, ${summary.calibration.predictor === 'features' ? 'features model' : `${summary.calibration.intercept_ms.toFixed(4)} ms + ${summary.calibration.scale.toFixed(3)} x sum`} (fit MAPE ${(100 * summary.calibration.fit_mape).toFixed(1)}%)` : 'none'}, ${summary.seconds.toFixed(0)} s\n${slowLine ? `${slowLine}\n` : ''}`,
        );
      } finally {
        await device.close();
      }
    });

  common(latency.command('eval'), 'latency eval')
    .description('measure random architectures for real and report the share the predictor gets within +-10%')
    .requiredOption('--samples <n>', 'random architectures to measure', intOption('--samples', 1, 100000))
    .option('--table <file>', 'latency table (default: profile the space first)')
    .option('--out <file>', 'save the table profiled on the way (when no --table); checkpointed, and an unfinished profile there is resumed')
    .option('--calibrate <n>', 'calibration models when profiling', intOption('--calibrate', 2, 10000), DEFAULT_CALIBRATION_MODELS)
    .option('--seed <n>', 'seed of the evaluated architectures', intOption('--seed', 0), EVALUATION_SEED)
    .option('--passes <n>', 'measure every model this many times, a pass over them all apart, and keep its fastest pair (a disturbance that slows big models and not the reference shows in one pass, not in all)', intOption('--passes', 1, 10), DEFAULT_EVAL_PASSES)
    .option('--retest <n>', 'measure the first n of them again at the end and report how well the device repeats itself (the floor under the predictor\'s error)', intOption('--retest', 0), 0)
    .option('--json', 'print one JSON object on the last line')
    .action(async (o: EvalOptions) => {
      if (o.retest > o.samples) throw new UsageError(`latency eval: --retest ${o.retest} is more than --samples ${o.samples}`);
      write(await latencyEval(o));
    });

  common(latency.command('study'), 'latency study')
    .description('Spearman correlation of MACs and measured latency over random archs, misordered pairs, SVG scatter plot')
    .requiredOption('--samples <n>', 'random architectures to measure', intOption('--samples', 2, 100000))
    .option('--table <file>', 'latency table: also report the predictor\'s correlation')
    .option('--out <dir>', 'report folder (default latency-study-<space>-<device>)')
    .option('--seed <n>', 'seed of the architectures', intOption('--seed', 0), EVALUATION_SEED)
    .option('--json', 'print one JSON summary on the last line')
    .action(async (o: StudyOptions) => {
      write(await latencyStudy(o));
    });
  return latency;
}

/** A line when the calibration ran slower than its profile and its milliseconds were brought back (speed-gauge.ts). */
function slowCalibrationLine(table: LatencyTable): string | undefined {
  const speed = table.calibration?.speed;
  if (!speed || speed.slowdown === 1) return undefined;
  return `the device ran ${(100 * (speed.slowdown - 1)).toFixed(0)}% slower while calibrating than while profiling (the default arch ${speed.calibration_gauge_ms.toFixed(4)} ms against ${speed.profile_gauge_ms.toFixed(4)} ms): the predictions are at the profile's speed`;
}

/** Progress bars of a table build: layers, then calibration models. */
function profileProgress(space: SearchSpace, o: CommonOptions): Pick<BuildTableOptions, 'onStart' | 'onLayers' | 'onCalibration'> {
  const quiet = o.quiet ?? false;
  let layers: Progress | undefined;
  let calibration: Progress | undefined;
  return {
    onStart: (e) => {
      layers = new Progress({ label: `profile ${space.name}`, total: e.layers * e.passes - e.resumed, silent: quiet });
      if (!quiet) {
        layers.log(`profiling ${e.layers} distinct layer configurations of '${space.name}' on ${o.device}, ${e.passes} pass(es)`);
        if (e.resumed > 0) layers.log(`going on from the checkpoint: ${e.resumed} of ${e.layers * e.passes} layer passes measured already`);
      }
    },
    onLayers: (done, total) => {
      // layers whose passes all ran while the machine was at another speed are measured again at the end
      layers?.setTotal(total);
      layers?.update(done);
    },
    onCalibration: (done, total) => {
      calibration ??= new Progress({ label: 'calibrate', total, silent: quiet });
      // models measured while the machine was at another speed are measured again at the end
      calibration.setTotal(total);
      calibration.update(done);
    },
  };
}

async function tableFor(file: string, device: LatencyDevice, space: SearchSpace, command: string): Promise<LatencyTable> {
  try {
    return await loadTableFor(file, device, space);
  } catch (e) {
    if (e instanceof LatencyTableError) throw new UsageError(`${command}: ${e.message}`, { cause: e });
    throw e;
  }
}

function bar(label: string, o: CommonOptions): (done: number, total: number) => void {
  let progress: Progress | undefined;
  return (done, total) => {
    progress ??= new Progress({ label, total, silent: o.quiet ?? false });
    progress.update(done);
  };
}

export async function latencyEval(o: EvalOptions): Promise<string> {
  const space = getSpace(o.space);
  const device = await createDevice(o.device, { threads: o.threads });
  try {
    const table = o.table
      ? await tableFor(o.table, device, space, 'latency eval')
      : await buildLatencyTable(device, space, { calibrate: o.calibrate, seed: CALIBRATION_SEED, ...(o.out ? { checkpoint: o.out } : {}), ...profileProgress(space, o) });
    if (!o.table && o.out) saveTable(o.out, table);
    if (o.seed === CALIBRATION_SEED && !o.quiet) process.stderr.write('latency eval: warning: --seed equals the calibration seed, so the evaluated archs include the calibration models\n');
    const { report, measuredMedianMs, reference, driftFree, driftFreeBySpeed, models, repeatability, betweenPasses } = await evaluateTable(device, space, table, { samples: o.samples, seed: o.seed, passes: o.passes, retest: o.retest, onProgress: bar('eval', o), onRetest: bar('retest', o) });
    const summary = {
      within_10pct: report.within_10pct,
      within_5pct: report.within_5pct,
      mean_abs_pct_error: report.mean_abs_pct_error,
      max_abs_pct_error: report.max_abs_pct_error,
      spearman: report.spearman,
      samples: report.samples,
      space: space.name,
      device: table.device,
      table: o.table ?? o.out ?? null,
      overhead_ms: table.overhead_ms,
      calibration: table.calibration ? { intercept_ms: table.calibration.intercept_ms, scale: table.calibration.scale, models: table.calibration.models, predictor: table.calibration.coefficients ? 'features' : 'line', speed: table.calibration.speed ?? null } : null,
      measured_median_ms: measuredMedianMs,
      // measured interleaved with the default arch: its latency now and when the table was calibrated (the device's drift between the two)
      reference: reference ?? null,
      drift_free: driftFree
        ? {
            ...errorFigures(driftFree),
            // the models whose reference ran at the calibration's speed (within 10%), and the others: on a machine that switches speed the ratios move with it
            ...(driftFreeBySpeed ? { at_calibration_speed: { models: driftFreeBySpeed.atCalibrationSpeed.samples, ...errorFigures(driftFreeBySpeed.atCalibrationSpeed) }, across_speed: { models: driftFreeBySpeed.acrossSpeed.samples, ...errorFigures(driftFreeBySpeed.acrossSpeed) } } : {}),
          }
        : null,
      passes: o.passes,
      // every model's second pair against its first: the faster is kept
      between_passes: betweenPasses ?? null,
      repeatability: repeatability ?? null,
      models,
    };
    if (o.json) return `${JSON.stringify(summary)}\n`;
    const worst = [...report.rows].sort((a, b) => Math.abs(b.error_pct) - Math.abs(a.error_pct)).slice(0, 5);
    return [
      `${report.samples} random '${space.name}' archs on ${table.device.id}: ${(100 * report.within_10pct).toFixed(1)}% predicted within +-10% (${(100 * report.within_5pct).toFixed(1)}% within +-5%)`,
      `mean |error| ${report.mean_abs_pct_error.toFixed(2)}%, max ${report.max_abs_pct_error.toFixed(1)}%, Spearman(predicted, measured) ${report.spearman.toFixed(3)}`,
      ...(reference ? [`measured interleaved with the space's default arch: ${reference.ms.toFixed(4)} ms over the evaluation${reference.tableMs !== null ? `, ${reference.tableMs.toFixed(4)} ms over the table's calibration` : ''}`] : []),
      ...[slowCalibrationLine(table)].filter((line) => line !== undefined),
      ...(driftFree ? [`at the device's speed when the table was calibrated: ${(100 * driftFree.within_10pct).toFixed(1)}% within +-10% (${(100 * driftFree.within_5pct).toFixed(1)}% within +-5%), max ${driftFree.max_abs_pct_error.toFixed(1)}%${driftFreeBySpeed ? bySpeedText(driftFreeBySpeed) : ''}`] : []),
      ...(betweenPasses ? [`each measured in ${o.passes} passes, the faster pair kept; ${repeatabilityLine(betweenPasses, 'of their first pass')}`] : []),
      ...(repeatability ? [`the device repeats itself: ${repeatabilityLine(repeatability, 'of their first measurement')}`] : []),
      'worst:',
      ...worst.map((r) => `  ${r.error_pct >= 0 ? '+' : ''}${r.error_pct.toFixed(1)}%  measured ${r.measured_ms.toFixed(4)} ms  predicted ${r.predicted_ms.toFixed(4)} ms  ${r.arch}`),
      '',
    ].join('\n');
  } finally {
    await device.close();
  }
}

function errorFigures(r: PredictionReport) {
  return { within_10pct: r.within_10pct, within_5pct: r.within_5pct, mean_abs_pct_error: r.mean_abs_pct_error, max_abs_pct_error: r.max_abs_pct_error };
}

function bySpeedText(s: { atCalibrationSpeed: PredictionReport; acrossSpeed: PredictionReport }): string {
  const part = (r: PredictionReport) => (r.samples ? `${(100 * r.within_10pct).toFixed(0)}% of ${r.samples}` : 'none');
  return `; the models whose reference ran at the calibration's speed ${part(s.atCalibrationSpeed)}, the others ${part(s.acrossSpeed)}`;
}

function repeatabilityLine(r: RepeatabilityReport, against: string): string {
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
  const speeds = r.same_speed && r.different_speed && r.reference_ms_range
    ? `; at the same speed ${pct(r.same_speed.within_10pct)} of ${r.same_speed.models}, across a change of speed ${r.different_speed.models ? `${pct(r.different_speed.within_10pct)} of ${r.different_speed.models}` : 'none'} (the reference ran ${r.reference_ms_range[0].toFixed(4)}-${r.reference_ms_range[1].toFixed(4)} ms)`
    : '';
  return `${pct(r.within_10pct)} of ${r.models} measured again within +-10% ${against} (${pct(r.within_5pct)} within +-5%), median ${r.median_abs_pct_diff.toFixed(1)}%, worst ${r.max_abs_pct_diff.toFixed(1)}%${speeds}`;
}

export async function latencyStudy(o: StudyOptions): Promise<string> {
  const space = getSpace(o.space);
  const device = await createDevice(o.device, { threads: o.threads });
  try {
    const table = o.table ? await tableFor(o.table, device, space, 'latency study') : undefined;
    const { report, paths } = await studyLatency(device, space, {
      samples: o.samples,
      seed: o.seed,
      out: o.out ?? `latency-study-${space.name}-${o.device}`,
      ...(table ? { table } : {}),
      onProgress: bar('study', o),
    });
    const summary = {
      samples: report.samples,
      spearman_macs: report.spearman_macs,
      spearman_params: report.spearman_params,
      ...(report.spearman_predictor !== undefined ? { spearman_predictor: report.spearman_predictor } : {}),
      discordant_pair_share: report.discordant_pair_share,
      device: report.device,
      space: space.name,
      report: paths,
      most_misordered: report.misordered_pairs.slice(0, 3).map((p) => ({
        slower: { arch: p.slower_despite_fewer_macs.arch, macs: p.slower_despite_fewer_macs.macs, ms: p.slower_despite_fewer_macs.measured_ms },
        faster: { arch: p.faster_despite_more_macs.arch, macs: p.faster_despite_more_macs.macs, ms: p.faster_despite_more_macs.measured_ms },
      })),
    };
    if (o.json) return `${JSON.stringify(summary)}\n`;
    return [
      `${report.samples} random '${space.name}' archs on ${report.device.id}`,
      `Spearman(MACs, latency) ${report.spearman_macs.toFixed(3)}, Spearman(params, latency) ${report.spearman_params.toFixed(3)}` +
        (report.spearman_predictor !== undefined ? `, Spearman(predictor, latency) ${report.spearman_predictor.toFixed(3)}` : ''),
      `${(100 * report.discordant_pair_share).toFixed(1)}% of pairs are ordered differently by MACs and by latency`,
      `report: ${paths.markdown}, ${paths.svg}, ${paths.json}`,
      '',
    ].join('\n');
  } finally {
    await device.close();
  }
}
