// How much two proxy trainings on this machine slow each other, for mnas and for the PyTorch peer
// (Debian's python3-torch with jemalloc, bench/proxy_pytorch.py), on the same random fmnist
// architectures: each architecture is trained once alone and once as a pair (two processes
// training the same architecture at the same moment, so neither idles while the other runs), one
// thread per process, the sides and modes rotating from one architecture to the next. Prints per
// side the median over architectures of (pair seconds / alone seconds) and (pair CPU seconds /
// alone CPU seconds), and the throughput two processes would give against one, 2 / wall ratio.
// No latency measurement holds anything here: this is the machine's contention alone, the ceiling
// of any two-process search before measurements. Run it on a quiet machine.
//
//   node bench/pair-contention.mjs [SAMPLES] [SEED]
//
// e.g. node bench/pair-contention.mjs 10 0
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sampleArchitectures } from '../dist/src/bench/proxy-trials.js';
import { PytorchPeer, writePeerSpec } from '../dist/src/bench/pytorch-peer.js';
import { FASHION_MNIST_DEFAULT_DIR } from '../dist/src/data/fashion-mnist.js';
import { loadDataset } from '../dist/src/data/load.js';
import { buildPlan } from '../dist/src/model/plan.js';
import { parseSearchConfig } from '../dist/src/search/config.js';
import { WorkerPool } from '../dist/src/search/workers/worker-pool.js';
import { parseArch } from '../dist/src/space/arch-string.js';
import { PROXY_RECIPE } from '../dist/src/train/recipe.js';
import { proxySplit } from '../dist/src/train/run.js';
import { median } from '../dist/src/util/stats.js';

const [samplesArg = '10', seedArg = '0'] = process.argv.slice(2);
const samples = Number(samplesArg);
const seed = Number(seedArg);
if (process.argv.length > 4 || !Number.isInteger(samples) || samples < 1 || !Number.isInteger(seed)) {
  console.error('usage: node bench/pair-contention.mjs [SAMPLES >= 1] [SEED]');
  process.exit(2);
}
const defaults = parseSearchConfig({});
const settings = { dataset: { name: 'fashion-mnist', validationImages: defaults.dataset.validationImages }, images: defaults.proxy.images, epochs: defaults.proxy.epochs, threads: 1, splitSeed: 0 };
const archs = sampleArchitectures('fmnist', samples, seed);
const work = mkdtempSync(path.join(tmpdir(), 'mnas-pair-contention-'));
const spec = path.join(work, 'spec.json');
const split = proxySplit(loadDataset({ name: 'fashion-mnist', seed: 0 }), { subset: settings.images, validationSize: settings.dataset.validationImages, splitSeed: 0 });
writePeerSpec(spec, {
  archs,
  split,
  recipe: { ...PROXY_RECIPE, epochs: settings.epochs },
  dataFiles: { images: path.join(FASHION_MNIST_DEFAULT_DIR, 'train-images-idx3-ubyte.gz'), labels: path.join(FASHION_MNIST_DEFAULT_DIR, 'train-labels-idx1-ubyte.gz') },
});

// two runners per side, each its own process: [0] alone, [0] and [1] as the pair
const mnasPools = [await WorkerPool.start({ workers: 1, settings }), await WorkerPool.start({ workers: 1, settings })];
const peers = [await PytorchPeer.start({ specFile: spec, threads: 1, jemalloc: true }), await PytorchPeer.start({ specFile: spec, threads: 1, jemalloc: true })];
const run = {
  mnas: async (k, i) => {
    const r = await mnasPools[k].train({ plan: buildPlan(parseArch(archs[i])), seed: seed + i });
    return { seconds: r.seconds, cpu: r.memory?.cpuSeconds ?? NaN };
  },
  'pytorch-je': async (k, i) => {
    const r = await peers[k].runTrial(i);
    return { seconds: r.seconds, cpu: r.userSeconds + r.systemSeconds };
  },
};
const sides = Object.keys(run);
const rows = [];
try {
  // warm both processes of each side (first-trial costs: code paths, allocator caches)
  for (const side of sides) await Promise.all([run[side](0, 0), run[side](1, 0)]);
  for (let i = 0; i < archs.length; i++) {
    const order = sides.flatMap((side) => ['alone', 'pair'].map((mode) => ({ side, mode })));
    const rotate = i % order.length;
    const row = { arch: i };
    for (const { side, mode } of [...order.slice(rotate), ...order.slice(0, rotate)]) {
      if (mode === 'alone') {
        row[`${side}_alone`] = await run[side](0, i);
      } else {
        const [a, b] = await Promise.all([run[side](0, i), run[side](1, i)]);
        row[`${side}_pair`] = { seconds: (a.seconds + b.seconds) / 2, cpu: (a.cpu + b.cpu) / 2 };
      }
    }
    rows.push(row);
    console.error(`arch ${i + 1}/${archs.length}: ` + sides.map((s) => `${s} ${row[`${s}_alone`].seconds.toFixed(2)} s alone, ${row[`${s}_pair`].seconds.toFixed(2)} s in a pair`).join('; '));
  }
} finally {
  for (const p of mnasPools) await p.close();
  for (const p of peers) await p.close();
  rmSync(work, { recursive: true, force: true });
}
const summary = Object.fromEntries(
  sides.map((s) => {
    const wall = median(rows.map((r) => r[`${s}_pair`].seconds / r[`${s}_alone`].seconds));
    const cpu = median(rows.map((r) => r[`${s}_pair`].cpu / r[`${s}_alone`].cpu));
    const total = (mode) => rows.reduce((t, r) => t + r[`${s}_${mode}`].seconds, 0);
    return [s, { median_alone_s: median(rows.map((r) => r[`${s}_alone`].seconds)), wall_ratio: wall, cpu_ratio: cpu, two_process_throughput: (2 * total('alone')) / total('pair') }];
  }),
);
console.log(JSON.stringify({ date: new Date().toISOString(), samples, seed, summary, rows }));
