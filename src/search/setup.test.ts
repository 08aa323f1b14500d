import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { layerKey, TABLE_FORMAT, type LatencyTable } from '../latency/table.js';
import { buildPlan } from '../model/plan.js';
import { getSpace } from '../space/space.js';
import { openDatabase } from './sqlite.js';
import { DB_FILE, ExperimentStore } from './store.js';
import { readRunRecord } from './run-config.js';
import { search } from './setup.js';
import { SearchSetupError } from './setup-error.js';
import { tempDir } from '../util/testing.js';

function setupDir(): string {
  return tempDir('mnas-setup-');
}

const synthetic = (seed: number, budget = 24) => ({ evaluator: 'synthetic' as const, budget, concurrency: 2, seed });

test('strategy seeds change the proposals, not the problem: the same architecture scores the same in runs of different seeds', async () => {
  const dir = setupDir();
  try {
    const a = await search({ config: synthetic(1), out: path.join(dir, 'a') });
    const b = await search({ config: synthetic(2), out: path.join(dir, 'b') });
    assert.deepEqual(a.seeds, { strategy: 1, split: 0, init: 0 });
    assert.equal(a.optimum_reward, b.optimum_reward, 'one problem');
    assert.equal(a.target_ms, b.target_ms);
    const trials = (run: string) => {
      const store = ExperimentStore.open(path.join(dir, run), { readonly: true });
      const t = store.listTrials({ status: 'done' });
      store.close();
      return new Map(t.map((x) => [x.arch, x.accuracy]));
    };
    const ta = trials('a');
    const tb = trials('b');
    assert.notDeepEqual([...ta.keys()], [...tb.keys()], 'different seeds propose differently');
    // the first proposals of random-initialised controllers differ; the default and the reused ones may coincide
    for (const [arch, acc] of tb) if (ta.has(arch)) assert.equal(ta.get(arch), acc, arch!);
    const c = await search({ config: { ...synthetic(2), splitSeed: 7 }, out: path.join(dir, 'c') });
    assert.notEqual(c.optimum_reward, b.optimum_reward, 'another split seed is another problem');
    assert.deepEqual(c.seeds, { strategy: 2, split: 7, init: 0 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a run stored before the seeds were separate resumes with its seed as split and init seed', async () => {
  const dir = setupDir();
  try {
    const out = path.join(dir, 'old');
    await search({ config: { ...synthetic(5, 6), splitSeed: 5, initSeed: 5 }, out });
    const db = openDatabase(path.join(out, DB_FILE));
    const row = db.prepare('SELECT config FROM run').get() as { config: string };
    const record = JSON.parse(row.config) as { config: Record<string, unknown> };
    delete record.config.splitSeed;
    delete record.config.initSeed;
    db.prepare('UPDATE run SET config = ?').run(JSON.stringify(record));
    db.close();
    const read = readRunRecord(out, out);
    assert.equal(read.config.splitSeed, 5);
    assert.equal(read.config.initSeed, 5);
    const r = await search({ resume: out });
    assert.deepEqual(r.seeds, { strategy: 5, split: 5, init: 5 });
    assert.equal(r.trials, 6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a run stores the input shape and classes it searches, so a resume is held to them', async () => {
  const dir = setupDir();
  try {
    const out = path.join(dir, 'pinned');
    await search({ config: { ...synthetic(0, 4), space: 'cifar', classes: 7 }, out });
    const stored = readRunRecord(out, out).config;
    assert.equal(stored.input, '32x32x3');
    assert.equal(stored.classes, 7);
    const resumed = await search({ resume: out });
    assert.equal(resumed.trials, 4);
    assert.ok(resumed.pareto.every((p) => p.arch.startsWith('in32x32x3_cls7_')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad settings are SearchSetupErrors before anything is created', async () => {
  const dir = setupDir();
  try {
    const out = path.join(dir, 'x');
    const refuse = (o: Parameters<typeof search>[0], pattern: RegExp) =>
      assert.rejects(search(o), (e: unknown) => e instanceof SearchSetupError && pattern.test(e.message));
    await refuse({ config: { ...synthetic(0), space: 'nope' }, out }, /nope/);
    await refuse({ config: { ...synthetic(0), strategy: { kind: 'random', options: { bogus: 1 } } }, out }, /unknown option/);
    await refuse({ resume: out }, /no such directory/);
    await refuse({ resume: dir, config: synthetic(0) }, /do not pass config/);
    assert.equal(existsSync(out), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a latency table that does not cover the space at the data\'s input shape is refused before anything is created', async () => {
  const dir = setupDir();
  try {
    // the layers of the cifar space's default architecture at its own 32x32x3, as `mnas latency profile` keys them
    const space = getSpace('cifar');
    const entries: LatencyTable['entries'] = {};
    for (const l of buildPlan(space.decode(space.defaultDna())).layers) entries[layerKey(l)] = { kind: l.kind, macs: 1, median_ms: 0.5, p10_ms: 0.4, p90_ms: 0.6, runs: 10, converged: true };
    const table: LatencyTable = {
      format: TABLE_FORMAT, space: 'cifar', created: '2026-11-30', protocol: {}, overhead_ms: 0.01, entries,
      device: { id: 'ort-cpu', kind: 'ort-cpu', cpu: 'test', runtime: 'onnxruntime-node', runtimeVersion: '0', threads: 1 },
    };
    const file = path.join(dir, 'cifar-table.json');
    writeFileSync(file, JSON.stringify(table));
    const out = path.join(dir, 'run');
    // synthetic data is 28x28x1: the cifar space takes that input, which the table was not profiled at
    await assert.rejects(
      search({ config: { space: 'cifar', dataset: { name: 'synthetic' }, latencySource: 'predictor', latencyTable: file, budget: 1, workers: 0 }, out }),
      (e: unknown) => e instanceof SearchSetupError && /latency table '.*cifar-table\.json' does not cover space 'cifar' at input 28x28x1 with 10 classes/.test(e.message),
    );
    assert.equal(existsSync(out), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
