// How much an interleaved ratio moves from one measurement to the next (each opens new ORT
// sessions) under the default interleaved protocol and under the one before 2026-12-04 (the pairs
// in one session of each model, the ratio to +-0.5%): for ARCHS random fmnist-space architectures
// (seeded), CALLS measurements of each against the space's default under each protocol, the two
// alternating call by call. Prints per architecture the CV of the ratios and the mean seconds per
// measurement under each, then the medians over the architectures.
//
//   node bench/session-spread.mjs [ARCHS] [CALLS] [SEED]
//
// e.g. node bench/session-spread.mjs 12 10 0
import { OrtCpuDevice } from '../dist/src/latency/ort-cpu.js';
import { archToModel } from '../dist/src/latency/model.js';
import { sampleArchs } from '../dist/src/latency/predictor.js';
import { getSpace } from '../dist/src/space/space.js';
import { printArch } from '../dist/src/space/arch-string.js';
import { INTERLEAVED_PROTOCOL } from '../dist/src/latency/interleaved.js';
import { mean, median, sampleStd } from '../dist/src/util/stats.js';

const args = process.argv.slice(2);
const [archCount, calls, seed] = [args[0] ?? '6', args[1] ?? '10', args[2] ?? '0'].map(Number);
if (args.length > 3 || !Number.isInteger(archCount) || archCount < 1 || !Number.isInteger(calls) || calls < 3 || !Number.isInteger(seed)) {
  console.error('usage: node bench/session-spread.mjs [ARCHS >= 1] [CALLS >= 3] [SEED]');
  process.exit(2);
}
const protocols = {
  before: { sessions: 1, relPrecision: 0.005 },
  default: {},
};
const counts = Object.keys(protocols);
const space = getSpace('fmnist');
const device = new OrtCpuDevice({ threads: 1 });
const reference = archToModel(space.decode(space.defaultDna()), 'fmnist-default');
const cv = (xs) => sampleStd(xs) / mean(xs);
const spread = Object.fromEntries(counts.map((n) => [n, []]));
const seconds = Object.fromEntries(counts.map((n) => [n, []]));
for (const arch of sampleArchs(space, archCount, seed)) {
  const model = archToModel(arch, printArch(arch));
  const ratios = Object.fromEntries(counts.map((n) => [n, []]));
  const secs = Object.fromEntries(counts.map((n) => [n, 0]));
  for (let k = 0; k < calls; k++) {
    for (const n of counts) {
      const t0 = performance.now();
      const r = await device.measureAgainst(model, reference, protocols[n]);
      secs[n] += (performance.now() - t0) / 1000 / calls;
      ratios[n].push(r.ratio);
    }
  }
  for (const n of counts) {
    spread[n].push(cv(ratios[n]));
    seconds[n].push(secs[n]);
  }
  console.log(counts.map((n) => `${n}: CV ${(100 * cv(ratios[n])).toFixed(2)}%, ${secs[n].toFixed(2)} s`).join(' | '), ` ratio ${median(ratios[counts[0]]).toFixed(3)}`);
}
console.log(`default: ${INTERLEAVED_PROTOCOL.sessions} sessions of each model, the ratio to +-${100 * INTERLEAVED_PROTOCOL.relPrecision}%`);
console.log(`medians over ${archCount} archs, ${calls} measurements each: ${counts.map((n) => `${n}: CV ${(100 * median(spread[n])).toFixed(2)}%, ${median(seconds[n]).toFixed(2)} s per measurement`).join(' | ')}`);
