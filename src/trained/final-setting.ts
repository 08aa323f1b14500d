/** The final-recipe setting of a study or a models benchmark: every training image not held out. */
import { loadDataset } from '../data/load.js';
import { InputError } from '../util/input-error.js';
import type { TrainSetting } from './table.js';

export interface FinalSettingOptions {
  readonly dataset: string;
  readonly dataDir?: string;
  readonly validation: number;
  readonly splitSeed: number;
  readonly epochs: number;
}

/** Loads the dataset to count its training images; `command` names the caller in the error. */
export function finalSetting(o: FinalSettingOptions, command: string): TrainSetting {
  const train = loadDataset({ name: o.dataset as never, ...(o.dataDir ? { dataDir: o.dataDir } : {}), seed: o.splitSeed }).train.count;
  if (o.validation >= train) throw new InputError(`${command}: --validation ${o.validation} leaves no training images (${o.dataset} has ${train})`);
  return { dataset: o.dataset, task: 'final', images: train - o.validation, epochs: o.epochs, validation: o.validation, splitSeed: o.splitSeed };
}
