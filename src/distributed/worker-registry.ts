/**
 * Who is working: every `mnas worker` publishes its status to Redis every few seconds with an
 * expiry, and `mnas workers` lists the statuses that have not expired. A worker that dies simply
 * stops being listed once its last status expires.
 */
import type { Redis } from 'ioredis';
import { QUEUE_PREFIX, type JobKind } from './jobs.js';

const SET_KEY = `${QUEUE_PREFIX}:workers`;
const statusKey = (id: string) => `${QUEUE_PREFIX}:worker:${id}`;

export interface WorkerStatus {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly jobs: readonly JobKind[];
  /** The latency device it measures on, or null. */
  readonly device: string | null;
  /** Training processes and libtorch threads per process (null: the job's). */
  readonly processes: number;
  readonly threads: number | null;
  readonly running: ReadonlyArray<{ readonly job: string; readonly kind: JobKind; readonly since: string }>;
  readonly done: Readonly<Record<JobKind, number>>;
  readonly failed: Readonly<Record<JobKind, number>>;
  /** Job kinds it stopped taking, with the reason (dataset or device missing). */
  readonly refused: Readonly<Partial<Record<JobKind, string>>>;
  readonly startedAt: string;
  readonly seenAt: string;
}

export async function publishStatus(redis: Redis, status: WorkerStatus, ttlMs: number): Promise<void> {
  await redis.multi().set(statusKey(status.id), JSON.stringify(status), 'PX', ttlMs).sadd(SET_KEY, status.id).exec();
}

export async function removeStatus(redis: Redis, id: string): Promise<void> {
  await redis.multi().del(statusKey(id)).srem(SET_KEY, id).exec();
}

/** The live workers, by id; forgets the ones whose status expired. */
export async function listWorkers(redis: Redis): Promise<WorkerStatus[]> {
  const ids = (await redis.smembers(SET_KEY)).sort();
  if (ids.length === 0) return [];
  const values = await redis.mget(ids.map(statusKey));
  const gone = ids.filter((_, i) => values[i] === null);
  if (gone.length > 0) await redis.srem(SET_KEY, ...gone);
  return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as WorkerStatus);
}
