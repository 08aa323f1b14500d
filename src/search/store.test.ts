import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ExperimentStore, ConfigMismatchError, DB_FILE, RunStoreError } from './store.js';
import { canonicalJson, jsonDifferences } from './json.js';
import { openDatabase } from './sqlite.js';
import { MemoryStore } from './memory-store.js';
import type { RunStore } from './run-store.js';
import type { StrategyDescription, StrategySnapshot } from './strategy.js';
import { tempDir } from '../util/testing.js';

const tmp = () => tempDir('mnas-store-');
const snap = (n: number): StrategySnapshot => ({ kind: 'fake', version: 1, space: 's', data: { n } });
const description: StrategyDescription = { kind: 'fake', version: 1, space: 's', settings: { seed: 1 } };

test('create, reopen with same config, mismatch detected, open without config returns it', () => {
  const dir = join(tmp(), 'run');
  const config = { strategy: { kind: 'evolution', seed: 1 }, reward: { targetMs: 75, preset: 'soft' } };
  ExperimentStore.open(dir, { config }).close();
  assert.ok(ExperimentStore.exists(dir));
  const again = ExperimentStore.open(dir, { config: { reward: { preset: 'soft', targetMs: 75 }, strategy: { seed: 1, kind: 'evolution' } } });
  again.close();
  assert.throws(
    () => ExperimentStore.open(dir, { config: { ...config, reward: { targetMs: 80, preset: 'soft' } } }),
    (e: unknown) => e instanceof ConfigMismatchError && e.differences.join() === 'reward.targetMs',
  );
  const resumed = ExperimentStore.open(dir);
  assert.deepEqual(resumed.config, config);
  resumed.close();
  assert.throws(() => ExperimentStore.open(join(tmp(), 'none')), /config is needed/);
  assert.equal(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] }), '{"a":[{"c":2,"d":1}],"b":1}');
  assert.deepEqual(jsonDifferences({ a: [1, 2], b: 1 }, { a: [1, 3], c: 1 }), ['a[1]', 'b', 'c']);
});

for (const [name, open] of [
  ['ExperimentStore', (dir: string) => ExperimentStore.open(dir, { config: { x: 1 }, snapshotHistory: 3 })],
  ['MemoryStore', () => new MemoryStore()],
] as const) {
  test(`${name}: trial lifecycle, event numbers, listing, in-flight, snapshots, the strategy record`, () => {
    const dir = tmp();
    const s: RunStore & { close?: () => void; integrityCheck?: () => string } = open(dir);
    assert.equal(s.strategy(), undefined);
    s.recordStrategy(description);
    s.recordStrategy(description); // the same again: fine
    assert.throws(() => s.recordStrategy({ ...description, settings: { seed: 2 } }), /already records another strategy/);
    assert.deepEqual(s.strategy(), description);
    s.addTrial({ id: 0, dna: [1, 2] }, 'A', snap(1));
    s.addTrial({ id: 1, dna: [0, 0] }, 'B');
    s.addTrial({ id: 2, dna: [1, 2] }, 'A');
    assert.equal(s.markRunning(0), 1);
    s.complete(0, { accuracy: 0.8, latencyMs: 12, reward: 0.7, macs: 1000, params: 10, latencyStats: { medianMs: 12 }, timings: { evalMs: 5 } });
    s.complete(2, { accuracy: 0.8, latencyMs: 12, reward: 0.7, reusedFrom: 0 }, snap(5));
    assert.equal(s.trial(2)?.reusedFrom, 0);
    s.markRunning(1);
    assert.equal(s.markRunning(1), 2, 'a second start counts as a second attempt');
    assert.deepEqual(s.inFlight().map((t) => t.id), [1]);
    assert.deepEqual(s.events(3).map((e) => [e.number, e.kind, e.trial.id]), [[4, 'result', 2]]);
    s.fail(1, { reason: 'out of memory', reward: 0 }, snap(6));
    assert.throws(() => s.complete(1, { accuracy: 0.5, latencyMs: 1, reward: 0.5 }, snap(7)), /not pending or running/);
    assert.throws(() => s.markRunning(1), /not pending/);
    const latest = s.latestSnapshot()!;
    assert.deepEqual([latest.state.data['n'], latest.afterEvent, latest.trialId], [6, 5, 1], 'the failed complete() stored no snapshot either');
    assert.deepEqual(
      s.events().map((e) => `${e.kind}${e.trial.id}@${e.number}`),
      ['propose0@0', 'propose1@1', 'propose2@2', 'result0@3', 'result2@4', 'result1@5'],
    );
    assert.equal(s.count(), 3);
    assert.equal(s.count('done'), 2);
    assert.equal(s.count('failed'), 1);
    assert.deepEqual(s.listTrials({ status: 'failed' }).map((t) => [t.id, t.error, t.reward]), [[1, 'out of memory', 0]]);
    const t0 = s.trial(0)!;
    assert.deepEqual([t0.dna, t0.arch, t0.status, t0.latencyMs, t0.macs, t0.latencyStats, t0.timings], [[1, 2], 'A', 'done', 12, 1000, { medianMs: 12 }, { evalMs: 5 }]);
    assert.ok(t0.finishedAt && t0.startedAt && t0.createdAt);
    assert.throws(() => s.addTrial({ id: 0, dna: [0, 0] }, undefined, snap(8)), /UNIQUE|PRIMARY/);
    assert.equal(s.latestSnapshot()?.state.data['n'], 6);
    if (s.integrityCheck) assert.equal(s.integrityCheck(), 'ok');
    s.close?.();
  });
}

