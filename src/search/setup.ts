/**
 * A search run from its config to its outputs, and the library's `search()`: checks the config
 * and the run directory before anything is created, opens the latency source and the training
 * processes, works out T, runs the strategy to the budget in a crash-safe store (or resumes one),
 * writes the Pareto front, the best architecture and the report, and optionally trains the top-k
 * fully. Progress comes back through callbacks; it installs no signal handlers and prints nothing
 * (the CLI in src/cli/search.ts does both).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { DataProgress, DatasetRef } from '../data/prepare.js';
import { costOfPlan } from '../model/cost.js';
import { buildPlan, planIdentity } from '../model/plan.js';
import type { LatencyDevice, LatencyModel } from '../latency/device.js';
import { planToModel } from '../latency/model.js';
import { LatencyPredictor, MissingLayerError } from '../latency/predictor.js';
import { createDevice, type DeviceKind } from '../latency/registry.js';
import { loadTable, LatencyTableError, type LatencyTable } from '../latency/table.js';
import { printArch } from '../space/arch-string.js';
import type { Arch } from '../space/arch.js';
import { resolveArch } from '../space/resolve.js';
import type { SearchSpace } from '../space/space.js';
import { checkWritable, NotWritableError } from '../util/writable.js';
import type { SearchConfig, SearchConfigInput } from './config.js';
import type { Evaluator } from './evaluator.js';
import { LocalPool } from './executor.js';
import { trainFinalCandidates, type FinalEpochEvent } from './final-training.js';
import { runSearch, type SearchProgress } from './loop.js';
import { LiveReport } from './live-report.js';
import { writeOutputs, type ReportContext, type SearchOutputs, type TrialPoint } from './outputs.js';
import { reportTitle } from './report-html.js';
import { clearStopFiles, watchStopRequest, writeStopNote } from './stop-request.js';
import { PpoSearch } from './ppo/strategy.js';
import type { ProxySettings, ProxyTrainer } from './proxy-trainer.js';
import { InProcessTrainer } from './proxy-trial.js';
import { rewardConfig, type RewardConfig } from './reward.js';
import { checkConfig, readRunRecord, resolveSearchConfig, type RunRecord } from './run-config.js';
import { RunLock, RunLockedError } from './run-lock.js';
import { prepareSearchData } from './search-data.js';
import { SearchSetupError } from './setup-error.js';
import type { Json } from './space-like.js';
import { MIN_SEEN } from './speed-watch.js';
import { ExperimentStore } from './store.js';
import type { Strategy } from './strategy.js';
import { syntheticSearchProblem } from './synthetic-evaluator.js';
import { TrainEvaluator, type LatencyOracle } from './train-evaluator.js';
import { correctedTrials, DriftMonitor, driftSummary, interleavedReferenceTimes, offText, speedRetriedTrials, type DriftSummary } from './drift.js';
import { marginOfTable, MeasureGate } from './measure-gate.js';
import type { DriftCheck } from './run-store.js';
import { MEASURING_SOURCES } from './config.js';
import { latencyRow, TrainedTable, type TrainSetting } from '../trained/table.js';
import { TableTrainer } from '../trained/table-trainer.js';
import { WorkerPool } from './workers/worker-pool.js';
import type { DistributedSession, QueueWidth } from '../distributed/session.js';
import { parseRedisUrl } from '../distributed/redis-url.js';
import { trialCosts, type TrialCosts } from './trial-costs.js';

/** Trials queued ahead of the local training processes (see where the evaluator's slots are set). */
export const QUEUED_AHEAD = 2;

export interface SearchOptions {
  /** The run's settings, as in a config file (validated; unknown keys are errors). Not with `resume`. */
  readonly config?: SearchConfigInput;
  /** Where `config` came from, for error messages (default 'search options'). */
  readonly configSource?: string;
  /** The run directory to create (default runs/search-<time> under the working directory). */
  readonly out?: string;
  /** Continue the run in this directory with its stored config instead of starting one. */
  readonly resume?: string;
  /** Aborting stops the search like a crash would: in-flight trials stay pending for a resume. */
  readonly signal?: AbortSignal;
  /** Redis URL of a distributed search (overrides config.redis; also with `resume`). */
  readonly redis?: string;
  /**
   * Propose no trial after this many minutes of this session: the trials in flight finish, then
   * the search stops, resumable (also with `resume`; final training is left to a session that
   * reaches the budget).
   */
  readonly maxMinutes?: number;
  /** Before the first trial: the run directory and how far an earlier session got. */
  readonly onStart?: (e: SearchStartEvent) => void;
  /** After every finished trial, in the order the strategy sees them. */
  readonly onTrial?: (e: TrialEvent) => void;
  /** Status lines (opening the device, T, resuming, final training). */
  readonly onLog?: (line: string) => void;
  /** Reading and decoding your own data (once; later runs find it in the cache). */
  readonly onDataProgress?: (p: DataProgress) => void;
  readonly onFinalEpoch?: (e: FinalEpochEvent) => void;
}

