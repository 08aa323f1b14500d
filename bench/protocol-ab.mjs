// Two measurement protocols on the same models, alternating (A B, then B A, ...): how far apart
// they put each model's latency (B/A of the model's median over the repeats) and how much each
// spreads over its own repeats ((max - min) / median per model). ort-cpu, one thread, random fmnist
// architectures. A and B are partial protocols over the default (src/latency/protocol.ts); A
// defaults to the protocol before 2026-12-06 (0.25 s timed after 0.1 s of warm-up), B to the
// current default. Run it on a quiet machine.
//
//   node bench/protocol-ab.mjs [MODELS] [REPEATS] [A_JSON] [B_JSON]
//
// e.g. node bench/protocol-ab.mjs 20 4
import { buildPlan } from '../dist/src/model/plan.js';
import { parseArch } from '../dist/src/space/arch-string.js';
import { sampleArchitectures } from '../dist/src/bench/proxy-trials.js';
import { planToModel } from '../dist/src/latency/model.js';
import { OrtCpuDevice } from '../dist/src/latency/ort-cpu.js';
import { DEFAULT_PROTOCOL } from '../dist/src/latency/protocol.js';
import { median } from '../dist/src/util/stats.js';

const args = process.argv.slice(2);
const models = Number(args[0] ?? 20);
const repeats = Number(args[1] ?? 4);
let sides;
try {
  sides = { A: JSON.parse(args[2] ?? '{"warmupSeconds":0.1,"minSeconds":0.25}'), B: JSON.parse(args[3] ?? '{}') };
} catch (e) {
  console.error(`protocol-ab: a protocol is not JSON: ${e.message}`);
  process.exit(2);
}
if (args.length > 4 || !Number.isInteger(models) || models < 1 || !Number.isInteger(repeats) || repeats < 2) {
  console.error('usage: node bench/protocol-ab.mjs [MODELS >= 1] [REPEATS >= 2] [A_JSON] [B_JSON]');
  process.exit(2);
}
const device = new OrtCpuDevice({ threads: 1 });
const archs = sampleArchitectures('fmnist', models, 11);
const latencies = archs.map(() => ({ A: [], B: [] }));
const millis = { A: [], B: [] };
for (let r = 0; r < repeats; r++) {
  for (const [i, arch] of archs.entries()) {
    // a fresh model each time, as a search's candidates
    const model = planToModel(buildPlan(parseArch(arch)), `m${i}`);
    for (const side of r % 2 ? ['B', 'A'] : ['A', 'B']) {
      const t0 = performance.now();
      const m = await device.measure(model, sides[side]);
      millis[side].push(performance.now() - t0);
      latencies[i][side].push(m.latency_ms);
    }
  }
  console.error(`repeat ${r + 1}/${repeats}`);
}
const spread = (v) => (Math.max(...v) - Math.min(...v)) / median(v);
const p90 = (v) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor(0.9 * v.length))];
const ratio = latencies.map((l) => median(l.B) / median(l.A));
const side = (s) => ({ protocol: { ...DEFAULT_PROTOCOL, ...sides[s] }, ms_per_measurement: median(millis[s]), spread_median: median(latencies.map((l) => spread(l[s]))), spread_p90: p90(latencies.map((l) => spread(l[s]))) });
console.log(
  JSON.stringify({
    date: new Date().toISOString(),
    models,
    repeats,
    latency_ms_median: median(latencies.map((l) => median(l.A))),
    b_over_a: { median: median(ratio), min: Math.min(...ratio), max: Math.max(...ratio) },
    A: side('A'),
    B: side('B'),
  }),
);
