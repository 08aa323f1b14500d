/**
 * `mnas search`: the main job. Proposes architectures with a strategy (PPO by default), trains
 * each on the proxy task, measures its latency on the target device, rewards ACC x (LAT/T)^w,
 * and stores every trial in SQLite in the run directory so `--resume DIR` continues after any
 * crash. Writes the Pareto front, the best architecture, a summary and an HTML report; with
 * --final-epochs the top-k architectures are fully trained, tested and exported.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadDataset, type DatasetName } from '../data/load.js';
import { exportOnnx, weightsFromNetwork } from '../model/export.js';
import { saveModel } from '../model/onnx/save.js';
import { buildPlan } from '../model/plan.js';
import { costOfPlan } from '../model/cost.js';
import { createDevice, type DeviceKind } from '../latency/registry.js';
import { planToModel } from '../latency/model.js';
import type { LatencyDevice } from '../latency/device.js';
import { LatencyPredictor } from '../latency/predictor.js';
import { parseArch, printArch } from '../space/arch-string.js';
import { getSpace, spaceNames, type SearchSpace } from '../space/space.js';
import { mergeConfig, parseSearchConfig, DEVICES, EVALUATORS, STRATEGIES, type SearchConfig } from '../search/config.js';
import { LocalPool } from '../search/executor.js';
import { runSearch, type SearchProgress } from '../search/loop.js';
import { writeOutputs, type TrialPoint } from '../search/outputs.js';
import { parseRewardConfig, rewardConfig, RewardConfigSchema, type RewardConfig } from '../search/reward.js';
import type { Json } from '../search/space-like.js';
import { createStrategy, type Strategy } from '../search/strategy.js';
import { PpoSearch } from '../search/ppo/strategy.js';
import { RunLock, RunLockedError } from '../search/run-lock.js';
import { checkWritable, NotWritableError } from '../util/writable.js';
import { loadTable, LatencyTableError, type LatencyTable } from '../latency/table.js';
import { ExperimentStore, RunStoreError } from '../search/store.js';
import { syntheticProblemForSpace } from '../search/synthetic-space.js';
import type { Evaluator } from '../search/evaluator.js';
import { TrainEvaluator, type LatencyOracle } from '../search/train-evaluator.js';
import { InProcessTrainer } from '../search/proxy-trial.js';
import type { ProxySettings, ProxyTrainer } from '../search/proxy-trainer.js';
import { WorkerPool } from '../search/workers/worker-pool.js';
import { planIdentity } from '../model/plan.js';
import { availableParallelism } from 'node:os';
import { finalTrain } from '../train/run.js';
import { FINAL_RECIPE } from '../train/recipe.js';
import { saveSafetensors } from '../torch/safetensors.js';
import { UsageError } from './errors.js';
import { choiceOption, floatOption, intOption } from './options.js';
import { Progress } from './progress.js';

interface SearchFlags {
  config?: string;
  strategy?: string;
  evaluator?: string;
  device?: string;
  space?: string;
  targetMs?: number;
  reward?: string;
  budget?: number;
  proxyImages?: number;
  proxyEpochs?: number;
  finalEpochs?: number;
  topK?: number;
  concurrency?: number;
  workers?: number;
  threadsPerWorker?: number;
  out?: string;
  resume?: string;
  seed?: number;
  json?: boolean;
  quiet?: boolean;
}

/** Stored in the run database: the validated config with T resolved. */
interface RunRecord {
  config: SearchConfig;
  reward: RewardConfig;
  /** How T was obtained. */
  targetSource: string;
  optimumReward?: number;
}

