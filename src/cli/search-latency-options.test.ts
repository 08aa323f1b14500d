/** `mnas search` options of drift, other devices and predicted-then-measured: bad ones are one line, exit 2, nothing created. */
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { assertUsageExit, runCli } from './testing.js';
import { tempDir } from '../util/testing.js';

test('search refuses bad drift, devices and latency-source options before creating the run', () => {
  const dir = tempDir('mnas-search-options-');
  const out = path.join(dir, 'run');
  try {
    const cases: [string[], RegExp][] = [
      [['--devices', 'ort-cpu,gpu'], /--devices: unknown device 'gpu' \(known: ort-cpu, engine, browser\)/],
      [['--devices', 'engine,ort-cpu'], /devices: 'ort-cpu' is the target device already/],
      [['--device', 'engine', '--devices', 'ort-cpu,ort-cpu'], /devices: 'ort-cpu' is listed twice/],
      [['--drift-tolerance', '0'], /--drift-tolerance: expected a number in \(0, 1\), got '0'/],
      [['--drift-tolerance', '1.2'], /--drift-tolerance: expected a number in \(0, 1\)/],
      [['--drift-every-trials', '0'], /--drift-every-trials must be an integer in \[1, /],
      [['--latency-source', 'predicted-then-measured'], /latencyTable is required when latencySource is 'predicted-then-measured'/],
      [['--latency-source', 'guessed'], /--latency-source must be one of measured, predictor, macs, predicted-then-measured/],
      [['--latency-source', 'predicted-then-measured', '--latency-table', path.join(dir, 'none.json')], /none\.json/],
      [['--predicted-margin', '0.1'], /predictedMargin is only read by latencySource 'predicted-then-measured'/],
      [['--evaluator', 'synthetic', '--devices', 'engine'], /devices: other devices are measured by the 'train' evaluator only/],
    ];
    for (const [args, message] of cases) {
      assertUsageExit(runCli(['search', ...args, '--out', out, '--quiet']), message);
      assert.ok(!existsSync(out), `${args.join(' ')}: nothing created`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('search --help lists the new options', () => {
  const r = runCli(['search', '--help']);
  assert.equal(r.status, 0);
  for (const flag of ['--devices', '--latency-source', '--latency-table', '--predicted-margin', '--drift-every-trials', '--drift-every-seconds', '--drift-tolerance']) assert.match(r.stdout, new RegExp(`${flag} `), flag);
});
