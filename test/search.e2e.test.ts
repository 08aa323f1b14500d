/**
 * `mnas search` end to end, as a user runs it: the JSON result and run outputs, bad input exit
 * codes, and crash safety — the process is killed with SIGKILL mid-run and `--resume DIR`
 * continues with no trial lost, duplicated or re-trained, the strategy resuming its own stream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../src/util/paths.js';
import { finishedTrials, storedTrials } from '../src/search/testing.js';
import { tempDir } from '../src/util/testing.js';

const MAIN = path.join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
const tmp = () => tempDir('mnas-search-e2e-');

function mnas(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function lastJson(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as Record<string, unknown>;
}


/** A training search small enough for a test (synthetic images, 300 per trial), written to dir. */
function tinyTrainingConfig(dir: string, rest: Record<string, unknown>): string {
  const file = path.join(dir, 'tiny.json');
  writeFileSync(file, JSON.stringify({ dataset: { name: 'synthetic', validationImages: 300 }, proxy: { images: 300, epochs: 1, batch: 50, threads: 1 }, ...rest }));
  return file;
}

/** Starts a search and SIGKILLs it once `after` trials have finished; resolves when it is dead. */
async function killAfter(args: string[], dir: string, after: number): Promise<void> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 240_000;
  while (Date.now() < deadline && child.exitCode === null) {
    if (finishedTrials(dir) >= after) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(child.exitCode, null, 'the search ended before it could be killed; make the budget larger');
  child.kill('SIGKILL');
  await exited;
}

