import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reuseIdenticalArchitectures } from './reuse.js';
import type { EvalResult, TrialEvaluation, TrialOutcome } from './evaluator.js';
import type { TrialRecord } from './run-store.js';

/** An evaluation per call whose outcome the test settles by hand. */
function manual() {
  const calls = new Map<number, (r: EvalResult) => void>();
  const evaluate: TrialEvaluation = (trial) =>
    new Promise<TrialOutcome>((resolve) => calls.set(trial.id, (result) => resolve({ status: 'settled', result, evalMs: 7 })));
  return { evaluate, calls };
}

const done = (accuracy: number): EvalResult => ({ status: 'done', accuracy, latencyMs: 2, timings: { train_ms: 5 } });

test('reuse: a twin waits for the earlier trial of its identity and takes its result, without its timings', async () => {
  const m = manual();
  const settle = reuseIdenticalArchitectures(m.evaluate, { identity: (d) => String(d[0]), earlier: [] });
  const a = settle({ id: 0, dna: [1, 0] });
  const b = settle({ id: 1, dna: [1, 1] }); // same identity as trial 0
  const c = settle({ id: 2, dna: [2, 0] });
  await Promise.resolve();
  assert.deepEqual([...m.calls.keys()], [0, 2], 'trial 1 is not evaluated');
  m.calls.get(0)!(done(0.5));
  m.calls.get(2)!(done(0.7));
  assert.deepEqual(await a, { status: 'settled', result: done(0.5), evalMs: 7 });
  assert.deepEqual(await b, { status: 'settled', result: { status: 'done', accuracy: 0.5, latencyMs: 2 }, evalMs: 0, reusedFrom: 0 });
  const d = await settle({ id: 3, dna: [1, 2] });
  assert.equal((d as { reusedFrom?: number }).reusedFrom, 0, 'a reuse of a reuse names the evaluated trial');
  await c;
});

test('reuse: after a failure the next twin is evaluated, and later twins wait for that one', async () => {
  const m = manual();
  const settle = reuseIdenticalArchitectures(m.evaluate, { identity: String, earlier: [] });
  const a = settle({ id: 0, dna: [1] });
  const b = settle({ id: 1, dna: [1] });
  const c = settle({ id: 2, dna: [1] });
  m.calls.get(0)!({ status: 'failed', reason: 'transient' });
  await a;
  await new Promise((r) => setImmediate(r));
  assert.deepEqual([...m.calls.keys()], [0, 1]);
  m.calls.get(1)!(done(0.6));
  assert.equal((await b).status, 'settled');
  assert.equal((await c as { reusedFrom?: number }).reusedFrom, 1);
});

test('reuse: trials of earlier sessions are reused by identity (only evaluated, done ones)', async () => {
  const stored = (id: number, dna: number[], status: 'done' | 'failed', reusedFrom: number | null): TrialRecord =>
    ({ id, dna, status, reusedFrom, accuracy: 0.4 + id / 10, latencyMs: 3, latencyStats: null, macs: 10, params: null, extra: null }) as unknown as TrialRecord;
  const m = manual();
  const settle = reuseIdenticalArchitectures(m.evaluate, {
    identity: String,
    earlier: [stored(0, [5], 'failed', null), stored(1, [6], 'done', null), stored(2, [6], 'done', 1)],
  });
  assert.deepEqual(await settle({ id: 3, dna: [6] }), { status: 'settled', result: { status: 'done', accuracy: 0.5, latencyMs: 3, macs: 10 }, evalMs: 0, reusedFrom: 1 });
  void settle({ id: 4, dna: [5] });
  await Promise.resolve();
  assert.deepEqual([...m.calls.keys()], [4], 'a failed trial is not reused');
});
