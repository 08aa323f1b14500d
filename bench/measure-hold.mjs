// How long a search's latency measurement holds local training, with the measurement's set-up
// (ort-cpu sessions of the model and the reference, and the ONNX export) inside the hold as before
// 2026-12-06, and outside it (src/latency/prepared.ts: set up before the training processes are
// stopped). Two one-thread training processes (WorkerPool, the search's default proxy settings)
// proxy-train the random architectures `mnas bench proxy` samples; meanwhile, one measurement
// after another, a random fmnist architecture is measured interleaved with the space's default
// (the default interleaved protocol), the two ways alternating. Prints per way the hold (from both
// processes stopped to training resumed) and the whole measurement (asked to result), median and
// mean, in ms.
//
//   node bench/measure-hold.mjs [TRAINED_ARCHS] [SEED]
//
// e.g. node bench/measure-hold.mjs 12 0
import { WorkerPool } from '../dist/src/search/workers/worker-pool.js';
import { buildPlan } from '../dist/src/model/plan.js';
import { parseArch } from '../dist/src/space/arch-string.js';
import { sampleArchitectures } from '../dist/src/bench/proxy-trials.js';
import { parseSearchConfig } from '../dist/src/search/config.js';
import { OrtCpuDevice } from '../dist/src/latency/ort-cpu.js';
import { planToModel } from '../dist/src/latency/model.js';
import { timeQuietly } from '../dist/src/latency/prepared.js';
import { getSpace } from '../dist/src/space/space.js';
import { mean, median } from '../dist/src/util/stats.js';

const args = process.argv.slice(2);
const [samples, seed] = [args[0] ?? '12', args[1] ?? '0'].map(Number);
if (args.length > 2 || !Number.isInteger(samples) || samples < 2 || !Number.isInteger(seed)) {
  console.error('usage: node bench/measure-hold.mjs [TRAINED_ARCHS >= 2] [SEED]');
  process.exit(2);
}
const defaults = parseSearchConfig({});
const settings = { dataset: { name: 'fashion-mnist', validationImages: defaults.dataset.validationImages }, images: defaults.proxy.images, epochs: defaults.proxy.epochs, threads: 1, splitSeed: 0 };
const space = getSpace('fmnist');
const reference = planToModel(buildPlan(space.decode(space.defaultDna())), 'reference');
const measured = sampleArchitectures('fmnist', 200, seed + 1000);
const device = new OrtCpuDevice({ threads: 1 });
const pool = await WorkerPool.start({ workers: 2, settings });

const ways = {
  'set-up inside the hold': async (model, held) => pool.holdWhile(() => held(() => device.measureAgainst(model, reference))),
  'set-up outside the hold': async (model, held) =>
    timeQuietly(
      () => device.prepareAgainst(model, reference),
      (fn, ready) => pool.holdWhile(() => held(fn), ready),
      (prepared) => prepared.time(),
    ),
};
const names = Object.keys(ways);
const holds = Object.fromEntries(names.map((n) => [n, []]));
const walls = Object.fromEntries(names.map((n) => [n, []]));
let training = true;
const trainAll = (async () => {
  const archs = sampleArchitectures('fmnist', samples, seed);
  let next = 0;
  const lane = async () => {
    while (next < archs.length) {
      const i = next++;
      await pool.train({ plan: buildPlan(parseArch(archs[i])), seed: i });
      console.error(`trained ${i + 1}/${archs.length}`);
    }
  };
  await Promise.all([lane(), lane()]);
  training = false;
})();

let k = 0;
await new Promise((r) => setTimeout(r, 3000)); // both processes past loading and into their first trial
while (training) {
  const name = names[k % names.length];
  // a fresh model each time, as a search's candidates: its ONNX is exported on first read
  const model = planToModel(buildPlan(parseArch(measured[k % measured.length])), `m${k}`);
  const asked = performance.now();
  let heldFrom = 0;
  let heldTo = 0;
  await ways[name](model, async (fn) => {
    heldFrom = performance.now();
    try {
      return await fn();
    } finally {
      heldTo = performance.now();
    }
  });
  const done = performance.now();
  if (training) {
    holds[name].push(heldTo - heldFrom);
    walls[name].push(done - asked);
  }
  k++;
  await new Promise((r) => setTimeout(r, 700)); // training runs between measurements, as between a search's trials
}
await trainAll;
await pool.close();
for (const n of names) {
  console.log(`${n}: ${holds[n].length} measurements; held median ${median(holds[n]).toFixed(0)} ms, mean ${mean(holds[n]).toFixed(0)} ms; asked to result median ${median(walls[n]).toFixed(0)} ms, mean ${mean(walls[n]).toFixed(0)} ms`);
}
const [a, b] = names;
console.log(`hold: ${b} / ${a} = x${(median(holds[b]) / median(holds[a])).toFixed(3)} (medians), x${(mean(holds[b]) / mean(holds[a])).toFixed(3)} (means)`);
