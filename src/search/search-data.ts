/**
 * The data of a search, settled before anything is opened or created: the dataset the config
 * names is prepared (the user's own decoded once into a cache file the training processes read)
 * and must have the space's input shape; the space's classifier gets the data's number of
 * classes (a 3-class image folder searches 3-class networks in the cifar frame).
 */
import { prepareDataset, type PreparedDataset } from '../data/prepare.js';
import { SearchSpace } from '../space/space.js';
import type { SearchConfig } from './config.js';

export interface SearchData {
  readonly data: PreparedDataset;
  /** The configured space, with the data's classes. */
  readonly space: SearchSpace;
}

export async function prepareSearchData(config: SearchConfig, space: SearchSpace, log: (line: string) => void): Promise<SearchData> {
  const d = config.dataset;
  const data = await prepareDataset(
    { name: d.name, ...(d.dataDir ? { dataDir: d.dataDir } : {}), resize: d.resize, skipBadFiles: d.skipBadFiles, ...(d.cacheDir ? { cacheDir: d.cacheDir } : {}) },
    { shape: space.skeleton.input, requiredBy: `space '${space.name}'` },
  );
  if (data.ref.cacheFile !== undefined) log(`search: data: ${data.description}`);
  for (const s of data.skipped) log(`search: skipped ${s.file}: ${s.reason}`);
  if (data.classes === space.skeleton.classes) return { data, space };
  log(`search: space '${space.name}' with ${data.classes} classes (the data's) instead of ${space.skeleton.classes}`);
  return { data, space: new SearchSpace({ ...space.skeleton, classes: data.classes }) };
}
