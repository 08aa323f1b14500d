// Does a longer measurement steady a model's median on a machine whose speed moves? One process,
// one ort-cpu session (1 thread), N measurements of MODEL one after the other, each with at least
// MIN_SECONDS of timed runs: the CV of their medians and of their p10s.
//
//   node bench/measure-repeat.mjs [MODEL] [MIN_SECONDS] [N]
//
// e.g. node bench/measure-repeat.mjs bench-fmnist 0.25 6; node bench/measure-repeat.mjs bench-fmnist 2 6
import { createDevice } from '../dist/src/latency/registry.js';
import { resolveModel } from '../dist/src/latency/model.js';
import { mean, sampleStd } from '../dist/src/util/stats.js';

const [spec = 'bench-fmnist', minSecondsArg = '0.25', nArg = '6'] = process.argv.slice(2);
const minSeconds = Number(minSecondsArg);
const n = Number(nArg);
if (!(minSeconds > 0) || !Number.isInteger(n) || n < 2) {
  console.error('usage: node bench/measure-repeat.mjs [MODEL] [MIN_SECONDS > 0] [N >= 2]');
  process.exit(2);
}
const cv = (values) => sampleStd(values) / mean(values);
const device = await createDevice('ort-cpu', { threads: 1 });
try {
  const model = resolveModel(spec, { seed: 0 });
  const medians = [];
  const p10s = [];
  for (let i = 0; i < n; i++) {
    const r = await device.measure(model, { minSeconds, maxSeconds: Math.max(1.5, 1.5 * minSeconds) });
    medians.push(r.median_ms);
    p10s.push(r.p10_ms);
  }
  console.log(`${spec}, ${n} measurements of >= ${minSeconds} s: medians ${medians.map((x) => x.toFixed(4)).join(' ')} ms; CV of medians ${(100 * cv(medians)).toFixed(2)}%, of p10s ${(100 * cv(p10s)).toFixed(2)}%`);
} finally {
  await device.close();
}
