/** `mnas bench search-latency`: a real parallel search's latencies re-measured quietly; refusals before anything is measured. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { assertUsageExit, runCli } from '../cli/testing.js';
import type { DriftCheck, TrialRecord } from '../search/run-store.js';
import { ExperimentStore } from '../search/store.js';
import { storedTrials } from '../search/testing.js';
import { tempDir } from '../util/testing.js';
import { agreement, checkBefore, planSearchLatency, sameSpeed, type ComparedTrial, type SearchLatencyReport } from './search-latency.js';

const dir = tempDir('mnas-bench-search-latency-');

const check = (seq: number, at: string, trialId: number | null, ms: number): DriftCheck => ({ seq, at, trialId, ms, ratio: 1, corrects: false });
const trial = (id: number, startedAt: string) => ({ id, startedAt, finishedAt: startedAt }) as unknown as TrialRecord;

test('the reference a trial is normalized by: the drift check taken for it, else the latest one before it started', () => {
  const checks = [check(0, '2026-01-01T00:00:00Z', null, 1), check(1, '2026-01-01T00:10:00Z', 5, 2), check(2, '2026-01-01T00:20:00Z', null, 3)];
  assert.equal(checkBefore(checks, trial(5, '2026-01-01T00:09:59Z'))!.ms, 2);
  assert.equal(checkBefore(checks, trial(3, '2026-01-01T00:05:00Z'))!.ms, 1);
  assert.equal(checkBefore(checks, trial(9, '2026-01-01T00:15:00Z'))!.ms, 2);
  assert.equal(checkBefore(checks, trial(12, '2026-01-01T00:30:00Z'))!.ms, 3);
});

test('same speed: only the trials whose reference ran within 5% of its search-time speed', () => {
  const c = (normalized_error: number, speed_change: number) => ({ normalized_error, speed_change }) as ComparedTrial;
  const s = sameSpeed([c(0.01, 0.05), c(0.2, 0.4), c(-0.02, -0.04), c(0.3, -0.06), c(0.1, 0.09)]);
  assert.equal(s.tolerance, 0.05);
  assert.equal(s.trials, 2);
  assert.equal(s.normalized!.within, 1);
  assert.equal(s.normalized!.max_abs, 0.02);
  assert.deepEqual(sameSpeed([c(0.01, 0.5)]), { tolerance: 0.05, trials: 0, normalized: null });
});

test('agreement: share within the tolerance, absolute quantiles and the signed median', () => {
  const a = agreement([0.01, -0.02, 0.05, -0.1, 0.0], 0.03);
  assert.equal(a.within, 3 / 5);
  assert.equal(a.median_abs, 0.02);
  assert.equal(a.max_abs, 0.1);
  assert.equal(a.median, 0);
});

test('bench search-latency re-measures a seeded sample of a parallel search quietly and compares raw and reference-normalized', () => {
  const run = path.join(dir, 'measured');
  const searched = runCli(['search', '--strategy', 'random', '--budget', '5', '--workers', '2', '--dataset', 'synthetic', '--validation-images', '300', '--proxy-images', '200', '--drift-every-trials', '2', '--out', run, '--quiet', '--json'], 300_000);
  assert.equal(searched.status, 0, searched.stderr);

  const first = planSearchLatency({ dir: run, samples: 3, seed: 7 });
  assert.deepEqual(planSearchLatency({ dir: run, samples: 3, seed: 7 }).sample.map((t) => t.record.id), first.sample.map((t) => t.record.id), 'the same seed, the same sample');
  assert.equal(first.sample.length, Math.min(3, first.measured.length));

  const r = runCli(['bench', 'search-latency', '--run', run, '--samples', '3', '--seed', '7', '--speed-passes', '2', '--pass-wait', '0', '--quiet', '--json'], 300_000);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim().split('\n').pop()!) as SearchLatencyReport;
  assert.deepEqual(report.trials.map((t) => t.trial), first.sample.map((t) => t.record.id));
  assert.equal(report.reference.name, 'the fmnist default architecture');
  const stored = new Map(storedTrials(run).map((t) => [t.id, t]));
  // the reference of the first trial's first quiet pair, even when a later pass replaced that pair
  if (report.trials[0]!.quiet_passes === 1) assert.equal(report.reference.quiet_before_ms, report.trials[0]!.quiet_reference_ms);
  assert.ok(report.reference.quiet_before_ms > 0 && report.reference.quiet_after_ms > 0);
  for (const t of report.trials) {
    const s = stored.get(t.trial)!;
    const raw = (s.latencyStats as { raw_ms?: number }).raw_ms ?? s.latencyMs!;
    assert.equal(t.search_raw_ms, raw);
    assert.equal(t.search_ms, s.latencyMs);
    assert.ok(t.quiet_ms > 0 && t.search_reference_ms > 0 && t.quiet_reference_ms > 0);
    assert.ok(t.search_reference_age >= 0 && t.search_reference_age < 2, 'a check every 2 trials');
    assert.ok(Math.abs(t.raw_error - (raw / t.quiet_ms - 1)) < 1e-12);
    assert.ok(Math.abs(t.search_ratio - raw / t.search_reference_ms) < 1e-12, 'not interleaved: raw over the check before it');
    assert.ok(Math.abs(t.normalized_error - (t.search_ratio / t.quiet_ratio - 1)) < 1e-12);
    assert.ok(Math.abs(t.speed_change - (t.search_reference_ms / t.quiet_reference_ms - 1)) < 1e-12);
    assert.ok(t.repeat_ratio > 0 && Math.abs(t.repeat_error - (t.repeat_ratio / t.quiet_ratio - 1)) < 1e-12);
    assert.ok(t.quiet_ratio > 0 && t.quiet_ms > 0);
    assert.ok(t.quiet_passes >= 1 && t.quiet_passes <= 3, 'the first pass and at most 2 more');
  }
  assert.deepEqual(report.speed_passes, { allowed: 2, wait_s: 0, off_speed_first: report.speed_passes.off_speed_first });
  // measured again exactly the trials the first pass left off the search's speed; any still off it went through every pass
  assert.equal(report.trials.filter((t) => t.quiet_passes > 1).length, report.speed_passes.off_speed_first);
  for (const t of report.trials) if (Math.abs(t.speed_change) > 0.05) assert.equal(t.quiet_passes, 3, `trial ${t.trial} is off the search's speed after ${t.quiet_passes} pass(es)`);
  assert.deepEqual(report.same_speed, sameSpeed(report.trials));
  assert.deepEqual(report.repeat, agreement(report.trials.map((t) => t.repeat_error), 0.03));
  for (const a of [report.raw, report.normalized]) assert.ok(a.within >= 0 && a.within <= 1 && a.max_abs >= a.median_abs);

  const text = runCli(['bench', 'search-latency', '--run', run, '--samples', '1', '--pass-wait', '0', '--quiet'], 300_000);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /1 of \d+ measured trials re-measured on ort-cpu/);
  assert.match(text.stdout, /reference-normalized: \d+\.\d% within 3\.0%/);
  assert.match(text.stdout, /repeatability \(a second quiet measurement \/ the first, normalized\): \d+\.\d% within 3\.0%/);
  assert.match(text.stdout, /of the 1 whose reference ran within 5\.0% of its search-time speed|no trial's reference ran within 5\.0%/);
  assert.match(text.stdout, /off the search's speed after the first quiet pass: [01] trial\(s\); measured again in up to 3 more pass\(es\), 0 s apart/);
});

test('search --interleave: each latency is its ratio to the reference, measured in turn, times the reference at the start; the bench compares ratios', () => {
  const run = path.join(dir, 'interleaved');
  const searched = runCli(['search', '--strategy', 'random', '--budget', '4', '--workers', '2', '--dataset', 'synthetic', '--validation-images', '300', '--proxy-images', '200', '--interleave', '--out', run, '--quiet', '--json'], 300_000);
  assert.equal(searched.status, 0, searched.stderr);
  const store = ExperimentStore.open(run, { readonly: true });
  const checks = store.driftChecks();
  store.close();
  assert.equal(checks.length, 1, 'no drift checks beyond the start: the ratio needs no correction');
  const trials = storedTrials(run).filter((t) => t.status === 'done');
  assert.ok(trials.length > 0);
  for (const t of trials) {
    const s = t.latencyStats as { interleaved: boolean; ratio: number; reference_ms: number; raw_ms: number; latency_ms: number };
    assert.equal(s.interleaved, true);
    assert.ok(Math.abs(t.latencyMs! - s.ratio * checks[0]!.ms) < 1e-12);
    assert.equal(s.raw_ms, s.latency_ms);
  }
  const r = runCli(['bench', 'search-latency', '--run', run, '--samples', '2', '--pass-wait', '0', '--quiet', '--json'], 300_000);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim().split('\n').pop()!) as SearchLatencyReport;
  const byId = new Map(trials.map((t) => [t.id, t.latencyStats as { ratio: number; reference_ms: number }]));
  for (const t of report.trials) {
    assert.equal(t.search_ratio, byId.get(t.trial)!.ratio);
    assert.equal(t.search_reference_ms, byId.get(t.trial)!.reference_ms);
    assert.equal(t.search_reference_age, 0);
  }
  const shown = runCli(['runs', 'show', run]);
  assert.equal(shown.status, 0, shown.stderr);
  assert.match(shown.stdout, /latency measurement: every trial measured interleaved with the reference \(\d\.\d{3} ms at the start, \d\.\d{3} ms at its fast speed in the trials' measurements\)/);
  assert.doesNotMatch(shown.stdout, /device drift/);
});

test('bench search-latency refuses what it cannot compare, with one line and exit 2', () => {
  const synthetic = path.join(dir, 'synthetic');
  assert.equal(runCli(['search', '--evaluator', 'synthetic', '--budget', '3', '--out', synthetic, '--quiet']).status, 0);
  assertUsageExit(runCli(['bench', 'search-latency', '--run', synthetic]), /used the synthetic evaluator: it measured no latency/, { seconds: 15 });
  assertUsageExit(runCli(['bench', 'search-latency', '--run', path.join(dir, 'nothing')]), /is not a run directory/, { seconds: 15 });
  assertUsageExit(runCli(['bench', 'search-latency', '--run', synthetic, '--samples', '0']), /--samples/, { seconds: 15 });
  assertUsageExit(runCli(['bench', 'search-latency', '--run', synthetic, '--speed-passes', '21']), /--speed-passes/, { seconds: 15 });
  assertUsageExit(runCli(['bench', 'search-latency', '--run', synthetic, '--pass-wait', '-1']), /--pass-wait/, { seconds: 15 });
});
