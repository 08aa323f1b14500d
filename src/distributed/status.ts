/** What `mnas workers` shows: the live workers' statuses and the job counts of every queue. */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { DEVICE_KINDS } from '../latency/registry.js';
import { measureQueue, QUEUE_PREFIX, TRAIN_QUEUE } from './jobs.js';
import { checkReachable, connectionOptions, parseRedisUrl, queueConnection } from './redis-url.js';
import { listWorkers, type WorkerStatus } from './worker-registry.js';

export interface DistributedStatus {
  readonly redis: string;
  readonly workers: WorkerStatus[];
  readonly queues: Record<string, Record<string, number>>;
}

export async function listDistributedStatus(url: string): Promise<DistributedStatus> {
  const target = parseRedisUrl(url);
  await checkReachable(target);
  const redis = new Redis(connectionOptions(target, 'mnas-status'));
  redis.on('error', () => {});
  const queues: Record<string, Record<string, number>> = {};
  try {
    const workers = await listWorkers(redis);
    for (const name of [TRAIN_QUEUE, ...DEVICE_KINDS.map(measureQueue)]) {
      const q = new Queue(name, { connection: queueConnection(target, 'mnas-status-queue'), prefix: QUEUE_PREFIX });
      q.on('error', () => {});
      try {
        queues[name] = await q.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed');
      } finally {
        await q.close();
      }
    }
    return { redis: target.display, workers, queues };
  } finally {
    redis.disconnect();
  }
}
