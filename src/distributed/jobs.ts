/**
 * The jobs of a distributed search, as plain data: what the coordinator puts on the queues and
 * what workers give back. Both sides validate with these schemas on receipt; a worker never runs
 * code from the queue, only the project's own training and measuring on an architecture string.
 *
 * A train job names its dataset and carries its checksum: a worker whose local copy differs
 * refuses the job with both checksums instead of training on other images.
 *
 * Queues (BullMQ, prefix `mnas`): `train` for proxy training, `measure-<device kind>` for latency
 * measurements. Job ids are derived from the run id and the trial (or the measured architecture),
 * plus a submission number: adding a job whose id exists is a no-op in BullMQ, so a coordinator
 * that restarts re-attaches to its jobs instead of submitting them again. A submission is only
 * repeated (number + 1) when the previous one failed for a reason of the infrastructure.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { DeviceDescription, LatencyResult } from '../latency/device.js';
import { DEVICE_KINDS } from '../latency/registry.js';
import type { ProxyTrialDone, ProxyTrialFailed } from '../search/proxy-trainer.js';

export const QUEUE_PREFIX = 'mnas';
export const TRAIN_QUEUE = 'train';
export type DeviceKindName = (typeof DEVICE_KINDS)[number];
export const measureQueue = (kind: DeviceKindName): string => `measure-${kind}`;
export const JOB_KINDS = ['train', 'measure'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** Run ids: letters, digits, '-' and '_' (no ':' — BullMQ ids cannot hold one). */
export const RunIdSchema = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/);

const count = z.number().int().positive();
export const ProxySettingsSchema = z
  .object({
    /** A built-in dataset, or the label of the user's own data with its decoded cache file (src/data/prepare.ts; the worker needs it at that path). */
    dataset: z.object({ name: z.string().min(1).max(200), dataDir: z.string().optional(), cacheFile: z.string().optional(), validationImages: count }).strict(),
    images: count,
    epochs: count,
    batch: count.optional(),
    lr: z.number().positive().finite().optional(),
    threads: count,
    splitSeed: z.number().int().nonnegative(),
  })
  .strict();

export const TrainJobSchema = z
  .object({
    runId: RunIdSchema,
    trialId: z.number().int().nonnegative(),
    arch: z.string().min(1).max(100_000),
    seed: z.number().int().nonnegative(),
    settings: ProxySettingsSchema,
    /** sha256 of the dataset's content as the coordinator has it (src/data/checksum.ts); a worker whose copy differs refuses. */
    datasetChecksum: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();
export type TrainJob = z.infer<typeof TrainJobSchema>;

export const DeviceSettingsSchema = z
  .object({ kind: z.enum(DEVICE_KINDS), threads: count, joinTimeoutS: count })
  .strict();
export type DeviceSettings = z.infer<typeof DeviceSettingsSchema>;

const ProtocolSchema = z
  .object({
    warmupRuns: z.number().int().nonnegative(),
    warmupSeconds: z.number().nonnegative(),
    minRuns: count,
    minSeconds: z.number().nonnegative(),
    maxRuns: count,
    relPrecision: z.number().positive(),
    maxSeconds: z.number().positive(),
    quantile: z.number().gt(0).lt(1),
  })
  .partial()
  .strict();

export const MeasureJobSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('describe'), runId: RunIdSchema, device: DeviceSettingsSchema }).strict(),
  z
    .object({
      type: z.literal('measure'),
      runId: RunIdSchema,
      device: DeviceSettingsSchema,
      arch: z.string().min(1).max(100_000),
      /** The layers of the planned architecture to measure (all of them for a whole network) and the seed of their random weights. */
      layers: z.object({ from: z.number().int().nonnegative(), to: z.number().int().nonnegative() }).strict(),
      seed: z.number().int().nonnegative(),
      name: z.string().max(200),
      protocol: ProtocolSchema.optional(),
    })
    .strict(),
]);
export type MeasureJob = z.infer<typeof MeasureJobSchema>;

