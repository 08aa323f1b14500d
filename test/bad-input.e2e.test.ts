/**
 * Every command, given bad input as a careless or hostile user would: each case must end in one
 * line on stderr naming the problem (`mnas: ...`), exit code 2, no stack trace, quickly, and
 * without creating what it was asked to create.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../src/util/paths.js';
import { ExperimentStore } from '../src/search/store.js';
import { openDatabase } from '../src/search/sqlite.js';
import { exportOnnx } from '../src/model/export.js';
import { decodeModel } from '../src/model/onnx/index.js';
import { encodeModelObject } from '../src/model/onnx/proto.js';
import { buildPlan } from '../src/model/plan.js';
import { presetArch } from '../src/space/presets.js';
import { tempDir } from '../src/util/testing.js';

const MAIN = path.join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
const dir = tempDir('mnas-bad-input-');
const file = (name: string, content: string | Buffer) => {
  const f = path.join(dir, name);
  writeFileSync(f, content);
  return f;
};
const runDir = (name: string, db: (f: string) => void) => {
  const d = path.join(dir, name);
  mkdirSync(d);
  db(path.join(d, 'mnas.db'));
  return d;
};
const sql = (f: string, statements: string) => {
  const db = openDatabase(f);
  db.exec(statements);
  db.close();
};
const safetensors = (header: unknown, data = Buffer.alloc(0)) => {
  const json = Buffer.from(JSON.stringify(header));
  const n = Buffer.alloc(8);
  n.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([n, json, data]);
};

const TINY = 'in28x28x1_cls10_stem16s1_head0:r1_k3_s11_e1_i16_o16';
const good = path.join(dir, 'good-run');
ExperimentStore.open(good, { config: { config: {}, reward: { targetMs: 1 }, targetSource: 'given' } }).close();

/** An ONNX model whose input is declared 1x3x100000x100000. */
function hugeInputOnnx(): string {
  const model = decodeModel(exportOnnx(buildPlan(presetArch('bench-fmnist')))) as { graph: { input: Array<{ type: { tensorType: { shape: { dim: unknown[] } } } }> } };
  model.graph.input[0]!.type.tensorType.shape.dim = [1, 3, 100_000, 100_000].map((d) => ({ dimValue: d }));
  return file('huge-input.onnx', Buffer.from(encodeModelObject(model as unknown as Record<string, unknown>)));
}

interface Case {
  what: string;
  args: string[];
  env?: Record<string, string>;
  /** The message must match this. */
  says: RegExp;
  /** Must not exist afterwards. */
  creates?: string;
}

