#!/usr/bin/env node
// Proxy trials as they ran before the trial-cost issue: the first N architectures of `mnas bench
// proxy --seed 0` proxy-trained by a build of commit 171d353 (one process, 2 threads, glibc
// malloc, the search's proxy settings then and now: 5,000 images, 1 epoch, 10,000 validation
// images), one after the other. Compare with `mnas bench proxy --samples N --seed 0 --sides mnas
// --parallel 2 --no-latency-probes` (the default 2 workers x 1 thread, no latency measured during
// the trials, as here), alternating on a quiet machine.
//
//   git worktree add /tmp/base 171d353 && ln -s "$PWD/node_modules" /tmp/base/node_modules
//   (cd /tmp/base && npm run build:native && npx tsc -p .)
//   /usr/bin/time -v node bench/before-issue.mjs /tmp/base/dist [N=5]
import { sampleArchitectures } from '../dist/src/bench/proxy-trials.js';

const [base, n = '5'] = process.argv.slice(2);
const count = Number(n);
if (!base || !Number.isInteger(count) || count < 1) {
  console.error('usage: node bench/before-issue.mjs BASE_DIST [N >= 1]  (BASE_DIST: the dist/ of a build of 171d353)');
  process.exit(2);
}
const { loadDataset } = await import(`${base}/src/data/load.js`);
const { proxySplit, proxyTrain } = await import(`${base}/src/train/run.js`);
const { parseArch } = await import(`${base}/src/space/arch-string.js`);
const archs = sampleArchitectures('fmnist', count, 0);
const split = proxySplit(loadDataset({ name: 'fashion-mnist', seed: 0 }), { subset: 5000, validationSize: 10000, splitSeed: 0 });
const rows = [];
const started = performance.now();
for (const [i, arch] of archs.entries()) {
  const t = performance.now();
  const r = await proxyTrain(parseArch(arch), split, { threads: 2, epochs: 1, recipe: { seed: i } });
  rows.push({ arch, seconds: (performance.now() - t) / 1000, val_accuracy: r.valAccuracy ?? null, status: r.status });
  console.error(`before arch ${i + 1}/${count}: ${rows.at(-1).seconds.toFixed(1)} s, val ${r.valAccuracy}`);
}
console.log(JSON.stringify({ side: 'before-171d353', threads: 2, wall_s: (performance.now() - started) / 1000, rows }));
