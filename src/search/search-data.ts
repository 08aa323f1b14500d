/**
 * The data of a search, settled before anything is opened or created: the dataset the config
 * names is prepared (the user's own decoded once into a cache file the training processes read).
 * The space's input shape and classes come from the data unless the config gives them (`input`,
 * `classes`); given ones the data must have. So a 3-class folder of photos searches 3-class
 * networks in the cifar frame, and 28x28x1 arrays search the cifar frame at 28x28x1.
 */
import { prepareDataset, type DataProgress, type PreparedDataset, type PrepareTarget } from '../data/prepare.js';
import { SearchSpace } from '../space/space.js';
import type { SearchConfig } from './config.js';
import { SearchSetupError } from './setup-error.js';

export interface SearchData {
  readonly data: PreparedDataset;
  /** The configured space, with the data's input shape and classes. */
  readonly space: SearchSpace;
}

const shapeText = (s: { height: number; width: number; channels: number }) => `${s.height}x${s.width}x${s.channels}`;

/** `space` is the configured one: the named space with the config's `input` and `classes` applied. */
export async function prepareSearchData(config: SearchConfig, space: SearchSpace, log: (line: string) => void, onProgress?: (p: DataProgress) => void): Promise<SearchData> {
  const d = config.dataset;
  const own = space.skeleton;
  const target: PrepareTarget = {
    shape: own.input,
    ...(config.input !== undefined ? { requiredBy: 'the input given (--input, config "input")' } : {}),
    ...(config.classes !== undefined ? { classes: { count: config.classes, requiredBy: 'the number given (--classes, config "classes")' } } : {}),
  };
  const data = await prepareDataset(
    { name: d.name, ...(d.dataDir ? { dataDir: d.dataDir } : {}), resize: d.resize, skipBadFiles: d.skipBadFiles, ...(d.cacheDir ? { cacheDir: d.cacheDir } : {}) },
    target,
    onProgress ? { onProgress } : {},
  );
  if (data.ref.cacheFile !== undefined) log(`search: data: ${data.description}`);
  for (const s of data.skipped) log(`search: skipped ${s.file}: ${s.reason}`);
  const sameInput = shapeText(data.shape) === shapeText(own.input);
  if (sameInput && data.classes === own.classes) return { data, space };
  const changes = [
    ...(sameInput ? [] : [`input ${shapeText(data.shape)} (instead of ${shapeText(own.input)})`]),
    ...(data.classes === own.classes ? [] : [`${data.classes} classes (instead of ${own.classes})`]),
  ];
  log(`search: space '${space.name}' with the data's ${changes.join(' and ')}`);
  try {
    return { data, space: new SearchSpace({ ...own, input: data.shape, classes: data.classes }) };
  } catch (e) {
    throw new SearchSetupError(`search: space '${space.name}' cannot take the data's ${changes.join(' and ')}: ${(e as Error).message}; give --input`, { cause: e });
  }
}
