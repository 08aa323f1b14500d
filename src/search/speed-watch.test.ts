import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { LatencyModel, RelativeLatencyResult } from '../latency/device.js';
import { planToModel } from '../latency/model.js';
import { registerDevice } from '../latency/registry.js';
import { CostModelDevice } from '../latency/testing.js';
import { buildPlan } from '../model/plan.js';
import { summarizeRun } from '../runs/summary.js';
import { parseArch } from '../space/arch-string.js';
import { tempDir } from '../util/testing.js';
import { search } from './setup.js';
import { MIN_SEEN, OFF_SPEED_TOLERANCE, SpeedWatch } from './speed-watch.js';
import { ExperimentStore } from './store.js';
import { storedTrials, TINY_TRAINING_SEARCH } from './testing.js';

test('no measurement counts as off speed before MIN_SEEN have been recorded, however slow', () => {
  const w = new SpeedWatch();
  for (let i = 0; i < MIN_SEEN - 1; i++) w.record(i === 0 ? 0.15 : 0.3);
  assert.equal(w.fastMs(), undefined);
  assert.equal(w.isOffSpeed(1), false);
  assert.equal(w.slowdown(1), undefined);
});

test("the fast speed is a low quantile of the reference's times, so a slow mode in a minority of measurements does not move it", () => {
  const w = new SpeedWatch();
  for (const ms of [0.21, 0.2, 0.15, 0.151, 0.149, 0.152, 0.15, 0.22]) w.record(ms);
  const fast = w.fastMs()!;
  assert.ok(fast >= 0.149 && fast <= 0.151, `fast ${fast}`);
  assert.equal(w.isOffSpeed(0.21), true);
  assert.equal(w.isOffSpeed(0.16), false, 'within the fast mode own spread');
  assert.ok(Math.abs(w.slowdown(0.21)! - (0.21 / fast - 1)) < 1e-12);
});

test('the tolerance is the boundary: a reference just inside it is at speed, just beyond it is not', () => {
  const w = new SpeedWatch();
  for (let i = 0; i < 4; i++) w.record(0.1);
  assert.equal(w.isOffSpeed(0.1 * (1 + OFF_SPEED_TOLERANCE) - 1e-9), false);
  assert.equal(w.isOffSpeed(0.1 * (1 + OFF_SPEED_TOLERANCE) + 1e-9), true);
  const tight = new SpeedWatch(0.02);
  for (let i = 0; i < 4; i++) tight.record(0.1);
  assert.equal(tight.isOffSpeed(0.103), true);
});

test('bad tolerances and reference times are refused', () => {
  assert.throws(() => new SpeedWatch(0), /tolerance/);
  assert.throws(() => new SpeedWatch(1), /tolerance/);
  const w = new SpeedWatch();
  assert.throws(() => w.record(0), /positive/);
  assert.throws(() => w.record(Number.NaN), /positive/);
  assert.equal(w.count, 0);
});

test('a search measuring interleaved re-measures the one trial whose reference ran in a slow mode, keeps the fast measurement and reports it', async () => {
  const dir = tempDir('mnas-speed-');
  // a deterministic device (latency from the MACs): its 5th interleaved measurement runs in a slow mode, the reference
  // 40% slower and the model's ratio to it 10% off; every other one at the fast speed
  const inner = new CostModelDevice();
  let interleaved = 0;
  registerDevice('ort-cpu', () => ({
    describe: () => inner.describe(),
    measure: (m: LatencyModel) => inner.measure(m),
    measureAgainst: async (m: LatencyModel, reference: LatencyModel): Promise<RelativeLatencyResult> => {
      const slow = ++interleaved === 5;
      const model = await inner.measure(m);
      const ref = await inner.measure(reference);
      const ratio = (model.median_ms / ref.median_ms) * (slow ? 1.1 : 1);
      return { ...model, ratio, ratio_rel_half_width: 0.005, reference_ms: ref.median_ms * (slow ? 1.4 : 1), pairs: 12, runs_per_block: 10 };
    },
    close: () => inner.close(),
  }));
  const out = path.join(dir, 'run');
  try {
    const result = await search({
      config: {
        ...TINY_TRAINING_SEARCH,
        device: { kind: 'ort-cpu', interleave: true },
        budget: 8,
        seed: 3,
      },
      out,
    });
    assert.equal(result.done, 8);
    assert.equal(interleaved, 9, 'eight trials, one of them measured twice');
    const startMs = ExperimentStore.open(out, { readonly: true });
    const reference = startMs.driftChecks()[0]!.ms;
    startMs.close();
    const trials = storedTrials(out);
    const retried = trials.filter((t) => (t.latencyStats as { speed_retry?: unknown }).speed_retry !== undefined);
    assert.equal(retried.length, 1);
    const retry = (retried[0]!.latencyStats as { speed_retry: { kept: string; other_ratio: number; first_slowdown: number } }).speed_retry;
    assert.equal(retry.kept, 'second');
    assert.ok(Math.abs(retry.first_slowdown - 0.4) < 1e-9, `slowdown ${retry.first_slowdown}`);
    for (const t of trials) {
      const s = t.latencyStats as { ratio: number };
      assert.ok(Math.abs(t.latencyMs! - s.ratio * reference) < 1e-12);
      const plan = buildPlan(parseArch(t.arch!));
      const truth = (await inner.measure(planToModel(plan, 'x'))).median_ms / reference;
      assert.ok(Math.abs(s.ratio / truth - 1) < 1e-9, `trial ${t.id}: the ratio kept is the fast one`);
    }
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as { drift: { speed_retried_trials: number } };
    assert.equal(summary.drift.speed_retried_trials, 1);
    assert.equal(summarizeRun(out).drift?.speed_retried_trials, 1, 'mnas runs show reads it from the trials briefs');
    assert.match(readFileSync(path.join(out, 'report.html'), 'utf8'), /1 measured again after running in a slower speed mode/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
