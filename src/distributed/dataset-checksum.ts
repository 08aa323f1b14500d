/**
 * The checksum of a search's dataset as this machine has it: the coordinator puts it in every
 * train job, and a worker compares it with its own copy's before training, so every trial of a
 * search is trained and scored on the same images whichever machine runs it.
 */
import { datasetChecksum } from '../data/checksum.js';
import { loadDataset } from '../data/load.js';
import type { ProxySettings } from '../search/proxy-trainer.js';

/** Loads the dataset the way training processes do (same split seed) and checksums it; load errors are thrown as they are. */
export function localDatasetChecksum(settings: ProxySettings): string {
  const d = settings.dataset;
  return datasetChecksum(
    loadDataset({
      name: d.name,
      ...(d.dataDir ? { dataDir: d.dataDir } : {}),
      ...(d.cacheFile ? { cacheFile: d.cacheFile } : {}),
      seed: settings.splitSeed,
    }),
  );
}

/** A checksum as messages show it. */
export const shortChecksum = (sum: string): string => sum.slice(0, 12);
