/** `mnas bench models`: models trained with the final recipe over seeds, with latency (see src/bench/final-models.ts). */
import type { Command } from 'commander';
import { MIN_GAIN, MIN_SPEEDUP } from '../../bench/baseline-comparison.js';
import { resolveModels, runModelsBench, type ModelsReport, type NamedModel } from '../../bench/final-models.js';
import { DEVICE_KINDS } from '../../latency/registry.js';
import { recipeText, RecipeOverridesSchema, TrainedTable, type RecipeOverrides } from '../../trained/table.js';
import { FINAL_EPOCHS } from '../../trained/train-job.js';
import { UsageError } from '../errors.js';
import { runResumable } from './resumable.js';
import { addStudyFlags, studyRunOptions, type StudyFlags } from './study-flags.js';
import { intOption } from '../options.js';

interface BenchModelsOptions extends StudyFlags {
  models: string;
  seeds: number;
  dataset: string;
  validation: number;
  splitSeed: number;
  epochs: number;
  table: string;
  devices: string;
  save?: string;
  baseline?: string;
  recipe?: RecipeOverrides;
  json?: boolean;
}

const pct = (x: number | null): string => (x === null ? '-' : (100 * x).toFixed(2));

export function formatModelsReport(r: ModelsReport, devices: readonly string[]): string {
  const s = r.setting;
  const tuning = s.recipe !== undefined;
  const recipe = tuning ? `final recipe with ${recipeText(s.recipe!)}` : 'final recipe';
  const lines = [`${recipe}: ${s.epochs} epochs on ${s.images} ${s.dataset} images${s.validation ? ` (${s.validation} held out)` : ''}, ${r.seeds} seed(s); ${tuning ? 'validation accuracy in % (the test set is not used)' : 'test accuracy in %'}`];
  lines.push(`model                     params      MACs  seeds  ${tuning ? ' val mean   std    min    max' : 'test mean   std    min    max'}  ${devices.map((d) => `${d} ms`.padStart(12)).join('')}`);
  for (const m of r.models) {
    const lat = devices.map((d) => (m.latency_ms[d] === undefined ? '-' : m.latency_ms[d]!.toFixed(4)).padStart(12)).join('');
    const a = tuning ? { mean: m.val_mean, std: m.val_std, min: m.val_min, max: m.val_max } : { mean: m.test_mean, std: m.test_std, min: m.test_min, max: m.test_max };
    lines.push(
      `${m.name.padEnd(24)}  ${String(m.params).padStart(7)}  ${(m.macs / 1e6).toFixed(2).padStart(7)}M  ${String(m.seeds_done).padStart(5)}  ${pct(a.mean).padStart(9)}  ${a.std === null ? '    -' : (100 * a.std).toFixed(2).padStart(5)}  ${pct(a.min).padStart(5)}  ${pct(a.max).padStart(5)}  ${lat}`,
    );
  }
  if (r.baseline !== null) lines.push(...formatAgainstBaseline(r, devices));
  if (r.pending > 0) lines.push(`${r.pending} of ${r.jobs} trainings still to run`);
  return `${lines.join('\n')}\n`;
}

function formatAgainstBaseline(r: ModelsReport, devices: readonly string[]): string[] {
  const lines = [
    `against ${r.baseline}: test accuracy difference of the means (points, pooled std over seeds); speedup = ${r.baseline}'s latency / the model's (* measured interleaved with it)`,
    `model                       diff  pooled std  ${devices.map((d) => `${d} speedup`.padStart(18)).join('')}  verdict`,
  ];
  for (const m of r.models) {
    const c = m.vs_baseline;
    if (!c) continue;
    const points = (x: number | null, sign: boolean) => (x === null ? '-' : `${sign && x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}`);
    const speedups = devices.map((d) => {
      const l = c.latency[d];
      return (l === undefined ? '-' : `${l.speedup.toFixed(3)}x${l.interleaved ? '*' : ' '}`).padStart(18);
    });
    const verdicts = Object.entries(c.verdict).map(([d, v]) => `${d}: ${v}`).join('; ');
    lines.push(`${m.name.padEnd(24)}  ${points(c.accuracy_delta, true).padStart(7)}  ${points(c.accuracy_pooled_std, false).padStart(10)}  ${speedups.join('')}  ${verdicts || '- (no latency)'}`);
  }
  return lines;
}

const RECIPE_KEYS: { readonly [flag: string]: keyof RecipeOverrides } = { lr: 'lr', 'weight-decay': 'weightDecay', 'label-smoothing': 'labelSmoothing', batch: 'batchSize' };

