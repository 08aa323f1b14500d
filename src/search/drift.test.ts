import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { registerDevice } from '../latency/registry.js';
import type { LatencyModel } from '../latency/device.js';
import { CostModelDevice, DriftingDevice } from '../latency/testing.js';
import { summarizeRun } from '../runs/summary.js';
import { DriftMonitor, driftSummary, interleavedReferenceTimes, offText, startOffSpeed } from './drift.js';
import type { DriftCheck } from './run-store.js';
import { search } from './setup.js';
import { ExperimentStore } from './store.js';
import { storedTrials, TINY_TRAINING_SEARCH } from './testing.js';
import { tempDir } from '../util/testing.js';

const settings = { everyTrials: 3, everySeconds: 60, tolerance: 0.03 };

test('checks fall due every N measurements or after S seconds, and correct only beyond the tolerance', async () => {
  const speeds = [1, 1.02, 1.5, 1.5, 0.9];
  let measured = 0;
  let now = 0;
  const m = new DriftMonitor(async () => 2 * speeds[measured++]!, settings, [], () => now);
  assert.equal(await m.start(), 2);
  const corrections = [];
  for (let trial = 0; trial < 3; trial++) corrections.push(await m.beforeMeasurement(trial));
  assert.equal(measured, 1, 'no check before three measurements');
  corrections.push(await m.beforeMeasurement(3)); // due by count: 1.02 is within 3%
  assert.deepEqual(corrections.map((c) => c.ratio), [1, 1, 1, 1]);
  now += 61_000; // due by time: 1.5 corrects
  const c = await m.beforeMeasurement(4);
  assert.equal(c.ratio, 1.5);
  assert.equal(c.check, 2);
  assert.deepEqual(await m.beforeMeasurement(5), { ratio: 1.5, check: 2 }, 'in force until the next check');
  assert.equal(measured, 3);
  const checks = m.list();
  assert.deepEqual(checks.map((x) => [x.seq, x.trialId, x.ms, x.corrects]), [[0, null, 2, false], [1, 3, 2.04, false], [2, 4, 3, true]]);
  const s = driftSummary(checks, 0.03, 2)!;
  assert.deepEqual({ checks: s.checks, min: s.min_ratio, max: s.max_ratio, drifted: s.drifted_checks, corrected: s.corrected_trials }, { checks: 3, min: 1, max: 1.5, drifted: 1, corrected: 2 });
});

test('a resumed monitor keeps check 0 of the first session as its reference', async () => {
  const stored: DriftCheck[] = [{ seq: 0, at: 'then', trialId: null, ms: 4, ratio: 1, corrects: false }];
  const saved: DriftCheck[] = [];
  const m = new DriftMonitor(async () => 5, settings, stored);
  assert.equal(await m.start(), 4);
  m.attach({ addDriftCheck: (c) => saved.push(c) });
  assert.deepEqual(saved.map((c) => [c.seq, c.ms, c.ratio, c.corrects]), [[1, 5, 1.25, true]], 'only the new check is saved, relative to the stored reference');
  assert.equal((await m.beforeMeasurement(0)).ratio, 1.25);
});

test('bad settings are refused', () => {
  assert.throws(() => new DriftMonitor(async () => 1, { ...settings, tolerance: 1.5 }), /tolerance must be in \(0, 1\)/);
  assert.throws(() => new DriftMonitor(async () => 1, { ...settings, everyTrials: 0 }), /everyTrials/);
});