export function registerSearch(program: Command, write: (s: string) => void = (s) => void process.stdout.write(s)): void {
  program
    .command('search')
    .description('search the space for the best accuracy-latency trade-off (MnasNet), resumable after any crash')
    .option('--config <file>', 'JSON config file (flags override it); unknown keys are errors')
    .option('--strategy <kind>', `search strategy: ${STRATEGIES.join('|')}`, choiceOption('--strategy', STRATEGIES))
    .option('--evaluator <kind>', `train (proxy training + latency) or synthetic (closed form, no training)`, choiceOption('--evaluator', EVALUATORS))
    .option('--device <kind>', `latency device: ${DEVICES.join('|')}`, choiceOption('--device', DEVICES))
    .option('--space <name>', `search space: ${spaceNames().join('|')}`)
    .option('--target-ms <T>', 'latency target T in ms (default: the latency of the space default architecture)', floatOption('--target-ms', 1e-6))
    .option('--reward <kind>', 'soft (alpha = beta = -0.07) or hard (alpha 0, beta -1)', choiceOption('--reward', ['soft', 'hard'] as const))
    .option('--budget <n>', 'number of trials', intOption('--budget', 1))
    .option('--proxy-images <n>', 'proxy-training images per trial', intOption('--proxy-images', 1))
    .option('--proxy-epochs <n>', 'proxy-training epochs per trial', intOption('--proxy-epochs', 1))
    .option('--final-epochs <n>', 'fully train, test and export the top-k architectures for N epochs', intOption('--final-epochs', 0))
    .option('--top-k <n>', 'how many architectures --final-epochs trains', intOption('--top-k', 1))
    .option('--concurrency <n>', 'trials evaluated at once (synthetic evaluator)', intOption('--concurrency', 1, 64))
    .option('--workers <n>', 'training processes, one trial each at a time; 0 trains in this process (default: one per core)', intOption('--workers', 0, 256))
    .option('--threads-per-worker <n>', 'libtorch threads of each training process (default 1)', intOption('--threads-per-worker', 1, 256))
    .option('--out <dir>', 'run directory (default runs/search-<time>)')
    .option('--resume <dir>', 'continue the run in DIR with its stored config')
    .option('--seed <n>', 'random seed', intOption('--seed', 0))
    .option('--quiet', 'no progress display')
    .option('--json', 'print one JSON object on the last line')
    .action(async (flags: SearchFlags) => {
      const result = await search(flags);
      if (flags.json) write(`${JSON.stringify(result)}\n`);
      else write(formatResult(result));
    });
}

