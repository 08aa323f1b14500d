import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summarize } from './outputs.js';
import { driftText, renderReport } from './report-html.js';
import { rewardConfig } from './reward.js';
import type { TrialBrief } from './run-store.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const done = (id: number, accuracy: number, latencyMs: number, reward: number): TrialBrief => ({
  id, arch: `arch-${id},block`, status: 'done', accuracy, latencyMs, macs: 1000 * (id + 1), params: 10, reward, reusedFrom: null, error: null, attempts: 1,
  createdAt: at(id), startedAt: at(id), finishedAt: at(id + 1),
});
const trials: TrialBrief[] = [
  done(0, 0.5, 2, 0.5),
  done(1, 0.7, 3, 0.68),
  { ...done(2, 0, 0, 0), status: 'failed', accuracy: null, latencyMs: null, error: 'diverged', arch: 'bad</script><b>x' },
  done(3, 0.6, 1, 0.62),
  { ...done(4, 0, 0, 0), status: 'running', accuracy: null, latencyMs: null, reward: null, finishedAt: null },
];
const ctx = { title: 'mnas search: test', config: { budget: 9 }, reward: rewardConfig('soft', 2), device: 'synthetic', budget: 9, state: 'running' };

test('the report states the run, plots it and embeds every trial, each with its architecture in a small run', () => {
  const html = renderReport(trials, summarize(trials), ctx, new Date(at(10)));
  assert.match(html, /<th>state<\/th><td>running<\/td>/);
  assert.match(html, /<th>trials<\/th><td>3 done, 1 failed, 1 in flight of a budget of 9<\/td>/);
  assert.match(html, /<th>best reward<\/th><td>0\.6800 \(trial 1\)<\/td>/);
  assert.equal((html.match(/<svg/g) ?? []).length, 3);
  const data = JSON.parse(/id="trials-data">(.*?)<\/script>/s.exec(html)![1]!) as { columns: string[]; rows: unknown[][] };
  assert.deepEqual(data.rows.map((r) => [r[0], r[1], r.at(-1)]), trials.map((t) => [t.id, t.status, t.arch]));
  assert.equal(data.rows[1]![3], 70, 'accuracy in percent');
  // no string in the data can end the script element early
  assert.ok(!/<\/script><b>/.test(html.slice(html.indexOf('id="trials-data"'))), 'escaped');
  assert.match(html, /All 5 trials\./);
  // the static table (without script) lists the best first
  const staticTable = html.slice(html.indexOf('<table id="trials-table">'), html.indexOf('</table>', html.indexOf('<table id="trials-table">')));
  assert.ok(staticTable.indexOf('<td>1</td>') < staticTable.indexOf('<td>3</td>'));
});

test('best so far is a step line through the trials that raised it', () => {
  const html = renderReport(trials, summarize(trials), ctx);
  const reward = html.slice(html.indexOf('Reward over trials'));
  const svg = reward.slice(0, reward.indexOf('</svg>'));
  // trial 0 (0.5) and trial 1 (0.68) raise it; trial 3 (0.62) does not: two steps, a corner each, and a run to the last trial
  assert.equal((svg.match(/stroke="#2b8a3e"/g) ?? []).length, 3);
});

test('the interleaved drift line gives the reference speed in the trials and says when the start was measured in another speed mode', () => {
  const base = { reference_ms: 0.173, tolerance: 0.03, checks: 1, min_ratio: 1, max_ratio: 1, last_ratio: 1, drifted_checks: 0, corrected_trials: 0, interleaved: true, speed_retried_trials: 0 };
  const off = driftText({ ...base, trials_reference_ms: 0.129, start_vs_trials: 0.173 / 0.129 });
  assert.match(off, /0\.173 ms at the start, 0\.129 ms at its fast speed in the trials' measurements/);
  assert.match(off, /the start was measured in another speed mode than the trials, so every latency in ms reads about 34% high/);
  const agreed = driftText({ ...base, reference_ms: 0.13, trials_reference_ms: 0.129, start_vs_trials: 0.13 / 0.129 });
  assert.match(agreed, /0\.130 ms at the start, 0\.129 ms at its fast speed/);
  assert.doesNotMatch(agreed, /speed mode/);
  assert.doesNotMatch(driftText(base), /fast speed|speed mode/, 'too few trials to tell: only the start');
});
