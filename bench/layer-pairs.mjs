// Where a sum of layers timed alone misses a whole network: one architecture's whole network, each
// of its layers alone and each pair of consecutive layers, timed interleaved with the space's
// default on ort-cpu (1 thread), ROUNDS rounds, median ratios. A pair's saving over its two layers
// alone is the fixed per-model cost (about the pool|fc saving, two layers of almost no work) plus
// whatever the runtime does across that boundary in a network and not in a layer timed alone
// (reorders into and out of its blocked layout, an Add fused into the conv before it).
//
//   node bench/layer-pairs.mjs SPACE ARCH_BLOCKS [ROUNDS]
//
// e.g. node bench/layer-pairs.mjs fmnist r2_k5_s11_e1_i16_o24,r2_k3_s22_e1_i24_o24,r2_k3_s22_e3_i24_o32,r1_k3_s22_e1_i32_o80_se0.25,r1_k5_s11_e3_i80_o96_se0.25_noskip 3
import { buildPlan } from '../dist/src/model/plan.js';
import { parseArch, printArch } from '../dist/src/space/arch-string.js';
import { layersToModel, planToModel } from '../dist/src/latency/model.js';
import { createDevice } from '../dist/src/latency/registry.js';
import { getSpace } from '../dist/src/space/space.js';
import { layerKey } from '../dist/src/latency/table.js';
import { median } from '../dist/src/util/stats.js';

const [spaceName, blocks, roundsArg = '3'] = process.argv.slice(2);
const rounds = Number(roundsArg);
if (!spaceName || !blocks || !(Number.isInteger(rounds) && rounds > 0)) {
  console.error('usage: node bench/layer-pairs.mjs SPACE ARCH_BLOCKS [ROUNDS]');
  process.exit(2);
}
const space = getSpace(spaceName);
const defaultArch = space.decode(space.defaultDna());
// the space's input, classes, stem and head, with the given blocks
const plan = buildPlan(parseArch(`${printArch(defaultArch).split(':')[0]}:${blocks}`));
const reference = planToModel(buildPlan(defaultArch), 'default');
const n = plan.layers.length;
const items = [{ name: 'whole', model: planToModel(plan, 'whole') }];
for (let i = 0; i < n; i++) items.push({ name: `L${i}`, model: layersToModel(plan, { from: i, to: i + 1 }, `L${i}`) });
for (let i = 0; i + 1 < n; i++) items.push({ name: `L${i}+${i + 1}`, model: layersToModel(plan, { from: i, to: i + 2 }, `L${i}+${i + 1}`) });
const ratios = new Map(items.map((x) => [x.name, []]));
const referenceMs = [];
const device = await createDevice('ort-cpu', { threads: 1 });
try {
  for (let r = 0; r < rounds; r++) {
    for (const x of items) {
      const o = await device.measureAgainst(x.model, reference);
      ratios.get(x.name).push(o.ratio);
      referenceMs.push(o.reference_ms);
    }
  }
} finally {
  await device.close();
}
const R = (name) => median(ratios.get(name));
console.log(`ratios to ${spaceName}'s default (${rounds} rounds; the default ran ${Math.min(...referenceMs).toFixed(4)}-${Math.max(...referenceMs).toFixed(4)} ms)`);
let sum = 0;
for (let i = 0; i < n; i++) {
  sum += R(`L${i}`);
  console.log(`L${i}`.padEnd(6), R(`L${i}`).toFixed(4), layerKey(plan.layers[i]));
}
console.log(`whole ${R('whole').toFixed(4)}, sum of its layers alone ${sum.toFixed(4)}`);
for (let i = 0; i + 1 < n; i++) {
  const saving = R(`L${i}`) + R(`L${i + 1}`) - R(`L${i}+${i + 1}`);
  console.log(`saving L${i}|L${i + 1}`.padEnd(16), saving.toFixed(4));
}