function flagsToConfig(f: SearchFlags): Record<string, unknown> {
  return {
    space: f.space,
    strategy: f.strategy ? { kind: f.strategy } : undefined,
    evaluator: f.evaluator,
    device: f.device ? { kind: f.device } : undefined,
    reward: f.reward || f.targetMs !== undefined ? { preset: f.reward, targetMs: f.targetMs } : undefined,
    budget: f.budget,
    proxy:
      f.proxyImages !== undefined || f.proxyEpochs !== undefined || f.threadsPerWorker !== undefined
        ? { images: f.proxyImages, epochs: f.proxyEpochs, threads: f.threadsPerWorker }
        : undefined,
    workers: f.workers,
    final: f.finalEpochs !== undefined || f.topK !== undefined ? { epochs: f.finalEpochs, topK: f.topK } : undefined,
    concurrency: f.concurrency,
    seed: f.seed,
  };
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`search: cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseConfigText(text, file);
}

/** The JSON object of a config file's text; a UsageError if it is not JSON or not an object. */
export function parseConfigText(text: string, file: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('the top level must be an object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new UsageError(`search: config file ${file} is not valid JSON: ${(e as Error).message}`);
  }
}

function dropUndefined(v: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(v)) as Record<string, unknown>;
}

export interface SearchResult {
  trials: number;
  done: number;
  failed: number;
  best: { arch: string; accuracy: number; latency_ms: number; reward: number; trial: number } | null;
  pareto: TrialPoint[];
  out: string;
  target_ms: number;
  device: Json;
  resumed: number;
  interrupted: boolean;
  optimum_reward?: number;
  /** What this session did: trials evaluated, reused and failed, wall time, training processes, controller updates. */
  session: { evaluated: number; reused: number; failed: number; seconds: number; workers: number; trials_per_hour: number; strategy_updates: number | null };
  final?: Json;
}

async function openDevice(config: SearchConfig): Promise<LatencyDevice> {
  return createDevice(config.device.kind as DeviceKind, { threads: config.device.threads, joinTimeoutS: config.device.joinTimeoutS });
}

/** Devices, training processes and the run lock a search holds; released however it ends. */
interface SearchResources {
  device?: LatencyDevice;
  trainer?: ProxyTrainer;
  lock?: RunLock;
}

export async function search(flags: SearchFlags): Promise<SearchResult> {
  const resources: SearchResources = {};
  try {
    return await runSearchCommand(flags, resources);
  } finally {
    await resources.trainer?.close();
    await resources.device?.close();
    resources.lock?.release();
  }
}

async function runSearchCommand(flags: SearchFlags, resources: SearchResources): Promise<SearchResult> {
  const quiet = flags.quiet === true;
  const log = (line: string) => {
    if (!quiet) process.stderr.write(`${line}\n`);
  };
  let dir: string;
  let record: RunRecord | undefined;
  let config: SearchConfig;
  if (flags.resume) {
    dir = path.resolve(flags.resume);
    if (!existsSync(dir)) throw new UsageError(`search: --resume ${flags.resume}: no such directory`);
    if (!statSync(dir).isDirectory()) throw new UsageError(`search: --resume ${flags.resume}: not a directory`);
    if (!ExperimentStore.exists(dir)) throw new UsageError(`search: --resume ${flags.resume}: no search run there`);
    const conflicting = Object.entries(dropUndefined(flagsToConfig({ ...flags, seed: flags.seed }))).map(([k]) => k);
    if (flags.config || conflicting.length) {
      throw new UsageError(`search: --resume continues with the stored config; do not pass ${flags.config ? '--config' : `options for ${conflicting.join(', ')}`}`);
    }
    record = readRunRecord(dir, flags.resume);
    config = checkConfig(record.config, `${dir} (stored config)`);
    checkWritableDir(dir, '--resume');
    resources.lock = acquireLock(dir);
  } else {
    const fromFile = flags.config ? readConfigFile(flags.config) : {};
    config = checkConfig(mergeConfig(fromFile, dropUndefined(flagsToConfig(flags))), flags.config ?? 'search options');
    dir = path.resolve(flags.out ?? path.join('runs', `search-${new Date().toISOString().replace(/[:.]/g, '-')}`));
    if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`search: --out ${dir} is a file, not a directory`);
    if (ExperimentStore.exists(dir)) throw runExists(dir);
    checkWritableDir(dir, '--out');
  }
  const { space, strategy } = resolveSearchConfig(config);
  if (config.dataset.dataDir && !existsSync(config.dataset.dataDir)) throw new UsageError(`search: dataset.dataDir ${config.dataset.dataDir} does not exist`);
  const table = config.evaluator === 'train' && config.latencySource === 'predictor' ? readLatencyTable(config.latencyTable as string, space) : undefined;

  // ---- evaluator, latency oracle and the target T ----------------------------------------------
  let evaluator: Evaluator;
  let device: LatencyDevice | undefined;
  let deviceInfo: Json = null;
  let optimumReward: number | undefined;
  let trainEvaluator: TrainEvaluator | undefined;
  let trainer: ProxyTrainer | undefined;
  let slots = config.concurrency;
  let reward: RewardConfig;
  let targetSource: string;
  const customExponents = config.reward.preset === 'custom' ? { alpha: config.reward.alpha as number, beta: config.reward.beta as number } : undefined;
  const defaultDna = space.defaultDna();
  if (config.evaluator === 'synthetic') {
    const problem = syntheticProblemForSpace(space, { seed: config.seed });
    const closedForm = problem.evaluator();
    // accuracy and latency from the closed form; MACs and params are the architecture's real ones
    evaluator = {
      evaluate: async (dna, signal, context) => {
        const r = await closedForm.evaluate(dna, signal, context);
        if (r.status !== 'done') return r;
        const cost = costOfPlan(buildPlan(space.decode(dna)));
        return { ...r, macs: cost.macs, params: cost.params };
      },
    };
    deviceInfo = { id: 'synthetic', kind: 'cost-model', note: 'latency = separable fit of the cost model MACs' };
    const T = record?.reward.targetMs ?? config.reward.targetMs ?? problem.latencyMs(defaultDna);
    targetSource = record?.targetSource ?? (config.reward.targetMs !== undefined ? 'given' : 'synthetic latency of the default architecture');
    reward = rewardConfig(config.reward.preset, T, customExponents);
    optimumReward = problem.optimum(reward).reward;
  } else {
    let oracle: LatencyOracle;
    if (table) {
      oracle = { kind: 'predictor', predictor: new LatencyPredictor(table) };
      deviceInfo = { id: 'predictor', table: config.latencyTable as string, device: table.device as unknown as Json };
    } else {
      log(`search: opening latency device ${config.device.kind}`);
      device = await openDevice(config);
      resources.device = device;
      deviceInfo = (await device.describe()) as unknown as Json;
      if (config.latencySource === 'macs') {
        const plan = buildPlan(space.decode(defaultDna));
        const r = await device.measure(planToModel(plan, 'default'));
        oracle = { kind: 'macs', macsPerMs: costOfPlan(plan).macs / r.median_ms };
      } else {
        oracle = { kind: 'measured', device };
      }
    }
    const settings: ProxySettings = {
      dataset: {
        name: config.dataset.name as DatasetName,
        ...(config.dataset.dataDir ? { dataDir: config.dataset.dataDir } : {}),
        validationImages: config.dataset.validationImages,
      },
      images: config.proxy.images,
      epochs: config.proxy.epochs,
      ...(config.proxy.batch !== undefined ? { batch: config.proxy.batch } : {}),
      ...(config.proxy.lr !== undefined ? { lr: config.proxy.lr } : {}),
      threads: config.proxy.threads,
      splitSeed: config.seed,
    };
    const workers = config.workers ?? availableParallelism();
    log(workers > 0 ? `search: starting ${workers} training worker(s) with ${config.proxy.threads} thread(s) each, loading ${config.dataset.name}` : `search: loading ${config.dataset.name}`);
    try {
      trainer = workers > 0 ? await WorkerPool.start({ workers, settings }) : InProcessTrainer.create(settings);
    } catch (e) {
      throw new UsageError(`search: ${(e as Error).message}`);
    }
    resources.trainer = trainer;
    slots = trainer.slots;
    const skipAboveMs = (t: number) => (config.reward.preset === 'hard' && config.reward.skipOverTarget ? { skipAboveMs: t } : {});
    const known = record?.reward.targetMs ?? config.reward.targetMs;
    trainEvaluator = new TrainEvaluator(space, trainer, oracle, { seed: config.seed, ...(known !== undefined ? skipAboveMs(known) : {}) });
    evaluator = trainEvaluator;
    if (record) {
      reward = record.reward;
      targetSource = record.targetSource;
    } else if (config.reward.targetMs !== undefined) {
      reward = rewardConfig(config.reward.preset, config.reward.targetMs, customExponents);
      targetSource = 'given';
    } else {
      const l = await trainEvaluator.latencyOf(defaultDna);
      reward = rewardConfig(config.reward.preset, l.ms, customExponents);
      if (config.reward.preset === 'hard' && config.reward.skipOverTarget) {
        trainEvaluator = new TrainEvaluator(space, trainer, oracle, { seed: config.seed, skipAboveMs: l.ms });
        evaluator = trainEvaluator;
      }
      targetSource = `${config.latencySource} latency of the ${config.space} default architecture`;
      log(`search: target T = ${l.ms.toFixed(3)} ms (${targetSource})`);
    }
  }
  record ??= { config, reward, targetSource, ...(optimumReward !== undefined ? { optimumReward } : {}) };

  if (!resources.lock) {
    mkdirSync(dir, { recursive: true });
    resources.lock = acquireLock(dir);
    // another process may have created a run here while this one was starting up
    if (ExperimentStore.exists(dir)) throw runExists(dir);
  }
  const store = ExperimentStore.open(dir, { config: record as unknown as Json });
  const abort = new AbortController();
  const onSignal = () => {
    log('search: interrupted; in-flight trials stay pending for --resume');
    abort.abort(new Error('interrupted'));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const progress = new Progress({ label: 'search', total: config.budget, silent: quiet });
  const sessionStart = performance.now();
  let summary;
  try {
    const already = store.count('done') + store.count('failed');
    if (already > 0) log(`search: resuming ${dir}: ${already} trials finished, ${store.inFlight().length} to re-run`);
    progress.update(already, '');
    summary = await runSearch({
      strategy,
      evaluator,
      reward,
      budget: config.budget,
      store,
      executor: new LocalPool(slots),
      arch: (dna) => printArch(space.decode(dna)),
      identity: (dna) => planIdentity(buildPlan(space.decode(dna))),
      signal: abort.signal,
      onProgress: (p: SearchProgress) =>
        progress.update(p.finished, `best ${p.bestReward?.toFixed(4) ?? '-'} pareto ${p.paretoSize} last ${p.status === 'failed' ? 'failed' : p.reward.toFixed(4)}${p.reused ? ' (reused)' : ''}`),
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await trainer?.close();
  }
  const trials = store.listTrials();
  store.close();
  let final: Json | undefined;
  const ctx = { title: `mnas search: ${config.space}, ${config.strategy.kind}, ${config.evaluator}`, config: record, reward, device: deviceInfo, ...(optimumReward !== undefined ? { optimumReward } : {}) };
  let outputs = writeOutputs(dir, trials, ctx);
  if (!summary.interrupted && config.final.epochs > 0 && config.evaluator === 'train' && outputs.best) {
    final = await trainFinal(dir, config, outputs.pareto, outputs.best, log);
    outputs = writeOutputs(dir, trials, { ...ctx, final });
  }
  if (summary.interrupted) process.exitCode = 130;
  const b = outputs.best;
  return {
    trials: outputs.trials,
    done: outputs.done,
    failed: outputs.failed,
    best: b ? { arch: b.arch, accuracy: b.accuracy, latency_ms: b.latency_ms, reward: b.reward, trial: b.trial } : null,
    pareto: outputs.pareto,
    out: dir,
    target_ms: reward.targetMs,
    device: deviceInfo,
    resumed: summary.resumed,
    interrupted: summary.interrupted,
    session: sessionFigures(strategy, summary, (performance.now() - sessionStart) / 1000, trainer?.slots ?? 0),
    ...(optimumReward !== undefined ? { optimum_reward: optimumReward } : {}),
    ...(final !== undefined ? { final } : {}),
  };
}

/** A search config checked against its schema; a UsageError naming the key otherwise. */
export function checkConfig(value: unknown, source: string): SearchConfig {
  try {
    return parseSearchConfig(value, source);
  } catch (e) {
    throw new UsageError(`search: ${(e as Error).message}`);
  }
}

/** The space and a fresh strategy of a checked config; a UsageError if either cannot be made (unknown space, bad strategy options). */
export function resolveSearchConfig(config: SearchConfig): { space: SearchSpace; strategy: Strategy } {
  let space: SearchSpace;
  try {
    space = getSpace(config.space);
  } catch (e) {
    throw new UsageError(`search: ${(e as Error).message}`);
  }
  try {
    return { space, strategy: createStrategy(config.strategy.kind, space, { seed: config.seed, ...config.strategy.options }) };
  } catch (e) {
    throw new UsageError(`search: strategy: ${(e as Error).message}`);
  }
}

/** The stored run record of `dir`, or a UsageError saying why it cannot be resumed. */
function readRunRecord(dir: string, given: string): RunRecord {
  let stored: Json;
  try {
    const store = ExperimentStore.open(dir, { readonly: true });
    stored = store.config;
    store.close();
  } catch (e) {
    if (e instanceof RunStoreError) throw new UsageError(`search: --resume ${given}: ${e.message}`);
    throw e;
  }
  const r = stored as unknown as Partial<RunRecord> | null;
  const notSearch = (why: string) => new UsageError(`search: --resume ${given}: the run record in ${path.join(dir, 'mnas.db')} is not a search run's (${why})`);
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
  return { ...(r as RunRecord), reward };
}

