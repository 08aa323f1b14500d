/**
 * A simulated worker for `mnas bench distributed-overhead`: a BullMQ worker on the train queue
 * with `concurrency` slots whose jobs take a fixed time without training (each job is still
 * validated like a real worker does). Forked with one JSON argument {url, concurrency, jobMs};
 * says {type: 'ready'} over IPC, exits when the parent disconnects.
 */
import { Worker } from 'bullmq';
import { QUEUE_PREFIX, TRAIN_QUEUE, TrainJobSchema, type TrainOutcome } from '../distributed/jobs.js';
import { parseRedisUrl, queueConnection } from '../distributed/redis-url.js';

const { url, concurrency, jobMs } = JSON.parse(process.argv[2] ?? '{}') as { url: string; concurrency: number; jobMs: number };
const memory = { peakRssBytes: null, minorFaults: 0, systemSeconds: 0, cpuSeconds: 0, peakTensorBytes: 0, peakAllocatorBytes: 0, cachedBytes: 0, cacheHitRate: null, allocator: 'none' };
const worker = new Worker(
  TRAIN_QUEUE,
  async (job): Promise<TrainOutcome> => {
    TrainJobSchema.parse(job.data);
    await new Promise((r) => setTimeout(r, jobMs));
    return { status: 'done', valAccuracy: 0.5, valLoss: 1, epochLoss: [1], trainImagesPerSecond: 1, seconds: jobMs / 1000, memory: memory as never, worker: 'simulated' };
  },
  { connection: queueConnection(parseRedisUrl(url), 'mnas-sim-worker'), prefix: QUEUE_PREFIX, concurrency, drainDelay: 1 },
);
await worker.waitUntilReady();
process.send?.({ type: 'ready' });
process.on('disconnect', () => void worker.close(true).then(() => process.exit(0)));
