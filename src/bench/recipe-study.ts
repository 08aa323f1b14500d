/**
 * `mnas bench recipe`: tunes the final recipe on the validation split, never on the test set.
 * Every model is trained with the final recipe unchanged (the base) and with each variant (a few
 * changed knobs), over several seeds, into the trained table; the study reports validation
 * accuracy per variant and model, and each variant's gain over the base: the mean over models of
 * (variant mean - base mean), with its standard error from the seeds' pooled spread. A variant
 * replaces the base only when its gain is more than twice its standard error: a recipe that is
 * not clearly better keeps the one every model was trained with.
 *
 * Trainings run seed-major, then variant, then model, so a study stopped early has every variant
 * at its first seeds. Resumable like the other studies: what the table holds is not trained again.
 */
import { finalSetting } from '../trained/final-setting.js';
import { runStudyJobs, type StudyRunOptions } from '../trained/run-jobs.js';
import { recipeText, type RecipeOverrides, type TrainedTable, type TrainSetting } from '../trained/table.js';
import type { TrainJob } from '../trained/train-job.js';
import { mean, pooledStd } from '../util/stats.js';
import { InputError } from '../util/input-error.js';
import type { NamedModel } from './final-models.js';

/** How many standard errors a variant's gain must exceed to replace the base recipe. */
export const GAIN_STANDARD_ERRORS = 2;
export const BASE_RECIPE = 'base';

export interface RecipeStudyOptions extends StudyRunOptions {
  readonly models: readonly NamedModel[];
  /** The changed recipes; the base (the final recipe unchanged) is always trained too. */
  readonly variants: readonly RecipeOverrides[];
  readonly seeds: number;
  readonly dataset: string;
  /** Training images held out; the variants are scored on them (must be > 0). */
  readonly validation: number;
  readonly splitSeed: number;
  readonly epochs: number;
}

export interface RecipeCell {
  readonly model: string;
  readonly seeds_done: number;
  readonly failed: number;
  /** Validation accuracy over the seeds done (fractions). */
  readonly val_mean: number | null;
  readonly val_accuracies: readonly number[];
}

export interface RecipeVariantFigures {
  /** `base`, or the changes as `lr=0.05,weightDecay=0.0001`. */
  readonly recipe: string;
  readonly changes: RecipeOverrides;
  readonly cells: readonly RecipeCell[];
  /** Mean over models of their mean validation accuracy; null until every model has a seed. */
  readonly mean_val: number | null;
  /** Mean over models of (this variant's mean - the base's mean); null for the base or a model without seeds. */
  readonly gain: number | null;
  /** Standard error of the gain from the pooled seed spread; null with fewer than two seeds anywhere. */
  readonly gain_se: number | null;
}

export interface RecipeStudyReport {
  readonly setting: TrainSetting;
  readonly seeds: number;
  readonly variants: readonly RecipeVariantFigures[];
  /** Pooled standard deviation of validation accuracy between seeds, over every model and variant (fraction). */
  readonly seed_std: number | null;
  /** The recipe to train the final models with: `base` unless a variant is clearly better. */
  readonly choice: string;
  readonly why: string;
  readonly jobs: number;
  readonly pending: number;
}

/** The study's trainings: seed-major, then variant (the base first), then model. */
export function recipeStudyJobs(models: readonly NamedModel[], settings: readonly TrainSetting[], seeds: number): TrainJob[] {
  const jobs: TrainJob[] = [];
  for (let seed = 0; seed < seeds; seed++) for (const setting of settings) for (const m of models) jobs.push({ arch: m.arch, setting, seed });
  return jobs;
}