function runExists(dir: string): UsageError {
  return new UsageError(`search: ${dir} already holds a run; continue it with --resume ${dir} or choose another --out`);
}

function acquireLock(dir: string): RunLock {
  try {
    return RunLock.acquire(dir);
  } catch (e) {
    if (e instanceof RunLockedError) throw new UsageError(`search: ${e.message}`);
    throw e;
  }
}

function checkWritableDir(dir: string, option: string): void {
  try {
    checkWritable(dir);
  } catch (e) {
    if (e instanceof NotWritableError) throw new UsageError(`search: ${option}: ${e.message}`);
    throw e;
  }
}

function readLatencyTable(file: string, space: SearchSpace): LatencyTable {
  let table: LatencyTable;
  try {
    table = loadTable(file);
  } catch (e) {
    if (e instanceof LatencyTableError) throw new UsageError(`search: ${e.message}`);
    throw e;
  }
  if (table.space !== space.name) throw new UsageError(`search: latency table '${file}' is for space '${table.space}', not '${space.name}'`);
  return table;
}

/** Fully trains the top-k trials by reward, evaluates them on the test set and exports them. */
async function trainFinal(dir: string, config: SearchConfig, pareto: TrialPoint[], best: TrialPoint, log: (l: string) => void): Promise<Json> {
  const datasets = loadDataset({ name: config.dataset.name as DatasetName, ...(config.dataset.dataDir ? { dataDir: config.dataset.dataDir } : {}), seed: config.seed });
  const candidates = [best, ...pareto.filter((p) => p.arch !== best.arch).sort((a, b) => b.reward - a.reward)].slice(0, config.final.topK);
  const results: Json[] = [];
  for (const [rank, c] of candidates.entries()) {
    const arch = parseArch(c.arch);
    log(`final ${rank + 1}/${candidates.length}: training trial ${c.trial} for ${config.final.epochs} epochs`);
    const progress = new Progress({ label: `final ${rank + 1}`, total: config.final.epochs });
    try {
      const r = await finalTrain(arch, datasets, {
        // the training workers are gone by now: final training gets every core
        threads: availableParallelism(),
        keepNetwork: true,
        // short final runs get a proportionally short warm-up (the recipe's is one epoch)
        recipe: { epochs: config.final.epochs, seed: config.seed, warmupEpochs: Math.min(FINAL_RECIPE.warmupEpochs, config.final.epochs / 10) },
        onEpoch: (e) => progress.update(e.epoch, `loss ${e.loss.toFixed(4)}`),
      });
      if (r.status === 'failed') {
        results.push({ trial: c.trial, arch: c.arch, status: 'failed', reason: r.reason });
        continue;
      }
      const net = r.network;
      const sub = path.join(dir, 'final', `${rank + 1}-trial-${c.trial}`);
      mkdirSync(sub, { recursive: true });
      let files: string[] = [];
      if (net) {
        try {
          const onnxPath = saveModel(path.join(sub, 'model.onnx'), exportOnnx(buildPlan(arch), weightsFromNetwork(net)));
          const weightsPath = path.join(sub, 'weights.safetensors');
          saveSafetensors(weightsPath, net.stateDict(), { arch: c.arch });
          files = [onnxPath, weightsPath];
        } finally {
          net.dispose();
        }
      }
      results.push({ trial: c.trial, arch: c.arch, status: 'done', test_accuracy: r.testAccuracy ?? null, epochs: r.epochs, seconds: r.seconds, files });
    } catch (e) {
      // the search results stand; a final training that cannot run is reported, not fatal
      results.push({ trial: c.trial, arch: c.arch, status: 'failed', reason: (e as Error).message });
    }
  }
  return results;
}