const MemorySchema = z.object({
  peakRssBytes: z.number().nullable(),
  minorFaults: z.number(),
  systemSeconds: z.number(),
  // optional: workers of versions before it did not report it
  cpuSeconds: z.number().optional(),
  peakTensorBytes: z.number(),
  peakAllocatorBytes: z.number(),
  cacheHitRate: z.number().nullable(),
}).loose();

/** What a train job returns: the ProxyTrialResult of the trial (an architecture failure is a result, not a job failure). */
export const TrainOutcomeSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('done'),
    valAccuracy: z.number().min(0).max(1),
    valLoss: z.number(),
    epochLoss: z.array(z.number()),
    trainImagesPerSecond: z.number(),
    seconds: z.number(),
    heldSeconds: z.number().optional(),
    memory: MemorySchema,
    worker: z.string(),
  }),
  z.object({ status: z.literal('failed'), reason: z.string(), seconds: z.number(), heldSeconds: z.number().optional(), memory: MemorySchema.optional(), worker: z.string() }),
]);
/**
 * When a worker ran a job and when its training was paused meanwhile (ms since the epoch): kept
 * with the job in Redis for inspection (`mnas workers`, tests, `bench distributed-scale`), dropped
 * by the coordinator.
 */
export interface JobTimeline {
  readonly start: number;
  readonly end: number;
  /** Intervals in which none of the worker's training processes ran a step. */
  readonly paused?: ReadonlyArray<{ readonly start: number; readonly end: number }>;
}

/** A trial's result as a worker returns it (TrainOutcomeSchema checks it on receipt). */
export type TrainOutcome =
  | (Omit<ProxyTrialDone, 'worker' | 'attempts'> & { readonly worker: string; readonly timeline?: JobTimeline })
  | (Omit<ProxyTrialFailed, 'worker' | 'attempts'> & { readonly worker: string; readonly timeline?: JobTimeline });

const DeviceDescriptionSchema = z
  .object({
    id: z.string(),
    kind: z.enum(DEVICE_KINDS),
    cpu: z.string(),
    runtime: z.string(),
    runtimeVersion: z.string(),
    threads: z.number(),
    details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  })
  .loose();

const LatencyResultSchema = z
  .object({
    latency_ms: z.number().positive(),
    quantile: z.number().gt(0).lt(1),
    median_ms: z.number().positive(),
    p10_ms: z.number(),
    p90_ms: z.number(),
    mean_ms: z.number(),
    cv: z.number(),
    runs: z.number(),
    converged: z.boolean(),
    seconds: z.number(),
    device: DeviceDescriptionSchema,
  })
  .loose();

/**
 * What a measure job returns. `rejected`: the architecture itself cannot be measured (too large,
 * refused by the runtime): the trial fails like it would locally. Anything else that goes wrong
 * (device gone, timeout) is a job failure and is retried.
 */
export const MeasureOutcomeSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('done'), result: LatencyResultSchema, worker: z.string() }),
  z.object({ status: z.literal('described'), description: DeviceDescriptionSchema, worker: z.string() }),
  z.object({ status: z.literal('rejected'), reason: z.string(), worker: z.string() }),
]);
/** A measurement as a worker returns it (MeasureOutcomeSchema checks it on receipt). */
export type MeasureOutcome =
  | { readonly status: 'done'; readonly result: LatencyResult; readonly worker: string; readonly timeline?: JobTimeline }
  | { readonly status: 'described'; readonly description: DeviceDescription; readonly worker: string }
  | { readonly status: 'rejected'; readonly reason: string; readonly worker: string };

/** Id of submission `n` (1, 2, ...) of trial `trialId`'s training. */
export const trainJobId = (runId: string, trialId: number, n: number): string => `${runId}.train.${trialId}.${n}`;

/** Id of submission `n` of a measurement: the same architecture, device and protocol in a run is measured once. */
export function measureJobId(job: MeasureJob, n: number): string {
  const key = job.type === 'describe' ? `${job.device.kind}-${job.device.threads}` : digest({ device: job.device, arch: job.arch, layers: job.layers, seed: job.seed, protocol: job.protocol ?? null });
  return `${job.runId}.${job.type}.${key}.${n}`;
}

function digest(v: unknown): string {
  return createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 24);
}

/** Zod issues as one line: `key: message; key: message`. */
export function describeIssues(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}
