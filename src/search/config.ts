/**
 * The configuration of a search run: what `mnas search` reads from --config and its flags,
 * validated with zod (unknown keys and bad values are errors that name the key), and stored in
 * the run's database so `--resume DIR` continues with exactly the same settings.
 */
import { z } from 'zod';
import { DATASET_NAMES } from '../data/load.js';
import { DEVICE_KINDS } from '../latency/registry.js';
import { MAX_CLASSES, parseInputShapeText } from '../model/limits.js';
import { buildPlan } from '../model/plan.js';
import { resolveArch } from '../space/resolve.js';
import { isInputError } from '../util/input-error.js';
import { RewardConfigSchema } from './reward.js';
import { STRATEGY_KINDS } from './strategy-kinds.js';


export const EVALUATORS = ['train', 'synthetic', 'table'] as const;
export const LATENCY_SOURCES = ['measured', 'predictor', 'macs', 'predicted-then-measured'] as const;

/** Latency sources that measure on the device (and so can drift). */
export const MEASURING_SOURCES: readonly string[] = ['measured', 'predicted-then-measured'];

/**
 * Default drift tolerance: the ratio of two latencies each known to +-2% (the measurement
 * protocol's precision, DEFAULT_PROTOCOL.relPrecision) is known to about +-2% x sqrt(2); a
 * smaller change of the reference cannot be told from measurement noise.
 */
export const DEFAULT_DRIFT_TOLERANCE = 0.028;

const positiveInt = z.number().int().positive();
/** A positive integer with a ceiling: a typo of a few zeros must not start a run that cannot end or fit. */
const upTo = (max: number) => positiveInt.max(max);

/** Most trials a search runs or queues at once (`concurrency`). */
export const MAX_CONCURRENCY = 4096;

