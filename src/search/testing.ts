/** Helpers for tests that watch a search run from outside its process. */
import type { SearchConfigInput } from './config.js';
import { ExperimentStore, type TrialRecord } from './store.js';

/** The smallest training search the in-process tests run: random strategy, the synthetic dataset, a 200-image proxy, no worker processes. */
export const TINY_TRAINING_SEARCH = {
  strategy: { kind: 'random' },
  dataset: { name: 'synthetic', validationImages: 200 },
  proxy: { images: 200, epochs: 1, batch: 50, threads: 1 },
  workers: 0,
} as const satisfies SearchConfigInput;

/** Trials finished (done or failed) in the run at `dir`; 0 while its database does not exist or is being created. */
export function finishedTrials(dir: string): number {
  if (!ExperimentStore.exists(dir)) return 0;
  try {
    const store = ExperimentStore.open(dir, { readonly: true });
    try {
      return store.count('done') + store.count('failed');
    } finally {
      store.close();
    }
  } catch {
    return 0;
  }
}

/** Every trial stored in the run at `dir`, read through a read-only store. */
export function storedTrials(dir: string): TrialRecord[] {
  const store = ExperimentStore.open(dir, { readonly: true });
  try {
    return store.listTrials();
  } finally {
    store.close();
  }
}
