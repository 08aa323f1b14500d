/**
 * `mnas search`: the main job (src/search/setup.ts runs it). Proposes architectures with a
 * strategy (PPO by default), trains each on the proxy task, measures its latency on the target
 * device, rewards ACC x (LAT/T)^w, and stores every trial in SQLite in the run directory so
 * `--resume DIR` continues after any crash. Writes the Pareto front, the best architecture, a
 * summary and an HTML report; with --final-epochs the top-k architectures are fully trained,
 * tested and exported. This file parses flags, shows progress and handles SIGINT/SIGTERM.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { DATASET_NAMES, isDatasetName } from '../data/load.js';
import { spaceNames } from '../space/space.js';
import { DEVICE_KINDS } from '../latency/registry.js';
import { MAX_CLASSES } from '../model/limits.js';
import { DEFAULT_DRIFT_TOLERANCE, EVALUATORS, LATENCY_SOURCES, MAX_CONCURRENCY, mergeConfig, type SearchConfigInput } from '../search/config.js';
import { STRATEGY_KINDS } from '../search/strategy-kinds.js';
import { readConfigFile } from '../search/run-config.js';
import { search, type SearchResult } from '../search/setup.js';
import { describeTrialCosts } from '../search/trial-costs.js';
import { driftLabel, driftText, failedText } from '../search/report-html.js';
import { UsageError } from './errors.js';
import { choiceOption, floatOption, intOption } from './options.js';
import { dataProgress, Progress } from './progress.js';

interface SearchFlags {
  config?: string;
  strategy?: string;
  evaluator?: string;
  trainedTable?: string;
  tableMissing?: string;
  device?: string;
  devices?: string[];
  latencySource?: string;
  latencyTable?: string;
  predictedMargin?: number;
  driftEveryTrials?: number;
  driftEverySeconds?: number;
  driftTolerance?: number;
  interleave?: boolean;
  space?: string;
  input?: string;
  classes?: number;
  targetMs?: number;
  targetModel?: string;
  targetSpeedup?: number;
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
  redis?: string;
  maxMinutes?: number;
  workerWait?: number;
  seed?: number;
  splitSeed?: number;
  initSeed?: number;
  dataset?: string;
  dataDir?: string;
  validationImages?: number;
  resize?: boolean;
  skipBadFiles?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export function registerSearch(program: Command, write: (s: string) => void = (s) => void process.stdout.write(s)): void {
  program
    .command('search')
    .description('search the space for the best accuracy-latency trade-off (MnasNet), resumable after any crash')
    .option('--config <file>', 'JSON config file (flags override it); unknown keys are errors')
    .option('--strategy <kind>', `search strategy: ${STRATEGY_KINDS.join('|')}`, choiceOption('--strategy', STRATEGY_KINDS))
    .option('--evaluator <kind>', `train (proxy training + latency), synthetic (closed form, no training) or table (answers from --trained-table)`, choiceOption('--evaluator', EVALUATORS))
    .option('--trained-table <file>', 'evaluator table: the trained table (JSON Lines, e.g. from mnas bench proxy-fidelity)')
    .option('--table-missing <what>', 'evaluator table: train (and add) what the table lacks, or fail those trials (default train)', choiceOption('--table-missing', ['train', 'fail'] as const))
    .option('--device <kind>', `latency device: ${DEVICE_KINDS.join('|')}`, choiceOption('--device', DEVICE_KINDS))
    .option('--devices <kinds>', `other latency devices to measure every trained candidate on, comma-separated (${DEVICE_KINDS.join('|')}; not the target --device): a Pareto front per device`, deviceList)
    .option('--latency-source <kind>', `measured (default), predictor, macs, or predicted-then-measured (the predictor for all, a measurement for those that could enter the front or the top by reward; needs --latency-table)`, choiceOption('--latency-source', LATENCY_SOURCES))
    .option('--latency-table <file>', 'latency table of the target device (mnas latency profile) for --latency-source predictor or predicted-then-measured')
    .option('--predicted-margin <fraction>', "predicted-then-measured: the predictor's error allowed for, e.g. 0.1 (default: from the table's calibration, else 0.1)", fractionOption('--predicted-margin', 0, 0.9))
    .option('--drift-every-trials <n>', 'measured latencies, not interleaved (any --drift-* option turns the default interleaving off): re-measure the reference architecture every N trials (default 20)', intOption('--drift-every-trials', 1))
    .option('--drift-every-seconds <s>', 'measured latencies: ...or once this many seconds have passed since the last check (default 600)', intOption('--drift-every-seconds', 1, 7 * 86_400))
    .option('--interleave', 'measure every trial interleaved with the reference model (the one whose latency is T): LAT = ratio x its latency at the start, immune to the machine\'s speed changes (default: on where it applies: ort-cpu, measured latencies, a local search)')
    .option('--no-interleave', 'measure each trial on its own, corrected by the drift checks of the reference')
    .option('--drift-tolerance <fraction>', `measured latencies: correct them once the reference is off by more than this (default ${DEFAULT_DRIFT_TOLERANCE})`, fractionOption('--drift-tolerance', 0, 1, true))
    .option('--space <name>', `search space: ${spaceNames().join('|')}`)
    .option('--input <HxWxC>', "the space's input shape, e.g. 64x64x3 (default: the data's; image folders: the space's own); data of another shape is refused")
    .option('--classes <n>', "the space's number of classes (default: the data's); data with another number is refused", intOption('--classes', 1, MAX_CLASSES))
    .option('--target-ms <T>', 'latency target T in ms (default: the latency of the space default architecture)', floatOption('--target-ms', 1e-6))
    .option('--target-model <model>', 'T = the latency of this model on the target device, measured at the start and re-measured by the drift checks: a preset name (e.g. bench-fmnist), an arch string or a file holding one')
    .option('--target-speedup <x>', 'T = the latency of --target-model (or of the space default architecture) / x: 1.3 searches for models 1.3x faster than it', floatOption('--target-speedup', 0.01, 100))
    .option('--reward <kind>', 'soft (alpha = beta = -0.07) or hard (alpha 0, beta -1)', choiceOption('--reward', ['soft', 'hard'] as const))
    .option('--budget <n>', 'number of trials', intOption('--budget', 1))
    .option('--proxy-images <n>', 'proxy-training images per trial', intOption('--proxy-images', 1))
    .option('--proxy-epochs <n>', 'proxy-training epochs per trial', intOption('--proxy-epochs', 1))
    .option('--final-epochs <n>', 'fully train, test and export the top-k architectures for N epochs', intOption('--final-epochs', 0))
    .option('--top-k <n>', 'how many architectures --final-epochs trains', intOption('--top-k', 1))
    .option('--concurrency <n>', 'trials evaluated at once (synthetic and table evaluators; default 1), or queued for the workers at once (--redis; default: the training processes of the workers live at the start + 2)', intOption('--concurrency', 1, MAX_CONCURRENCY))
    .option('--workers <n>', 'training processes, one trial each at a time; 0 trains in this process (default: one per core)', intOption('--workers', 0, 256))
    .option('--threads-per-worker <n>', 'libtorch threads of each training process (default 1)', intOption('--threads-per-worker', 1, 256))
    .option('--out <dir>', 'run directory (default runs/search-<time>)')
    .option('--resume <dir>', 'continue the run in DIR with its stored config')
    .option('--redis <url>', 'distribute training and measuring to `mnas worker`s through Redis: redis[s]://[user[:password]@]host[:port][/db] (password better in MNAS_REDIS_PASSWORD; a private CA of rediss:// in MNAS_REDIS_CA); allowed with --resume')
    .option('--max-minutes <m>', 'propose no trial after M minutes of searching (after set-up): trials in flight finish, then the run stops, resumable with --resume DIR; allowed with --resume', fractionOption('--max-minutes', 0, 10_000_000, true))
    .option('--worker-wait <s>', 'with --redis: stop (resumable) when a job waited this long with no live worker that takes it (default 600)', intOption('--worker-wait', 1, 7 * 86_400))
    .option('--seed <n>', 'seed of the strategy: which architectures are proposed', intOption('--seed', 0))
    .option('--split-seed <n>', 'seed of the validation split and the proxy subset (default 0: the same images for every run)', intOption('--split-seed', 0))
    .option('--init-seed <n>', 'seed of weight initialisation and shuffling: trial k trains with it + k (default 0)', intOption('--init-seed', 0))
    .option('--dataset <name|path>', `${DATASET_NAMES.join('|')}, or your own data: an image folder (one subfolder per class), an .npz, or a folder of .npy / IDX / CIFAR-10 files`)
    .option('--data-dir <dir>', 'folder of a built-in dataset\'s files (mnist, cifar10; fashion-mnist defaults to Debian\'s package)')
    .option('--validation-images <n>', 'training images held out to score architectures (default 10000)', intOption('--validation-images', 1))
    .option('--no-resize', 'own images must already have one size, which becomes the space\'s input resolution unless --input (default: resized to it)')
    .option('--skip-bad-files', 'skip (and list) files of an image folder that are not decodable PNG/JPEG images')
    .option('--quiet', 'no progress display')
    .option('--json', 'print one JSON object on the last line')
    .action(async (flags: SearchFlags) => {
      const result = await searchCommand(flags);
      if (flags.json) write(`${JSON.stringify(result)}\n`);
      else write(formatResult(result));
    });
}

function flagsToConfig(f: SearchFlags): Record<string, unknown> {
  return {
    space: f.space,
    input: f.input,
    classes: f.classes,
    strategy: f.strategy ? { kind: f.strategy } : undefined,
    evaluator: f.evaluator,
    trainedTable: f.trainedTable !== undefined || f.tableMissing !== undefined ? { file: f.trainedTable !== undefined ? path.resolve(f.trainedTable) : undefined, missing: f.tableMissing } : undefined,
    device: f.device || f.interleave !== undefined ? { kind: f.device, interleave: f.interleave } : undefined,
    devices: f.devices,
    latencySource: f.latencySource,
    latencyTable: f.latencyTable !== undefined ? path.resolve(f.latencyTable) : undefined,
    predictedMargin: f.predictedMargin,
    drift:
      f.driftEveryTrials !== undefined || f.driftEverySeconds !== undefined || f.driftTolerance !== undefined
        ? { everyTrials: f.driftEveryTrials, everySeconds: f.driftEverySeconds, tolerance: f.driftTolerance }
        : undefined,
    reward:
      f.reward || f.targetMs !== undefined || f.targetModel !== undefined || f.targetSpeedup !== undefined
        ? { preset: f.reward, targetMs: f.targetMs, targetModel: f.targetModel, targetSpeedup: f.targetSpeedup }
        : undefined,
    budget: f.budget,
    proxy:
      f.proxyImages !== undefined || f.proxyEpochs !== undefined || f.threadsPerWorker !== undefined
        ? { images: f.proxyImages, epochs: f.proxyEpochs, threads: f.threadsPerWorker }
        : undefined,
    workers: f.workers,
    dataset:
      f.dataset !== undefined || f.dataDir !== undefined || f.validationImages !== undefined || f.resize === false || f.skipBadFiles
        ? { name: f.dataset !== undefined && !isDatasetName(f.dataset) ? path.resolve(f.dataset) : f.dataset, dataDir: f.dataDir, validationImages: f.validationImages, resize: f.resize === false ? false : undefined, skipBadFiles: f.skipBadFiles }
        : undefined,
    final: f.finalEpochs !== undefined || f.topK !== undefined ? { epochs: f.finalEpochs, topK: f.topK } : undefined,
    concurrency: f.concurrency,
    workerWaitSeconds: f.workerWait,
    seed: f.seed,
    splitSeed: f.splitSeed,
    initSeed: f.initSeed,
  };
}

/** --devices engine,browser: known device kinds, each once (the config check refuses the target device among them). */
function deviceList(text: string): string[] {
  const kinds = text.split(',').map((k) => k.trim()).filter((k) => k.length > 0);
  if (kinds.length === 0) throw new UsageError(`--devices: give one or more of ${DEVICE_KINDS.join(', ')}, comma-separated`);
  for (const k of kinds) if (!(DEVICE_KINDS as readonly string[]).includes(k)) throw new UsageError(`--devices: unknown device '${k}' (known: ${DEVICE_KINDS.join(', ')})`);
  return kinds;
}

