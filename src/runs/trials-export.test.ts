import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { TrialRecord } from '../search/store.js';
import { isInputError } from '../util/input-error.js';
import { makeSyntheticRun } from './testing.js';
import { csvField, readRunTrials, TRIAL_COLUMNS, trialsCsv, trialsJson } from './trials-export.js';
import { tempDir } from '../util/testing.js';

const PYTHON = '/usr/bin/python3';

test('CSV fields are quoted when they hold a comma, a quote, a line break or edge spaces; quotes are doubled', () => {
  assert.equal(csvField(null), '');
  assert.equal(csvField(0.25), '0.25');
  assert.equal(csvField('plain_r1_k3'), 'plain_r1_k3');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField('cr\rhere'), '"cr\rhere"');
  assert.equal(csvField(' lead'), '" lead"');
});

const failed: TrialRecord = {
  id: 7,
  dna: [1, 0, 2],
  arch: 'stem16s1:r1_k3_s11_e1_i16_o16,r2_k5_s22_e6_i16_o24_se0.25',
  status: 'failed',
  accuracy: null,
  latencyMs: null,
  latencyStats: null,
  macs: null,
  params: null,
  reward: 0,
  reusedFrom: null,
  extra: null,
  timings: { evalMs: 12.5 },
  error: 'training diverged: loss "NaN" at step 3,\nstopped',
  attempts: 2,
  proposeEvent: 14,
  resultEvent: 15,
  createdAt: '2026-01-01T00:00:00.000Z',
  startedAt: '2026-01-01T00:00:01.000Z',
  finishedAt: '2026-01-01T00:00:02.000Z',
};

test('a trial with commas, quotes and a line break reads back field for field (Python csv module)', { skip: !existsSync(PYTHON) && 'no /usr/bin/python3' }, () => {
  const csv = trialsCsv([failed]);
  const r = spawnSync(PYTHON, ['-c', 'import csv, io, json, sys; print(json.dumps(list(csv.DictReader(io.StringIO(sys.stdin.read(), newline="")))))'], { input: csv, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as Record<string, string>[];
  assert.equal(rows.length, 1);
  assert.deepEqual(Object.keys(rows[0]!), [...TRIAL_COLUMNS]);
  assert.equal(rows[0]!['arch'], failed.arch);
  assert.equal(rows[0]!['error'], failed.error);
  assert.equal(rows[0]!['dna'], '1 0 2');
  assert.equal(rows[0]!['eval_ms'], '12.5');
  assert.equal(rows[0]!['accuracy'], '');
  assert.equal(rows[0]!['attempts'], '2');
});

test('every trial of a run is exported, in CSV and JSON, with its stored values', async () => {
  const dir = tempDir('mnas-export-');
  await makeSyntheticRun(dir, 25, 5);
  const trials = readRunTrials(dir);
  assert.equal(trials.length, 25);
  const json = JSON.parse(trialsJson(trials)) as Record<string, unknown>[];
  assert.deepEqual(json.map((t) => t['trial']), trials.map((t) => t.id));
  for (const [i, t] of trials.entries()) {
    assert.equal(json[i]!['arch'], t.arch);
    assert.equal(json[i]!['reward'], t.reward);
    assert.equal(json[i]!['latency_ms'], t.latencyMs);
    assert.deepEqual(json[i]!['latency_stats'], t.latencyStats);
  }
  const lines = trialsCsv(trials).split('\r\n');
  assert.equal(lines[0], TRIAL_COLUMNS.join(','));
  assert.equal(lines.length, 25 + 2);
  // the architecture is the one quoted field of a synthetic trial: its commas are inside quotes
  assert.ok(lines[1]!.includes(`"${trials[0]!.arch}"`));
  assert.throws(() => readRunTrials(tempDir('mnas-export-')), (e: unknown) => isInputError(e) && /not a run directory/.test((e as Error).message));
});
