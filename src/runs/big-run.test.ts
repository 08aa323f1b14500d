/**
 * A run of 10,000 trials stays quick to open, show, export and report. The bounds are generous
 * (several times what an idle machine takes) so a loaded machine cannot make them flaky; they
 * catch a quadratic step or a per-trial query, not a few percent.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ARCH_ROWS } from '../search/report-html.js';
import { storedTrials } from '../search/testing.js';
import { runDetails } from './details.js';
import { rewriteReport } from './report.js';
import { summarizeRun } from './summary.js';
import { makeSyntheticRun } from './testing.js';
import { trialsCsv } from './trials-export.js';
import { tempDir } from '../util/testing.js';

const TRIALS = 10_000;
let dir: string;

before(async () => {
  dir = tempDir('mnas-big-run-');
  await makeSyntheticRun(dir, TRIALS, 7);
});

function timed<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const r = f();
  return [r, (performance.now() - t0) / 1000];
}

test('summarizeRun and runs show open a 10,000-trial run well under a second', () => {
  const [s, summarySeconds] = timed(() => summarizeRun(dir));
  assert.equal(s.trialsDone + s.trialsFailed, TRIALS);
  assert.ok(summarySeconds < 1.5, `summarizeRun took ${summarySeconds.toFixed(2)} s`);
  const [d, showSeconds] = timed(() => runDetails(dir, 10));
  assert.equal(d.top.length, 10);
  assert.ok(d.pareto.length > 0);
  assert.ok(showSeconds < 1.5, `runDetails took ${showSeconds.toFixed(2)} s`);
});

test('the report of a 10,000-trial run is written in seconds, stays a few MB and holds every trial', () => {
  const [r, seconds] = timed(() => rewriteReport(dir));
  assert.ok(seconds < 6, `rewriteReport took ${seconds.toFixed(2)} s`);
  const html = readFileSync(path.join(dir, 'report.html'), 'utf8');
  assert.ok(html.length < 4e6, `report.html is ${(html.length / 1e6).toFixed(1)} MB`);
  assert.equal(r.outputs.trials, TRIALS);
  const data = JSON.parse(/<script type="application\/json" id="trials-data">(.*?)<\/script>/s.exec(html)![1]!) as { columns: string[]; rows: unknown[][] };
  assert.equal(data.rows.length, TRIALS);
  assert.deepEqual(data.rows.map((row) => row[0]), [...Array(TRIALS).keys()], 'every trial, in id order');
  const archColumn = data.columns.indexOf('architecture');
  const withArch = data.rows.filter((row) => row[archColumn] !== null).length;
  assert.ok(withArch >= ARCH_ROWS && withArch < ARCH_ROWS + 200, `${withArch} rows carry their architecture`);
  assert.match(html, /architectures shown for the 2000 best by reward/);
  assert.doesNotMatch(html, /\b(src|href)="https?:/, 'self-contained');
});

test('exporting a 10,000-trial run as CSV takes well under a second of work', () => {
  const trials = storedTrials(dir);
  const [csv, seconds] = timed(() => trialsCsv(trials));
  assert.equal(csv.split('\r\n').length, TRIALS + 2, 'header, rows, final line end');
  assert.ok(seconds < 1.5, `trialsCsv took ${seconds.toFixed(2)} s`);
});