test('a search on a device that slows down 1.5x records its checks, corrects the later latencies and reports the drift; a resume keeps the first reference', async () => {
  const dir = tempDir('mnas-drift-');
  // a deterministic device (latency from the MACs, so the test holds on a loaded machine), 1.5x slower
  // from its 4th measurement on (1: the reference; 2, 3: trials 0 and 1)
  let device: DriftingDevice | undefined;
  registerDevice('ort-cpu', () => (device = new DriftingDevice(new CostModelDevice(), (k) => (k >= 4 ? 1.5 : 1))));
  const out = path.join(dir, 'run');
  try {
    const result = await search({
      config: {
        ...TINY_TRAINING_SEARCH,
        budget: 6,
        seed: 3,
        drift: { everyTrials: 2, everySeconds: 3600, tolerance: 0.03 },
      },
      out,
    });
    assert.equal(result.done, 6);
    const store = ExperimentStore.open(out, { readonly: true });
    const checks = store.driftChecks();
    store.close();
    // check 0 at the start (the reference that set T), then before the measurements of trials 2 and 4
    assert.deepEqual(checks.map((c) => c.trialId), [null, 2, 4]);
    assert.equal(checks[0]!.ratio, 1);
    assert.ok(Math.abs(result.target_ms - checks[0]!.ms) < 1e-12, 'T is the reference measurement');
    for (const c of checks.slice(1)) {
      assert.ok(Math.abs(c.ratio - 1.5) < 1e-12, `a 1.5x slower device seen as ${c.ratio}`);
      assert.ok(c.corrects);
      assert.ok(Math.abs(c.ratio - c.ms / checks[0]!.ms) < 1e-12);
    }
    const trials = storedTrials(out).sort((a, b) => a.id - b.id);
    for (const t of trials) {
      const s = t.latencyStats as { median_ms: number; raw_ms?: number; drift_ratio?: number; drift_check?: number };
      if (t.id < 2) {
        assert.equal(s.raw_ms, undefined, `trial ${t.id} measured before the drift is not corrected`);
        assert.equal(t.latencyMs, s.median_ms);
        continue;
      }
      const check = checks[t.id < 4 ? 1 : 2]!;
      assert.equal(s.drift_check, check.seq, `trial ${t.id} is corrected by the latest check`);
      assert.equal(s.drift_ratio, check.ratio);
      assert.equal(s.raw_ms, s.median_ms, 'the raw measurement is kept');
      assert.ok(Math.abs(t.latencyMs! - s.raw_ms! / check.ratio) < 1e-12, 'the reward uses the corrected latency');
    }
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as { drift: { checks: number; corrected_trials: number; max_ratio: number; drifted_checks: number } };
    assert.equal(summary.drift.checks, 3);
    assert.equal(summary.drift.drifted_checks, 2);
    assert.equal(summary.drift.corrected_trials, 4);
    assert.ok(Math.abs(summary.drift.max_ratio - 1.5) < 1e-12);
    for (const t of trials.filter((x) => x.id >= 2)) {
      const truth = (t.latencyStats as { raw_ms: number }).raw_ms / 1.5;
      assert.ok(Math.abs(t.latencyMs! - truth) < 1e-12, `trial ${t.id}: the corrected latency is the undrifted one`);
    }
    assert.equal(summarizeRun(out).drift?.corrected_trials, 4, 'mnas runs show reports it too');
    assert.match(readFileSync(path.join(out, 'report.html'), 'utf8'), /device drift/);

    // a resume measures the reference again (a fresh device: speed 1 again) against the first session's check 0, and finds no drift
    const first = checks[0]!;
    await search({ resume: out });
    assert.equal(device!.count, 1, 'the resumed session only re-measured the reference');
    const again = ExperimentStore.open(out, { readonly: true });
    const after = again.driftChecks();
    again.close();
    assert.equal(after.length, 4);
    assert.deepEqual(after[0], first, 'check 0 is kept');
    assert.equal(after[3]!.ratio, 1);
    assert.equal(after[3]!.corrects, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('interleaved: the summary holds the reference fast speed over the trials, once MIN_SEEN were measured, and how check 0 compares with it', () => {
  const check0: DriftCheck = { seq: 0, at: '2026-12-07T00:00:00.000Z', trialId: null, ms: 0.173, ratio: 1, corrects: false };
  // briefs carry the reference time as a field, full records in their latency statistics (interleaved only)
  const trials = [
    { interleavedReferenceMs: 0.13 },
    { latencyStats: { interleaved: true, reference_ms: 0.128 } },
    { latencyStats: { interleaved: true, reference_ms: 0.129 } },
    { latencyStats: { reference_ms: 0.5 } }, // not interleaved: a drift check's, not a trial's
    { latencyStats: null },
    { interleavedReferenceMs: 0.17 }, // one in the slow mode
  ];
  const times = interleavedReferenceTimes(trials);
  assert.deepEqual(times, [0.13, 0.128, 0.129, 0.17]);
  const s = driftSummary([check0], 0.03, 0, true, 0, times)!;
  assert.ok(s.trials_reference_ms! >= 0.128 && s.trials_reference_ms! <= 0.13, `the fast speed, not the slow mode: ${s.trials_reference_ms}`);
  assert.ok(Math.abs(s.start_vs_trials! - 0.173 / s.trials_reference_ms!) < 1e-12);
  assert.ok(startOffSpeed(s.reference_ms, s.trials_reference_ms)! > 1.3);
  assert.equal(offText(s.start_vs_trials!), '34% high');
  assert.equal(offText(0.8), '20% low');
  assert.equal(startOffSpeed(0.135, 0.129), undefined, 'within OFF_SPEED_TOLERANCE');
  assert.equal(startOffSpeed(0.135, undefined), undefined);
  // too few measurements to tell the fast speed, or not interleaved: nothing to compare
  assert.equal(driftSummary([check0], 0.03, 0, true, 0, times.slice(0, 2))!.trials_reference_ms, undefined);
  assert.equal(driftSummary([check0], 0.03, 0, false, 0, times)!.trials_reference_ms, undefined);
  assert.equal(driftSummary([check0], 0.03, 0, true)!.start_vs_trials, undefined);
});

test('an interleaved search whose start reference ran in a slower speed mode says so once its trials show the fast speed, and its summary and report carry it', async () => {
  const dir = tempDir('mnas-drift-');
  // latencies from the MACs (deterministic); the first measurement (check 0, which sets T) runs 1.34x slower, every trial at the fast speed
  const base = new CostModelDevice();
  let measurements = 0;
  registerDevice('ort-cpu', () => ({
    describe: () => base.describe(),
    measure: async (model: LatencyModel) => {
      const r = await base.measure(model);
      const f = ++measurements === 1 ? 1.34 : 1;
      return { ...r, latency_ms: r.latency_ms * f };
    },
    measureAgainst: async (model: LatencyModel, reference: LatencyModel) => {
      measurements++;
      const [m, ref] = [await base.measure(model), await base.measure(reference)];
      return { ...m, ratio: m.latency_ms / ref.latency_ms, ratio_rel_half_width: 0.001, reference_ms: ref.latency_ms, pairs: 12, runs_per_block: 10 };
    },
    close: async () => {},
  }));
  const out = path.join(dir, 'run');
  const lines: string[] = [];
  try {
    const result = await search({ config: { ...TINY_TRAINING_SEARCH, budget: 4, seed: 3, device: { kind: 'ort-cpu', interleave: true } }, out, onLog: (l) => lines.push(l) });
    assert.equal(result.done, 4);
    const said = lines.filter((l) => /in another speed mode/.test(l));
    assert.equal(said.length, 1, lines.join('\n'));
    assert.match(said[0]!, /every latency in ms \(ratio x the start's\) reads about 34% high \(their ratios, and the rewards against T, the reference's latency, are unaffected\)/);
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as { drift: { interleaved: boolean; reference_ms: number; trials_reference_ms: number; start_vs_trials: number } };
    assert.equal(summary.drift.interleaved, true);
    assert.ok(Math.abs(summary.drift.start_vs_trials - 1.34) < 1e-9, `start vs trials ${summary.drift.start_vs_trials}`);
    assert.match(readFileSync(path.join(out, 'report.html'), 'utf8'), /every latency in ms reads about 34% high/);
    // `mnas runs show` reads the same from the briefs
    assert.ok(Math.abs(summarizeRun(out).drift!.start_vs_trials! - 1.34) < 1e-9);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