/** A fraction in [min, max] (or (min, max) when open). */
function fractionOption(flag: string, min: number, max: number, open = false): (text: string) => number {
  return (text) => {
    const v = Number(text);
    const ok = text.trim() !== '' && Number.isFinite(v) && (open ? v > min && v < max : v >= min && v <= max);
    if (!ok) throw new UsageError(`${flag}: expected a number in ${open ? '(' : '['}${min}, ${max}${open ? ')' : ']'}, got '${text}'`);
    return v;
  };
}

function dropUndefined(v: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(v)) as Record<string, unknown>;
}

/** Runs `mnas search` with its flags: progress on stderr, Ctrl-C leaves the run resumable (exit 130). */
export async function searchCommand(flags: SearchFlags): Promise<SearchResult> {
  const quiet = flags.quiet === true;
  const log = (line: string) => {
    if (!quiet) process.stderr.write(`${line}\n`);
  };
  const given = dropUndefined(flagsToConfig(flags));
  if (flags.resume !== undefined && (flags.config || Object.keys(given).length > 0)) {
    throw new UsageError(`search: --resume continues with the stored config; do not pass ${flags.config ? '--config' : `options for ${Object.keys(given).join(', ')}`}`);
  }
  const abort = new AbortController();
  const onSignal = () => {
    log('search: interrupted; in-flight trials stay pending for --resume');
    abort.abort(new Error('interrupted'));
  };
  let progress: Progress | undefined;
  let finalProgress: Progress | undefined;
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const source = flags.resume !== undefined
      ? { resume: flags.resume }
      : {
          // checked against the schema by search()
          config: mergeConfig(flags.config ? readConfigFile(flags.config) : {}, given) as SearchConfigInput,
          configSource: flags.config ?? 'search options',
          ...(flags.out !== undefined ? { out: flags.out } : {}),
        };
    const result = await search({
      ...source,
      ...(flags.redis !== undefined ? { redis: flags.redis } : {}),
      ...(flags.maxMinutes !== undefined ? { maxMinutes: flags.maxMinutes } : {}),
      signal: abort.signal,
      onLog: log,
      onDataProgress: dataProgress(quiet),
      onStart: (e) => {
        progress = new Progress({ label: 'search', total: e.budget, silent: quiet });
        progress.update(e.finished, '');
      },
      onTrial: (p) =>
        progress?.update(p.finished, `best ${p.bestReward?.toFixed(4) ?? '-'} pareto ${p.paretoSize} last ${p.status === 'done' ? p.reward.toFixed(4) : p.status === 'skipped' ? 'skipped (slower than T)' : 'failed'}${p.reused ? ' (reused)' : ''}`),
      onFinalEpoch: (e) => {
        if (e.epoch === 1 || !finalProgress) finalProgress = new Progress({ label: `final ${e.rank}`, total: e.epochs, silent: quiet });
        finalProgress.update(e.epoch, `loss ${e.loss.toFixed(4)}`);
      },
    });
    // a session that ran out of its time ended as asked; any other stop before the budget is an interruption
    if (result.interrupted && result.stop_reason !== 'time limit') process.exitCode = 130;
    return result;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function formatDuration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  return m > 0 ? `${m} min ${Math.round(seconds - 60 * m)} s` : `${seconds.toFixed(1)} s`;
}

