import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TrialRecord } from '../search/run-store.js';
import { parseTrialQuery, queryTrials, TrialQueryError } from './trial-query.js';

function trial(id: number, o: Partial<TrialRecord> = {}): TrialRecord {
  return {
    id,
    dna: [0],
    arch: `arch-${id}`,
    status: 'done',
    accuracy: 0.5,
    latencyMs: 1,
    latencyStats: null,
    macs: null,
    params: null,
    reward: 0.5,
    reusedFrom: null,
    extra: null,
    timings: null,
    error: null,
    attempts: 1,
    proposeEvent: 2 * id,
    resultEvent: 2 * id + 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:01.500Z',
    ...o,
  };
}

const q = (text: string) => parseTrialQuery(new URLSearchParams(text));

test('parseTrialQuery: defaults, and one line naming a bad parameter', () => {
  assert.deepEqual(q(''), { sort: 'id', descending: false, status: null, text: '', offset: 0, limit: 50 });
  assert.deepEqual(q('sort=reward&order=desc&status=failed&q=MBConv&offset=100&limit=20'), { sort: 'reward', descending: true, status: 'failed', text: 'mbconv', offset: 100, limit: 20 });
  for (const [bad, message] of [
    ['sort=dna', /^sort must be one of id, status, /],
    ['order=sideways', /^order must be asc or desc, got 'sideways'$/],
    ['status=lost', /^status must be one of pending, running, done, failed, got 'lost'$/],
    ['offset=-3', /^offset must be an integer/],
    ['limit=501', /^limit must be an integer in \[0, 500\], got '501'$/],
    ['limit=1e3', /^limit must be an integer/],
  ] as const) {
    assert.throws(() => q(bad), (e: Error) => e instanceof TrialQueryError && message.test(e.message), bad);
  }
});

test('queryTrials: sorts with missing values last either way, ties by id, then pages', () => {
  const trials = [
    trial(0, { reward: 0.7 }),
    trial(1, { status: 'failed', reward: -1, accuracy: null, latencyMs: null, error: 'Out of memory' }),
    trial(2, { status: 'running', reward: null, accuracy: null, latencyMs: null, finishedAt: null, resultEvent: null }),
    trial(3, { reward: 0.9 }),
    trial(4, { reward: 0.7 }),
  ];
  const ids = (text: string) => queryTrials(trials, q(text)).rows.map((r) => r.id);
  assert.deepEqual(ids('sort=reward'), [1, 0, 4, 3, 2]);
  assert.deepEqual(ids('sort=reward&order=desc'), [3, 0, 4, 1, 2]);
  assert.deepEqual(ids('sort=accuracy&order=desc'), [0, 3, 4, 1, 2]);
  assert.deepEqual(ids('sort=status'), [0, 3, 4, 1, 2]);
  assert.deepEqual(ids('order=desc&offset=1&limit=2'), [3, 2]);
  assert.equal(queryTrials(trials, q('offset=3&limit=10')).total, 5);
  assert.deepEqual(ids('status=failed'), [1]);
  assert.deepEqual(ids('q=out of MEMORY'), [1]);
  assert.deepEqual(ids('q=arch-4'), [4]);
  const row = queryTrials(trials, q('limit=1')).rows[0]!;
  assert.equal(row.seconds, 1.5);
  assert.equal(queryTrials(trials, q('status=running')).rows[0]!.seconds, null);
});
