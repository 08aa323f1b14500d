/**
 * Test helpers for run management: real run directories made quickly. Shipped code never
 * imports this file.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { printArch } from '../space/arch-string.js';
import { LocalPool } from '../search/executor.js';
import { runSearch } from '../search/loop.js';
import { rewardConfig } from '../search/reward.js';
import { checkConfig, resolveSearchConfig, type RunRecord } from '../search/run-config.js';
import type { Json } from '../search/space-like.js';
import { DB_FILE, ExperimentStore } from '../search/store.js';
import { syntheticSearchProblem } from '../search/synthetic-evaluator.js';
import { tempDir } from '../util/testing.js';

export interface SyntheticRunOptions {
  /** The run's budget (default `trials`): a budget above `trials` leaves the run unfinished, as if stopped. */
  readonly budget?: number;
  /** Search space (default 'fmnist'). */
  readonly space?: string;
}

/**
 * A random-search run of the synthetic evaluator with `trials` finished trials in `dir`, made by
 * the real search loop writing the real store (synchronous NORMAL for speed), with the run record
 * `mnas search --evaluator synthetic --strategy random` stores: `mnas search --resume` can
 * continue it. About a second per thousand trials the first time; a second run of the same
 * arguments in the same process is a copy of the first.
 */
export async function makeSyntheticRun(dir: string, trials: number, seed: number, options: SyntheticRunOptions = {}): Promise<RunRecord> {
  const key = JSON.stringify([trials, seed, options.budget ?? trials, options.space ?? 'fmnist']);
  let made = templates.get(key);
  if (!made) {
    const template = tempDir('mnas-run-template-');
    made = { dir: template, record: await writeSyntheticRun(template, trials, seed, options) };
    templates.set(key, made);
  }
  mkdirSync(dir, { recursive: true });
  // the store was closed: its WAL is checkpointed into the one file
  copyFileSync(path.join(made.dir, DB_FILE), path.join(dir, DB_FILE));
  return made.record;
}

const templates = new Map<string, { dir: string; record: RunRecord }>();

async function writeSyntheticRun(dir: string, trials: number, seed: number, options: SyntheticRunOptions): Promise<RunRecord> {
  const config = checkConfig(
    { space: options.space ?? 'fmnist', evaluator: 'synthetic', strategy: { kind: 'random' }, budget: options.budget ?? trials, seed },
    'makeSyntheticRun',
  );
  const { space, strategy } = resolveSearchConfig(config);
  const problem = syntheticSearchProblem(space, config.splitSeed);
  const reward = rewardConfig('soft', problem.defaultLatencyMs);
  const record: RunRecord = { config, reward, targetSource: 'synthetic latency of the default architecture', optimumReward: problem.optimumReward(reward) };
  const store = ExperimentStore.open(dir, { config: record as unknown as Json, synchronous: 'NORMAL' });
  try {
    await runSearch({
      strategy,
      evaluator: problem.evaluator,
      reward,
      budget: trials,
      store,
      executor: new LocalPool(1),
      arch: (dna) => printArch(space.decode(dna)),
    });
  } finally {
    store.close();
  }
  return record;
}