function formatResult(r: SearchResult): string {
  const s = r.session;
  const lines = [
    `this session: ${s.evaluated} trials evaluated, ${s.reused} reused, ${failedText(s.failed, s.skipped)} in ${formatDuration(s.seconds)}` +
      `${s.workers > 0 ? ` on ${s.workers} training process(es)` : ''} (${s.trials_per_hour.toFixed(0)} trials/h)` +
      `${s.strategy_updates !== null ? `; the PPO controller made ${s.strategy_updates} update(s)` : ''}`,
    ...(s.per_trial ? [describeTrialCosts(s.per_trial)] : []),
    `run: ${r.out}`,
    `trials: ${r.trials} (${r.done} done, ${failedText(r.failed, r.skipped)})${r.interrupted ? ` — ${r.stop_reason === 'time limit' ? 'stopped at the time limit' : 'interrupted'}, continue with --resume ${r.out}` : ''}`,
    `target T: ${r.target_ms.toFixed(3)} ms`,
    `seeds: strategy ${r.seeds.strategy}, split ${r.seeds.split}, init ${r.seeds.init}`,
  ];
  if (r.best) lines.push(`best: acc ${(r.best.accuracy * 100).toFixed(2)}%  latency ${r.best.latency_ms.toFixed(3)} ms  reward ${r.best.reward.toFixed(4)}  (trial ${r.best.trial})`, `      ${r.best.arch}`);
  if (r.optimum_reward !== undefined) lines.push(`known optimum reward: ${r.optimum_reward.toFixed(4)}`);
  if (r.drift) lines.push(`${driftLabel(r.drift)}: ${driftText(r.drift)}`);
  if (r.measured) lines.push(`latencies measured: ${r.measured.measured} of ${r.measured.done} done trials (${(100 * r.measured.share).toFixed(1)}%); the front and the best hold measured ones only`);
  lines.push(`pareto front (${r.pareto.length}):`);
  for (const p of r.pareto) lines.push(`  acc ${(p.accuracy * 100).toFixed(2)}%  ${p.latency_ms.toFixed(3)} ms  trial ${p.trial}`);
  for (const [kind, f] of Object.entries(r.devices ?? {})) {
    lines.push(`pareto front on ${kind} (${f.pareto.length}; pareto-${kind}.json):`);
    for (const p of f.pareto) lines.push(`  acc ${(p.accuracy * 100).toFixed(2)}%  ${p.latency_ms.toFixed(3)} ms (${p.target_latency_ms.toFixed(3)} ms on the target)  trial ${p.trial}`);
  }
  lines.push(`report: ${path.join(r.out, 'report.html')}`);
  return `${lines.join('\n')}\n`;
}
