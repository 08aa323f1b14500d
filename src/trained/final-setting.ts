/** The final-recipe setting of a study or a models benchmark: every training image not held out. */
import { loadDataset } from '../data/load.js';
import { InputError } from '../util/input-error.js';
import type { RecipeOverrides, TrainSetting } from './table.js';

export interface FinalSettingOptions {
  readonly dataset: string;
  readonly dataDir?: string;
  readonly validation: number;
  readonly splitSeed: number;
  readonly epochs: number;
  /** Recipe tuning: these changes to the final recipe, scored on the validation split (which must not be empty). */
  readonly recipe?: RecipeOverrides;
}

/** Loads the dataset to count its training images; `command` names the caller in the error. */
export function finalSetting(o: FinalSettingOptions, command: string): TrainSetting {
  if (o.recipe && o.validation === 0) throw new InputError(`${command}: --recipe tunes on the validation split: give --validation N (e.g. 10000), the test set is never used for it`);
  const train = loadDataset({ name: o.dataset as never, ...(o.dataDir ? { dataDir: o.dataDir } : {}), seed: o.splitSeed }).train.count;
  if (o.validation >= train) throw new InputError(`${command}: --validation ${o.validation} leaves no training images (${o.dataset} has ${train})`);
  return { dataset: o.dataset, task: 'final', images: train - o.validation, epochs: o.epochs, validation: o.validation, splitSeed: o.splitSeed, ...(o.recipe ? { recipe: o.recipe } : {}) };
}
