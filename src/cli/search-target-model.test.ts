/** `mnas search --target-model`: T is the latency of a given model, which the drift checks re-measure; bad ones are refused before anything is created. */
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ExperimentStore } from '../search/store.js';
import { assertUsageExit, runCli } from './testing.js';
import { tempDir } from '../util/testing.js';

test('search --target-model: T is the measured latency of that model (not the space default), and it is the drift reference', () => {
  const dir = tempDir('mnas-search-target-');
  const out = path.join(dir, 'run');
  try {
    // mnasnet-small (224x224, 68M MACs) is tens of times slower than the fmnist space's default (8.6M MACs at 28x28)
    const args = ['--space', 'fmnist', '--budget', '1', '--workers', '0', '--proxy-images', '128', '--validation-images', '128', '--final-epochs', '0', '--device', 'ort-cpu', '--quiet', '--json'];
    const r = runCli(['search', ...args, '--target-model', 'mnasnet-small', '--out', out], 300_000);
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as { target_ms: number };
    const measured = runCli(['measure', 'fmnist-default', '--device', 'ort-cpu', '--json'], 120_000);
    assert.equal(measured.status, 0, measured.stderr);
    const defaultMs = (JSON.parse(measured.stdout.trim().split('\n').pop()!) as { median_ms: number }).median_ms;
    assert.ok(result.target_ms > 5 * defaultMs, `T ${result.target_ms} ms against the default architecture's ${defaultMs} ms`);
    const store = ExperimentStore.open(out, { readonly: true });
    try {
      const record = store.config as { targetSource: string; config: { reward: { targetModel: string } } };
      assert.equal(record.targetSource, 'measured latency of mnasnet-small');
      assert.equal(record.config.reward.targetModel, 'mnasnet-small');
      assert.equal(store.driftChecks()[0]!.ms, result.target_ms, 'the first drift check measured the model that set T');
    } finally {
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('search --target-speedup: T is the target model\'s measured latency divided by it', () => {
  const dir = tempDir('mnas-search-target-');
  const out = path.join(dir, 'run');
  try {
    const args = ['--space', 'fmnist', '--budget', '1', '--workers', '0', '--proxy-images', '128', '--validation-images', '128', '--final-epochs', '0', '--device', 'ort-cpu', '--quiet', '--json'];
    const r = runCli(['search', ...args, '--target-model', 'bench-fmnist', '--target-speedup', '1.3', '--out', out], 300_000);
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as { target_ms: number };
    const store = ExperimentStore.open(out, { readonly: true });
    try {
      const record = store.config as { targetSource: string; config: { reward: { targetSpeedup: number } } };
      assert.equal(record.targetSource, 'measured latency of bench-fmnist / 1.3');
      assert.equal(record.config.reward.targetSpeedup, 1.3);
      assert.ok(Math.abs(result.target_ms - store.driftChecks()[0]!.ms / 1.3) < 1e-12, `T ${result.target_ms}, the reference ${store.driftChecks()[0]!.ms} ms`);
    } finally {
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('search --target-model refuses a model it cannot build, a T given twice and the synthetic evaluator, before creating the run', () => {
  const dir = tempDir('mnas-search-target-');
  const out = path.join(dir, 'run');
  try {
    const cases: [string[], RegExp][] = [
      [['--target-model', 'no-such-model'], /reward\.targetModel: .*no-such-model/],
      [['--target-model', 'bench-fmnist', '--target-ms', '0.2'], /reward: give targetMs or targetModel, not both/],
      [['--target-speedup', '1.3', '--target-ms', '0.2'], /reward: targetSpeedup divides a measured T; with targetMs give T itself/],
      [['--target-speedup', '0'], /--target-speedup must be a number in \[0\.01, 100\], got '0'/],
      [['--target-model', 'bench-fmnist', '--evaluator', 'synthetic'], /reward\.targetModel needs a latency device or table; the synthetic evaluator has none \(give targetMs\)/],
    ];
    for (const [args, message] of cases) {
      assertUsageExit(runCli(['search', ...args, '--out', out, '--quiet']), message, { seconds: 15 });
      assert.ok(!existsSync(out), `${args.join(' ')}: nothing created`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