/** `lr=0.05,weight-decay=0.0001` as recipe overrides; a bad key or value is a usage error naming it and `flag`. */
export function recipeChanges(value: string, flag = '--recipe'): RecipeOverrides {
  const out: { [k: string]: number } = {};
  for (const part of value.split(',').map((x) => x.trim()).filter((x) => x !== '')) {
    const [name, text, extra] = part.split('=');
    const key = RECIPE_KEYS[name ?? ''];
    if (!key || text === undefined || extra !== undefined) throw new UsageError(`${flag}: '${part}' is not KEY=VALUE with KEY one of ${Object.keys(RECIPE_KEYS).join(', ')}`);
    if (key in out) throw new UsageError(`${flag}: ${name} is given twice`);
    out[key] = Number(text);
  }
  if (Object.keys(out).length === 0) throw new UsageError(`${flag}: no change given (e.g. lr=0.05)`);
  const parsed = RecipeOverridesSchema.safeParse(out);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = Object.keys(RECIPE_KEYS).find((f) => RECIPE_KEYS[f] === issue.path[0]) ?? String(issue.path[0]);
    throw new UsageError(`${flag}: ${name}: ${issue.message}`);
  }
  return parsed.data;
}

const recipeOption = (value: string): RecipeOverrides => recipeChanges(value);

/** --models: presets or NAME=ARCH, comma-separated; none is a usage error of `command`. */
export function modelsArgument(text: string, command: string): NamedModel[] {
  const models = resolveModels(text.split(',').map((x) => x.trim()).filter((x) => x !== ''), command);
  if (models.length === 0) throw new UsageError(`${command}: --models names no model`);
  return models;
}

export function registerBenchModels(bench: Command): void {
  const command = bench
    .command('models')
    .description('train named models with the final recipe over several seeds and measure their latency: test accuracy mean/std, params, MACs, ms per device (resumable: results go to a table file)')
    .requiredOption('--models <list>', 'comma-separated presets or NAME=ARCH (arch string or file)')
    .option('--seeds <n>', 'seeds per model', intOption('--seeds', 1, 100), 3)
    .option('--dataset <name>', 'dataset', 'fashion-mnist')
    .option('--validation <n>', 'training images held out for validation accuracy (0: train on all)', intOption('--validation', 0), 0)
    .option('--split-seed <n>', 'seed of the validation split', intOption('--split-seed', 0), 0)
    .option('--epochs <n>', 'epochs of the final recipe', intOption('--epochs', 1, 1000), FINAL_EPOCHS)
    .option('--table <file>', 'the trained table (JSON Lines); what it holds is not trained or measured again', 'models.jsonl')
    .option('--devices <list>', `latency devices to measure on after training, comma-separated (${DEVICE_KINDS.join(', ')}; empty: none)`, 'ort-cpu')
    .option('--baseline <name>', `one of --models to compare every other with: accuracy over seeds and latency, measured interleaved with it where the device can; the verdict is 'more accurate, not slower' (at least +${100 * MIN_GAIN} points, every seed above every seed of the baseline) or 'as accurate, faster' (at least ${MIN_SPEEDUP}x faster, no more than the pooled std below)`)
    .option('--recipe <changes>', 'recipe tuning: the final recipe with these changes, e.g. lr=0.05,weight-decay=0.0001 (keys lr, weight-decay, label-smoothing, batch), scored on the --validation split only; the test set is not used', recipeOption)
    .option('--save <dir>', 'save each model\'s seed-0 weights (safetensors) and ONNX to DIR/<name>/');
  addStudyFlags(command, 'train and measure nothing: report from the table as it is')
    .option('--json', 'print one JSON object on the last line')
    .action(async (o: BenchModelsOptions) => {
      const models = modelsArgument(o.models, 'bench models');
      const devices = o.devices.split(',').map((x) => x.trim()).filter((x) => x !== '');
      for (const d of devices) if (!(DEVICE_KINDS as readonly string[]).includes(d)) throw new UsageError(`bench models: --devices: unknown device '${d}' (known: ${DEVICE_KINDS.join(', ')})`);
      const table = TrainedTable.open(o.table);
      await runResumable(o.table, async (signal) => {
        const report = await runModelsBench(table, {
          models,
          seeds: o.seeds,
          dataset: o.dataset,
          validation: o.validation,
          splitSeed: o.splitSeed,
          epochs: o.epochs,
          devices,
          ...(o.save ? { saveDir: o.save } : {}),
          ...(o.baseline !== undefined ? { baseline: o.baseline } : {}),
          ...(o.recipe !== undefined ? { recipe: o.recipe } : {}),
          ...studyRunOptions(o, signal),
        });
        process.stdout.write(o.json ? `${JSON.stringify({ ...report, table: o.table })}\n` : formatModelsReport(report, devices));
      });
    });
}
