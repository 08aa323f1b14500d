/**
 * `mnas worker --redis URL [--jobs train,measure] [--device KIND] [--threads T] [--concurrency N]
 * [--data-dir DIR] [--lock-seconds S] [--job-timeout S] [--json]`: takes the proxy-training and latency jobs of
 * distributed searches (src/distributed/worker.ts) until Ctrl-C (finishes its running jobs;
 * a second Ctrl-C leaves them to other workers). Lines on stderr, or with --json one JSON object
 * per line on stdout: {event:"ready", id, redis, jobs, device, concurrency}, then job-started,
 * job-done, job-failed, refused, redis-error and finally {event:"stopped", reason}.
 * Exit 0 when stopped by a signal, 2 for bad options or when it could take no job at all.
 */
import type { Command } from 'commander';
import { JOB_KINDS, type DeviceKindName, type JobKind } from '../distributed/jobs.js';
import { checkReachable, parseRedisUrl } from '../distributed/redis-url.js';
import type { WorkerEvent } from '../distributed/worker.js';
import { DEVICE_KINDS } from '../latency/registry.js';
import { UsageError } from './errors.js';
import { choiceOption, intOption } from './options.js';

interface WorkerFlags {
  redis: string;
  jobs?: string;
  device?: DeviceKindName;
  threads?: number;
  concurrency: number;
  dataDir?: string;
  lockSeconds: number;
  jobTimeout: number;
  json?: boolean;
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('take proxy-training and latency jobs of distributed searches (mnas search --redis) from Redis; workers on one machine pause their training while any of them measures')
    .requiredOption('--redis <url>', 'redis[s]://[user[:password]@]host[:port][/db] (password better in MNAS_REDIS_PASSWORD; a private CA of rediss:// in MNAS_REDIS_CA)')
    .option('--jobs <kinds>', `comma-separated job kinds: ${JOB_KINDS.join(',')} (default: train, plus measure with --device)`)
    .option('--device <kind>', `the latency device this machine measures on: ${DEVICE_KINDS.join('|')}`, choiceOption('--device', DEVICE_KINDS))
    .option('--threads <n>', "libtorch threads per training process (default: the search's)", intOption('--threads', 1, 256))
    .option('--concurrency <n>', 'training processes = train jobs at once', intOption('--concurrency', 1, 256), 1)
    .option('--data-dir <dir>', 'where this machine keeps the dataset (mnist, cifar10)')
    .option('--lock-seconds <s>', 'a job whose worker is silent this long is given to another worker', intOption('--lock-seconds', 1, 3600), 30)
    .option('--job-timeout <s>', 'a job running longer is cancelled and retried (an infrastructure failure, never scored)', intOption('--job-timeout', 1, 7 * 86400), 3600)
    .option('--json', 'one JSON object per line on stdout')
    .action(async (flags: WorkerFlags) => {
      process.exitCode = await workerCommand(flags);
    });
}

function parseJobs(flags: WorkerFlags): JobKind[] {
  if (flags.jobs === undefined) return flags.device ? ['train', 'measure'] : ['train'];
  const kinds = flags.jobs.split(',').map((k) => k.trim());
  for (const k of kinds) if (!(JOB_KINDS as readonly string[]).includes(k)) throw new UsageError(`--jobs: unknown job kind '${k}' (known: ${JOB_KINDS.join(', ')})`);
  if (kinds.length === 0) throw new UsageError('--jobs: no job kind');
  if (kinds.includes('measure') && !flags.device) throw new UsageError('--jobs measure needs --device KIND: the device this machine measures on');
  return [...new Set(kinds)] as JobKind[];
}

function eventLine(e: WorkerEvent): string {
  switch (e.event) {
    case 'job-started':
      return `worker: ${e.kind} job ${e.job} started`;
    case 'job-done':
      return `worker: ${e.kind} job ${e.job} done in ${e.seconds.toFixed(1)} s`;
    case 'job-failed':
      return `worker: ${e.kind} job ${e.job} failed: ${e.reason}`;
    case 'refused':
      return `worker: no longer takes ${e.kind} jobs: ${e.reason}`;
    case 'redis-error':
      return `worker: Redis: ${e.message} (reconnecting)`;
  }
}

export async function workerCommand(flags: WorkerFlags): Promise<number> {
  const target = parseRedisUrl(flags.redis);
  const jobs = parseJobs(flags);
  await checkReachable(target);
  const emit = (e: object, line: string) => {
    if (flags.json) process.stdout.write(`${JSON.stringify(e)}\n`);
    else process.stderr.write(`${line}\n`);
  };
  const { SearchWorker } = await import('../distributed/worker.js');
  const worker = await SearchWorker.start({
    target,
    jobs,
    ...(flags.device ? { device: flags.device } : {}),
    ...(flags.threads ? { threads: flags.threads } : {}),
    processes: flags.concurrency,
    ...(flags.dataDir ? { dataDir: flags.dataDir } : {}),
    lockSeconds: flags.lockSeconds,
    jobTimeoutSeconds: flags.jobTimeout,
    onEvent: (e) => emit(e, eventLine(e)),
  });
  emit(
    { event: 'ready', id: worker.id, redis: target.display, jobs, device: flags.device ?? null, concurrency: flags.concurrency },
    `worker ${worker.id}: connected to ${target.display}; takes ${jobs.map((k) => (k === 'measure' ? `measure (${flags.device})` : `train (${flags.concurrency} process(es))`)).join(', ')}; Ctrl-C to stop`,
  );
  let signals = 0;
  const bySignal = new Promise<string>((resolve) => {
    const onSignal = (name: string) => {
      signals++;
      if (signals === 1) resolve(`${name}: finishing the running jobs (again: leave them to other workers)`);
      else void worker.close(true);
    };
    process.on('SIGINT', () => onSignal('SIGINT'));
    process.on('SIGTERM', () => onSignal('SIGTERM'));
  });
  const refusedAll = worker.stopped.then((reason) => ({ reason, code: 2 }));
  const end = await Promise.race([bySignal.then((reason) => ({ reason, code: 0 })), refusedAll]);
  emit({ event: 'stopping', reason: end.reason }, `worker: stopping: ${end.reason}`);
  await worker.close();
  emit({ event: 'stopped', reason: end.reason }, 'worker: stopped');
  // the training processes and Redis connections are closed; timers of libraries must not keep it alive
  process.exit(end.code);
}
