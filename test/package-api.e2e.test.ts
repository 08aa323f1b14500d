/**
 * The library as a user gets it: a project in its own folder that depends on `mnas` imports it by
 * name (package.json `exports` and `types`), type-checks against the emitted declarations, and
 * runs a synthetic search through the API with an onTrial callback and an AbortSignal, resumes
 * it, and gets InputErrors for bad settings; the API installs no signal handlers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../src/util/paths.js';
import { tempDir } from '../src/util/testing.js';

const CONSUMER = `
import { search, inspect, presets, InputError, SearchSetupError } from 'mnas';
import { readdirSync } from 'node:fs';

const out = process.argv[2];
const handlers = () => process.listenerCount('SIGINT') + process.listenerCount('SIGTERM');
const before = handlers();
const seen = [];
const stop = new AbortController();
const first = await search({
  config: { evaluator: 'synthetic', budget: 20, concurrency: 2, seed: 3 },
  out,
  signal: stop.signal,
  onTrial: (t) => {
    seen.push(t);
    if (seen.length === 8) stop.abort();
  },
});
const during = handlers();
const resumed = await search({ resume: out, onTrial: (t) => seen.push(t) });

let bad = null;
try {
  await search({ config: { evaluator: 'synthetic', budget: -1 }, out: out + '-bad' });
} catch (e) {
  bad = { input: e instanceof InputError, setup: e instanceof SearchSetupError, message: e.message };
}
let created = true;
try { readdirSync(out + '-bad'); } catch { created = false; }

const cost = inspect('bench-fmnist');
console.log(JSON.stringify({
  interrupted: first.interrupted,
  firstTrials: first.trials,
  resumedDone: resumed.done + resumed.failed,
  resumedInterrupted: resumed.interrupted,
  trialIds: seen.map((t) => t.trialId),
  accuracies: seen.map((t) => t.accuracy),
  arch: seen[0].arch,
  best: resumed.best,
  seeds: resumed.seeds,
  handlers: [before, during, handlers()],
  bad, created,
  macs: cost.macs,
  presets: presets.names().length,
}));
`;

const TYPED_CONSUMER = `
import { search, train, inspect, presets, type SearchResult, type TrialEvent, type Inspection } from 'mnas';

const onTrial = (t: TrialEvent): number => t.trialId + (t.accuracy ?? 0);
const run: Promise<SearchResult> = search({ config: { evaluator: 'synthetic', budget: 1 }, onTrial, signal: new AbortController().signal });
const cost: Inspection = inspect(presets.names()[0]!, { classes: 10 });
const trained = train('bench-fmnist', { proxy: true, subset: 100, epochs: 1, onEpoch: (e) => e.loss });
// @ts-expect-error budget is a number
search({ config: { budget: 'many' } });
export { run, cost, trained };
`;

function consumerProject(): string {
  const dir = tempDir('mnas-consumer-');
  mkdirSync(path.join(dir, 'node_modules'));
  symlinkSync(repoRoot(), path.join(dir, 'node_modules', 'mnas'), 'dir');
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true, dependencies: { mnas: '*' } }));
  return dir;
}

test('a project imports mnas by name and runs, interrupts and resumes a synthetic search through the API', () => {
  const dir = consumerProject();
  try {
    writeFileSync(path.join(dir, 'main.mjs'), CONSUMER);
    const r = spawnSync(process.execPath, ['main.mjs', path.join(dir, 'run')], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '', 'the API prints nothing');
    const o = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.equal(o.interrupted, true);
    assert.ok(o.firstTrials >= 8 && o.firstTrials < 20, `the abort stopped the first session early (${o.firstTrials} trials stored)`);
    assert.equal(o.resumedDone, 20);
    assert.equal(o.resumedInterrupted, false);
    assert.deepEqual([...o.trialIds].sort((a: number, b: number) => a - b), Array.from({ length: 20 }, (_, i) => i), 'every trial reported once');
    assert.ok(o.accuracies.every((a: number | null) => a === null || (a > 0 && a <= 1)));
    assert.match(o.arch, /^in28x28x1_cls10_/);
    assert.ok(o.best.reward > 0);
    assert.deepEqual(o.seeds, { strategy: 3, split: 0, init: 0 });
    assert.deepEqual(o.handlers, [o.handlers[0], o.handlers[0], o.handlers[0]], 'no signal handlers installed or left behind');
    assert.deepEqual(o.bad, { input: true, setup: true, message: o.bad.message });
    assert.match(o.bad.message, /budget/);
    assert.equal(o.created, false, 'a refused search creates nothing');
    assert.ok(o.macs > 0 && o.presets > 5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the declarations type-check a TypeScript consumer (and reject a wrongly typed option)', () => {
  const dir = consumerProject();
  try {
    writeFileSync(path.join(dir, 'main.ts'), TYPED_CONSUMER);
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ['main.ts'] }),
    );
    const tsc = path.join(repoRoot(), 'node_modules', 'typescript', 'bin', 'tsc');
    assert.ok(existsSync(tsc));
    try {
      execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir, encoding: 'utf8' });
    } catch (e) {
      assert.fail(`tsc failed:\n${(e as { stdout?: string }).stdout ?? (e as Error).message}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
