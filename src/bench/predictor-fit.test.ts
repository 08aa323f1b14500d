import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { buildPlan } from '../model/plan.js';
import { predictLinear } from '../latency/linear-fit.js';
import { MODEL_FEATURES, modelFeatures } from '../latency/model-features.js';
import { printArch } from '../space/arch-string.js';
import { getSpace } from '../space/space.js';
import { latencyRow, TrainedTable } from '../trained/table.js';
import { Rng } from '../util/rng.js';
import { tempDir } from '../util/testing.js';
import { runPredictorFit } from './predictor-fit.js';

const dir = tempDir('mnas-predictor-fit-');
after(() => rmSync(dir, { recursive: true, force: true }));

test('latencies that are a linear function of the features are predicted exactly; a line on MACs does worse', () => {
  const space = getSpace('fmnist');
  const rng = new Rng(5);
  const coefficients = [0.1, 0.02, 0.03, 0.035, 0.04, 0.02, 0.1, 0.01, 0.01, 0.004, 0.006, 0.002, 0.001, 0.05, 0.03, 0.004, 0.003, 0.02, 0.008];
  const file = path.join(dir, 'linear.jsonl');
  const table = new TrainedTable(file);
  for (let i = 0; i < 80; i++) {
    const plan = buildPlan(space.decode(space.sample(rng)));
    const f = modelFeatures(plan);
    const ratio = predictLinear({ coefficients }, MODEL_FEATURES.map((k) => f[k]));
    table.add(latencyRow(printArch(plan.arch), 'ort-cpu', ratio * 0.2, {}, { reference: 'REF', ratio }));
  }
  table.add(latencyRow('in28x28x1_cls10_stem16s1_head0:r1_k3_s11_e1_i16_o16', 'ort-cpu', 0.1, {})); // not interleaved: not used
  const r = runPredictorFit({ table: file, device: 'ort-cpu', train: 50, splits: 3, seed: 1 });
  assert.deepEqual([r.architectures, r.reference, r.train, r.splits], [80, 'REF', 50, 3]);
  assert.equal(r.features.within_10pct, 1);
  assert.ok(r.features.max_abs_pct_error < 0.5, `worst ${r.features.max_abs_pct_error}%`);
  assert.ok(r.macs_only.max_abs_pct_error > r.features.max_abs_pct_error);
  assert.throws(() => runPredictorFit({ table: file, device: 'ort-cpu', train: 80, splits: 1, seed: 1 }), /--train 80 needs more than 80 architectures measured against the reference; .* has 80 on ort-cpu/);
  assert.throws(() => runPredictorFit({ table: file, device: 'browser', train: 30, splits: 1, seed: 1 }), /has no browser latency measured interleaved with a reference/);
});
