// What a measurement's hold costs beyond its timing when two `mnas worker`s share a machine (one
// measures, the other trains): MachineHold (src/distributed/machine-hold.ts) with its default
// settings against a loopback redis-server this script starts, the timing a fixed sleep. Per
// measurement: the wait from asking to measure until the timing starts (the trainer being told
// and acknowledging), and how much longer the trainer stood held than the timing took. Medians and
// worst over MEASUREMENTS. To compare two commits, run it from a checkout of each, alternating.
//
//   node bench/machine-hold-latency.mjs [MEASUREMENTS] [TIMING_MS]
//
// e.g. node bench/machine-hold-latency.mjs 40 200
import { Redis } from 'ioredis';
import { startLocalRedis } from '../dist/src/distributed/local-redis.js';
import { MachineHold } from '../dist/src/distributed/machine-hold.js';
import { connectionOptions, parseRedisUrl } from '../dist/src/distributed/redis-url.js';
import { listedStatus } from '../dist/src/distributed/testing.js';
import { publishStatus } from '../dist/src/distributed/worker-registry.js';
import { Rng } from '../dist/src/util/rng.js';
import { median } from '../dist/src/util/stats.js';

const [countArg = '40', timingArg = '200'] = process.argv.slice(2);
const count = Number(countArg);
const timingMs = Number(timingArg);
if (process.argv.length > 4 || !Number.isInteger(count) || count < 1 || !(timingMs >= 0)) {
  console.error('usage: node bench/machine-hold-latency.mjs [MEASUREMENTS >= 1] [TIMING_MS >= 0]');
  process.exit(2);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const server = await startLocalRedis();
const connect = (name) => new Redis(connectionOptions(parseRedisUrl(server.url, {}), name));
const trainerRedis = connect('bench-trainer');
const measurerRedis = connect('bench-measurer');
const holds = [];
const trainer = new MachineHold({
  redis: trainerRedis,
  host: 'bench-box',
  workerId: 'trainer',
  holdTraining: async (fn) => {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      holds.push({ start, end: performance.now() });
    }
  },
});
const measurer = new MachineHold({ redis: measurerRedis, host: 'bench-box', workerId: 'measurer', holdTraining: (fn) => fn() });
const rows = [];
const rng = new Rng(0);
try {
  await publishStatus(trainerRedis, listedStatus('trainer', 'bench-box', ['train']), 600_000);
  await trainer.follow();
  for (let i = 0; i < count; i++) {
    // measurements arrive at arbitrary moments of the trainer's polling (seeded)
    await sleep(50 + rng.next() * 300);
    const asked = performance.now();
    let timing;
    await measurer.measurePrepared(
      async () => ({ close: async () => {} }),
      async () => {
        const start = performance.now();
        await sleep(timingMs);
        timing = { start, end: performance.now() };
      },
    );
    // the trainer's hold ends when it sees the release
    while (holds.length <= i) await sleep(5);
    const hold = holds[i];
    rows.push({ wait_ms: timing.start - asked, held_beyond_ms: hold.end - hold.start - (timing.end - timing.start) });
  }
} finally {
  await trainer.close();
  await measurer.close();
  trainerRedis.disconnect();
  measurerRedis.disconnect();
  await server.stop();
}
const summary = (k) => ({ median: median(rows.map((r) => r[k])), worst: Math.max(...rows.map((r) => r[k])) });
console.log(JSON.stringify({ date: new Date().toISOString(), measurements: count, timing_ms: timingMs, wait_ms: summary('wait_ms'), trainer_held_beyond_timing_ms: summary('held_beyond_ms') }));