export async function runRecipeStudy(table: TrainedTable, o: RecipeStudyOptions): Promise<RecipeStudyReport> {
  if (o.validation <= 0) throw new InputError('bench recipe: tunes on the validation split: give --validation N (e.g. 10000), the test set is never used for it');
  const keys = new Set<string>();
  for (const v of o.variants) {
    const key = recipeText(v);
    if (key === '') throw new InputError('bench recipe: a --variant changes nothing (the base recipe is always trained)');
    if (keys.has(key)) throw new InputError(`bench recipe: --variant ${key} is given twice`);
    keys.add(key);
  }
  // the base is the final recipe with no changes, scored like the variants: validation only
  const changes: RecipeOverrides[] = [{}, ...o.variants];
  const settings = changes.map((recipe) => finalSetting({ ...o, recipe }, 'bench recipe'));
  const all = recipeStudyJobs(o.models, settings, o.seeds);
  const nameOf = (arch: string) => o.models.find((m) => m.arch === arch)!.name;
  const { pending } = await runStudyJobs(table, all, o, `${all.length} trainings (${o.models.length} models x ${changes.length} recipes x ${o.seeds} seeds)`, (j) => `${nameOf(j.arch)} ${recipeName(j.setting.recipe ?? {})} seed ${j.seed}`);
  return { ...recipeFigures(table, o.models, settings), seeds: o.seeds, jobs: all.length, pending };
}

export function recipeName(r: RecipeOverrides): string {
  return recipeText(r) || BASE_RECIPE;
}

/** The study's figures from the table; settings[0] is the base. */
export function recipeFigures(table: TrainedTable, models: readonly NamedModel[], settings: readonly TrainSetting[]): Pick<RecipeStudyReport, 'setting' | 'variants' | 'seed_std' | 'choice' | 'why'> {
  const cellsOf = (setting: TrainSetting): RecipeCell[] =>
    models.map((m) => {
      const rows = table.seedsOf(m.arch, setting);
      const accuracies = rows.flatMap((r) => (r.status === 'done' && r.valAccuracy !== null ? [r.valAccuracy] : []));
      return { model: m.name, seeds_done: accuracies.length, failed: rows.length - accuracies.length, val_mean: mean(accuracies), val_accuracies: accuracies };
    });
  const grid = settings.map(cellsOf);
  const seedStd = pooledStd(grid.flat().map((c) => c.val_accuracies));
  const base = grid[0]!;
  const variants: RecipeVariantFigures[] = settings.map((setting, v) => {
    const cells = grid[v]!;
    const complete = cells.every((c) => c.val_mean !== null);
    const withBase = v > 0 && complete && base.every((c) => c.val_mean !== null);
    const gain = withBase ? mean(cells.map((c, i) => c.val_mean! - base[i]!.val_mean!))! : null;
    // each model's difference of two means has variance s^2 (1/n_variant + 1/n_base); the gain averages the models'
    const se = withBase && seedStd !== null ? (seedStd / models.length) * Math.sqrt(cells.reduce((a, c, i) => a + 1 / c.seeds_done + 1 / base[i]!.seeds_done, 0)) : null;
    return { recipe: recipeName(setting.recipe ?? {}), changes: setting.recipe ?? {}, cells, mean_val: complete ? mean(cells.map((c) => c.val_mean!)) : null, gain, gain_se: se };
  });
  const { choice, why } = chooseRecipe(variants, seedStd);
  return { setting: { ...settings[0]!, recipe: {} }, variants, seed_std: seedStd, choice, why };
}

function chooseRecipe(variants: readonly RecipeVariantFigures[], seedStd: number | null): { choice: string; why: string } {
  const scored = variants.filter((v) => v.gain !== null && v.gain_se !== null);
  if (variants.length < 2) return { choice: BASE_RECIPE, why: 'no variant to compare with the base recipe' };
  if (seedStd === null || scored.length === 0) return { choice: BASE_RECIPE, why: 'not enough trained yet: every model needs the base and a variant, and some model two seeds of one recipe, to judge a gain against the seeds\' spread' };
  const best = [...scored].sort((a, b) => b.gain! - a.gain!)[0]!;
  const pts = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}`;
  const partial = scored.length < variants.length - 1 ? ` (partial: ${variants.length - 1 - scored.length} variant(s) not trained on every model yet)` : '';
  if (best.gain! > GAIN_STANDARD_ERRORS * best.gain_se!) {
    return { choice: best.recipe, why: `${best.recipe} gains ${pts(best.gain!)} points of validation accuracy over the base recipe, more than ${GAIN_STANDARD_ERRORS} standard errors (${(100 * best.gain_se!).toFixed(2)})${partial}` };
  }
  return { choice: BASE_RECIPE, why: `no variant gains more than ${GAIN_STANDARD_ERRORS} standard errors over the base recipe (best: ${best.recipe}, ${pts(best.gain!)} +- ${(100 * best.gain_se!).toFixed(2)} points)${partial}` };
}
