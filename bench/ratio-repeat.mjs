// How well ort-cpu repeats a model's latency ratio to the space's default, and how that ratio moves
// when the machine changes speed: N random architectures of a space (seeded), each timed
// interleaved with the default (as `mnas latency eval` does), then the first R of them again.
// Appends one JSON line per measurement (index, round, arch, ratio, the reference's ms in that pair)
// and prints the repeatability at the end, split by whether the reference ran at the same speed.
//
//   node bench/ratio-repeat.mjs SPACE N SEED OUT.jsonl [R] [--summary-only] [--fit TABLE [--train T] [--below MS | --above MS]]
//
// Prefix with `taskset -c K` to pin the whole process to one CPU. With --summary-only, reads
// OUT.jsonl and prints its summary without measuring. With --fit, also fits the latency
// predictor's features model (TABLE's layer entries; as `latency profile` calibrates) on T of the
// first round's architectures and predicts the others, over 30 random splits: the share within
// 10%; --below/--above keep only the measurements whose reference ran faster/slower than MS.
import { appendFileSync, readFileSync } from 'node:fs';
import { createDevice } from '../dist/src/latency/registry.js';
import { getSpace } from '../dist/src/space/space.js';
import { archToModel } from '../dist/src/latency/model.js';
import { printArch } from '../dist/src/space/arch-string.js';
import { sampleArchs } from '../dist/src/latency/predictor.js';
import { repeatability } from '../dist/src/latency/repeatability.js';

const argv = process.argv.slice(2);
const flag = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv.splice(i, 2)[1] : undefined;
};
const fitTable = flag('--fit');
const train = Number(flag('--train') ?? 120);
const below = Number(flag('--below') ?? Infinity);
const above = Number(flag('--above') ?? 0);
const args = argv.filter((a) => a !== '--summary-only');
const [spaceName, n, seed, out, retest = '0'] = args;
if (!spaceName || !n || !seed || !out) {
  console.error('usage: node bench/ratio-repeat.mjs SPACE N SEED OUT.jsonl [R] [--summary-only] [--fit TABLE [--train T] [--below MS | --above MS]]');
  process.exit(2);
}
if (!process.argv.includes('--summary-only')) {
  const space = getSpace(spaceName);
  const device = await createDevice('ort-cpu', { threads: 1 });
  const reference = archToModel(space.decode(space.defaultDna()), 'reference');
  const archs = sampleArchs(space, Number(n), Number(seed));
  const order = [...archs.map((_, i) => [i, 0]), ...archs.slice(0, Number(retest)).map((_, i) => [i, 1])];
  for (const [i, round] of order) {
    const r = await device.measureAgainst(archToModel(archs[i], `m${i}`), reference, {});
    appendFileSync(out, `${JSON.stringify({ i, round, arch: printArch(archs[i]), ratio: r.ratio, ratio_rel_half_width: r.ratio_rel_half_width, ms: r.median_ms, reference_ms: r.reference_ms, converged: r.converged })}\n`);
    if (i % 20 === 0) console.error(`model ${i}, round ${round}`);
  }
  await device.close();
}
const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const asMeasured = (r) => ({ arch: r.arch, measured_ms: r.ratio * r.reference_ms, converged: r.converged, ratio: r.ratio, reference_ms: r.reference_ms });
const first = new Map(rows.filter((r) => r.round === 0).map((r) => [r.i, r]));
const again = rows.filter((r) => r.round === 1 && first.has(r.i));
console.log(JSON.stringify(repeatability(again.map((r) => asMeasured(first.get(r.i))), again.map(asMeasured))));

if (fitTable) {
  const { buildPlan } = await import('../dist/src/model/plan.js');
  const { parseArch } = await import('../dist/src/space/arch-string.js');
  const { predictLinear } = await import('../dist/src/latency/linear-fit.js');
  const { LatencyPredictor, robustFeatureFit } = await import('../dist/src/latency/predictor.js');
  const { PREDICTOR_FEATURES } = await import('../dist/src/latency/model-features.js');
  const { loadTable } = await import('../dist/src/latency/table.js');
  const { Rng } = await import('../dist/src/util/rng.js');
  const predictor = new LatencyPredictor({ ...loadTable(fitTable), calibration: undefined });
  const kept = [...first.values()].filter((r) => r.reference_ms < below && r.reference_ms > above);
  const xs = kept.map((r) => predictor.featureValues(buildPlan(parseArch(r.arch)), PREDICTOR_FEATURES));
  const ys = kept.map((r) => r.ratio);
  if (kept.length <= train) throw new Error(`--train ${train} needs more than ${train} measurements; ${kept.length} are kept`);
  const rng = new Rng(7);
  const errors = [];
  for (let split = 0; split < 30; split++) {
    const order = [...rng.permutation(ys.length)];
    const coefficients = robustFeatureFit(order.slice(0, train).map((i) => xs[i]), order.slice(0, train).map((i) => ys[i]));
    for (const i of order.slice(train)) errors.push(Math.abs(predictLinear({ coefficients }, xs[i]) / ys[i] - 1));
  }
  const within = (e) => errors.filter((x) => x <= e).length / errors.length;
  console.log(JSON.stringify({ fit: { architectures: ys.length, train, splits: 30, within_10pct: within(0.1), within_5pct: within(0.05), mean_abs_pct_error: (100 * errors.reduce((a, b) => a + b, 0)) / errors.length } }));
}
