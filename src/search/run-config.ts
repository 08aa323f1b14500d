/**
 * A search run's settings: the config checked against its schema, the space and strategy it
 * names (made before anything else exists), and the run record stored in the run database so a
 * resume continues with exactly the same settings and the same T.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseInputShapeText } from '../model/limits.js';
import { getSpace, SearchSpace } from '../space/space.js';
import { parseSearchConfig, type SearchConfig } from './config.js';
import { parseRewardConfig, RewardConfigSchema, type RewardConfig } from './reward.js';
import type { Json } from './space-like.js';
import { createStrategy, type Strategy } from './strategy.js';
import { ExperimentStore, RunStoreError, DB_FILE } from './store.js';
import { SearchSetupError } from './setup-error.js';
import { InputError } from '../util/input-error.js';

/** Stored in the run database: the validated config with T resolved. */
export interface RunRecord {
  config: SearchConfig;
  reward: RewardConfig;
  /** How T was obtained. */
  targetSource: string;
  optimumReward?: number;
}

/** A search config checked against its schema; a SearchSetupError naming the key otherwise. */
export function checkConfig(value: unknown, source: string): SearchConfig {
  try {
    return parseSearchConfig(value, source);
  } catch (e) {
    throw new SearchSetupError(`search: ${(e as Error).message}`, { cause: e });
  }
}

/** The JSON object of a config file. */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SearchSetupError(`search: cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseConfigText(text, file);
}

/** The JSON object of a config file's text; a SearchSetupError if it is not JSON or not an object. */
export function parseConfigText(text: string, file: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('the top level must be an object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new SearchSetupError(`search: config file ${file} is not valid JSON: ${(e as Error).message}`);
  }
}

/** The space and a fresh strategy of a checked config; a SearchSetupError if either cannot be made (unknown space, bad strategy options). */
export function resolveSearchConfig(config: SearchConfig): { space: SearchSpace; strategy: Strategy } {
  let space: SearchSpace;
  try {
    space = withGivenFrame(getSpace(config.space), config);
  } catch (e) {
    throw new SearchSetupError(`search: ${(e as Error).message}`);
  }
  try {
    return { space, strategy: createStrategy(config.strategy.kind, space, { seed: config.seed, ...config.strategy.options }) };
  } catch (e) {
    throw new SearchSetupError(`search: strategy: ${(e as Error).message}`);
  }
}

/** The space with the input shape and classes the config gives (the rest come from the data, src/search/search-data.ts). */
function withGivenFrame(space: SearchSpace, config: SearchConfig): SearchSpace {
  if (config.input === undefined && config.classes === undefined) return space;
  return new SearchSpace({
    ...space.skeleton,
    ...(config.input !== undefined ? { input: parseInputShapeText(config.input, 'input') } : {}),
    ...(config.classes !== undefined ? { classes: config.classes } : {}),
  });
}

/**
 * The stored run record of `dir`, or a SearchSetupError saying why it cannot be resumed.
 * Runs made before the split and initialisation seeds were separate used `seed` for all three:
 * their record gets those seeds, so a resume continues with the same data split.
 */
export function readRunRecord(dir: string, given: string): RunRecord {
  let stored: Json;
  try {
    const store = ExperimentStore.open(dir, { readonly: true });
    stored = store.config;
    store.close();
  } catch (e) {
    if (e instanceof RunStoreError) throw new SearchSetupError(`search: --resume ${given}: ${e.message}`);
    throw e;
  }
  try {
    return parseRunRecord(stored, dir);
  } catch (e) {
    if (e instanceof RunRecordError) throw new SearchSetupError(`search: --resume ${given}: ${e.message}`);
    throw e;
  }
}

/** The stored run record of a search is not one (another tool's database, a damaged record). */
export class RunRecordError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'RunRecordError';
  }
}

/** A run record as stored in the database of the run at `dir` (ExperimentStore.config), checked; a RunRecordError saying what is wrong otherwise. */
export function parseRunRecord(stored: Json, dir: string): RunRecord {
  const r = stored as unknown as Partial<RunRecord> | null;
  const notSearch = (why: string) => new RunRecordError(`the run record in ${path.join(dir, DB_FILE)} is not a search run's (${why})`);
  if (typeof r !== 'object' || r === null || typeof r.config !== 'object' || r.config === null) throw notSearch('no config');
  if (typeof r.targetSource !== 'string') throw notSearch('no target source');
  const shape = RewardConfigSchema.safeParse(r.reward);
  if (!shape.success) {
    const issue = shape.error.issues[0]!;
    throw notSearch(`reward${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}`);
  }
  let reward: RewardConfig;
  try {
    reward = parseRewardConfig(shape.data);
  } catch (e) {
    throw notSearch((e as Error).message);
  }
  let config: SearchConfig;
  try {
    config = parseSearchConfig(withLegacyInterleave(withLegacySeeds(r.config as Record<string, unknown>)), `${dir} (stored config)`);
  } catch (e) {
    throw notSearch((e as Error).message);
  }
  return { ...(r as RunRecord), config, reward };
}

/** Runs stored before interleaving existed (or was the default) measured without it, and resume so. */
function withLegacyInterleave(config: Record<string, unknown>): Record<string, unknown> {
  const device = (config.device ?? {}) as Record<string, unknown>;
  if ('interleave' in device) return config;
  return { ...config, device: { ...device, interleave: false } };
}

function withLegacySeeds(config: Record<string, unknown>): Record<string, unknown> {
  if ('splitSeed' in config || 'initSeed' in config) return config;
  const seed = typeof config.seed === 'number' ? config.seed : 0;
  return { ...config, splitSeed: seed, initSeed: seed };
}
