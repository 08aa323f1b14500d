/** Stored run records: configs of runs made before a setting existed resume as they ran. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSearchConfig } from './config.js';
import { parseRunRecord } from './run-config.js';
import type { Json } from './space-like.js';

/** A run record as the store keeps it: JSON. */
const record = (device: Record<string, unknown>): Json => {
  const config = { ...parseSearchConfig({ budget: 3 }), device };
  return JSON.parse(JSON.stringify({ config, reward: { preset: 'soft', targetMs: 0.2, alpha: -0.07, beta: -0.07 }, targetSource: 'measured latency of the fmnist default architecture' })) as Json;
};

test('a stored config without device.interleave (a run from before it was the default) resumes without it; one that has it keeps it', () => {
  assert.equal(parseRunRecord(record({ kind: 'ort-cpu', threads: 1, joinTimeoutS: 300 }), 'run').config.device.interleave, false);
  assert.equal(parseRunRecord(record({ kind: 'ort-cpu', threads: 1, joinTimeoutS: 300, interleave: true }), 'run').config.device.interleave, true);
  assert.equal(parseRunRecord(record({ kind: 'ort-cpu', threads: 1, joinTimeoutS: 300, interleave: false }), 'run').config.device.interleave, false);
});

test('a stored interleaved config resumes although it holds the drift settings too (every stored config does)', () => {
  const r = record({ kind: 'ort-cpu', threads: 1, joinTimeoutS: 300, interleave: true });
  assert.ok('drift' in (r as { config: object }).config);
  assert.equal(parseRunRecord(r, 'run').config.device.interleave, true);
});