export const SearchConfigSchema = z
  .object({
    /** Where an editor finds this file's JSON Schema (`mnas config schema > mnas-config.schema.json`); ignored by mnas. */
    $schema: z.string().optional(),
    /** Search space name (src/space: fmnist, cifar, mobilenet-v2). */
    space: z.string().min(1).default('fmnist'),
    /**
     * The space's input shape; omitted: the data's (arrays, IDX and CIFAR files have one; an image
     * folder is resized to the space's own resolution and channels). Data of another shape is refused.
     */
    input: z.string().regex(/^\d+x\d+x\d+$/, 'must be HxWxC, e.g. 32x32x3').optional().describe('the space\'s input shape HxWxC, e.g. 64x64x3; omitted: the data\'s'),
    /** The space's number of classes; omitted: the data's. Data with another number is refused. */
    classes: upTo(MAX_CLASSES).optional().describe('the space\'s number of classes; omitted: the data\'s'),
    strategy: z
      .object({
        kind: z.enum(STRATEGY_KINDS).default('ppo'),
        /** Strategy-specific settings (e.g. ppo learningRate, evolution populationSize). */
        options: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).default({}),
      })
      .strict()
      .default({ kind: 'ppo', options: {} }),
    evaluator: z.enum(EVALUATORS).default('train'),
    dataset: z
      .object({
        /** A built-in dataset, or a path to your own: an image folder, an .npz, a folder of .npy / IDX / CIFAR-10 files (src/data/prepare.ts). */
        name: z.string().min(1).default('fashion-mnist').describe(`one of ${DATASET_NAMES.join(', ')}, or a path to an image folder (one subfolder per class), an .npz archive, or a folder of .npy, IDX or CIFAR-10 files`),
        dataDir: z.string().optional(),
        /** Own data: resize images to the space's input resolution (off: they must already have it). */
        resize: z.boolean().default(true),
        /** Own data: skip (and list) files that are not decodable PNG/JPEG images instead of stopping. */
        skipBadFiles: z.boolean().default(false),
        /** Own data: where the decoded cache file goes (default $MNAS_CACHE_DIR or ~/.cache/mnas/datasets). */
        cacheDir: z.string().optional(),
        /** Images held out of the training set to measure accuracy during the search. */
        validationImages: upTo(10_000_000).default(10000),
      })
      .strict()
      .default({ name: 'fashion-mnist', validationImages: 10000, resize: true, skipBadFiles: false }),
    proxy: z
      .object({
        /** Proxy-training images per trial (one epoch of 5,000 is about 11 s of one core for a median fmnist-space model). */
        images: upTo(10_000_000).default(5000),
        epochs: upTo(1000).default(1),
        /** Batch size and peak learning rate; omitted: the trainer's proxy recipe. */
        batch: upTo(65536).optional(),
        lr: z.number().positive().finite().optional(),
        /** libtorch threads of each training process (README: threading). */
        threads: upTo(256).default(1),
      })
      .strict()
      .default({ images: 5000, epochs: 1, threads: 1 }),
    /**
     * Training processes on this machine, each running one proxy trial at a time; 0 trains in the
     * search process itself. Default: one per core (with proxy.threads 1).
     */
    workers: z.number().int().nonnegative().max(256).optional(),
    device: z
      .object({
        kind: z.enum(DEVICE_KINDS).default('ort-cpu'),
        threads: upTo(256).default(1),
        /** Browser device: seconds to wait for a browser to join. */
        joinTimeoutS: upTo(86_400).default(300),
        /**
         * Measure every trial interleaved with the reference model (the one whose latency is T):
         * LAT = ratio x the reference's latency at the start of the run, immune to the machine's
         * speed changes (src/latency/interleaved.ts). ort-cpu and browser, measured latencies, local searches.
         * Default: on wherever it applies on ort-cpu; on browser only when set (a phone's time per
         * trial doubles). parseSearchConfig settles it.
         */
        interleave: z.boolean().optional(),
      })
      .strict()
      .default({ kind: 'ort-cpu', threads: 1, joinTimeoutS: 300 }),
    /**
     * Where LAT comes from: a real measurement (default), the latency predictor, MACs (ablations),
     * or the predictor for every candidate and a measurement for those that could enter the
     * measured Pareto front or the top by reward (predicted-then-measured, needs latencyTable).
     */
    latencySource: z.enum(LATENCY_SOURCES).default('measured'),
    /**
     * predicted-then-measured: the predictor's relative error allowed for when deciding whether a
     * candidate could enter the front (0.1: it could be 10% faster than predicted); omitted: the
     * latency table's calibration error (3 x its fit MAPE, at least 5%) or 10% without one.
     */
    predictedMargin: z.number().min(0).max(0.9).optional().describe("predicted-then-measured: the predictor's relative error allowed for; omitted: from the latency table's calibration, else 0.1"),
    /**
     * Other devices every trained candidate is measured on too (not the target `device`, which
     * alone sets the reward): the outputs hold a Pareto front per device.
     */
    devices: z.array(z.enum(DEVICE_KINDS)).default([]).describe('other latency devices every trained candidate is measured on too (not device.kind, the target): a Pareto front per device'),
    /**
     * Measured latency sources: the reference architecture (the one whose latency set T; with a
     * given T the space's default) is re-measured every `everyTrials` trials or `everySeconds`
     * seconds, whichever comes first; beyond `tolerance` (relative change) latencies are corrected.
     */
    drift: z
      .object({
        everyTrials: upTo(1_000_000).default(20),
        everySeconds: upTo(7 * 86_400).default(600),
        tolerance: z.number().gt(0).lt(1).default(DEFAULT_DRIFT_TOLERANCE),
      })
      .strict()
      .default({ everyTrials: 20, everySeconds: 600, tolerance: DEFAULT_DRIFT_TOLERANCE })
      .describe('measured latencies: re-measure the reference architecture every everyTrials trials or everySeconds seconds; correct latencies once it is off by more than tolerance'),
    /**
     * Evaluator 'table': the trained table (JSON Lines; `mnas bench proxy-fidelity` writes one)
     * answers proxy accuracies and latencies. What it lacks is trained and measured for real and
     * added to it (missing 'train'), or fails the trial (missing 'fail': nothing is trained).
     */
    trainedTable: z
      .object({
        file: z.string().min(1),
        missing: z.enum(['train', 'fail']).default('train'),
      })
      .strict()
      .optional(),
    /** Latency table (from `mnas latency profile`) for latencySource 'predictor'. */
    latencyTable: z.string().optional(),
    reward: z
      .object({
        preset: z.enum(['soft', 'hard', 'custom']).default('soft'),
        /** Target latency T in ms; omitted: the latency of targetModel, or of the space's default architecture. */
        targetMs: z.number().positive().finite().optional(),
        /**
         * T = the latency of this model on the target device (a preset name, an arch string or a
         * file holding one), measured when the run starts and re-measured by the drift checks
         * (e.g. the hand-designed model a search should beat). Not with targetMs.
         */
        targetModel: z.string().min(1).optional(),
        /** T = the latency of targetModel (or of the space's default architecture) divided by this: 1.3 asks for models 1.3x faster than it. Not with targetMs. */
        targetSpeedup: z.number().min(0.01).max(100).optional(),
        alpha: z.number().finite().optional(),
        beta: z.number().finite().optional(),
        /** Under the hard preset, do not train architectures whose measured latency already misses T. */
        skipOverTarget: z.boolean().default(true),
      })
      .strict()
      .default({ preset: 'soft', skipOverTarget: true }),
    /** 60 trials on two 1-thread workers take about 10 minutes on 2 cores (each measured interleaved): 3 PPO updates (minibatches of 20). */
    budget: upTo(1_000_000).default(60),
    /**
     * Trials evaluated at once by the synthetic and table evaluators (default 1; the train
     * evaluator runs one per worker). With `redis`: trials queued for the workers at once, by
     * default the training processes of the workers connected when the search starts plus two
     * (stored with the run, so a resumed run keeps it).
     */
    concurrency: upTo(MAX_CONCURRENCY).optional(),
    /**
     * Redis URL of a distributed search: proxy training and latency measurements run on `mnas
     * worker` processes on any machine (src/distributed). Better without the password (read from
     * MNAS_REDIS_PASSWORD); the run stores the URL without it.
     */
    redis: z.string().min(1).optional(),
    /**
     * With `redis`: seconds a job may wait while no live worker takes its kind (train jobs, or
     * measure jobs for the search's device); then the search stops, resumable, naming the missing
     * worker, instead of waiting forever.
     */
    workerWaitSeconds: upTo(7 * 86_400).default(600),
    /** Seed of the strategy: which architectures are proposed. */
    seed: z.number().int().nonnegative().default(0),
    /**
     * Seed of the data: the validation split held out of the training set and the proxy subset
     * (and the synthetic evaluator's problem). Fixed by default, so runs with different strategy
     * seeds score every architecture on the same images and can be compared.
     */
    splitSeed: z.number().int().nonnegative().default(0),
    /** Seed of weight initialisation, shuffling and augmentation: trial k trains with initSeed + k. */
    initSeed: z.number().int().nonnegative().default(0),
    final: z
      .object({
        /** Epochs of full training for the top-k architectures; 0 = none. */
        epochs: z.number().int().nonnegative().max(10_000).default(0),
        topK: upTo(100).default(1),
      })
      .strict()
      .default({ epochs: 0, topK: 1 }),
  })
  .strict();