export interface SearchStartEvent {
  readonly out: string;
  readonly budget: number;
  /** Trials finished by earlier sessions (0 for a new run). */
  readonly finished: number;
  readonly targetMs: number;
}

export interface TrialEvent extends SearchProgress {
  readonly arch: string | null;
  /** Null for a failed trial. */
  readonly accuracy: number | null;
  readonly latencyMs: number | null;
}

export interface SearchResult {
  trials: number;
  done: number;
  failed: number;
  /** Of the failed, those not trained because their latency missed a hard target. */
  skipped: number;
  best: { arch: string; accuracy: number; latency_ms: number; reward: number; trial: number } | null;
  pareto: TrialPoint[];
  out: string;
  target_ms: number;
  device: Json;
  resumed: number;
  /** Stopped before the budget (resumable); `stop_reason` says why. */
  interrupted: boolean;
  /** Why an interrupted session stopped: 'time limit' (maxMinutes), 'stop request' (mnas runs stop) or 'signal'; null when not interrupted. */
  stop_reason: 'time limit' | 'stop request' | 'signal' | null;
  optimum_reward?: number;
  /** The strategy, split and initialisation seeds of the run. */
  seeds: { strategy: number; split: number; init: number };
  /** What this session did: trials evaluated, reused and failed, wall time, training processes, controller updates. */
  session: { evaluated: number; reused: number; failed: number; skipped: number; seconds: number; workers: number; trials_per_hour: number; strategy_updates: number | null; per_trial: TrialCosts | null };
  final?: Json;
  /** Measured latency sources: the drift seen by the reference checks. */
  drift?: DriftSummary;
  /** Predicted-then-measured: how many done trials were measured. */
  measured?: SearchOutputs['measured'];
  /** Other devices: the front on each. */
  devices?: SearchOutputs['devices'];
}

/** The checked settings of a run and its directory, before anything is created. */
interface RunPlan {
  readonly dir: string;
  readonly config: SearchConfig;
  /** The stored record when resuming. */
  readonly record?: RunRecord;
  readonly lock?: RunLock;
  /** Redis URL when the run is distributed (checked). */
  readonly redis?: string;
}

/** What a search holds open; released however it ends. */
interface Resources {
  device?: LatencyDevice;
  /** The run's other devices (config `devices`). */
  otherDevices?: LatencyDevice[];
  trainer?: ProxyTrainer;
  lock?: RunLock;
  distributed?: DistributedSession;
}

/** The evaluator of a run, where its latencies come from, and T. */
interface EvaluationSetup {
  readonly evaluator: Evaluator;
  readonly device: Json;
  readonly reward: RewardConfig;
  readonly targetSource: string;
  readonly optimumReward?: number;
  readonly slots: number;
  readonly workers: number;
  /** Measured latency sources: the drift monitor, to attach to the store. */
  readonly drift?: DriftMonitor;
  /** Predicted-then-measured: the gate, to seed with the measured trials of earlier sessions. */
  readonly gate?: MeasureGate;
}

/** Runs (or resumes) a search to its budget. Throws SearchSetupError (an InputError) for bad settings before creating anything. */
export async function search(options: SearchOptions = {}): Promise<SearchResult> {
  const resources: Resources = {};
  try {
    return await runPlanned(planRun(options, resources), options, resources);
  } finally {
    await resources.trainer?.close();
    await resources.device?.close();
    for (const d of resources.otherDevices ?? []) await d.close();
    await resources.distributed?.close();
    resources.lock?.release();
  }
}

