/**
 * Run management end to end, as a user runs it: a real synthetic search, then `mnas runs
 * list/show/export`, `mnas report`; a search in progress watched, reported and stopped with
 * `mnas runs stop`, then resumed with `mnas search --resume` to its budget; bad input refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { assertUsageExit, runCli } from '../src/cli/testing.js';
import { listRuns } from '../src/runs/list.js';
import { runDetails, type RunDetails } from '../src/runs/details.js';
import { rewriteReport } from '../src/runs/report.js';
import type { RunSummary } from '../src/runs/summary.js';
import { finishedTrials, storedTrials } from '../src/search/testing.js';
import { repoRoot } from '../src/util/paths.js';
import { tempDir } from '../src/util/testing.js';

const MAIN = path.join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
const PYTHON = '/usr/bin/python3';
const tmp = () => tempDir('mnas-runs-e2e-');

function mnas(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json<T>(args: string[]): T {
  const r = mnas(args);
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

const search = (out: string, budget: number, seed: number) => ['search', '--evaluator', 'synthetic', '--strategy', 'random', '--budget', String(budget), '--seed', String(seed), '--out', out, '--quiet', '--json'];

test('a finished search is listed, shown, exported (every trial, CSV and JSON) and its report rewritten', () => {
  const root = tmp();
  const out = path.join(root, 'group', 'first');
  assert.equal(mnas(search(out, 30, 1)).status, 0);
  const trials = storedTrials(out);

  const list = json<{ root: string; runs: RunSummary[]; skipped: unknown[] }>(['runs', 'list', root, '--json']);
  assert.equal(list.runs.length, 1);
  const s = list.runs[0]!;
  assert.deepEqual([s.dir, s.state, s.space, s.strategy, s.device, s.budget, s.trialsDone + s.trialsFailed], [out, 'finished', 'fmnist', 'random', 'synthetic', 30, 30]);
  const table = mnas(['runs', 'list', root]);
  assert.equal(table.status, 0);
  assert.match(table.stdout, /^RUN\s+STATE\s+SPACE\s+STRATEGY\s+DEVICE\s+T ms\s+TRIALS\s+FAILED\s+BEST\s+ELAPSED\s+ETA\n/);
  assert.match(table.stdout, /group\/first\s+finished\s+fmnist\s+random\s+synthetic\s+[\d.]+\s+30\/30/);

  const show = json<RunDetails>(['runs', 'show', out, '--json', '--top', '5']);
  const best = trials.filter((t) => t.status === 'done').reduce((a, b) => ((b.reward as number) > (a.reward as number) ? b : a));
  assert.equal(show.summary.state, 'finished');
  assert.equal(show.best?.trial, best.id);
  assert.equal(show.top.length, 5);
  assert.equal(show.top[0]!.trial, best.id);
  assert.ok(show.pareto.length >= 1);
  const text = mnas(['runs', 'show', out]);
  assert.match(text.stdout, new RegExp(`^run: ${out}\\nstate: finished\\n`));
  assert.match(text.stdout, /\npareto front \(\d+, by latency\):\n/);

  const exported = json<Record<string, unknown>[]>(['runs', 'export', out, '--format', 'json']);
  assert.deepEqual(exported.map((t) => [t['trial'], t['arch'], t['reward']]), trials.map((t) => [t.id, t.arch, t.reward]));
  const csvFile = path.join(root, 'trials.csv');
  assert.equal(mnas(['runs', 'export', out, '--format', 'csv', '--out', csvFile]).status, 0);
  const csv = readFileSync(csvFile, 'utf8');
  assert.equal(mnas(['runs', 'export', out, '--format', 'csv']).stdout, csv, 'stdout and --out agree');
  if (existsSync(PYTHON)) {
    const r = spawnSync(PYTHON, ['-c', 'import csv, json, sys; print(json.dumps(list(csv.DictReader(open(sys.argv[1], newline="")))))', csvFile], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Record<string, string>[];
    assert.deepEqual(rows.map((row) => [Number(row['trial']), row['arch'], Number(row['reward'])]), trials.map((t) => [t.id, t.arch, t.reward]));
  }

  const report = path.join(out, 'report.html');
  const before = statSync(report).mtimeMs;
  const rewritten = json<{ files: string[]; summary: RunSummary }>(['report', out, '--json']);
  assert.ok(rewritten.files.includes(report));
  assert.ok(statSync(report).mtimeMs >= before);
  const html = readFileSync(report, 'utf8');
  assert.match(html, /<th>state<\/th><td>finished<\/td>/);
  assert.ok((html.match(/<svg/g) ?? []).length >= 3, 'Pareto, reward and MACs plots');
  assert.match(html, /All 30 trials\./);
  for (const t of trials) assert.ok(html.includes(JSON.stringify(t.arch)), `trial ${t.id} in the table data`);
});

test('a running search is shown as running and reported; runs stop ends it cleanly; --resume finishes it', async () => {
  const out = path.join(tmp(), 'long');
  const budget = 1000;
  const child = spawn(process.execPath, [MAIN, ...search(out, budget, 2)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  try {
    const deadline = Date.now() + 120_000;
    while (finishedTrials(out) < 10 && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(child.exitCode, null, 'the search ended before it could be watched; make the budget larger');

    // read in this process (a CLI start takes as long as a few hundred synthetic trials): the same calls as runs show, list and report
    const running = runDetails(out);
    assert.equal(running.summary.state, 'running');
    assert.equal(running.summary.holder?.pid, child.pid);
    assert.ok(running.summary.etaSec !== null);
    assert.equal(listRuns(path.dirname(out)).runs[0]?.state, 'running');
    // the search wrote its report when it started and refreshes it; mnas report may rewrite it meanwhile
    assert.match(readFileSync(path.join(out, 'report.html'), 'utf8'), /<th>state<\/th><td>running<\/td>/);
    assert.equal(rewriteReport(out).summary.state, 'running');

    const stop = json<{ stopped: boolean; holder?: { pid: number }; summary: RunSummary }>(['runs', 'stop', out, '--json', '--wait', '60']);
    assert.equal(stop.stopped, true);
    assert.equal(stop.holder?.pid, child.pid);
    assert.equal(stop.summary.state, 'stopped');
    assert.equal(await exited, 130, 'a search that stopped early exits 130, as the README says');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  const result = JSON.parse(stdout.trim().split('\n').pop()!) as { interrupted: boolean; trials: number };
  assert.equal(result.interrupted, true);
  assert.ok(result.trials < budget);
  const stopped = json<RunDetails>(['runs', 'show', out, '--json']);
  assert.equal(stopped.summary.state, 'stopped');
  assert.equal(stopped.summary.stopped?.reason, 'stop request');
  assert.match(mnas(['runs', 'show', out]).stdout, /\nstate: stopped \(stop request at .*\); continue with: mnas search --resume /);
  assert.match(readFileSync(path.join(out, 'report.html'), 'utf8'), /<th>state<\/th><td>stopped<\/td>/);

  const resumed = json<{ interrupted: boolean; trials: number; resumed: number }>(['search', '--resume', out, '--quiet', '--json']);
  assert.equal(resumed.interrupted, false);
  assert.equal(resumed.trials, budget);
  const finished = json<RunDetails>(['runs', 'show', out, '--json']);
  assert.equal(finished.summary.state, 'finished');
  assert.equal(finished.summary.trialsDone + finished.summary.trialsFailed, budget);
  assert.deepEqual(storedTrials(out).map((t) => t.id), [...Array(budget).keys()], 'no trial lost or duplicated');
});

test('bad input to runs and report: one line, exit 2', () => {
  const root = tmp();
  const run = path.join(root, 'done');
  assert.equal(mnas(search(run, 3, 0)).status, 0);
  const missing = path.join(root, 'missing');
  assertUsageExit(runCli(['runs', 'show', root]), /is not a run directory \(no mnas\.db in it\)/);
  assertUsageExit(runCli(['runs', 'show']), /missing required argument 'dir'/);
  assertUsageExit(runCli(['runs', 'list', missing]), /missing: no such directory/);
  assertUsageExit(runCli(['runs', 'export', run, '--format', 'xml']), /--format must be one of csv, json, got 'xml'/);
  assertUsageExit(runCli(['runs', 'export', run]), /required option '--format <format>' not specified/);
  assertUsageExit(runCli(['runs', 'export', missing, '--format', 'csv']), /is not a run directory/);
  assertUsageExit(runCli(['runs', 'stop', run]), /no search is running in .* \(the run is finished\)/);
  assertUsageExit(runCli(['report', root]), /is not a run directory/);
  assertUsageExit(runCli(['runs', 'show', run, '--top', '-1']), /--top must be an integer/);
  assert.ok(!existsSync(path.join(run, 'mnas.stop')), 'a refused stop writes nothing');
});
