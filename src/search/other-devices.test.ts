import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_CHROMIUM } from '../latency/browser/index.js';
import { runDetails } from '../runs/details.js';
import { paretoFront } from './pareto.js';
import { search } from './setup.js';
import { storedTrials, TINY_TRAINING_SEARCH } from './testing.js';
import { tempDir } from '../util/testing.js';

test('a search on ort-cpu measures every trained candidate on the engine too and writes a front per device', async () => {
  const dir = tempDir('mnas-devices-');
  const out = path.join(dir, 'run');
  try {
    const result = await search({
      config: {
        ...TINY_TRAINING_SEARCH,
        budget: 5,
        seed: 4,
        device: { kind: 'ort-cpu' },
        devices: ['engine'],
      },
      out,
    });
    assert.equal(result.done, 5);
    const others = (result.device as { other_devices: { kind: string }[] }).other_devices;
    assert.deepEqual(others.map((d) => d.kind), ['engine']);
    const trials = storedTrials(out).filter((t) => t.status === 'done');
    const engineMs = new Map<number, number>();
    for (const t of trials) {
      const e = (t.latencyStats as { devices: { engine: { ms: number; runs: number } } }).devices.engine;
      assert.ok(e.ms > 0 && e.runs > 0, `trial ${t.id} measured on the engine`);
      assert.ok((t.timings as { devices_ms: number }).devices_ms > 0);
      engineMs.set(t.id, e.ms);
    }
    // the target's front keeps its shape and latencies
    const pareto = JSON.parse(readFileSync(path.join(out, 'pareto.json'), 'utf8')) as { trial: number; latency_ms: number }[];
    for (const p of pareto) assert.equal(p.latency_ms, trials.find((t) => t.id === p.trial)!.latencyMs);
    // the engine's front: the non-dominated trials by accuracy and engine latency, with their target latency beside
    const engine = JSON.parse(readFileSync(path.join(out, 'pareto-engine.json'), 'utf8')) as { trial: number; accuracy: number; latency_ms: number; target_latency_ms: number }[];
    const expected = paretoFront(trials.map((t) => ({ id: t.id, accuracy: t.accuracy!, latencyMs: engineMs.get(t.id)! }))).map((p) => p.id).sort();
    assert.deepEqual(engine.map((p) => p.trial).sort(), expected);
    for (const p of engine) {
      assert.equal(p.latency_ms, engineMs.get(p.trial));
      assert.equal(p.target_latency_ms, trials.find((t) => t.id === p.trial)!.latencyMs);
    }
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as { devices: { engine: { measured: number; pareto: unknown[]; best: { trial: number; latency_ms: number } } } };
    assert.equal(summary.devices.engine.measured, 5);
    assert.deepEqual(summary.devices.engine.pareto, engine);
    assert.equal(summary.devices.engine.best.trial, result.best!.trial);
    assert.equal(summary.devices.engine.best.latency_ms, engineMs.get(result.best!.trial));
    assert.deepEqual(runDetails(out).devices?.engine?.pareto, engine, 'mnas runs show has it');
    assert.match(readFileSync(path.join(out, 'report.html'), 'utf8'), /front on engine/);
    assert.ok(!existsSync(path.join(out, 'pareto-ort-cpu.json')), 'the target device has pareto.json only');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the browser device (local headless Chromium, WASM) as another device of a search', { skip: existsSync(DEFAULT_CHROMIUM) ? false : `no Chromium at ${DEFAULT_CHROMIUM}` }, async () => {
  const dir = tempDir('mnas-devices-browser-');
  const out = path.join(dir, 'run');
  process.env['MNAS_BROWSER_LAUNCH'] = '1';
  try {
    const result = await search({
      config: {
        ...TINY_TRAINING_SEARCH,
        budget: 2,
        seed: 2,
        devices: ['browser'],
      },
      out,
    });
    assert.equal(result.done, 2);
    for (const t of storedTrials(out).filter((x) => x.status === 'done')) {
      const b = (t.latencyStats as { devices: { browser: { ms: number; device: string } } }).devices.browser;
      assert.ok(b.ms > 0, `trial ${t.id} measured in the browser`);
      assert.match(b.device, /^browser/);
    }
    const front = JSON.parse(readFileSync(path.join(out, 'pareto-browser.json'), 'utf8')) as unknown[];
    assert.ok(front.length >= 1);
  } finally {
    delete process.env['MNAS_BROWSER_LAUNCH'];
    rmSync(dir, { recursive: true, force: true });
  }
});
