// How long a latency measurement waits for local training to stop: two one-thread training
// processes (WorkerPool, the search's default proxy settings) proxy-train the random architectures
// `mnas bench proxy` samples, and a hold is taken for HOLD_MS (as a measurement would): every 1.5 s
// (WHEN=periodic), or as each trial is handed to a process (WHEN=trial-start: when a search asks,
// since it proposes and measures a candidate when a result comes back). Prints the wait from
// asking for the hold to both processes having stopped (mean, median, p90, max).
//
//   node bench/hold-wait.mjs [SAMPLES] [HOLD_MS] [SEED] [WHEN=periodic|trial-start]
//
// e.g. node bench/hold-wait.mjs 12 500 0 trial-start
import { WorkerPool } from '../dist/src/search/workers/worker-pool.js';
import { buildPlan } from '../dist/src/model/plan.js';
import { parseArch } from '../dist/src/space/arch-string.js';
import { sampleArchitectures } from '../dist/src/bench/proxy-trials.js';
import { parseSearchConfig } from '../dist/src/search/config.js';

const args = process.argv.slice(2);
const [samples, holdMs, seed] = [args[0] ?? '12', args[1] ?? '500', args[2] ?? '0'].map(Number);
const when = args[3] ?? 'periodic';
if (args.length > 4 || !Number.isInteger(samples) || samples < 1 || !(holdMs >= 0) || !Number.isInteger(seed) || !['periodic', 'trial-start'].includes(when)) {
  console.error('usage: node bench/hold-wait.mjs [SAMPLES >= 1] [HOLD_MS >= 0] [SEED] [periodic|trial-start]');
  process.exit(2);
}
const defaults = parseSearchConfig({});
const settings = { dataset: { name: 'fashion-mnist', validationImages: defaults.dataset.validationImages }, images: defaults.proxy.images, epochs: defaults.proxy.epochs, threads: 1, splitSeed: 0 };
const archs = sampleArchitectures('fmnist', samples, seed);
const pool = await WorkerPool.start({ workers: 2, settings });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let next = 0;
let done = false;
const waits = [];
const holdOnce = async () => {
  const t = performance.now();
  await pool.holdWhile(async () => {
    waits.push(performance.now() - t);
    await sleep(holdMs);
  });
};
const startHolds = [];
const feed = async () => {
  while (next < archs.length) {
    const i = next++;
    const trial = pool.train({ plan: buildPlan(parseArch(archs[i])), seed: i });
    if (when === 'trial-start' && i >= 2) startHolds.push(holdOnce()); // the first two start together, with no measurement pending
    await trial;
  }
};
const holder = (async () => {
  while (!done && when === 'periodic') {
    await sleep(1500);
    if (done) break;
    await holdOnce();
  }
})();
const t0 = performance.now();
await Promise.all([feed(), feed()]);
done = true;
await holder;
await Promise.all(startHolds);
await pool.close();
const sorted = [...waits].sort((a, b) => a - b);
const ms = (x) => +x.toFixed(1);
console.log(JSON.stringify({ samples, hold_ms: holdMs, seed, when, seconds: +((performance.now() - t0) / 1000).toFixed(1), holds: sorted.length, mean_wait_ms: ms(sorted.reduce((a, b) => a + b, 0) / sorted.length), median_wait_ms: ms(sorted[sorted.length >> 1]), p90_wait_ms: ms(sorted[Math.floor(sorted.length * 0.9)]), max_wait_ms: ms(sorted[sorted.length - 1]) }));
