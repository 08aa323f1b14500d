/** `mnas bench recipe`: the final recipe tuned on the validation split (see src/bench/recipe-study.ts). */
import type { Command } from 'commander';
import { GAIN_STANDARD_ERRORS, runRecipeStudy, type RecipeStudyReport } from '../../bench/recipe-study.js';
import { TrainedTable, type RecipeOverrides } from '../../trained/table.js';
import { FINAL_EPOCHS } from '../../trained/train-job.js';
import { UsageError } from '../errors.js';
import { intOption } from '../options.js';
import { modelsArgument, recipeChanges } from './models.js';
import { runResumable } from './resumable.js';
import { addStudyFlags, studyRunOptions, type StudyFlags } from './study-flags.js';

interface BenchRecipeOptions extends StudyFlags {
  models: string;
  variant: RecipeOverrides[];
  seeds: number;
  dataset: string;
  validation: number;
  splitSeed: number;
  epochs: number;
  table: string;
  json?: boolean;
}

const pct = (x: number | null): string => (x === null ? '-' : (100 * x).toFixed(2));

export function formatRecipeReport(r: RecipeStudyReport): string {
  const s = r.setting;
  const models = r.variants[0]?.cells.map((c) => c.model) ?? [];
  const lines = [
    `recipe tuning: ${s.epochs} epochs on ${s.images} ${s.dataset} images, ${s.validation} held out (split seed ${s.splitSeed}), ${r.seeds} seed(s); validation accuracy in % (the test set is not used), mean over seeds (seeds done)`,
    `${'recipe'.padEnd(36)}  ${models.map((m) => m.slice(0, 20).padStart(20)).join('')}  ${'mean'.padStart(7)}  ${'gain +- se (points)'.padStart(20)}`,
  ];
  for (const v of r.variants) {
    const cells = v.cells.map((c) => `${pct(c.val_mean)} (${c.seeds_done}${c.failed ? `, ${c.failed} failed` : ''})`.padStart(20)).join('');
    const gain = v.gain === null ? '-' : `${v.gain >= 0 ? '+' : ''}${(100 * v.gain).toFixed(2)}${v.gain_se === null ? '' : ` +- ${(100 * v.gain_se).toFixed(2)}`}`;
    lines.push(`${v.recipe.padEnd(36)}  ${cells}  ${pct(v.mean_val).padStart(7)}  ${gain.padStart(20)}`);
  }
  lines.push(`seed-to-seed std (pooled): ${r.seed_std === null ? '-' : `${(100 * r.seed_std).toFixed(2)} points`}`);
  lines.push(`choose ${r.choice}: ${r.why}`);
  if (r.pending > 0) lines.push(`${r.pending} of ${r.jobs} trainings still to run`);
  return `${lines.join('\n')}\n`;
}

export function registerBenchRecipe(bench: Command): void {
  const command = bench
    .command('recipe')
    .description(`tune the final recipe on the validation split: models trained with the base recipe and with each variant over seeds; a variant wins only with a gain over ${GAIN_STANDARD_ERRORS} standard errors (resumable: trainings go to a table file)`)
    .requiredOption('--models <list>', 'comma-separated presets or NAME=ARCH (arch string or file)')
    .option('--variant <changes>', 'a recipe to try: changes to the final recipe, e.g. lr=0.05,weight-decay=0.0001 (keys lr, weight-decay, label-smoothing, batch); repeat for more', (value: string, previous: RecipeOverrides[]) => [...previous, recipeChanges(value, '--variant')], [] as RecipeOverrides[])
    .option('--seeds <n>', 'seeds per model and recipe', intOption('--seeds', 1, 100), 2)
    .option('--dataset <name>', 'dataset', 'fashion-mnist')
    .option('--validation <n>', 'training images held out; every recipe is scored on them', intOption('--validation', 1), 10000)
    .option('--split-seed <n>', 'seed of the validation split', intOption('--split-seed', 0), 0)
    .option('--epochs <n>', 'epochs of the final recipe', intOption('--epochs', 1, 1000), FINAL_EPOCHS)
    .option('--table <file>', 'the trained table (JSON Lines); what it holds is not trained again', 'recipe.jsonl');
  addStudyFlags(command, 'train nothing: report from the table as it is')
    .option('--json', 'print one JSON object on the last line')
    .action(async (o: BenchRecipeOptions) => {
      const models = modelsArgument(o.models, 'bench recipe');
      if (o.variant.length === 0) throw new UsageError('bench recipe: give at least one --variant to compare with the base recipe (e.g. --variant lr=0.05)');
      const table = TrainedTable.open(o.table);
      await runResumable(o.table, async (signal) => {
        const report = await runRecipeStudy(table, {
          models,
          variants: o.variant,
          seeds: o.seeds,
          dataset: o.dataset,
          validation: o.validation,
          splitSeed: o.splitSeed,
          epochs: o.epochs,
          ...studyRunOptions(o, signal),
        });
        if (report.pending > 0) process.stderr.write(`${report.pending} of ${report.jobs} trainings still to run: run the same command again to go on\n`);
        process.stdout.write(o.json ? `${JSON.stringify({ ...report, table: o.table })}\n` : formatRecipeReport(report));
      });
    });
}