test('the SQLite store keeps only the latest snapshots and reopens read-only', () => {
  const dir = tmp();
  const s = ExperimentStore.open(dir, { config: { x: 1 } });
  for (let id = 0; id < 5; id++) s.addTrial({ id, dna: [id] }, undefined, snap(id));
  s.close();
  const ro = ExperimentStore.open(dir, { readonly: true });
  assert.equal(ro.count(), 5);
  assert.deepEqual(ro.latestSnapshot()?.state.data, { n: 4 });
  ro.close();
  const db = openDatabase(join(dir, DB_FILE), { readonly: true });
  assert.deepEqual(db.prepare('SELECT COUNT(*) AS n FROM strategy_snapshots').get(), { n: 1 }, 'one snapshot kept by default');
  db.close();
});

test('a trial brief carries the reference time of an interleaved measurement and nothing for other latencies', () => {
  const s = ExperimentStore.open(tmp(), { config: { x: 1 } });
  for (let id = 0; id < 3; id++) s.addTrial({ id, dna: [id] }, undefined);
  s.complete(0, { accuracy: 0.8, latencyMs: 0.1, reward: 0.7, latencyStats: { interleaved: true, ratio: 0.77, reference_ms: 0.129, raw_ms: 0.1 } });
  s.complete(1, { accuracy: 0.8, latencyMs: 0.1, reward: 0.7, latencyStats: { reference_ms: 0.2, drift_ratio: 1.1 } }); // not interleaved
  s.complete(2, { accuracy: 0.8, latencyMs: 0.1, reward: 0.7 });
  assert.deepEqual(s.listTrialBriefs().map((t) => t.interleavedReferenceMs), [0.129, undefined, undefined]);
  s.close();
});

function runWriterUntil(dir: string, lines: number): Promise<void> {
  const script = fileURLToPath(new URL('./fixtures/store-writer.js', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = 0;
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      seen += d.toString().split('\n').length - 1;
      if (seen >= lines && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`writer exited ${code} ${signal}: ${err}`))));
  });
}