test('synthetic search prints the result JSON and writes the Pareto front, best, summary and report', () => {
  const out = path.join(tmp(), 'run');
  const r = mnas(['search', '--evaluator', 'synthetic', '--strategy', 'random', '--budget', '40', '--seed', '3', '--out', out, '--quiet', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const j = lastJson(r.stdout);
  assert.equal(j['trials'], 40);
  assert.equal(j['out'], out);
  const best = j['best'] as { arch: string; accuracy: number; latency_ms: number; reward: number };
  assert.ok(best.arch.startsWith('in28x28x1_cls10'));
  assert.ok(best.reward > 0 && best.reward <= (j['optimum_reward'] as number) + 1e-12);
  const pareto = j['pareto'] as { accuracy: number; latency_ms: number }[];
  assert.ok(pareto.length >= 1);
  for (let i = 1; i < pareto.length; i++) {
    // sorted by latency, and each point must buy accuracy with its extra latency
    assert.ok(pareto[i]!.latency_ms >= pareto[i - 1]!.latency_ms);
    assert.ok(pareto[i]!.accuracy > pareto[i - 1]!.accuracy);
  }
  for (const f of ['pareto.json', 'best.json', 'summary.json', 'report.html', 'mnas.db']) assert.ok(existsSync(path.join(out, f)), f);
  const html = readFileSync(path.join(out, 'report.html'), 'utf8');
  assert.match(html, /<svg[^>]*>/);
  assert.ok((html.match(/<svg/g) ?? []).length >= 3, 'Pareto, reward and MACs plots');
  assert.deepEqual(JSON.parse(readFileSync(path.join(out, 'pareto.json'), 'utf8')), pareto);
});

test('bad search input exits 2 with a message naming the problem', () => {
  const dir = tmp();
  const bad = path.join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ proxy: { image: 10 } }));
  let r = mnas(['search', '--config', bad, '--out', path.join(dir, 'a')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /proxy: unknown key 'image'/);
  r = mnas(['search', '--budget', 'many']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--budget must be an integer/);
  r = mnas(['search', '--resume', path.join(dir, 'nothing-here')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no such directory/);
  r = mnas(['search', '--space', 'nope', '--evaluator', 'synthetic', '--out', path.join(dir, 'b')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /nope/);
});

test('PPO search killed with SIGKILL resumes to exactly the uninterrupted run', async () => {
  const base = tmp();
  const args = (out: string) => ['search', '--evaluator', 'synthetic', '--strategy', 'ppo', '--budget', '120', '--seed', '5', '--out', out, '--quiet'];
  const whole = path.join(base, 'whole');
  assert.equal(mnas(args(whole)).status, 0);
  const cut = path.join(base, 'cut');
  await killAfter(args(cut), cut, 30);
  const before = storedTrials(cut).length;
  assert.ok(before < 120, `killed too late (${before} trials)`);
  const r = mnas(['search', '--resume', cut, '--quiet', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(lastJson(r.stdout)['trials'], 120);
  const a = storedTrials(whole), b = storedTrials(cut);
  assert.deepEqual(b.map((t) => t.id), a.map((t) => t.id));
  assert.deepEqual(b.map((t) => t.dna), a.map((t) => t.dna), 'the strategy continued its own stream');
  assert.deepEqual(b.map((t) => t.reward), a.map((t) => t.reward));
});

test('training search killed with SIGKILL mid-trial: resume loses, duplicates and re-trains nothing', async () => {
  const dir = tmp();
  const config = tinyTrainingConfig(dir, { strategy: { kind: 'evolution' }, budget: 5, seed: 1 });
  const out = path.join(dir, 'run');
  await killAfter(['search', '--config', config, '--out', out, '--quiet'], out, 2);
  const beforeKill = storedTrials(out);
  const finishedBefore = beforeKill.filter((t) => t.status === 'done' || t.status === 'failed');
  assert.ok(finishedBefore.length >= 2);
  const r = mnas(['search', '--resume', out, '--quiet', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const after = storedTrials(out);
  assert.deepEqual(after.map((t) => t.id), [0, 1, 2, 3, 4], 'every trial once, none lost');
  assert.ok(after.every((t) => t.status === 'done' || t.status === 'failed'));
  for (const t of finishedBefore) {
    const now = after.find((x) => x.id === t.id)!;
    assert.equal(now.attempts, t.attempts, `trial ${t.id} was finished before the kill and must not be re-trained`);
    assert.equal(now.finishedAt, t.finishedAt);
    assert.equal(now.accuracy, t.accuracy);
  }
  for (const t of after) if (t.status === 'done' && t.reusedFrom === null) assert.ok(t.accuracy! >= 0 && t.latencyMs! > 0);
  assert.equal(lastJson(r.stdout)['trials'], 5);
});

test('--final-epochs trains the best architecture on the full training set, tests and exports it', async () => {
  const dir = tmp();
  const config = tinyTrainingConfig(dir, { strategy: { kind: 'random' }, budget: 2, final: { epochs: 1, topK: 1 } });
  const out = path.join(dir, 'run');
  const r = mnas(['search', '--config', config, '--out', out, '--quiet', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const j = lastJson(r.stdout);
  const final = j['final'] as { status: string; test_accuracy: number; files: string[]; arch: string }[];
  assert.equal(final.length, 1);
  assert.equal(final[0]!.status, 'done');
  assert.equal(final[0]!.arch, (j['best'] as { arch: string }).arch);
  assert.ok(final[0]!.test_accuracy >= 0 && final[0]!.test_accuracy <= 1);
  assert.equal(final[0]!.files.length, 2);
  for (const f of final[0]!.files) assert.ok(existsSync(f), f);
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(final[0]!.files.find((f) => f.endsWith('.onnx'))!);
  const y = await session.run({ input: new ort.Tensor('float32', new Float32Array(2 * 28 * 28), [2, 1, 28, 28]) });
  assert.deepEqual(y['logits']!.dims, [2, 10]);
  assert.match(readFileSync(path.join(out, 'report.html'), 'utf8'), /Final training/);
});

test('training search on 2 worker processes: trials spread over both with peak RSS stored, two queued ahead of them; under a hard target slower models are not trained', () => {
  const dir = tmp();
  const out = path.join(dir, 'run');
  const r = mnas(['search', '--config', tinyTrainingConfig(dir, { strategy: { kind: 'random' }, budget: 5, workers: 2 }), '--out', out, '--quiet', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const session = lastJson(r.stdout)['session'] as { evaluated: number; workers: number; per_trial: { trained: number; trial_s: number; cpu_s: number; held_s: number; latency_s: number } };
  assert.equal(session.workers, 2);
  assert.equal(session.evaluated, 5);
  const trials = storedTrials(out);
  assert.ok(trials.every((t) => t.status === 'done'));
  // where each trial's time went: its training process's CPU seconds, and the seconds it stood held while others were measured
  const costs = trials.map((t) => ({ trial: (t.timings as { trial_s: number }).trial_s, held: (t.timings as { held_s: number }).held_s, cpu: (t.extra as { memory: { cpu_s: number } }).memory.cpu_s }));
  for (const c of costs) assert.ok(c.cpu > 0 && c.held >= 0 && c.held < c.trial, JSON.stringify(c));
  assert.ok(costs.some((c) => c.held > 0), 'trials trained while the next candidates were measured were held');
  const mean = (f: (c: (typeof costs)[number]) => number) => costs.reduce((a, c) => a + f(c), 0) / costs.length;
  assert.equal(session.per_trial.trained, 5);
  for (const [k, v] of [['trial_s', mean((c) => c.trial)], ['cpu_s', mean((c) => c.cpu)], ['held_s', mean((c) => c.held)]] as const) assert.ok(Math.abs(session.per_trial[k] - v) < 1e-9, `${k}: ${session.per_trial[k]} against ${v}`);
  assert.ok(session.per_trial.latency_s > 0);
  const extra = trials.map((t) => t.extra as { worker: number; memory: { peak_rss_bytes: number; minor_faults: number } });
  assert.deepEqual(new Set(extra.map((e) => e.worker)), new Set([0, 1]), 'both workers trained');
  for (const e of extra) assert.ok(e.memory.peak_rss_bytes > 10e6 && e.memory.minor_faults >= 0, JSON.stringify(e.memory));
  // two trials are queued ahead of the two workers: four of the five were proposed before the first result
  const firstResult = Math.min(...trials.map((t) => t.resultEvent!));
  assert.equal(trials.filter((t) => t.proposeEvent < firstResult).length, 4);

  const hard = path.join(dir, 'hard');
  const h = mnas(['search', '--config', tinyTrainingConfig(dir, { strategy: { kind: 'random' }, budget: 3, workers: 1, reward: { preset: 'hard', targetMs: 1e-6 } }), '--out', hard, '--quiet', '--json']);
  assert.equal(h.status, 0, h.stderr);
  const summary = lastJson(h.stdout) as { failed: number; skipped: number; session: { failed: number; skipped: number } };
  assert.deepEqual([summary.failed, summary.skipped, summary.session.failed, summary.session.skipped], [3, 3, 3, 3], 'counted as not trained, not as broken');
  assert.equal(JSON.parse(readFileSync(path.join(hard, 'summary.json'), 'utf8')).skipped, 3);
  const text = mnas(['search', '--resume', hard]);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /trials: 3 \(0 done, 0 failed, 3 not trained \(slower than the hard target T\)\)/);
  const shown = mnas(['runs', 'show', hard, '--json']);
  assert.equal(shown.status, 0, shown.stderr);
  const { summary: counts } = lastJson(shown.stdout) as { summary: { trialsFailed: number; trialsSkipped: number } };
  assert.deepEqual([counts.trialsFailed, counts.trialsSkipped], [3, 3]);
  for (const t of storedTrials(hard)) {
    assert.equal(t.status, 'failed');
    assert.match(t.error!, /not trained: latency .* misses the hard target/);
    assert.ok(t.reward! > 0 && t.reward! < 1e-3, `reward of chance accuracy far above T: ${t.reward}`);
    assert.equal((t.timings as { train_ms?: number }).train_ms, undefined, 'no training time');
  }
});
