/**
 * The PyTorch side of `mnas bench proxy`: a long-lived Debian python3-torch process
 * (bench/proxy_pytorch.py) that runs the same proxy trials as mnas (same plans, recipe and data
 * split) and reports their time, accuracy and memory figures.
 *
 * `writePeerSpec` writes what the peer needs as one JSON file:
 *
 *   {"data": {"images": path, "labels": path, "count", "height", "width", "channels", "classes", "mean": [..], "std": [..]},
 *    "train_indices": [..], "validation_indices": [..],
 *    "recipe": TrainRecipe with augmentation resolved to {"padding", "flip"},
 *    "trials": [{"arch": as given, "plan": NetworkPlan of the arch with the recipe's bnMomentum / dropout applied,
 *                "eval_batch_size": the evaluation batch trainArch uses for that plan (evaluationBatchSize)}]}
 *
 * Protocol (JSON lines): the peer prints {"ready": true, "torch", "threads", "jemalloc", "trials"};
 * {"trial": i} on its stdin answers one result line; {"quit": true} or EOF ends it with exit 0;
 * any error is one {"error": "..."} line and exit 1.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { defaultAugmentation, NO_AUGMENTATION, type AugmentationOptions } from '../data/augmentation.js';
import type { DataSplit, Dataset } from '../data/dataset.js';
import { buildPlan, type NetworkPlan } from '../model/plan.js';
import type { TensorDataset } from '../train/tensor-data.js';
import { withGlobal } from '../space/arch.js';
import { resolveArch } from '../space/resolve.js';
import { validateRecipe, type TrainRecipe } from '../train/recipe.js';
import { checkArchFitsData, evaluationBatchSize } from '../train/run.js';
import { InputError } from '../util/input-error.js';
import { repoRoot } from '../util/paths.js';
import { writeFileAtomic } from '../util/write-atomic.js';

export const DEFAULT_PEER_PYTHON = '/usr/bin/python3';
export const DEFAULT_JEMALLOC_CONF = 'dirty_decay_ms:-1,muzzy_decay_ms:-1';

export interface PeerSpecInput {
  /** Presets or arch strings (anything resolveArch takes); each must fit the split's dataset. */
  archs: readonly string[];
  split: DataSplit;
  recipe: TrainRecipe;
  /** The IDX files (raw or .gz) of split.pool, which the peer reads itself. */
  dataFiles: { images: string; labels: string };
}

/** The JSON the peer reads (see the module comment). */
export interface PeerSpec {
  readonly data: { readonly images: string; readonly labels: string } & Pick<TensorDataset, 'count' | 'height' | 'width' | 'channels' | 'classes' | 'mean' | 'std'>;
  readonly train_indices: readonly number[];
  readonly validation_indices: readonly number[];
  readonly recipe: Omit<TrainRecipe, 'augmentation'> & { readonly augmentation: AugmentationOptions };
  readonly trials: readonly { readonly arch: string; readonly plan: NetworkPlan; readonly eval_batch_size: number }[];
}

/** The augmentation trainArch uses for this recipe and dataset. */
export function resolvedAugmentation(recipe: TrainRecipe, data: Pick<Dataset, 'name' | 'height' | 'width' | 'allowsHorizontalFlip'>): AugmentationOptions {
  const a = recipe.augmentation === 'default' ? defaultAugmentation(data) : recipe.augmentation === 'none' ? NO_AUGMENTATION : recipe.augmentation;
  if (a.flip && !data.allowsHorizontalFlip) throw new Error(`peer spec: ${data.name} does not allow horizontal flips (they change labels)`);
  return { padding: a.padding, flip: a.flip };
}

