import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { planToModel } from '../latency/model.js';
import { registerDevice } from '../latency/registry.js';
import { profileSpace, saveTable } from '../latency/table.js';
import { CostModelDevice } from '../latency/testing.js';
import { buildPlan } from '../model/plan.js';
import { getSpace } from '../space/space.js';
import { runDetails } from '../runs/details.js';
import { MeasureGate } from './measure-gate.js';
import { rewardConfig } from './reward.js';
import { search } from './setup.js';
import { storedTrials, TINY_TRAINING_SEARCH } from './testing.js';
import { tempDir } from '../util/testing.js';

test('predicted-then-measured: every candidate predicted, the promising ones measured after training; fronts and best hold measured latencies only', async () => {
  const dir = tempDir('mnas-ptm-');
  const space = getSpace('fmnist');
  // a device the table predicts exactly, so measured and predicted latencies can be told apart by the stats alone
  const device = new CostModelDevice();
  registerDevice('ort-cpu', () => device);
  const table = path.join(dir, 'fmnist.json');
  saveTable(table, await profileSpace(new CostModelDevice(), space, { passes: 1 }));
  const out = path.join(dir, 'run');
  try {
    const result = await search({
      config: {
        ...TINY_TRAINING_SEARCH,
        budget: 12,
        seed: 1,
        latencySource: 'predicted-then-measured',
        latencyTable: table,
        predictedMargin: 0.2,
      },
      out,
    });
    const trials = storedTrials(out).filter((t) => t.status === 'done');
    assert.equal(trials.length, result.done);
    let measured = 0;
    for (const t of trials) {
      const s = t.latencyStats as { measured: boolean; predicted_ms: number; margin: number; decision: string; median_ms?: number };
      assert.equal(s.margin, 0.2);
      const truth = (await new CostModelDevice().measure(planToModel(buildPlan(space.decode(t.dna)), 'x'))).median_ms;
      assert.ok(Math.abs(s.predicted_ms - truth) < 1e-9 * truth, 'the table predicts this device');
      if (s.measured) {
        measured++;
        assert.ok(['front', 'top'].includes(s.decision));
        assert.equal(t.latencyMs, s.median_ms, 'a measured trial has the measured latency');
      } else {
        assert.equal(s.decision, 'dominated');
        assert.equal(t.latencyMs, s.predicted_ms, 'the others keep the prediction');
      }
    }
    assert.ok(measured > 0 && measured < trials.length, `some candidates measured, not all (${measured} of ${trials.length})`);
    const isMeasured = new Map(trials.map((t) => [t.id, (t.latencyStats as { measured: boolean }).measured]));
    const pareto = JSON.parse(readFileSync(path.join(out, 'pareto.json'), 'utf8')) as { trial: number }[];
    assert.ok(pareto.length > 0);
    for (const p of pareto) assert.ok(isMeasured.get(p.trial), `front member ${p.trial} was measured`);
    assert.ok(isMeasured.get(result.best!.trial), 'the best was measured');
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as { measured?: { done: number; measured: number; share: number }; drift: { checks: number; max_ratio: number } };
    assert.deepEqual(summary.measured, { done: trials.length, measured, share: measured / trials.length });
    assert.equal(runDetails(out).measured?.measured, measured, 'mnas runs show has it');
    // device measurements: the reference (T) and the measured candidates, nothing else (no drift check fell due in 12 trials)
    assert.equal(device.measured, 1 + trials.filter((t) => t.reusedFrom === null && isMeasured.get(t.id)).length);
    assert.equal(summary.drift.checks, 1);
    assert.equal(summary.drift.max_ratio, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('predicted-then-measured resumed: the gate starts from the measured trials of the first session, so every decision replays', async () => {
  const dir = tempDir('mnas-ptm-resume-');
  const space = getSpace('fmnist');
  registerDevice('ort-cpu', () => new CostModelDevice());
  const table = path.join(dir, 'fmnist.json');
  saveTable(table, await profileSpace(new CostModelDevice(), space, { passes: 1 }));
  const out = path.join(dir, 'run');
  try {
    const stop = new AbortController();
    const first = await search({
      config: {
        ...TINY_TRAINING_SEARCH,
        budget: 14,
        seed: 5,
        latencySource: 'predicted-then-measured',
        latencyTable: table,
        predictedMargin: 0.1,
      },
      out,
      signal: stop.signal,
      onTrial: (p) => {
        if (p.finished === 10) stop.abort();
      },
    });
    assert.ok(first.interrupted);
    const second = await search({ resume: out });
    assert.equal(second.done + second.failed, 14);
    // replay the decisions in trial order (one trial at a time: the order they were made in) with a fresh gate
    const gate = new MeasureGate(rewardConfig('soft', second.target_ms), 0.1, 1);
    let afterResume = 0;
    for (const t of storedTrials(out).filter((x) => x.status === 'done' && x.reusedFrom === null).sort((a, b) => a.id - b.id)) {
      const s = t.latencyStats as { measured: boolean; predicted_ms: number; decision: string };
      const expected = gate.decide(t.accuracy!, s.predicted_ms);
      assert.equal(s.decision, expected.why, `trial ${t.id}`);
      if (s.measured) gate.record(t.accuracy!, t.latencyMs!);
      if (t.id >= 10) afterResume++;
    }
    assert.ok(afterResume > 0, 'the resumed session decided too');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