function sessionFigures(strategy: Strategy, s: { evaluated: number; reused: number; failed: number }, seconds: number, workers: number): SearchResult['session'] {
  return {
    evaluated: s.evaluated,
    reused: s.reused,
    failed: s.failed,
    seconds,
    workers,
    trials_per_hour: seconds > 0 ? ((s.evaluated + s.reused) * 3600) / seconds : 0,
    strategy_updates: strategy instanceof PpoSearch ? strategy.updates : null,
  };
}

function formatDuration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  return m > 0 ? `${m} min ${Math.round(seconds - 60 * m)} s` : `${seconds.toFixed(1)} s`;
}

function formatResult(r: SearchResult): string {
  const s = r.session;
  const lines = [
    `this session: ${s.evaluated} trials evaluated, ${s.reused} reused, ${s.failed} failed in ${formatDuration(s.seconds)}` +
      `${s.workers > 0 ? ` on ${s.workers} training process(es)` : ''} (${s.trials_per_hour.toFixed(0)} trials/h)` +
      `${s.strategy_updates !== null ? `; the PPO controller made ${s.strategy_updates} update(s)` : ''}`,
    `run: ${r.out}`,
    `trials: ${r.trials} (${r.done} done, ${r.failed} failed)${r.interrupted ? ' — interrupted, continue with --resume' : ''}`,
    `target T: ${r.target_ms.toFixed(3)} ms`,
  ];
  if (r.best) lines.push(`best: acc ${(r.best.accuracy * 100).toFixed(2)}%  latency ${r.best.latency_ms.toFixed(3)} ms  reward ${r.best.reward.toFixed(4)}  (trial ${r.best.trial})`, `      ${r.best.arch}`);
  if (r.optimum_reward !== undefined) lines.push(`known optimum reward: ${r.optimum_reward.toFixed(4)}`);
  lines.push(`pareto front (${r.pareto.length}):`);
  for (const p of r.pareto) lines.push(`  acc ${(p.accuracy * 100).toFixed(2)}%  ${p.latency_ms.toFixed(3)} ms  trial ${p.trial}`);
  lines.push(`report: ${path.join(r.out, 'report.html')}`);
  return `${lines.join('\n')}\n`;
}