export type SearchConfig = z.infer<typeof SearchConfigSchema>;
export type SearchConfigInput = z.input<typeof SearchConfigSchema>;

/** The reward part as stored once T is known. */
export const ResolvedRewardSchema = RewardConfigSchema;

/** Validates a config object; errors list every problem with its key path. */
export function parseSearchConfig(value: unknown, source = 'config'): SearchConfig {
  const r = SearchConfigSchema.safeParse(value);
  if (!r.success) {
    const lines = r.error.issues.map((i) => {
      const key = i.path.length ? i.path.join('.') : '(root)';
      if (i.code === 'unrecognized_keys') return `${key === '(root)' ? '' : `${key}: `}unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `'${k}'`).join(', ')}`;
      return `${key}: ${i.message}`;
    });
    throw new Error(`${source}: ${lines.join('; ')}`);
  }
  const c = r.data;
  if (c.input !== undefined) {
    try {
      parseInputShapeText(c.input, 'input');
    } catch (e) {
      throw new Error(`${source}: ${(e as Error).message}`);
    }
  }
  if (c.reward.preset === 'custom' && (c.reward.alpha === undefined || c.reward.beta === undefined)) {
    throw new Error(`${source}: reward: preset 'custom' needs both alpha and beta`);
  }
  if (c.reward.preset !== 'custom' && (c.reward.alpha !== undefined || c.reward.beta !== undefined)) {
    throw new Error(`${source}: reward: preset '${c.reward.preset}' fixes alpha and beta; use preset 'custom' to set them`);
  }
  if (c.reward.targetSpeedup !== undefined && c.reward.targetMs !== undefined) throw new Error(`${source}: reward: targetSpeedup divides a measured T; with targetMs give T itself`);
  if (c.reward.targetModel !== undefined) {
    if (c.reward.targetMs !== undefined) throw new Error(`${source}: reward: give targetMs or targetModel, not both`);
    if (c.evaluator === 'synthetic') throw new Error(`${source}: reward.targetModel needs a latency device or table; the synthetic evaluator has none (give targetMs)`);
    try {
      buildPlan(resolveArch(c.reward.targetModel));
    } catch (e) {
      if (!isInputError(e)) throw e;
      throw new Error(`${source}: reward.targetModel: ${(e as Error).message}`);
    }
  }
  if (c.latencySource === 'predictor' && !c.latencyTable) {
    throw new Error(`${source}: latencyTable is required when latencySource is 'predictor' (make one with mnas latency profile)`);
  }
  if (c.latencySource === 'predicted-then-measured' && !c.latencyTable) {
    throw new Error(`${source}: latencyTable is required when latencySource is 'predicted-then-measured' (make one with mnas latency profile)`);
  }
  if (c.predictedMargin !== undefined && c.latencySource !== 'predicted-then-measured') throw new Error(`${source}: predictedMargin is only read by latencySource 'predicted-then-measured'`);
  if (c.devices.includes(c.device.kind)) throw new Error(`${source}: devices: '${c.device.kind}' is the target device already (devices lists the other devices to measure on)`);
  const repeated = c.devices.find((d, i) => c.devices.indexOf(d) !== i);
  if (repeated !== undefined) throw new Error(`${source}: devices: '${repeated}' is listed twice`);
  if (c.devices.length > 0 && c.evaluator !== 'train') throw new Error(`${source}: devices: other devices are measured by the 'train' evaluator only (evaluator is '${c.evaluator}')`);
  if (c.devices.length > 0 && c.redis !== undefined) throw new Error(`${source}: devices: other devices are measured on this machine; not with redis`);
  const cannotInterleave =
    c.device.kind !== 'ort-cpu' && c.device.kind !== 'browser' ? `device '${c.device.kind}' cannot (ort-cpu and browser can)`
    : c.latencySource !== 'measured' ? `latencySource is '${c.latencySource}', not 'measured'`
    : c.evaluator === 'synthetic' ? 'the synthetic evaluator measures nothing'
    : c.evaluator === 'table' && c.trainedTable?.missing === 'fail' ? "a trained table with missing 'fail' measures nothing"
    : c.redis !== undefined ? 'a distributed search measures on its workers'
    : undefined;
  if (c.device.interleave && cannotInterleave) throw new Error(`${source}: device.interleave: ${cannotInterleave}`);
  // drift settings without an interleave setting ask for the other way of following the machine's
  // speed (checks and corrections); stored configs always say which (run-config.ts)
  const driftGiven = typeof value === 'object' && value !== null && (value as { drift?: unknown }).drift !== undefined;
  // on a browser device only when asked for: timing the reference with every trial doubles a phone's time per trial
  c.device.interleave ??= cannotInterleave === undefined && !driftGiven && c.device.kind === 'ort-cpu';
  if (c.evaluator === 'table' && !c.trainedTable) throw new Error(`${source}: trainedTable.file is required for evaluator 'table'`);
  if (c.evaluator !== 'table' && c.trainedTable) throw new Error(`${source}: trainedTable is only read by evaluator 'table' (evaluator is '${c.evaluator}')`);
  if (c.evaluator === 'table' && (c.proxy.batch !== undefined || c.proxy.lr !== undefined)) {
    throw new Error(`${source}: evaluator 'table' answers for the proxy recipe's batch and learning rate; proxy.batch and proxy.lr cannot be set`);
  }
  if (c.evaluator === 'table' && c.latencySource !== 'measured') throw new Error(`${source}: evaluator 'table' takes latencies from the table (measured when missing); latencySource must be 'measured'`);
  if ((c.dataset.name === 'mnist' || c.dataset.name === 'cifar10') && !c.dataset.dataDir) {
    throw new Error(`${source}: dataset.dataDir is required for dataset '${c.dataset.name}'`);
  }
  return c;
}

/** Deep-merges b over a (plain objects only), for flags over a config file. */
export function mergeConfig(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (v === undefined) continue;
    const prev = out[k];
    out[k] = isPlainObject(prev) && isPlainObject(v) ? mergeConfig(prev, v) : v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
