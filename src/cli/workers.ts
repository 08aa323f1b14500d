/**
 * `mnas workers --redis URL [--json]`: the workers connected to a distributed search's Redis,
 * their devices, jobs running and done (from the status each worker publishes), and the queues'
 * job counts. With --json one object: {redis, workers: WorkerStatus[], queues: {name: counts}}.
 */
import type { Command } from 'commander';
import type { DistributedStatus } from '../distributed/status.js';

export function registerWorkers(program: Command, write: (s: string) => void = (s) => void process.stdout.write(s)): void {
  program
    .command('workers')
    .description('list the workers of distributed searches: devices, jobs running and done, queue counts')
    .requiredOption('--redis <url>', 'redis[s]://[user[:password]@]host[:port][/db] (password better in MNAS_REDIS_PASSWORD; a private CA of rediss:// in MNAS_REDIS_CA)')
    .option('--json', 'print one JSON object')
    .action(async (flags: { redis: string; json?: boolean }) => {
      const { listDistributedStatus } = await import('../distributed/status.js');
      const status = await listDistributedStatus(flags.redis);
      write(flags.json ? `${JSON.stringify(status)}\n` : formatStatus(status));
    });
}

function formatStatus(s: DistributedStatus): string {
  const lines = [`redis: ${s.redis}`, `workers: ${s.workers.length}`];
  for (const w of s.workers) {
    const running = w.running.map((r) => `${r.kind} ${r.job}`).join(', ') || 'idle';
    const refused = Object.entries(w.refused).map(([k, why]) => `; refuses ${k}: ${why}`).join('');
    lines.push(
      `  ${w.id}  jobs ${w.jobs.join(',')}  device ${w.device ?? '-'}  processes ${w.processes}` +
        `  done train ${w.done.train} measure ${w.done.measure}  failed ${w.failed.train + w.failed.measure}  running: ${running}${refused}`,
    );
  }
  lines.push('queues:');
  for (const [name, c] of Object.entries(s.queues)) lines.push(`  ${name}: ${Object.entries(c).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  return `${lines.join('\n')}\n`;
}