export function makePeerSpec(input: PeerSpecInput): PeerSpec {
  const recipe = validateRecipe(input.recipe);
  const { pool, train, validation } = input.split;
  if (train.length < recipe.batchSize) throw new Error(`peer spec: ${train.length} training images are fewer than one batch of ${recipe.batchSize}`);
  if (validation.length === 0) throw new Error('peer spec: the split has no validation images to score on');
  if (input.archs.length === 0) throw new Error('peer spec: no architectures');
  const overrides = {
    ...(recipe.bnMomentum !== undefined ? { bnMomentum: recipe.bnMomentum } : {}),
    ...(recipe.dropout !== undefined ? { dropout: recipe.dropout } : {}),
  };
  const trials = input.archs.map((spec) => {
    const arch = resolveArch(spec);
    checkArchFitsData(arch, pool);
    const plan = buildPlan(withGlobal(arch, overrides));
    return { arch: spec, plan, eval_batch_size: evaluationBatchSize(plan, recipe.evalBatchSize) };
  });
  return {
    data: {
      images: path.resolve(input.dataFiles.images),
      labels: path.resolve(input.dataFiles.labels),
      count: pool.count,
      height: pool.height,
      width: pool.width,
      channels: pool.channels,
      classes: pool.classes,
      mean: pool.mean,
      std: pool.std,
    },
    train_indices: Array.from(train),
    validation_indices: Array.from(validation),
    recipe: { ...recipe, augmentation: resolvedAugmentation(recipe, pool) },
    trials,
  };
}

export function writePeerSpec(file: string, input: PeerSpecInput): void {
  writeFileAtomic(file, JSON.stringify(makePeerSpec(input)));
}

export interface PeerStartOptions {
  specFile: string;
  /** torch.set_num_threads in the peer (inter-op threads are 1). */
  threads: number;
  /** Preload Debian's libjemalloc.so.2 with MALLOC_CONF = `mallocConf`; otherwise glibc malloc. */
  jemalloc: boolean;
  /**
   * jemalloc's MALLOC_CONF, default DEFAULT_JEMALLOC_CONF (freed pages are never returned). Adding
   * `thp:always` gives jemalloc transparent huge pages, as mnas's caching allocator has them.
   */
  mallocConf?: string;
  /** Default /usr/bin/python3 (Debian's, which has python3-torch). */
  python?: string;
  /** Default bench/proxy_pytorch.py of this repository. */
  script?: string;
}

export interface PeerInfo {
  readonly torch: string;
  readonly threads: number;
  readonly jemalloc: boolean;
  readonly trials: number;
}

interface PeerTrialCommon {
  readonly trial: number;
  readonly arch: string;
  readonly params: number;
  /** Optimizer steps taken. */
  readonly steps: number;
  /** Wall seconds of the whole trial: build, training, BN recalibration, evaluation. */
  readonly seconds: number;
  readonly trainSeconds: number;
  /** ru_minflt, ru_stime and ru_utime deltas over the trial. */
  readonly minorFaults: number;
  readonly systemSeconds: number;
  readonly userSeconds: number;
  /** VmHWM after the trial (reset before it where /proc/self/clear_refs allows; else the process's peak so far). */
  readonly peakRssBytes: number | null;
}

export type PeerTrialResult =
  | (PeerTrialCommon & { readonly status: 'done'; readonly valAccuracy: number; readonly valLoss: number })
  | (PeerTrialCommon & { readonly status: 'failed'; readonly reason: string });

const STDERR_KEEP = 16_384;
const CLOSE_GRACE_MS = 10_000;

/** Debian's jemalloc (package libjemalloc2), or undefined when it is not installed. */
export function findJemalloc(): string | undefined {
  const multiarch = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
  const direct = `/usr/lib/${multiarch}/libjemalloc.so.2`;
  if (existsSync(direct)) return direct;
  for (const ldconfig of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
    const r = spawnSync(ldconfig, ['-p'], { encoding: 'utf8' });
    if (r.status !== 0) continue;
    const m = /libjemalloc\.so\.2 \([^)]*\) => (\S+)/.exec(r.stdout);
    return m?.[1];
  }
  return undefined;
}

function peerEnvironment(jemalloc: boolean, mallocConf: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // 'plain' means glibc malloc even when the caller's environment preloads something
  delete env['LD_PRELOAD'];
  delete env['MALLOC_CONF'];
  if (jemalloc) {
    const lib = findJemalloc();
    if (!lib) throw new PeerUnavailableError('PyTorch peer: jemalloc was asked for but libjemalloc.so.2 is not installed (apt-get install libjemalloc2)');
    env['LD_PRELOAD'] = lib;
    env['MALLOC_CONF'] = mallocConf;
  }
  return env;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * The peer cannot start because this machine lacks something (python3, python3-torch,
 * libjemalloc2): the user's to install, so the command line says it in one line with exit code 2.
 */
export class PeerUnavailableError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'PeerUnavailableError';
  }
}