const cases: Case[] = [
  // the command line itself
  { what: 'unknown command', args: ['frobnicate'], says: /unknown command 'frobnicate'/ },
  { what: 'unknown option', args: ['inspect', TINY, '--bogus'], says: /unknown option '--bogus'/ },
  { what: 'missing argument', args: ['train'], says: /missing required argument 'arch'/ },
  // inspect
  { what: 'garbage arch', args: ['inspect', 'hello world'], says: /arch/ },
  { what: 'huge repeats', args: ['inspect', 'in28x28x1_cls10_stem16s1_head0:r99999999999_k3_s11_e1_i16_o16'], says: /repeats.*exceeds the limit 64/ },
  { what: 'unsafe integer width', args: ['inspect', 'in28x28x1_cls10_stem16s1_head0:r1_k3_s11_e1_i16_o99999999999999999999'], says: /o99999999999999999999|safe integer|exceeds/ },
  { what: 'classes 1e20', args: ['inspect', TINY, '--classes', '1e20'], says: /classes/ },
  { what: 'input 0x0', args: ['inspect', TINY, '--input', '0x0x1'], says: /input/ },
  { what: 'arch file missing', args: ['inspect', path.join(dir, 'nope.json')], says: /nope\.json|arch/ },
  // train
  { what: 'train a 100M-wide layer', args: ['train', 'in28x28x1_cls10_stem16s1_head0:r1_k3_s11_e1_i16_o100000000', '--subset', '128', '--epochs', '1'], says: /exceeds the limit/ },
  { what: 'train subset 0', args: ['train', TINY, '--subset', '0'], says: /--subset/ },
  { what: 'train malformed --input', args: ['train', TINY, '--input', '28x28'], says: /--input must be HxWxC/ },
  { what: 'train --classes not the data\'s', args: ['train', TINY, '--dataset', 'synthetic', '--classes', '3'], says: /the data has 10 classes but the number given \(--classes\) is 3/ },
  { what: 'train missing data dir', args: ['train', TINY, '--dataset', 'mnist', '--data-dir', path.join(dir, 'no-data')], says: /no-data/ },
  { what: 'train lr NaN', args: ['train', TINY, '--lr', 'NaN'], says: /--lr/ },
  // export
  { what: 'export classes 99999999999', args: ['export', TINY, '--classes', '99999999999', '--out', path.join(dir, 'x.onnx')], says: /classes/, creates: path.join(dir, 'x.onnx') },
  { what: 'export null metadata', args: ['export', TINY, '--weights', file('null-meta.safetensors', safetensors({ __metadata__: null })), '--out', path.join(dir, 'y.onnx')], says: /__metadata__/, creates: path.join(dir, 'y.onnx') },
  { what: 'export truncated weights', args: ['export', TINY, '--weights', file('short.safetensors', Buffer.from([200, 0, 0, 0, 0, 0, 0, 0, 123])), '--out', path.join(dir, 'z.onnx')], says: /short\.safetensors/, creates: path.join(dir, 'z.onnx') },
  { what: 'export weights of another network', args: ['export', TINY, '--weights', file('other.safetensors', safetensors({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, Buffer.alloc(4))), '--out', path.join(dir, 'w.onnx')], says: /other\.safetensors|weights|missing|unexpected/, creates: path.join(dir, 'w.onnx') },
  { what: 'export opset 99', args: ['export', TINY, '--opset', '99', '--out', path.join(dir, 'v.onnx')], says: /opset/, creates: path.join(dir, 'v.onnx') },
  // measure
  { what: 'measure a file that is not ONNX', args: ['measure', file('not.onnx', 'hello')], says: /not\.onnx/ },
  { what: 'measure an ONNX file with a huge static input', args: ['measure', hugeInputOnnx()], says: /input 'input' \[1, 3, 100000, 100000\].*exceeds the limit/ },
  { what: 'measure threads 0', args: ['measure', TINY, '--threads', '0'], says: /--threads/ },
  { what: 'measure on a malformed browser URL', args: ['measure', TINY, '--device', 'browser'], env: { MNAS_BROWSER_URL: 'ftp://x' }, says: /browser device URL/ },
  // latency
  { what: 'latency profile unknown space', args: ['latency', 'profile', '--device', 'ort-cpu', '--space', 'nope'], says: /nope/ },
  { what: 'latency eval with a table that is JSON but not a table', args: ['latency', 'eval', '--device', 'ort-cpu', '--space', 'fmnist', '--samples', '2', '--table', file('t.json', '{"format":"mnas-latency-table/1","entries":[]}')], says: /latency table/ },
  { what: 'latency eval retesting more models than it measures', args: ['latency', 'eval', '--device', 'ort-cpu', '--space', 'fmnist', '--samples', '2', '--retest', '5'], says: /latency eval: --retest 5 is more than --samples 2/ },
  { what: 'latency eval in no passes', args: ['latency', 'eval', '--device', 'ort-cpu', '--space', 'fmnist', '--samples', '2', '--passes', '0'], says: /--passes must be an integer in \[1, 10\], got '0'/ },
  { what: 'latency eval retest -1', args: ['latency', 'eval', '--device', 'ort-cpu', '--space', 'fmnist', '--samples', '2', '--retest', '-1'], says: /--retest/ },
  { what: 'bench predictor-fit on a table without interleaved latencies', args: ['bench', 'predictor-fit', '--table', file('empty.jsonl', '')], says: /bench predictor-fit: .*empty\.jsonl has no ort-cpu latency measured interleaved with a reference/ },
  { what: 'bench predictor-fit training on too few', args: ['bench', 'predictor-fit', '--table', file('empty2.jsonl', ''), '--train', '3'], says: /--train/ },
  // devices
  { what: 'devices serve port 99999', args: ['devices', 'serve', '--port', '99999'], says: /--port/ },
  { what: 'devices serve short token', args: ['devices', 'serve', '--token', 'abc'], says: /token/ },
  { what: 'devices status not a URL', args: ['devices', 'status', 'not a url'], says: /URL/ },
  // bench
  { what: 'bench proxy unknown side', args: ['bench', 'proxy', '--sides', 'mnas,nope'], says: /unknown side 'nope'/ },
  { what: 'bench train unknown preset', args: ['bench', 'train', '--preset', 'nope'], says: /unknown preset 'nope'/ },
  { what: 'bench fuzz unknown target', args: ['bench', 'fuzz', '--targets', 'arch,nope'], says: /unknown target 'nope'/ },
  // search: config and options, refused before anything is created
  { what: 'search budget 0', args: ['search', '--budget', '0', '--out', path.join(dir, 's1')], says: /--budget/, creates: path.join(dir, 's1') },
  { what: 'search config missing', args: ['search', '--config', path.join(dir, 'none.json')], says: /none\.json/ },
  { what: 'search config not an object', args: ['search', '--config', file('arr.json', '[1,2]')], says: /top level must be an object/ },
  { what: 'search config unknown key', args: ['search', '--config', file('k.json', '{"budgett": 3}'), '--out', path.join(dir, 's2')], says: /unknown key 'budgett'/, creates: path.join(dir, 's2') },
  { what: 'search ppo unknown option', args: ['search', '--config', file('p.json', '{"strategy":{"kind":"ppo","options":{"bogus":1}}}'), '--out', path.join(dir, 's3')], says: /ppo: unknown option\(s\) bogus/, creates: path.join(dir, 's3') },
  { what: 'search random unknown option', args: ['search', '--config', file('r.json', '{"strategy":{"kind":"random","options":{"bogus":1}}}'), '--out', path.join(dir, 's4')], says: /random: unknown option\(s\) bogus/, creates: path.join(dir, 's4') },
  { what: 'search ppo hidden size 1e9', args: ['search', '--config', file('h.json', '{"strategy":{"kind":"ppo","options":{"hiddenSize":1000000000}}}'), '--out', path.join(dir, 's5')], says: /hiddenSize/, creates: path.join(dir, 's5') },
  { what: 'search budget 1e15', args: ['search', '--config', file('b.json', '{"budget": 1000000000000000}'), '--out', path.join(dir, 's6')], says: /budget/, creates: path.join(dir, 's6') },
  { what: 'search --out is a file', args: ['search', '--evaluator', 'synthetic', '--out', file('afile', '')], says: /is a file, not a directory/ },
  { what: 'search --out below a file', args: ['search', '--evaluator', 'synthetic', '--out', path.join(dir, 'afile', 'run')], says: /is a file, not a directory/ },
  { what: 'search wrong latency table', args: ['search', '--config', file('lt.json', JSON.stringify({ latencySource: 'predictor', latencyTable: file('wrong-table.json', '{"format":"mnas-latency-table/1","space":"fmnist"}') })), '--out', path.join(dir, 's7')], says: /latency table .*wrong-table\.json/, creates: path.join(dir, 's7') },
  { what: 'search malformed --input', args: ['search', '--input', '32x32', '--out', path.join(dir, 's9')], says: /input: must be HxWxC/, creates: path.join(dir, 's9') },
  { what: 'search --classes 0', args: ['search', '--classes', '0', '--out', path.join(dir, 's10')], says: /--classes must be an integer/, creates: path.join(dir, 's10') },
  { what: 'search --input not the data\'s', args: ['search', '--dataset', 'synthetic', '--input', '32x32x3', '--out', path.join(dir, 's11')], says: /synthetic: images are 28x28x1 but the input given/, creates: path.join(dir, 's11') },
  { what: 'search unknown space', args: ['search', '--space', 'nope', '--evaluator', 'synthetic', '--out', path.join(dir, 's8')], says: /nope/, creates: path.join(dir, 's8') },
  // search --resume of runs that cannot be resumed
  { what: 'resume a missing directory', args: ['search', '--resume', path.join(dir, 'nothing')], says: /no such directory/ },
  { what: 'resume a directory without a run', args: ['search', '--resume', dir], says: /no search run there/ },
  { what: 'resume an empty database', args: ['search', '--resume', runDir('empty', (f) => writeFileSync(f, ''))], says: /is empty/ },
  { what: 'resume random bytes', args: ['search', '--resume', runDir('random', (f) => writeFileSync(f, Buffer.alloc(8192, 0x5a)))], says: /not an SQLite database/ },
  { what: 'resume a foreign database', args: ['search', '--resume', runDir('foreign', (f) => sql(f, 'CREATE TABLE users (name TEXT)'))], says: /not an mnas run \(tables: users\)/ },
  { what: 'resume a newer schema', args: ['search', '--resume', runDir('newer', (f) => { sql(f, 'CREATE TABLE run (id INTEGER)'); sql(f, 'PRAGMA user_version = 5'); })], says: /schema version 5/ },
  { what: 'resume a store of something else', args: ['search', '--resume', good], says: /not a search run's|stored config/ },
  { what: 'resume with options', args: ['search', '--resume', good, '--budget', '3'], says: /do not pass options for budget/ },
];

test('bad input to every command: one line, exit 2, no stack trace, nothing created', { timeout: 600_000 }, () => {
  const all: Case[] = [...cases];
  const failures: string[] = [];
  for (const c of all) {
    const started = Date.now();
    const r = spawnSync(process.execPath, [MAIN, ...c.args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...c.env } });
    const seconds = (Date.now() - started) / 1000;
    const lines = r.stderr.trimEnd().split('\n');
    const problems = [
      r.status !== 2 && `exit ${r.status ?? r.signal}`,
      lines.length !== 1 && `${lines.length} lines on stderr`,
      !r.stderr.startsWith('mnas: ') && 'stderr does not start with "mnas: "',
      /\n\s+at /.test(r.stderr) && 'a stack trace',
      !c.says.test(r.stderr) && `message does not match ${c.says}`,
      c.creates !== undefined && existsSync(c.creates) && `created ${c.creates}`,
      seconds > 30 && `took ${seconds.toFixed(1)} s`,
    ].filter(Boolean);
    if (problems.length) failures.push(`${c.what} (mnas ${c.args.join(' ').slice(0, 120)}): ${problems.join(', ')}\n    stderr: ${r.stderr.slice(0, 400)}`);
  }
  assert.deepEqual(failures, [], `\n${failures.join('\n')}`);
});