function checkIntegrity(dir: string): number {
  const s = ExperimentStore.open(dir);
  try {
    assert.equal(s.integrityCheck(), 'ok');
    const trials = s.listTrials();
    const n = s.count();
    assert.equal(trials.length, n);
    assert.deepEqual(trials.map((t) => t.id), [...Array(n).keys()], 'ids contiguous: no lost or partial proposal');
    const finished = s.count('done') + s.count('failed');
    const latest = s.latestSnapshot()!;
    // The latest snapshot was committed with the last change: it counts exactly what is stored.
    assert.equal(latest.state.data['proposed'], n);
    assert.equal(latest.state.data['finished'], finished);
    assert.ok(s.inFlight().length <= 1);
    for (const t of trials) {
      if (t.status === 'done') assert.ok(t.accuracy === 0.5 && t.latencyMs === 1 + t.id && t.reward === 0.5 && t.finishedAt);
      if (t.status === 'failed') assert.equal(t.error, `synthetic failure ${t.id}`);
    }
    return n;
  } finally {
    s.close();
  }
}

test('a writer killed with SIGKILL leaves a consistent store that can be continued', async () => {
  const dir = tmp();
  await runWriterUntil(dir, 40);
  const n1 = checkIntegrity(dir);
  assert.ok(n1 >= 40);
  await runWriterUntil(dir, 40); // continues the same run, finishing the in-flight trial first
  const n2 = checkIntegrity(dir);
  assert.ok(n2 >= n1 + 39);
  const s = ExperimentStore.open(dir);
  const attempts = s.listTrials().filter((t) => t.attempts > 1);
  assert.ok(attempts.every((t) => t.attempts === 2));
  s.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a run database that is empty, not SQLite, foreign, newer, truncated or missing its tables is refused with RunStoreError', () => {
  const good = join(tmp(), 'good');
  ExperimentStore.open(good, { config: { a: 1 } }).close();
  const dbOf = (name: string, write: (file: string) => void): string => {
    const dir = join(tmp(), name);
    mkdirSync(dir);
    write(join(dir, DB_FILE));
    return dir;
  };
  const sqlite = (file: string, sql: string) => {
    const db = openDatabase(file);
    db.exec(sql);
    db.close();
  };
  const cases: [string, string, RegExp][] = [
    ['empty', dbOf('empty', (f) => writeFileSync(f, '')), /is empty/],
    ['random bytes', dbOf('random', (f) => writeFileSync(f, Buffer.alloc(4096, 7))), /not an SQLite database/],
    ['foreign', dbOf('foreign', (f) => sqlite(f, 'CREATE TABLE x (a)')), /not an mnas run \(tables: x\)/],
    ['newer', dbOf('newer', (f) => { copyFileSync(join(good, DB_FILE), f); sqlite(f, 'PRAGMA user_version = 9'); }), /schema version 9; this mnas reads version 2/],
    ['older', dbOf('older', (f) => { copyFileSync(join(good, DB_FILE), f); sqlite(f, 'PRAGMA user_version = 1'); }), /written by an older mnas \(schema version 1\); this mnas reads version 2/],
    ['missing table', dbOf('missing', (f) => { copyFileSync(join(good, DB_FILE), f); sqlite(f, 'DROP TABLE strategy_snapshots'); }), /missing table\(s\) strategy_snapshots/],
    ['truncated', dbOf('trunc', (f) => writeFileSync(f, readFileSync(join(good, DB_FILE)).subarray(0, 3000))), /malformed|not a readable/],
    ['a directory', dbOf('dir', (f) => mkdirSync(f)), /is not a file/],
  ];
  for (const [what, dir, message] of cases) {
    for (const readonly of [true, false]) {
      assert.throws(() => ExperimentStore.open(dir, { readonly }), (e: unknown) => e instanceof RunStoreError && message.test(e.message), `${what} (readonly ${readonly})`);
    }
  }
  // nothing was written into the foreign database
  const foreign = openDatabase(join(cases[2]![1], DB_FILE), { readonly: true });
  assert.deepEqual((foreign.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name), ['x']);
  foreign.close();
});
