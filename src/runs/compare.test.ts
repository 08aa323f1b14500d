/** `mnas runs compare`: the best reward over finished trials of several runs, window means, notes when rewards are not comparable. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { assertUsageExit, runCli } from '../cli/testing.js';
import { storedTrials } from '../search/testing.js';
import { tempDir } from '../util/testing.js';
import { bestAt, compareRuns, defaultCheckpoints, historySvg, type RunComparison } from './compare.js';

const dir = tempDir('mnas-runs-compare-');
const search = (name: string, ...args: string[]) => {
  const out = path.join(dir, name);
  const r = runCli(['search', '--evaluator', 'synthetic', '--budget', '40', '--concurrency', '3', '--seed', '1', '--out', out, '--quiet', ...args], 120_000);
  assert.equal(r.status, 0, r.stderr);
  return out;
};
const random = search('random', '--strategy', 'random');
const evolution = search('evolution', '--strategy', 'evolution');

test('the best reward after n trials is the best of the first n to finish; window means and the best trial agree with the store', () => {
  const c = compareRuns([random, evolution], { window: 15 });
  assert.deepEqual(c.notes, []);
  assert.deepEqual(c.checkpoints, [10, 25, 40]);
  for (const r of c.runs) {
    const finished = storedTrials(r.dir)
      .filter((t) => t.status === 'done' || t.status === 'failed')
      .sort((a, b) => (a.finishedAt! < b.finishedAt! ? -1 : a.finishedAt! > b.finishedAt! ? 1 : a.id - b.id));
    assert.equal(r.trials, 40);
    for (const n of [1, 7, 25, 40]) {
      const rewards = finished.slice(0, n).flatMap((t) => (t.status === 'done' ? [t.reward!] : []));
      assert.equal(bestAt(r, n), Math.max(...rewards));
    }
    assert.equal(bestAt(r, 41), null);
    assert.equal(r.windowMeans.length, 3);
    const last = finished.slice(30).flatMap((t) => (t.status === 'done' ? [t.reward!] : []));
    assert.ok(Math.abs(r.windowMeans[2]! - last.reduce((a, b) => a + b, 0) / last.length) < 1e-12);
    assert.equal(r.bestTrial!.reward, bestAt(r, 40));
  }
  assert.deepEqual(c.runs.map((r) => r.strategy), ['random', 'evolution']);
});

test('runs with other reward exponents get a note: their rewards are not comparable', () => {
  const hard = search('hard', '--strategy', 'random', '--reward', 'hard');
  const c = compareRuns([random, hard]);
  assert.equal(c.notes.length, 1);
  assert.match(c.notes[0]!, /reward exponents differ \(alpha -0\.07, beta -0\.07 \/ alpha 0, beta -1\)/);
});

test('default checkpoints run up to the longest run', () => {
  assert.deepEqual(defaultCheckpoints(300), [10, 25, 50, 100, 200, 300]);
  assert.deepEqual(defaultCheckpoints(5000), [10, 25, 50, 100, 200, 300, 500, 1000, 2000, 4000, 5000]);
  assert.deepEqual(defaultCheckpoints(7), [7]);
});

test('the SVG has one step line per run, each non-decreasing', () => {
  const c: RunComparison = compareRuns([random, evolution]);
  const svg = historySvg(c);
  const lines = [...svg.matchAll(/<polyline [^>]*points="([^"]+)"/g)].map((m) => m[1]!.split(' ').map((p) => Number(p.split(',')[1])));
  assert.equal(lines.length, 2);
  // SVG y grows downwards: a best reward that never falls is a y that never grows
  for (const ys of lines) assert.ok(ys.every((y, i) => i === 0 || y <= ys[i - 1]!));
});

test('mnas runs compare prints the tables, writes the SVG and --json; refuses what is not a run', () => {
  const svg = path.join(dir, 'history.svg');
  const r = runCli(['runs', 'compare', random, evolution, '--at', '5,40', '--window', '20', '--svg', svg]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^BEST REWARD AFTER\s+random \(random\)\s+evolution \(evolution\)\n5 trials\s+0\.\d{4}\s+0\.\d{4}\n40 trials/);
  assert.match(r.stdout, /MEAN REWARD OF TRIALS[^\n]*\n1-20 [^\n]*\n21-40 /);
  assert.match(readFileSync(svg, 'utf8'), /^<\?xml[\s\S]*<\/svg>\n$/);
  const j = JSON.parse(runCli(['runs', 'compare', random, '--json']).stdout) as RunComparison;
  assert.equal(j.runs[0]!.best.length, 40);
  assertUsageExit(runCli(['runs', 'compare', random, path.join(dir, 'nothing')]), /is not a run directory/, { seconds: 15 });
  assertUsageExit(runCli(['runs', 'compare', random, '--at', '0']), /--at/, { seconds: 15 });
});