/** Exit code of TORCH_PROBE when the python has no torch module. */
const NO_TORCH = 3;
const TORCH_PROBE = `import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('torch') else ${NO_TORCH})`;

/**
 * Refuses, before anything runs, a python that does not exist or cannot import torch, naming what
 * to install (`who` prefixes the message). The probe finds the module without importing it; any
 * other failure of the probe is left to the real run to report.
 */
export function requireTorchPython(python: string, who: string): void {
  const r = spawnSync(python, ['-c', TORCH_PROBE], { stdio: 'ignore', timeout: 30_000 });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new PeerUnavailableError(`${who}: ${python} not found (apt-get install python3 python3-torch)`);
  if (r.status === NO_TORCH) throw new PeerUnavailableError(`${who}: ${python} has no torch module (apt-get install python3-torch)`);
}

export class PytorchPeer {
  private readonly lines: AsyncIterator<string>;
  private stderrTail = '';
  private readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;
  /** Set once an error has been reported to a caller, so close() does not report it again. */
  private failed = false;
  private queue: Promise<unknown> = Promise.resolve();
  private readyInfo: PeerInfo | undefined;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    // a write after the peer died fails with EPIPE; the failure is reported by the read that follows
    child.stdin.on('error', () => undefined);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      this.stderrTail = (this.stderrTail + s).slice(-STDERR_KEEP);
    });
    this.lines = createInterface({ input: child.stdout, crlfDelay: Infinity })[Symbol.asyncIterator]();
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => resolve((this.exitCode = code ?? (signal ? -1 : null))));
      child.once('error', () => resolve((this.exitCode = -1)));
    });
  }

  /** Spawns the peer and waits for its ready line; rejects naming what is missing (python, python3-torch, jemalloc, the script). */
  static async start(o: PeerStartOptions): Promise<PytorchPeer> {
    if (!Number.isInteger(o.threads) || o.threads < 1) throw new Error(`PyTorch peer: threads must be a positive integer, got ${o.threads}`);
    const python = o.python ?? DEFAULT_PEER_PYTHON;
    const script = o.script ?? path.join(repoRoot(), 'bench', 'proxy_pytorch.py');
    if (!existsSync(python)) throw new PeerUnavailableError(`PyTorch peer: ${python} not found (apt-get install python3 python3-torch)`);
    if (!existsSync(script)) throw new Error(`PyTorch peer: the script ${script} does not exist`);
    if (!existsSync(o.specFile)) throw new Error(`PyTorch peer: the spec ${o.specFile} does not exist (writePeerSpec writes it)`);
    const env = peerEnvironment(o.jemalloc, o.mallocConf ?? DEFAULT_JEMALLOC_CONF);
    const child = spawn(python, [script, '--spec', o.specFile, '--threads', String(o.threads)], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const spawnFailure = new Promise<never>((_, reject) => {
      child.once('error', (e) => reject(new Error(`PyTorch peer: cannot run ${python}: ${e.message}`)));
    });
    const peer = new PytorchPeer(child);
    try {
      const ready = await Promise.race([peer.readMessage('starting'), spawnFailure]);
      if (ready['ready'] !== true) throw new Error(`PyTorch peer: expected the ready line, got ${JSON.stringify(ready)}`);
      const info: PeerInfo = {
        torch: String(ready['torch']),
        threads: Number(ready['threads']),
        jemalloc: ready['jemalloc'] === true,
        trials: Number(ready['trials']),
      };
      if (o.jemalloc && !info.jemalloc) {
        throw new PeerUnavailableError(`PyTorch peer: LD_PRELOAD=${env['LD_PRELOAD']} did not load jemalloc into the process${peer.stderrSuffix()}`);
      }
      peer.readyInfo = info;
      return peer;
    } catch (e) {
      await peer.kill();
      throw e;
    }
  }

  /** What the ready line said. */
  get info(): PeerInfo {
    if (!this.readyInfo) throw new Error('PyTorch peer: not started');
    return this.readyInfo;
  }

  /** Runs proxy trial `i` of the spec. Calls are queued: one trial runs at a time. */
  runTrial(i: number): Promise<PeerTrialResult> {
    const run = this.queue.then(() => this.trial(i));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async trial(i: number): Promise<PeerTrialResult> {
    if (!Number.isInteger(i) || i < 0) throw new Error(`PyTorch peer: trial must be a non-negative integer, got ${i}`);
    if (this.exitCode !== undefined) throw new Error(`PyTorch peer: the process has exited (code ${this.exitCode})`);
    this.child.stdin.write(`${JSON.stringify({ trial: i })}\n`);
    return parseTrialResult(await this.readMessage(`trial ${i}`), i);
  }

  /** Asks the peer to quit and waits for it (killing it after 10 s). */
  async close(): Promise<void> {
    await this.queue;
    if (this.exitCode === undefined && this.child.stdin.writable) {
      this.child.stdin.end(`${JSON.stringify({ quit: true })}\n`);
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), CLOSE_GRACE_MS);
    const code = await this.exited;
    clearTimeout(timer);
    if (code !== 0 && !this.failed) {
      this.failed = true;
      throw new Error(`PyTorch peer exited with code ${code}${this.stderrSuffix()}`);
    }
  }

  private async kill(): Promise<void> {
    if (this.exitCode === undefined) this.child.kill('SIGKILL');
    await this.exited;
  }

  private stderrSuffix(): string {
    const tail = this.stderrTail.trim();
    return tail ? `\n--- peer stderr (end) ---\n${tail.slice(-4000)}` : '';
  }

  /** The next protocol line as an object; an {"error"} line or the end of output rejects. */
  private async readMessage(what: string): Promise<Record<string, unknown>> {
    try {
      const next = await this.lines.next();
      if (next.done) {
        const code = await this.exited;
        throw new Error(`PyTorch peer (${what}): the process ended without answering (exit code ${code})${this.stderrSuffix()}`);
      }
      let message: unknown;
      try {
        message = JSON.parse(next.value);
      } catch {
        throw new Error(`PyTorch peer (${what}): not a JSON line: ${next.value.slice(0, 200)}`);
      }
      if (!isRecord(message)) throw new Error(`PyTorch peer (${what}): expected a JSON object, got ${next.value.slice(0, 200)}`);
      if (typeof message['error'] === 'string') {
        await this.exited;
        const text = `PyTorch peer (${what}): ${message['error']}${this.stderrSuffix()}`;
        throw message['missing'] === true ? new PeerUnavailableError(text) : new Error(text);
      }
      return message;
    } catch (e) {
      this.failed = true;
      throw e;
    }
  }
}

function parseTrialResult(m: Record<string, unknown>, i: number): PeerTrialResult {
  const number = (key: string): number => {
    const v = m[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`PyTorch peer (trial ${i}): '${key}' should be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  if (m['trial'] !== i) throw new Error(`PyTorch peer (trial ${i}): answered for trial ${JSON.stringify(m['trial'])}`);
  const common: PeerTrialCommon = {
    trial: i,
    arch: String(m['arch']),
    params: number('params'),
    steps: number('steps'),
    seconds: number('seconds'),
    trainSeconds: number('train_seconds'),
    minorFaults: number('minor_faults'),
    systemSeconds: number('system_seconds'),
    userSeconds: number('user_seconds'),
    peakRssBytes: m['peak_rss_bytes'] === null ? null : number('peak_rss_bytes'),
  };
  if (m['status'] === 'failed') return { ...common, status: 'failed', reason: String(m['reason']) };
  if (m['status'] !== 'done') throw new Error(`PyTorch peer (trial ${i}): unknown status ${JSON.stringify(m['status'])}`);
  return { ...common, status: 'done', valAccuracy: number('val_accuracy'), valLoss: number('val_loss') };
}
