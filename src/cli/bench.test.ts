/** `mnas bench`: the subcommands are there, and bad options are refused before any benchmark runs. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { profileSpace, saveTable } from '../latency/table.js';
import { CostModelDevice } from '../latency/testing.js';
import { getSpace } from '../space/space.js';
import { repoRoot } from '../util/paths.js';
import { assertUsageExit, runCli } from './testing.js';
import { tempDir } from '../util/testing.js';

test('mnas bench --help lists every benchmark', () => {
  const r = runCli(['bench', '--help']);
  assert.equal(r.status, 0, r.stderr);
  for (const name of ['fuzz', 'latency-stability', 'predicted-measured', 'proxy', 'train', 'train-vs-pytorch']) assert.match(r.stdout, new RegExp(`^  ${name} `, 'm'), name);
});

test('bench latency-stability refuses bad options with exit 2', () => {
  assertUsageExit(runCli(['bench', 'latency-stability', '--processes', '1']), /--processes must be an integer in \[2, 1000\], got '1'/);
  assertUsageExit(runCli(['bench', 'latency-stability', '--threads', '1.5']), /--threads must be an integer/);
  assertUsageExit(runCli(['bench', 'latency-stability', '--device', 'gpu']), /--device must be one of ort-cpu/);
  assertUsageExit(runCli(['bench', 'latency-stability', '--processes', '2', '--json', '--bogus']), /unknown option '--bogus'/);
});

test('bench latency-stability: a model `mnas measure` refuses is exit 2 with its reason', () => {
  const r = runCli(['bench', 'latency-stability', '--model', 'no-such-model', '--processes', '2']);
  assertUsageExit(r, /bench latency-stability: process 1 of 2 \(mnas measure\) refused its input: measure: 'no-such-model' is not a preset/, { seconds: 20 });
  assert.equal(r.stdout, '');
});

test('bench train-vs-pytorch refuses bad options with exit 2', () => {
  assertUsageExit(runCli(['bench', 'train-vs-pytorch', '--rounds', '0']), /--rounds must be an integer in \[1, 1000\]/);
  assertUsageExit(runCli(['bench', 'train-vs-pytorch', '--epochs', 'x']), /--epochs must be an integer/);
  assertUsageExit(runCli(['bench', 'train-vs-pytorch', '--images', '10', '--batch', '64']), /--images \(10\) must be at least --batch \(64\)/);
});

test('bench predicted-measured refuses bad options with exit 2 before opening a device', () => {
  assertUsageExit(runCli(['bench', 'predicted-measured']), /required option '--latency-table <file>' not specified/);
  assertUsageExit(runCli(['bench', 'predicted-measured', '--latency-table', 'no-such-table.json']), /latency table 'no-such-table.json'/);
  assertUsageExit(runCli(['bench', 'predicted-measured', '--latency-table', 'x.json', '--margin', '2']), /--margin must be a number in \[0, 0.9\]/);
  assertUsageExit(runCli(['bench', 'predicted-measured', '--latency-table', 'x.json', '--seeds', '1,x']), /--seeds must be an integer/);
  assertUsageExit(runCli(['bench', 'predicted-measured', '--latency-table', 'x.json', '--trained-table', 'no-such.jsonl']), /--trained-table no-such.jsonl: no such file/);
});

test('bench predicted-measured runs end to end with a tiny budget on ort-cpu and prints its figures as JSON', async () => {
  const dir = tempDir('mnas-bench-pm-');
  try {
    const table = path.join(dir, 'fmnist.json');
    saveTable(table, await profileSpace(new CostModelDevice(), getSpace('fmnist'), { passes: 1 }));
    const trained = path.join(repoRoot(), 'results/fashion-mnist/trained.jsonl');
    const r = runCli(['bench', 'predicted-measured', '--latency-table', table, '--trained-table', trained, '--strategy', 'random', '--budget', '3', '--seeds', '0', '--quiet', '--json'], 120_000);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { budget: number; device: string; seeds: { measured: { trials: number; measured: number }; share_measured: number }[] };
    assert.equal(report.budget, 3);
    assert.match(report.device, /^ort-cpu/);
    assert.equal(report.seeds.length, 1);
    assert.equal(report.seeds[0]!.measured.measured, report.seeds[0]!.measured.trials);
    assert.ok(report.seeds[0]!.share_measured > 0 && report.seeds[0]!.share_measured <= 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bench proxy runs the same trial with mnas\'s and libtorch\'s depthwise weight gradient, batch norm and evaluation', () => {
  const r = runCli(['bench', 'proxy', '--samples', '1', '--seed', '1', '--images', '256', '--sides', 'mnas,mnas-libtorch-dw,mnas-libtorch-bn,mnas-libtorch-se,mnas-libtorch-eval', '--json'], 240_000);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { sides: { side: string; trials: number; failed: number; rows: { arch: string; val_accuracy: number | null }[] }[] };
  assert.deepEqual(report.sides.map((s) => [s.side, s.trials, s.failed]), [['mnas', 1, 0], ['mnas-libtorch-dw', 1, 0], ['mnas-libtorch-bn', 1, 0], ['mnas-libtorch-se', 1, 0], ['mnas-libtorch-eval', 1, 0]]);
  assert.match(report.sides[0]!.rows[0]!.arch, /[:,]r\d_k5_/, 'the sampled architecture has a 5x5 depthwise layer');
  for (const s of report.sides) assert.ok(s.rows[0]!.val_accuracy! > 0.1, `${s.side}: trained`);
  const [own, libtorchEval] = [report.sides[0]!, report.sides[3]!].map((s) => s.rows[0]!.val_accuracy!);
  assert.ok(Math.abs(own! - libtorchEval!) <= 0.002, `the same training scored on onnxruntime (${own}) and libtorch (${libtorchEval})`);
});

test('bench proxy --parallel measures latency around and during the parallel run; --no-latency-probes runs the trials alone', () => {
  type Parallel = { workers: number; wall_s: number; trials_per_hour: number; failed: number; latency?: { quiet_ms: number[] } };
  const run = (extra: string[]) => {
    const r = runCli(['bench', 'proxy', '--samples', '2', '--seed', '1', '--images', '128', '--sides', 'mnas', '--parallel', '2', ...extra, '--json'], 240_000);
    assert.equal(r.status, 0, r.stderr);
    return { parallel: (JSON.parse(r.stdout) as { parallel: Parallel }).parallel, stderr: r.stderr };
  };
  const probed = run([]);
  assert.equal(probed.parallel.latency?.quiet_ms.length, 6, 'three quiet measurements before the run and three after');
  const alone = run(['--no-latency-probes']);
  assert.equal(alone.parallel.latency, undefined);
  assert.match(alone.stderr, /parallel: 2 trials on 2 workers in [\d.]+ s, no latency probes/);
  for (const { parallel } of [probed, alone]) {
    assert.equal(parallel.workers, 2);
    assert.equal(parallel.failed, 0);
    assert.ok(Math.abs(parallel.trials_per_hour - (2 * 3600) / parallel.wall_s) < 1e-6);
  }
});
