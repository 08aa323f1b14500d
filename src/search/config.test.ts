import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeConfig, parseSearchConfig } from './config.js';

test('empty config gives the embedded default (fmnist, ppo, train, ort-cpu 1 thread, soft reward)', () => {
  const c = parseSearchConfig({});
  assert.equal(c.space, 'fmnist');
  assert.equal(c.strategy.kind, 'ppo');
  assert.equal(c.evaluator, 'train');
  assert.deepEqual(c.device, { kind: 'ort-cpu', threads: 1, joinTimeoutS: 300, interleave: true });
  assert.equal(c.reward.preset, 'soft');
  assert.equal(c.reward.targetMs, undefined);
  assert.equal(c.dataset.name, 'fashion-mnist');
});

test('unknown keys are errors naming the key, at any depth', () => {
  assert.throws(() => parseSearchConfig({ budgt: 3 }, 'cfg.json'), /cfg\.json: unknown key 'budgt'/);
  assert.throws(() => parseSearchConfig({ proxy: { image: 3 } }), /proxy: unknown key 'image'/);
});

test('bad values name the key', () => {
  assert.throws(() => parseSearchConfig({ budget: -1 }), /budget:/);
  assert.throws(() => parseSearchConfig({ strategy: { kind: 'annealing' } }), /strategy\.kind:/);
  assert.throws(() => parseSearchConfig({ reward: { targetMs: 0 } }), /reward\.targetMs:/);
  assert.throws(() => parseSearchConfig({ device: { kind: 'phone' } }), /device\.kind:/);
});

test('reward presets: custom needs alpha and beta; soft/hard fix them', () => {
  assert.throws(() => parseSearchConfig({ reward: { preset: 'custom', alpha: -0.1 } }), /needs both alpha and beta/);
  assert.throws(() => parseSearchConfig({ reward: { preset: 'hard', beta: -2 } }), /fixes alpha and beta/);
  assert.equal(parseSearchConfig({ reward: { preset: 'custom', alpha: 0, beta: -0.5 } }).reward.beta, -0.5);
});

test('datasets other than the embedded ones need a dataDir', () => {
  assert.throws(() => parseSearchConfig({ dataset: { name: 'cifar10' } }), /dataset\.dataDir is required/);
});

test('mergeConfig: flags override nested file values without dropping siblings', () => {
  const m = mergeConfig({ proxy: { images: 5000, epochs: 2 }, budget: 10 }, { proxy: { images: 2000 }, budget: undefined });
  assert.deepEqual(m, { proxy: { images: 2000, epochs: 2 }, budget: 10 });
});

test('training processes: one per core unless given, one thread each; 0 trains in the search process; skipOverTarget on by default', () => {
  const c = parseSearchConfig({});
  assert.equal(c.workers, undefined);
  assert.equal(c.proxy.threads, 1);
  assert.equal(c.reward.skipOverTarget, true);
  assert.equal(parseSearchConfig({ workers: 0 }).workers, 0);
  assert.throws(() => parseSearchConfig({ workers: -1 }), /workers:/);
  assert.throws(() => parseSearchConfig({ workers: 1.5 }), /workers:/);
});

test('drift, other devices and predicted-then-measured: defaults, and bad combinations named in one line', () => {
  const c = parseSearchConfig({});
  assert.deepEqual(c.drift, { everyTrials: 20, everySeconds: 600, tolerance: 0.028 });
  assert.deepEqual(c.devices, []);
  assert.deepEqual(parseSearchConfig({ devices: ['engine'] }).devices, ['engine']);
  const refused: [unknown, RegExp][] = [
    [{ devices: ['ort-cpu'] }, /devices: 'ort-cpu' is the target device already/],
    [{ device: { kind: 'engine' }, devices: ['ort-cpu', 'ort-cpu'] }, /devices: 'ort-cpu' is listed twice/],
    [{ devices: ['gpu'] }, /devices\.0: /],
    [{ devices: ['engine'], evaluator: 'synthetic' }, /devices: other devices are measured by the 'train' evaluator only/],
    [{ drift: { tolerance: 0 } }, /drift\.tolerance: /],
    [{ drift: { tolerance: 1 } }, /drift\.tolerance: /],
    [{ latencySource: 'predicted-then-measured' }, /latencyTable is required when latencySource is 'predicted-then-measured'/],
    [{ predictedMargin: 0.1 }, /predictedMargin is only read by latencySource 'predicted-then-measured'/],
  ];
  for (const [config, message] of refused) {
    assert.throws(() => parseSearchConfig(config), message, JSON.stringify(config));
    assert.doesNotMatch(String((() => { try { parseSearchConfig(config); } catch (e) { return (e as Error).message; } return ''; })()), /\n/, 'one line');
  }
});

test('device.interleave defaults to on where it applies, off where it does not or drift checks are asked for', () => {
  assert.equal(parseSearchConfig({}).device.interleave, true);
  assert.equal(parseSearchConfig({ evaluator: 'table', trainedTable: { file: 't.jsonl' } }).device.interleave, true);
  assert.equal(parseSearchConfig({ device: { kind: 'browser' } }).device.interleave, false);
  assert.equal(parseSearchConfig({ latencySource: 'macs' }).device.interleave, false);
  assert.equal(parseSearchConfig({ evaluator: 'synthetic' }).device.interleave, false);
  assert.equal(parseSearchConfig({ redis: 'redis://127.0.0.1:6379' }).device.interleave, false);
  assert.equal(parseSearchConfig({ drift: { everyTrials: 5 } }).device.interleave, false);
  assert.equal(parseSearchConfig({ device: { interleave: false } }).device.interleave, false);
  assert.equal(parseSearchConfig({ device: { interleave: true }, drift: { everyTrials: 5 } }).device.interleave, true, 'said outright, it wins');
});

test('device.interleave is refused where nothing would be measured interleaved, naming why', () => {
  const on = (o: Record<string, unknown>) => parseSearchConfig({ ...o, device: { kind: 'ort-cpu', interleave: true, ...(o.device as object) } }, 'cfg');
  assert.equal(on({}).device.interleave, true);
  assert.equal(on({ device: { kind: 'browser' } }).device.interleave, true, 'a browser page times two models in turn too');
  assert.throws(() => on({ device: { kind: 'engine' } }), /cfg: device\.interleave: device 'engine' cannot \(ort-cpu and browser can\)/);
  assert.throws(() => on({ latencySource: 'macs' }), /device\.interleave: latencySource is 'macs', not 'measured'/);
  assert.throws(() => on({ evaluator: 'synthetic' }), /device\.interleave: the synthetic evaluator measures nothing/);
  assert.throws(() => on({ evaluator: 'table', trainedTable: { file: 't.jsonl', missing: 'fail' } }), /device\.interleave: a trained table with missing 'fail' measures nothing/);
  assert.throws(() => on({ redis: 'redis://127.0.0.1:6379' }), /device\.interleave: a distributed search measures on its workers/);
});
