/**
 * The trained table end to end: `mnas bench proxy-fidelity` fills it and resumes from it, and
 * `mnas search --evaluator table` answers from it, trains (and adds) what it lacks, or fails
 * those trials when told to train nothing; `mnas bench models --save` writes folders that are
 * trained presets (MNAS_MODELS_DIR), which export, measure and the library take by name.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { loadDataset } from '../src/data/load.js';
import { decodeModel } from '../src/model/onnx/index.js';
import { readModelsDir } from '../src/space/shipped-models.js';
import { assertUsageExit as assertRefused, runCli, type CliRun } from '../src/cli/testing.js';
import { ExperimentStore } from '../src/search/store.js';
import { storedTrials } from '../src/search/testing.js';
import { tempDir } from '../src/util/testing.js';

const dir = tempDir('mnas-trained-e2e-');
after(() => rmSync(dir, { recursive: true, force: true }));

const lastJson = (stdout: string): Record<string, unknown> => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
const lines = (file: string): Record<string, unknown>[] => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

test('bench proxy-fidelity trains every setting and the final recipe into the table, and resumes from it', () => {
  const table = path.join(dir, 'fidelity.jsonl');
  // synthetic data: 10,000 training images, 9,600 held out leaves 400 for the final recipe
  const args = ['bench', 'proxy-fidelity', '--samples', '3', '--dataset', 'synthetic', '--proxies', '200x1,300x1', '--validation', '9600', '--noise-archs', '1', '--noise-seeds', '2', '--final-epochs', '1', '--table', table, '--json'];
  const none = runCli([...args, '--max-minutes', '0'], 60_000);
  assert.equal(none.status, 0, none.stderr);
  assert.equal(lastJson(none.stdout)['pending'], 3 * 2 + 2 + 3, 'a deadline already past starts nothing');
  const first = runCli(args, 600_000);
  assert.equal(first.status, 0, first.stderr);
  const report = lastJson(first.stdout);
  assert.equal(report['jobs'], 11);
  assert.equal(report['pending'], 0);
  const rows = lines(table);
  assert.equal(rows.length, 11);
  assert.equal(rows.filter((r) => r['task'] === 'final').length, 3);
  assert.ok(rows.filter((r) => r['task'] === 'final').every((r) => typeof r['testAccuracy'] === 'number' && r['images'] === 400));
  const settings = report['settings'] as Record<string, unknown>[];
  assert.deepEqual(settings.map((s) => [s['images'], s['archs'], s['noise_archs']]), [[200, 3, 1], [300, 3, 1]]);
  // (tiny proxies of synthetic data may score every architecture alike: then there is no rank correlation)
  assert.ok(settings.every((s) => (typeof s['spearman'] === 'number' || s['spearman'] === null) && typeof s['median_seconds'] === 'number'));
  assert.match(first.stderr, /\[11\/11\] arch \d final 1 epochs seed 0: test/);

  const again = runCli(args, 60_000);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /11 trainings in the study, 11 already in the table, 0 to run/);
  assert.deepEqual(lastJson(again.stdout)['settings'], settings, 'the same figures from the table alone');
  assert.equal(lines(table).length, 11, 'nothing trained twice');

  const quiet = runCli([...args, '--no-train', '--trial-seconds', '200x1=1,300x1=2'], 60_000);
  assert.equal(quiet.status, 0, quiet.stderr);
  const costed = lastJson(quiet.stdout) as { settings: Record<string, unknown>[]; budget: Record<string, unknown> };
  assert.deepEqual(costed.settings.map((s) => [s['seconds_per_trial'], s['seconds_source']]), [[1, 'given'], [2, 'given']]);
  assert.deepEqual(costed.budget['seconds'], [4, 8, 16], 'budgets of 2, 4 and 8 trials of the dearest setting');
  assert.equal(costed.budget['trials_of'], '300x1');
  const text = runCli([...args.filter((a) => a !== '--json'), '--no-train'], 60_000);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /most faithful \(the cheapest within 0\.05/);
  assert.match(text.stdout, /fidelity per second: final test accuracy of the proxy's first choice at equal budgets/);
});

test('search --evaluator table trains and adds what the table lacks; a second run is answered from it; train nothing fails the rest', () => {
  const table = path.join(dir, 'search.jsonl');
  const common = ['search', '--evaluator', 'table', '--trained-table', table, '--strategy', 'random', '--budget', '3', '--dataset', 'synthetic', '--validation-images', '300', '--proxy-images', '200', '--workers', '0', '--quiet', '--json'];
  const first = runCli([...common, '--seed', '1', '--out', path.join(dir, 'first')], 300_000);
  assert.equal(first.status, 0, first.stderr);
  const trained = lines(table);
  // T (the default architecture's latency) and each trial's latency are measured once and kept; each trial trained once
  assert.equal(trained.filter((r) => r['type'] === 'train').length, 3);
  assert.ok(trained.filter((r) => r['type'] === 'latency').length >= 3);
  // what it measured now is watched for drift like any measured search: check 0 set T, and the table keeps T for later runs
  const store = ExperimentStore.open(path.join(dir, 'first'), { readonly: true });
  const checks = store.driftChecks();
  store.close();
  assert.ok(checks.length >= 1, 'drift checks stored');
  const referenceRow = trained.find((r) => r['type'] === 'latency' && (r['stats'] as { drift_reference?: boolean }).drift_reference === true)!;
  assert.equal(referenceRow['ms'], checks[0]!.ms);
  // measured interleaved with the reference (the default architecture), each trial's row is its ratio to it
  const ratioRows = trained.filter((r) => r['type'] === 'latency' && r['reference'] !== undefined);
  assert.ok(ratioRows.length >= 3 && ratioRows.every((r) => r['reference'] === referenceRow['arch'] && typeof r['ratio'] === 'number'));

  const second = runCli([...common, '--seed', '1', '--table-missing', 'fail', '--out', path.join(dir, 'second')], 60_000);
  assert.equal(second.status, 0, second.stderr);
  const a = storedTrials(path.join(dir, 'first'));
  const b = storedTrials(path.join(dir, 'second'));
  assert.deepEqual(b.map((t) => [t.arch, t.status, t.accuracy, t.latencyMs, t.reward]), a.map((t) => [t.arch, t.status, t.accuracy, t.latencyMs, t.reward]));
  assert.equal(lines(table).length, trained.length, 'nothing added');

  // measuring again (missing 'train'), the ratios in the table are reused against this run's own reference latency
  const third = runCli([...common, '--seed', '1', '--out', path.join(dir, 'third')], 300_000);
  assert.equal(third.status, 0, third.stderr);
  const thirdStore = ExperimentStore.open(path.join(dir, 'third'), { readonly: true });
  const start = thirdStore.driftChecks()[0]!.ms;
  thirdStore.close();
  const c = storedTrials(path.join(dir, 'third'));
  assert.deepEqual(c.map((t) => [t.arch, t.accuracy]), a.map((t) => [t.arch, t.accuracy]));
  for (const [i, t] of c.entries()) assert.ok(Math.abs(t.latencyMs! / a[i]!.latencyMs! - start / checks[0]!.ms) < 1e-9, 'LAT = the stored ratio x this run\'s reference');
  assert.equal(lines(table).filter((r) => r['type'] !== 'latency' || r['reference'] !== undefined).length, trained.filter((r) => r['type'] !== 'latency' || r['reference'] !== undefined).length, 'nothing trained or measured again');

  const other = runCli([...common, '--seed', '2', '--table-missing', 'fail', '--out', path.join(dir, 'other')], 60_000);
  assert.equal(other.status, 0, other.stderr);
  const failed = storedTrials(path.join(dir, 'other')).filter((t) => t.status === 'failed');
  assert.ok(failed.length > 0);
  assert.ok(failed.every((t) => /not in the trained table|no ort-cpu latency/.test(t.error ?? '')), failed.map((t) => t.error).join('; '));
});

test('bad input for the table is refused before anything is created', () => {
  const out = path.join(dir, 'never');
  const assertUsageExit = (r: CliRun, message: RegExp) => assertRefused(r, message, { seconds: 15 });
  assertUsageExit(runCli(['search', '--evaluator', 'table', '--out', out]), /trainedTable\.file is required for evaluator 'table'/);
  assertUsageExit(runCli(['search', '--trained-table', 'x.jsonl', '--out', out]), /trainedTable is only read by evaluator 'table'/);
  assertUsageExit(runCli(['search', '--evaluator', 'table', '--trained-table', path.join(dir, 'absent.jsonl'), '--table-missing', 'fail', '--out', out]), /absent\.jsonl does not exist/);
  const bad = path.join(dir, 'bad.jsonl');
  writeFileSync(bad, '{"type":"train"}\n');
  assertUsageExit(runCli(['search', '--evaluator', 'table', '--trained-table', bad, '--table-missing', 'fail', '--out', out]), /bad\.jsonl:1: /);
  assertUsageExit(runCli(['bench', 'proxy-fidelity', '--proxies', '100', '--table', bad]), /--proxies: '100' is not IMAGESxEPOCHS/);
  assertUsageExit(runCli(['bench', 'proxy-fidelity', '--table', bad, '--no-train']), /bad\.jsonl:1: /);
  assertUsageExit(runCli(['bench', 'proxy-fidelity', '--table', bad, '--trial-seconds', '999x1=3']), /--trial-seconds names 999x1, which is not in --proxies/);
  assertUsageExit(runCli(['bench', 'proxy-fidelity', '--table', bad, '--trial-seconds', '5000x1=-2']), /--trial-seconds: '5000x1=-2' is not IMAGESxEPOCHS=SECONDS with positive seconds/);
  assert.throws(() => readFileSync(out));
});

test('bench models trains each model over seeds with the final recipe, saves seed 0, measures it (interleaved with the baseline too), and resumes from the table', () => {
  const table = path.join(dir, 'models.jsonl');
  const save = path.join(dir, 'models');
  const args = ['bench', 'models', '--models', 'bench-fmnist,mine=fmnist-default', '--seeds', '2', '--dataset', 'synthetic', '--validation', '9600', '--epochs', '1', '--table', table, '--save', save, '--baseline', 'bench-fmnist', '--json'];
  const first = runCli(args, 600_000);
  assert.equal(first.status, 0, first.stderr);
  const report = lastJson(first.stdout) as { models: Record<string, any>[]; pending: number; jobs: number; baseline: string };
  assert.equal(report.jobs, 4);
  assert.equal(report.pending, 0);
  assert.deepEqual(report.models.map((m) => [m['name'], m['seeds_done'], m['params']]), [['bench-fmnist', 2, 154106], ['mine', 2, 245178]]);
  for (const m of report.models) {
    assert.equal(typeof m['test_mean'], 'number');
    assert.equal(typeof m['test_std'], 'number');
    assert.ok((m['latency_ms'] as Record<string, number>)['ort-cpu']! > 0);
    for (const f of ['weights.safetensors', 'model.onnx']) assert.ok(readFileSync(path.join(save, m['name'] as string, f)).length > 1000, f);
  }
  assert.equal(report.baseline, 'bench-fmnist');
  assert.equal(report.models[0]!['vs_baseline'], undefined, 'the baseline is not compared with itself');
  const vs = report.models[1]!['vs_baseline'];
  const [base, mine] = report.models.map((m) => m['test_mean'] as number);
  assert.ok(Math.abs(vs.accuracy_delta - (mine! - base!)) < 1e-12);
  assert.equal(vs.latency['ort-cpu'].interleaved, true);
  // fmnist-default has 1.2x the MACs of bench-fmnist: interleaved ratios 1.115-1.145 on this machine
  assert.ok(vs.latency['ort-cpu'].speedup > 0.6 && vs.latency['ort-cpu'].speedup < 1.1, `speedup ${vs.latency['ort-cpu'].speedup}`);
  assert.ok(['more accurate, not slower', 'as accurate, faster', 'neither'].includes(vs.verdict['ort-cpu']), vs.verdict['ort-cpu']);
  const rows = lines(table);
  assert.equal(rows.filter((r) => r['type'] === 'train').length, 4);
  assert.equal(rows.filter((r) => r['type'] === 'latency').length, 3);
  const pairedRow = rows.find((r) => r['type'] === 'latency' && r['reference'] !== undefined)!;
  assert.equal(pairedRow['reference'], report.models[0]!['arch']);
  assert.ok(Math.abs(1 / (pairedRow['ratio'] as number) - vs.latency['ort-cpu'].speedup) < 1e-12);
  const again = runCli(args, 60_000);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /4 trainings \(2 models x 2 seeds\), 4 already in the table, 0 to run/);
  assert.equal(lines(table).length, rows.length, 'nothing trained or measured twice');
  for (const m of report.models) {
    const card = JSON.parse(readFileSync(path.join(save, m['name'] as string, 'card.json'), 'utf8')) as Record<string, any>;
    assert.equal(card['name'], m['name']);
    assert.equal(card['testAccuracy'].seeds, 2);
    assert.equal(card['testAccuracy'].mean, m['test_mean']);
    assert.deepEqual(card['latencyMs'], m['latency_ms']);
    assert.equal(card['params'], m['params']);
    assert.match(card['preprocessing'], /pixel \/ 255/);
    assert.equal(card['files'].onnx.sha256, createHash('sha256').update(readFileSync(path.join(save, m['name'] as string, 'model.onnx'))).digest('hex'));
  }
  // a later run asked for no device keeps the cards' latencies the table holds
  const noDevices = runCli([...args, '--devices', ''], 60_000);
  assert.equal(noDevices.status, 0, noDevices.stderr);
  for (const m of report.models) assert.deepEqual(JSON.parse(readFileSync(path.join(save, m['name'] as string, 'card.json'), 'utf8'))['latencyMs'], m['latency_ms']);
  assertRefused(runCli(['bench', 'models', '--models', 'nope-net', '--table', table]), /'nope-net'/, { seconds: 15 });
  assertRefused(runCli(['bench', 'models', '--models', 'bench-fmnist', '--devices', 'phone', '--table', table]), /unknown device 'phone'/, { seconds: 15 });
  assertRefused(runCli(['bench', 'models', '--models', 'bench-fmnist,mine=fmnist-default', '--baseline', 'mnasnet-a1-fmnist', '--table', table]), /--baseline 'mnasnet-a1-fmnist' is not one of --models \(bench-fmnist, mine\)/, { seconds: 15 });
});

test('bench models --recipe tunes on the validation split: its own rows, validation accuracy only, never the test set', () => {
  const table = path.join(dir, 'recipe.jsonl');
  const args = ['bench', 'models', '--models', 'bench-fmnist', '--seeds', '2', '--dataset', 'synthetic', '--validation', '9600', '--epochs', '1', '--devices', '', '--table', table];
  const tuned = runCli([...args, '--recipe', 'lr=0.05,weight-decay=0.0001', '--json'], 600_000);
  assert.equal(tuned.status, 0, tuned.stderr);
  const report = lastJson(tuned.stdout) as { setting: Record<string, unknown>; models: Record<string, unknown>[] };
  assert.deepEqual(report.setting['recipe'], { lr: 0.05, weightDecay: 0.0001 });
  const m = report.models[0]!;
  assert.equal(m['seeds_done'], 2);
  assert.equal(typeof m['val_mean'], 'number');
  assert.equal(typeof m['val_std'], 'number');
  assert.equal(m['test_mean'], null, 'the test set is not used');
  const rows = lines(table);
  assert.equal(rows.length, 2);
  assert.ok(rows.every((r) => r['testAccuracy'] === null && typeof r['valAccuracy'] === 'number' && (r['recipe'] as Record<string, number>)['lr'] === 0.05));
  const text = runCli([...args, '--recipe', 'weight-decay=0.0001,lr=0.05', '--no-train'], 60_000);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /final recipe with lr=0\.05,weightDecay=0\.0001: 1 epochs on 400 synthetic images \(9600 held out\), 2 seed\(s\); validation accuracy in % \(the test set is not used\)/);
  assert.match(text.stderr, /2 trainings \(1 models x 2 seeds\), 2 already in the table/);
  assertRefused(runCli(['bench', 'models', '--models', 'bench-fmnist', '--recipe', 'lr=0.05', '--table', table]), /--recipe tunes on the validation split: give --validation N/, { seconds: 15 });
  assertRefused(runCli([...args, '--recipe', 'lr=0.05', '--save', path.join(dir, 'never')]), /--save ships models trained with the final recipe/, { seconds: 15 });
  assertRefused(runCli([...args, '--recipe', 'lr=0.05', '--baseline', 'bench-fmnist']), /--baseline judges models on the test set/, { seconds: 15 });
  assertRefused(runCli([...args, '--recipe', 'momentum=0.5']), /--recipe: 'momentum=0\.5' is not KEY=VALUE/, { seconds: 15 });
  assert.equal(lines(table).length, 2, 'nothing trained by a refused command');
});

test('bench recipe trains the base recipe and each variant over seeds, on the validation split only, and keeps the base unless a variant clearly wins', () => {
  const table = path.join(dir, 'recipe-study.jsonl');
  const args = ['bench', 'recipe', '--models', 'bench-fmnist', '--seeds', '2', '--dataset', 'synthetic', '--validation', '9600', '--epochs', '1', '--table', table];
  const run = runCli([...args, '--variant', 'lr=0.05', '--json'], 600_000);
  assert.equal(run.status, 0, run.stderr);
  const report = lastJson(run.stdout) as { variants: { recipe: string; cells: { seeds_done: number; val_mean: number }[]; gain: number | null; gain_se: number | null }[]; seed_std: number; choice: string; why: string; pending: number };
  assert.deepEqual(report.variants.map((v) => v.recipe), ['base', 'lr=0.05']);
  for (const v of report.variants) assert.equal(v.cells[0]!.seeds_done, 2);
  assert.equal(report.pending, 0);
  const [b, v] = report.variants;
  assert.ok(Math.abs(v!.gain! - (v!.cells[0]!.val_mean - b!.cells[0]!.val_mean)) < 1e-12);
  // the synthetic task may be learnt perfectly by every seed: a spread of 0 is a spread
  assert.ok(v!.gain_se! >= 0 && report.seed_std >= 0);
  assert.equal(report.choice, v!.gain! > 2 * v!.gain_se! ? 'lr=0.05' : 'base');
  const rows = lines(table);
  assert.equal(rows.length, 4);
  assert.ok(rows.every((r) => r['testAccuracy'] === null && typeof r['valAccuracy'] === 'number'), 'no recipe of the study touches the test set');
  assert.deepEqual(rows.map((r) => r['recipe']).sort((a, c) => JSON.stringify(a).localeCompare(JSON.stringify(c))), [{ lr: 0.05 }, { lr: 0.05 }, {}, {}]);
  // the same study again trains nothing; the text report says what to choose
  const again = runCli([...args, '--variant', 'lr=0.05'], 60_000);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /4 trainings \(1 models x 2 recipes x 2 seeds\), 4 already in the table/);
  assert.match(again.stdout, /^base .*\n^lr=0\.05 /m);
  assert.match(again.stdout, /^choose (base|lr=0\.05): /m);
  assertRefused(runCli([...args, '--variant', 'lr=0.05', '--variant', 'lr=0.05']), /--variant lr=0\.05 is given twice/, { seconds: 15 });
  assertRefused(runCli([...args, '--variant', 'momentum=0.5']), /--variant: 'momentum=0\.5' is not KEY=VALUE/, { seconds: 15 });
  assertRefused(runCli(args), /give at least one --variant/, { seconds: 15 });
  assertRefused(runCli([...args.slice(0, -1), path.join(table, 'below-a-file.jsonl'), '--variant', 'lr=0.2']), /recipe-study\.jsonl is a file, not a directory/, { seconds: 15 });
  assert.equal(lines(table).length, 4, 'nothing trained by a refused command');
});

test('a saved models folder is a set of trained presets: export gives their own weights (the saved ONNX graph), measure and the library take them by name', async () => {
  const save = path.join(dir, 'models');
  const env = { MNAS_MODELS_DIR: save };
  const card = JSON.parse(readFileSync(path.join(save, 'mine', 'card.json'), 'utf8')) as { testAccuracy: { shipped: number }; arch: string };
  const out = path.join(dir, 'mine.onnx');
  const exported = runCli(['export', 'mine', '--out', out, '--json'], 60_000, env);
  assert.equal(exported.status, 0, exported.stderr);
  const summary = lastJson(exported.stdout);
  assert.equal(summary['weights'], `trained: ${path.join(save, 'mine', 'weights.safetensors')}`);
  assert.equal(summary['normalizesInput'], true);
  assert.equal(summary['arch'], card.arch);
  // the same graph and weights as the saved ONNX (its metadata arch also names the training's BN momentum)
  const graphOf = (f: string) => (decodeModel(readFileSync(f)) as { graph: unknown }).graph;
  assert.deepEqual(graphOf(out), graphOf(path.join(save, 'mine', 'model.onnx')));
  // and that ONNX, on raw test pixels / 255 in onnxruntime, scores what the card says
  const session = await ort.InferenceSession.create(out, { intraOpNumThreads: 1 });
  const data = loadDataset({ name: 'synthetic', seed: 0 }).test;
  const pixels = data.height * data.width * data.channels;
  const input = Float32Array.from(data.images.subarray(0, data.count * pixels), (v) => v / 255);
  const logits = (await session.run({ input: new ort.Tensor('float32', input, [data.count, data.channels, data.height, data.width]) }))['logits']!.data as Float32Array;
  let correct = 0;
  for (let k = 0; k < data.count; k++) {
    let best = 0;
    for (let c = 1; c < 10; c++) if (logits[k * 10 + c]! > logits[k * 10 + best]!) best = c;
    if (best === data.labels[k]) correct++;
  }
  await session.release();
  assert.ok(Math.abs(correct / data.count - card.testAccuracy.shipped) <= 0.003, `onnxruntime ${correct / data.count}, card ${card.testAccuracy.shipped}`);

  const random = runCli(['export', 'mine', '--out', path.join(dir, 'mine-random.onnx'), '--random-weights', '--json'], 60_000, env);
  assert.equal(random.status, 0, random.stderr);
  assert.deepEqual([lastJson(random.stdout)['weights'], lastJson(random.stdout)['normalizesInput']], ['random seed=0', false]);
  const measured = runCli(['measure', 'mine', '--max-seconds', '0.3', '--json'], 60_000, env);
  assert.equal(measured.status, 0, measured.stderr);
  assert.equal(lastJson(measured.stdout)['arch'], card.arch);
  const listed = runCli(['inspect', 'bench-fmnist'], 60_000, env);
  assert.equal(listed.status, 0, listed.stderr);

  const models = readModelsDir(save);
  assert.deepEqual([...models.keys()], ['bench-fmnist', 'mine']);
  assert.equal(models.get('mine')!.card.testAccuracy.shipped, card.testAccuracy.shipped);

  assertRefused(runCli(['export', 'mine', '--out', out, '--weights', out, '--random-weights'], 60_000, env), /--weights and --random-weights exclude each other/, { seconds: 15 });
  const broken = path.join(dir, 'broken-models');
  mkdirSync(path.join(broken, 'odd'), { recursive: true });
  writeFileSync(path.join(broken, 'odd', 'card.json'), JSON.stringify({ ...card, name: 'even' }));
  assertRefused(runCli(['export', 'mine', '--out', out], 60_000, { MNAS_MODELS_DIR: broken }), /odd\/card\.json: /, { seconds: 15 });
  assertRefused(runCli(['export', 'mine', '--out', out], 60_000, { MNAS_MODELS_DIR: `${save}${path.delimiter}${save}` }), /two trained models are named 'bench-fmnist'/, { seconds: 15 });
});
