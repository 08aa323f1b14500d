import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { makeSyntheticRun } from '../runs/testing.js';
import { summarize } from '../search/outputs.js';
import { ExperimentStore } from '../search/store.js';
import { storedTrials } from '../search/testing.js';
import { RunView } from './run-view.js';
import { addFinishedTrial } from './testing.js';
import { tempDir } from '../util/testing.js';

test('RunView: reads a run read-only and brings it up to date with only what changed', async () => {
  const dir = tempDir('mnas-run-view-');
  try {
    const record = await makeSyntheticRun(dir, 12, 5, { budget: 20 });
    const view = new RunView(dir);
    assert.equal(view.records().length, 12);
    assert.deepEqual(view.settings, { space: 'fmnist', targetMs: record.reward.targetMs, latencyTable: null, redis: null });
    assert.deepEqual(view.summary(), summarize(storedTrials(dir)));
    assert.deepEqual(view.refresh(), [], 'nothing changed');
    const v0 = view.version;

    const id = addFinishedTrial(dir, { accuracy: 0.999, latencyMs: 0.001, reward: 0.99 });
    assert.deepEqual(view.refresh().map((t) => t.id), [id]);
    assert.equal(view.version, v0 + 1);
    assert.deepEqual(view.summary().pareto.map((p) => p.trial), [id], 'the front follows');

    // a trial proposed, then started: running changes no event number, and is still seen
    const store = ExperimentStore.open(dir);
    const dna = storedTrials(dir)[0]!.dna;
    store.addTrial({ id: id + 1, dna }, 'pending-arch');
    assert.deepEqual(view.refresh().map((t) => [t.id, t.status]), [[id + 1, 'pending']]);
    store.markRunning(id + 1);
    assert.deepEqual(view.refresh().map((t) => [t.id, t.status]), [[id + 1, 'running']]);
    store.fail(id + 1, { reason: 'out of memory', reward: -1 });
    store.close();
    assert.deepEqual(view.refresh().map((t) => [t.id, t.status, t.error]), [[id + 1, 'failed', 'out of memory']]);

    assert.deepEqual(view.changedSince(v0).map((t) => t.id), [id, id + 1], 'what a page that loaded at v0 has not seen');
    assert.deepEqual(view.changedSince(view.version), []);
    assert.equal(view.records().length, 14);
    view.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