function planRun(o: SearchOptions, resources: Resources): RunPlan {
  if (o.maxMinutes !== undefined && !(Number.isFinite(o.maxMinutes) && o.maxMinutes > 0)) {
    throw new SearchSetupError(`search: maxMinutes must be a number of minutes > 0, got ${String(o.maxMinutes)}`);
  }
  if (o.resume !== undefined) {
    if (o.config !== undefined || o.out !== undefined) throw new SearchSetupError('search: a resumed run continues with its stored config and directory; do not pass config or out');
    const dir = path.resolve(o.resume);
    if (!existsSync(dir)) throw new SearchSetupError(`search: --resume ${o.resume}: no such directory`);
    if (!statSync(dir).isDirectory()) throw new SearchSetupError(`search: --resume ${o.resume}: not a directory`);
    if (!ExperimentStore.exists(dir)) throw new SearchSetupError(`search: --resume ${o.resume}: no search run there`);
    const record = readRunRecord(dir, o.resume);
    checkWritableDir(dir, '--resume');
    resources.lock = acquireLock(dir);
    return { dir, config: record.config, record, ...distributedUrl(o, record.config) };
  }
  const config = newRunConfig(o);
  const dir = path.resolve(o.out ?? path.join('runs', `search-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new SearchSetupError(`search: --out ${dir} is a file, not a directory`);
  if (ExperimentStore.exists(dir)) throw runExists(dir);
  checkWritableDir(dir, '--out');
  return { dir, config, ...distributedUrl(o, config) };
}

/**
 * A new run's config. A Redis URL given beside the config (--redis) is distribution as much as
 * config.redis is, so the defaults that depend on it (no interleaved measurement) are settled
 * with it; the URL itself stays out of the stored config as before.
 */
function newRunConfig(o: SearchOptions): SearchConfig {
  const given = (o.config ?? {}) as Record<string, unknown>;
  const source = o.configSource ?? 'search options';
  if (o.redis === undefined) return checkConfig(given, source);
  const { redis: _, ...settled } = checkConfig({ ...given, redis: o.redis }, source);
  return typeof given['redis'] === 'string' ? { ...settled, redis: given['redis'] } : settled;
}

/** The Redis URL of a distributed run, parsed (a bad one is an InputError before anything starts). */
function distributedUrl(o: SearchOptions, config: SearchConfig): { redis?: string } {
  const url = o.redis ?? config.redis;
  if (url === undefined) return {};
  parseRedisUrl(url);
  if (config.device.interleave) throw new SearchSetupError('search: --redis: this run measures interleaved with its reference on this machine (device.interleave); a distributed search measures on its workers');
  if (config.evaluator !== 'train') throw new SearchSetupError(`search: --redis distributes training; the '${config.evaluator}' evaluator does not train`);
  return { redis: url };
}

async function runPlanned(run: RunPlan, o: SearchOptions, resources: Resources): Promise<SearchResult> {
  const { dir, config, record } = run;
  const log = (line: string) => o.onLog?.(line);
  const { space: configuredSpace, strategy } = resolveSearchConfig(config);
  if (config.dataset.dataDir && !existsSync(config.dataset.dataDir)) throw new SearchSetupError(`search: dataset.dataDir ${config.dataset.dataDir} does not exist`);
  const table = config.evaluator === 'train' && (config.latencySource === 'predictor' || config.latencySource === 'predicted-then-measured') ? readLatencyTable(config.latencyTable as string, configuredSpace) : undefined;
  const trained = config.evaluator === 'table' ? openTrainedTable(config) : undefined;
  // own data: decoded (or found in its cache) and checked against the space before any device or folder
  const searchData = trainsForReal(config) ? await prepareSearchData(config, configuredSpace, log, o.onDataProgress) : undefined;
  const space = searchData?.space ?? configuredSpace;
  if (table) checkTableCovers(table, config.latencyTable as string, space);

  const setup =
    config.evaluator === 'synthetic'
      ? syntheticSetup(config, space, record)
      : trained?.missing === 'fail'
        ? await tableOnlySetup(config, space, record, trained, log)
        : await trainSetup(config, space, record, table, resources, log, searchData!.data.ref, run, trained);
  const g = space.skeleton;
  // the input and classes the run searches (the data's unless given) are stored as given: a resume on other data is refused
  // and so is a distributed run's queue width, chosen from the workers live at its start unless given
  const pinned: SearchConfig = { ...config, input: `${g.input.height}x${g.input.width}x${g.input.channels}`, classes: g.classes, ...(run.redis !== undefined ? { concurrency: setup.slots } : {}) };
  const runRecord: RunRecord = record ?? {
    // the Redis URL is stored without its password
    config: run.redis !== undefined && pinned.redis !== undefined ? { ...pinned, redis: parseRedisUrl(pinned.redis).display } : pinned,
    reward: setup.reward,
    targetSource: setup.targetSource,
    ...(setup.optimumReward !== undefined ? { optimumReward: setup.optimumReward } : {}),
  };

  if (!resources.lock) {
    mkdirSync(dir, { recursive: true });
    resources.lock = acquireLock(dir);
    // another process may have created a run here while this one was starting up
    if (ExperimentStore.exists(dir)) throw runExists(dir);
  }
  // a resumed run opens as stored; a new one is created with its record
  const store = record ? ExperimentStore.open(dir) : ExperimentStore.open(dir, { config: runRecord as unknown as Json });
  setup.drift?.attach(store);
  if (record) setup.gate?.seed(store.listTrials({ status: 'done' }));
  // this session holds the lock: stop requests and notes of earlier sessions are void
  clearStopFiles(dir);
  const stopRequest = watchStopRequest(dir);
  const signals = [o.signal, resources.distributed?.stopped, stopRequest.signal].filter((x) => x !== undefined);
  // The session's time limit counts from here (the set-up before it is not the search's). It is
  // checked after every trial, which is when the loop would propose the next one (a timer may never
  // fire while fast evaluations keep the loop in microtasks).
  const deadline = o.maxMinutes !== undefined ? performance.now() + o.maxMinutes * 60_000 : undefined;
  const timeLimit = deadline !== undefined ? new AbortController() : undefined;
  const checkTimeLimit = () => {
    if (timeLimit && !timeLimit.signal.aborted && performance.now() >= deadline!) timeLimit.abort(new Error('time limit'));
  };
  const context: ReportContext & { drift?: DriftSummary } = {
    title: reportTitle(config),
    config: runRecord,
    reward: setup.reward,
    device: setup.device,
    budget: config.budget,
    ...(runRecord.optimumReward !== undefined ? { optimumReward: runRecord.optimumReward } : {}),
  };
  const sessionStart = performance.now();
  const sessionStartDate = new Date();
  let summary;
  let trials;
  let sessionSeconds = 0;
  let stopReason: SearchResult['stop_reason'] = null;
  let outputs;
  let final: Json | undefined;
  try {
    const live = new LiveReport(dir, { ...context, state: 'running' });
    try {
      const already = store.count('done') + store.count('failed');
      if (already > 0) log(`search: resuming ${dir}: ${already} trials finished, ${store.inFlight().length} to re-run`);
      o.onStart?.({ out: dir, budget: config.budget, finished: already, targetMs: setup.reward.targetMs });
      live.write(store.listTrialBriefs());
      summary = await runSearch({
        strategy,
        evaluator: setup.evaluator,
        reward: setup.reward,
        budget: config.budget,
        store,
        executor: new LocalPool(setup.slots),
        arch: (dna) => printArch(space.decode(dna)),
        identity: (dna) => planIdentity(buildPlan(space.decode(dna))),
        signal: AbortSignal.any(signals),
        ...(timeLimit ? { stopProposing: timeLimit.signal } : {}),
        onProgress: (p: SearchProgress) => {
          checkTimeLimit();
          if (o.onTrial) {
            const t = store.trial(p.trialId);
            o.onTrial({ ...p, arch: t?.arch ?? null, accuracy: t?.accuracy ?? null, latencyMs: t?.latencyMs ?? null });
          }
          // a requested stop ends the search before it proposes another trial
          if (!stopRequest.check()) live.refresh(() => store.listTrialBriefs());
        },
      });
      trials = store.listTrials();
      const drift = setup.drift ? driftSummary(store.driftChecks(), config.drift.tolerance, correctedTrials(trials), config.device.interleave === true, speedRetriedTrials(trials), interleavedReferenceTimes(trials)) : undefined;
      if (drift) context.drift = drift;
      const failure = resources.distributed?.failure;
      if (failure) throw new SearchSetupError(`search: stopped (continue with --resume ${dir} once fixed): ${failure.message}`, { cause: failure });
    } finally {
      store.close();
      // the training processes are done: free their cores for final training
      await resources.trainer?.close();
    }
    sessionSeconds = (performance.now() - sessionStart) / 1000;
    const ended: ReportContext = { ...context, state: summary.interrupted ? 'stopped' : 'finished' };
    stopReason = !summary.interrupted ? null : stopRequest.signal.aborted ? 'stop request' : timeLimit?.signal.aborted && !signals.some((s) => s.aborted) ? 'time limit' : 'signal';
    if (stopReason) writeStopNote(dir, stopReason);
    outputs = writeOutputs(dir, trials, ended);
    if (!summary.interrupted && config.final.epochs > 0 && trainsForReal(config) && outputs.best) {
      final = await trainFinalCandidates(dir, config, outputs.pareto, outputs.best, {
        onLog: log,
        ...(o.onFinalEpoch ? { onEpoch: o.onFinalEpoch } : {}),
        ...(searchData ? { dataset: searchData.data.ref } : {}),
        signal: AbortSignal.any([o.signal, stopRequest.signal].filter((x) => x !== undefined)),
      });
      outputs = writeOutputs(dir, trials, { ...ended, final });
    }
  } finally {
    stopRequest.close();
  }
  const b = outputs.best;
  return {
    trials: outputs.trials,
    done: outputs.done,
    failed: outputs.failed,
    skipped: outputs.skipped,
    best: b ? { arch: b.arch, accuracy: b.accuracy, latency_ms: b.latency_ms, reward: b.reward, trial: b.trial } : null,
    pareto: outputs.pareto,
    out: dir,
    target_ms: setup.reward.targetMs,
    device: setup.device,
    resumed: summary.resumed,
    interrupted: summary.interrupted,
    stop_reason: stopReason,
    seeds: { strategy: config.seed, split: config.splitSeed, init: config.initSeed },
    session: sessionFigures(strategy, summary, sessionSeconds, setup.workers, trialCosts(trials, sessionStartDate)),
    ...(runRecord.optimumReward !== undefined ? { optimum_reward: runRecord.optimumReward } : {}),
    ...(final !== undefined ? { final } : {}),
    ...(context.drift ? { drift: context.drift } : {}),
    ...(outputs.measured ? { measured: outputs.measured } : {}),
    ...(outputs.devices ? { devices: outputs.devices } : {}),
  };
}

const customExponents = (config: SearchConfig) =>
  config.reward.preset === 'custom' ? { alpha: config.reward.alpha as number, beta: config.reward.beta as number } : undefined;

/** The closed-form evaluator: no device, no training; T defaults to the default architecture's synthetic latency. */
function syntheticSetup(config: SearchConfig, space: SearchSpace, record: RunRecord | undefined): EvaluationSetup {
  const problem = syntheticSearchProblem(space, config.splitSeed);
  const reward = record?.reward ?? rewardConfig(config.reward.preset, config.reward.targetMs ?? problem.defaultLatencyMs, customExponents(config));
  return {
    evaluator: problem.evaluator,
    device: problem.device,
    reward,
    targetSource: record?.targetSource ?? (config.reward.targetMs !== undefined ? 'given' : 'synthetic latency of the default architecture'),
    optimumReward: record?.optimumReward ?? problem.optimumReward(reward),
    slots: config.concurrency ?? 1,
    workers: 0,
  };
}

/** Proxy training plus a latency oracle (device, predictor or MACs); T measured on the default architecture unless given. */
async function trainSetup(
  config: SearchConfig,
  space: SearchSpace,
  record: RunRecord | undefined,
  table: LatencyTable | undefined,
  resources: Resources,
  log: (line: string) => void,
  dataset: DatasetRef,
  run: RunPlan,
  trained?: TrainedTableSetup,
): Promise<EvaluationSetup> {
  const settings: ProxySettings = {
    dataset: { ...dataset, validationImages: config.dataset.validationImages },
    images: config.proxy.images,
    epochs: config.proxy.epochs,
    ...(config.proxy.batch !== undefined ? { batch: config.proxy.batch } : {}),
    ...(config.proxy.lr !== undefined ? { lr: config.proxy.lr } : {}),
    threads: config.proxy.threads,
    splitSeed: config.splitSeed,
  };
  if (run.redis !== undefined) {
    // BullMQ and ioredis load only for a distributed search
    const { DistributedSession } = await import('../distributed/session.js');
    resources.distributed = await DistributedSession.open({
      url: run.redis,
      runDir: run.dir,
      settings,
      device: { kind: config.device.kind, threads: config.device.threads, joinTimeoutS: config.device.joinTimeoutS },
      ...(config.concurrency !== undefined ? { inFlight: config.concurrency } : {}),
      workerWaitSeconds: config.workerWaitSeconds,
      onLog: log,
    });
    log(`search: distributed on ${resources.distributed.display} (run id ${resources.distributed.runId}); start workers with: mnas worker --redis URL`);
  }
  let oracle: LatencyOracle;
  let device: Json;
  const defaultDna = space.defaultDna();
  if (table && config.latencySource === 'predictor') {
    oracle = { kind: 'predictor', predictor: new LatencyPredictor(table) };
    device = { id: 'predictor', table: config.latencyTable as string, device: table.device as unknown as Json };
  } else {
    log(`search: opening latency device ${config.device.kind}${resources.distributed ? ' (measured by workers attached to it)' : ''}`);
    const opened = resources.distributed
      ? await resources.distributed.device()
      : await createDevice(config.device.kind as DeviceKind, { threads: config.device.threads, joinTimeoutS: config.device.joinTimeoutS });
    resources.device = opened;
    device = (await opened.describe()) as unknown as Json;
    if (config.latencySource === 'macs') {
      const plan = buildPlan(space.decode(defaultDna));
      const r = await opened.measure(planToModel(plan, 'default'));
      oracle = { kind: 'macs', macsPerMs: costOfPlan(plan).macs / r.latency_ms };
    } else {
      oracle = { kind: 'measured', device: opened };
    }
  }
  const otherDevices = new Map<string, LatencyDevice>();
  for (const kind of config.devices) {
    log(`search: opening latency device ${kind} (measured too, not for the reward)`);
    const d = await createDevice(kind, { threads: config.device.threads, joinTimeoutS: config.device.joinTimeoutS });
    (resources.otherDevices ??= []).push(d);
    otherDevices.set(kind, d);
  }
  if (otherDevices.size > 0) device = { ...(device as { [k: string]: Json }), other_devices: await Promise.all([...otherDevices.values()].map(async (d) => (await d.describe()) as unknown as Json)) };
  const workers = config.workers ?? availableParallelism();
  let trainer: ProxyTrainer;
  if (resources.distributed) trainer = resources.distributed.trainer;
  else {
    log(workers > 0 ? `search: starting ${workers} training worker(s) with ${config.proxy.threads} thread(s) each, loading ${config.dataset.name}` : `search: loading ${config.dataset.name}`);
    try {
      trainer = workers > 0 ? await WorkerPool.start({ workers, settings }) : InProcessTrainer.create(settings);
    } catch (e) {
      throw new SearchSetupError(`search: ${(e as Error).message}`, { cause: e });
    }
  }
  if (trained) {
    oracle = { kind: 'table', table: trained.table, device: config.device.kind, fallback: oracle };
    trainer = new TableTrainer(trained.table, trained.setting, trainer, config.proxy.threads);
  }
  resources.trainer = trainer;
  // QUEUED_AHEAD trials more in flight than there are local training processes: they are proposed,
  // planned and measured while the workers train and wait for the first free one, so with the ordered
  // schedule a worker that finishes early starts the next trial at once instead of waiting for an
  // older, slower trial to be recorded (the event sequence stays a function of the seed). Two rather
  // than one: two trials may finish behind a slow one before a worker idles. Replaying 300 searches
  // of 60 trials drawn from 60 measured proxy-trial times on 2 workers (bench/schedule-replay.mjs,
  // 2026-12-03, seeds 0 and 1), the span over the sum of trial times / 2 was 1.018-1.019 with one
  // ahead, 1.010-1.011 with two and 1.010 with three.
  let slots = !resources.distributed && workers > 0 ? trainer.slots + QUEUED_AHEAD : trainer.slots;
  let trainingProcesses = trainer.slots;

  // drift: wherever the search measures latencies on the device now (not predicted or from MACs); with a trained
  // table, the latencies of what it lacks (the table's own were measured in other runs and stay as they are)
  const measuring = (!trained || trained.missing === 'train') && MEASURING_SOURCES.includes(config.latencySource) ? resources.device : undefined;
  const reference = referenceOf(config, space);
  const referenceModel = measuring ? planToModel(buildPlan(reference.arch), 'reference') : undefined;
  const drift = measuring ? driftMonitor(measuring, referenceModel!, config, record ? storedDriftChecks(run.dir) : [], log) : undefined;
  let targetGiven = false; // set once T is resolved; the check runs during the trials
  const onStartOffSpeed = (startMs: number, trialsMs: number): void => {
    const off = startMs / trialsMs;
    const rewards = targetGiven
      ? `and so does the latency term of every reward against the given T: to measure the start again, start a new run (a resumed one keeps it)`
      : `(their ratios, and the rewards against T, the reference's latency, are unaffected)`;
    log(`search: the reference runs at ${trialsMs.toFixed(3)} ms in the trials' measurements (its fast speed over the first ${MIN_SEEN}) but measured ${startMs.toFixed(3)} ms at the start, in another speed mode: every latency in ms (ratio x the start's) reads about ${offText(off)} ${rewards}`);
  };
  const interleave = config.device.interleave && drift ? { reference: referenceModel!, referenceArch: printArch(reference.arch), startMs: () => drift.list()[0]!.ms, onStartOffSpeed } : undefined;
  const options = { seed: config.initSeed, ...(drift ? { drift } : {}), ...(interleave ? { interleave } : {}), ...(otherDevices.size > 0 ? { otherDevices } : {}) };
  const evaluatorFor = (targetMs: number | undefined, o: LatencyOracle = oracle) => new TrainEvaluator(space, trainer, o, { ...options, ...skipOverTarget(config, targetMs) });
  let referenceMs: number | undefined;
  if (drift) {
    referenceMs = await evaluatorFor(undefined).exclusive(() => drift.start());
    // a later run answered from the table alone finds T there, as this run measured it
    const referenceArch = printArch(reference.arch);
    if (trained && !trained.table.latency(referenceArch, config.device.kind)) trained.table.add(latencyRow(referenceArch, config.device.kind, referenceMs, { latency_ms: referenceMs, drift_reference: true }));
    if (record) log(`search: reference re-measured at ${drift.list().at(-1)!.ms.toFixed(3)} ms (${drift.list().at(-1)!.ratio.toFixed(3)} x the first session's ${referenceMs.toFixed(3)} ms)`);
  }
  const { reward, targetSource } = await resolveReward(config, record, log, `${config.latencySource} latency of ${reference.name}`, async () => {
    try {
      return referenceMs ?? (await evaluatorFor(undefined).latencyOfArch(reference.arch)).ms;
    } catch (e) {
      if (!(e instanceof MissingLayerError)) throw e;
      throw new SearchSetupError(`search: T: the latency table cannot predict ${reference.name}: ${e.message}; give reward.targetMs`, { cause: e });
    }
  });
  targetGiven = targetSource === 'given';
  if (resources.distributed) {
    // after T: the worker that measured it has been listed by then
    const width = await resources.distributed.queueWidth(QUEUED_AHEAD);
    slots = width.inFlight;
    trainingProcesses = width.processes;
    log(`search: ${slots} trial(s) queued for the workers at once (${queueWidthSource(width)})`);
  }
  if (config.latencySource === 'predicted-then-measured') {
    const margin = config.predictedMargin ?? marginOfTable(table!.calibration);
    const gate = new MeasureGate(reward, margin, config.final.topK);
    log(`search: predicted-then-measured: a candidate is measured if, ${(100 * margin).toFixed(0)}% faster than predicted, it could enter the measured front or the top ${gate.topK} by reward`);
    const o: LatencyOracle = { kind: 'predicted-then-measured', predictor: new LatencyPredictor(table!), device: resources.device!, gate };
    device = { ...(device as { [k: string]: Json }), predictor_table: config.latencyTable as string, margin };
    return { evaluator: evaluatorFor(reward.targetMs, o), device, reward, targetSource, slots, workers: trainingProcesses, ...(drift ? { drift } : {}), gate };
  }
  return { evaluator: evaluatorFor(reward.targetMs), device, reward, targetSource, slots, workers: trainingProcesses, ...(drift ? { drift } : {}) };
}

function queueWidthSource(w: QueueWidth): string {
  if (w.given) return 'concurrency as given';
  if (w.workers === 0) return `no train worker connected yet: 1 + ${QUEUED_AHEAD} ahead; --concurrency sets it`;
  return `${w.processes} training process(es) of ${w.workers} live train worker(s) + ${QUEUED_AHEAD} ahead; --concurrency sets it`;
}

/** The model whose latency is T unless T is given, and the drift checks' reference: reward.targetModel, or the space's default architecture. */
export function referenceOf(config: SearchConfig, space: SearchSpace): { arch: Arch; name: string } {
  const given = config.reward.targetModel;
  return given !== undefined ? { arch: resolveArch(given), name: given.length > 60 ? `${given.slice(0, 57)}...` : given } : { arch: space.decode(space.defaultDna()), name: `the ${config.space} default architecture` };
}

/** The drift monitor of a measured run: its reference is the model that sets T (whether or not T is given). */
function driftMonitor(device: LatencyDevice, reference: LatencyModel, config: SearchConfig, stored: readonly DriftCheck[], log: (line: string) => void): DriftMonitor {
  return new DriftMonitor(async (signal) => (await device.measure(reference, undefined, signal)).latency_ms, config.drift, stored, undefined, (c, previous) => {
    if (previous === undefined || c.corrects === previous.corrects) return;
    const change = `${c.ratio.toFixed(3)} x the start (tolerance ${(100 * config.drift.tolerance).toFixed(1)}%)`;
    log(c.corrects ? `search: the device drifted: the reference measures ${change}; correcting latencies from trial ${c.trialId ?? 'next'} on` : `search: the device is back within tolerance: the reference measures ${change}; latencies no longer corrected`);
  });
}

/** The drift checks of earlier sessions of a resumed run (check 0 is the reference kept). */
function storedDriftChecks(dir: string): DriftCheck[] {
  const store = ExperimentStore.open(dir, { readonly: true });
  try {
    return store.driftChecks();
  } finally {
    store.close();
  }
}

/** Under a hard constraint, architectures slower than T are not trained. */
function skipOverTarget(config: SearchConfig, targetMs: number | undefined): { skipAboveMs?: number } {
  return config.reward.preset === 'hard' && config.reward.skipOverTarget && targetMs !== undefined ? { skipAboveMs: targetMs } : {};
}

/** The reward and where T came from: as stored when resuming, as given, or the latency of the space's default architecture. */
async function resolveReward(
  config: SearchConfig,
  record: RunRecord | undefined,
  log: (line: string) => void,
  measuredSource: string,
  defaultLatencyMs: () => Promise<number>,
): Promise<{ reward: RewardConfig; targetSource: string }> {
  if (record) return { reward: record.reward, targetSource: record.targetSource };
  if (config.reward.targetMs !== undefined) return { reward: rewardConfig(config.reward.preset, config.reward.targetMs, customExponents(config)), targetSource: 'given' };
  const speedup = config.reward.targetSpeedup;
  const ms = (await defaultLatencyMs()) / (speedup ?? 1);
  const source = speedup === undefined ? measuredSource : `${measuredSource} / ${speedup}`;
  log(`search: target T = ${ms.toFixed(3)} ms (${source})`);
  return { reward: rewardConfig(config.reward.preset, ms, customExponents(config)), targetSource: source };
}

interface TrainedTableSetup {
  readonly table: TrainedTable;
  readonly setting: TrainSetting;
  readonly missing: 'train' | 'fail';
}

/** Whether the run trains anything for real (and so needs its data). */
function trainsForReal(config: SearchConfig): boolean {
  return config.evaluator === 'train' || (config.evaluator === 'table' && config.trainedTable?.missing === 'train');
}

/** The trained table of evaluator 'table' and the proxy setting the search looks up in it. */
function openTrainedTable(config: SearchConfig): TrainedTableSetup {
  const t = config.trainedTable!;
  if (t.missing === 'fail' && !existsSync(t.file)) throw new SearchSetupError(`search: trainedTable.file ${t.file} does not exist (with missing 'fail' nothing could be answered)`);
  const table = TrainedTable.open(t.file);
  const setting: TrainSetting = {
    dataset: config.dataset.name,
    task: 'proxy',
    images: config.proxy.images,
    epochs: config.proxy.epochs,
    validation: config.dataset.validationImages,
    splitSeed: config.splitSeed,
  };
  return { table, setting, missing: t.missing };
}

/** Evaluator 'table' with missing 'fail': every answer from the table, nothing trained, no device opened. */
async function tableOnlySetup(config: SearchConfig, space: SearchSpace, record: RunRecord | undefined, trained: TrainedTableSetup, log: (line: string) => void): Promise<EvaluationSetup> {
  const reference = referenceOf(config, space);
  const oracle: LatencyOracle = { kind: 'table', table: trained.table, device: config.device.kind, reference: printArch(reference.arch) };
  const trainer = new TableTrainer(trained.table, trained.setting, undefined);
  const evaluatorFor = (targetMs: number | undefined) => new TrainEvaluator(space, trainer, oracle, { seed: config.initSeed, ...skipOverTarget(config, targetMs) });
  const { reward, targetSource } = await resolveReward(config, record, log, `${config.device.kind} latency of ${reference.name} (trained table)`, async () => {
    try {
      return (await evaluatorFor(undefined).latencyOfArch(reference.arch)).ms;
    } catch (e) {
      throw new SearchSetupError(`search: T: ${(e as Error).message}; give reward.targetMs`);
    }
  });
  const evaluator = evaluatorFor(reward.targetMs);
  return { evaluator, device: { id: 'trained-table', file: config.trainedTable!.file, device: config.device.kind }, reward, targetSource, slots: config.concurrency ?? 1, workers: 0 };
}

function runExists(dir: string): SearchSetupError {
  return new SearchSetupError(`search: ${dir} already holds a run; continue it with --resume ${dir} or choose another --out`);
}

function acquireLock(dir: string): RunLock {
  try {
    return RunLock.acquire(dir);
  } catch (e) {
    if (e instanceof RunLockedError) throw new SearchSetupError(`search: ${e.message}`, { cause: e });
    throw e;
  }
}

function checkWritableDir(dir: string, option: string): void {
  try {
    checkWritable(dir);
  } catch (e) {
    if (e instanceof NotWritableError) throw new SearchSetupError(`search: ${option}: ${e.message}`, { cause: e });
    throw e;
  }
}

function readLatencyTable(file: string, space: SearchSpace): LatencyTable {
  let table: LatencyTable;
  try {
    table = loadTable(file);
  } catch (e) {
    if (e instanceof LatencyTableError) throw new SearchSetupError(`search: ${e.message}`, { cause: e });
    throw e;
  }
  if (table.space !== space.name) throw new SearchSetupError(`search: latency table '${file}' is for space '${table.space}', not '${space.name}'`);
  return table;
}

/** A table profiled for the space at another input shape or number of classes lacks layers: found here, not at the first trial. */
function checkTableCovers(table: LatencyTable, file: string, space: SearchSpace): void {
  try {
    new LatencyPredictor(table).predict(space.decode(space.defaultDna()));
  } catch (e) {
    if (!(e instanceof MissingLayerError)) throw e;
    const g = space.skeleton;
    throw new SearchSetupError(`search: latency table '${file}' does not cover space '${space.name}' at input ${g.input.height}x${g.input.width}x${g.input.channels} with ${g.classes} classes (${e.message})`, { cause: e });
  }
}

function sessionFigures(strategy: Strategy, s: { evaluated: number; reused: number; failed: number; skipped: number }, seconds: number, workers: number, perTrial: TrialCosts | null): SearchResult['session'] {
  return {
    evaluated: s.evaluated,
    reused: s.reused,
    failed: s.failed,
    skipped: s.skipped,
    seconds,
    workers,
    trials_per_hour: seconds > 0 ? ((s.evaluated + s.reused) * 3600) / seconds : 0,
    strategy_updates: strategy instanceof PpoSearch ? strategy.updates : null,
    per_trial: perTrial,
  };
}
