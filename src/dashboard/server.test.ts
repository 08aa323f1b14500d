/**
 * The dashboard server without a browser: the token on every route, nothing outside the run
 * directories served (traversal attempts raw and encoded, a symbolic link out of a run), the
 * JSON API against the stores, and live updates (server-sent events) of a trial written while
 * a page listens.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LatencyPredictor } from '../latency/predictor.js';
import { loadTable } from '../latency/table.js';
import { buildPlan } from '../model/plan.js';
import { makeSyntheticRun } from '../runs/testing.js';
import { parseArch } from '../space/arch-string.js';
import { summarize } from '../search/outputs.js';
import { storedTrials } from '../search/testing.js';
import { FIRST_TABLE_PAGE, PAGE_MODULES } from './app.js';
import { DashboardServer } from './server.js';
import { dashboardStaticDir } from './static-files.js';
import { addFinishedTrial, rawGet, writeLatencyTableFor } from './testing.js';
import { tempDir } from '../util/testing.js';

const TOKEN = 'test-token-0123456789';
const SECRET = 'SECRET-CONTENT-OUTSIDE-RUNS';

describe('dashboard server', () => {
  let root: string;
  let server: DashboardServer;
  const api = async (p: string, init: RequestInit = {}) => {
    const r = await fetch(`http://127.0.0.1:${server.port}${p}${p.includes('?') ? '&' : '?'}token=${TOKEN}`, init);
    return { status: r.status, body: (await r.json()) as Record<string, unknown> & { error?: string } };
  };

  before(async () => {
    root = tempDir('mnas-dash-');
    await makeSyntheticRun(path.join(root, 'alpha'), 30, 1);
    await makeSyntheticRun(path.join(root, 'group', 'beta'), 20, 2);
    writeFileSync(path.join(root, 'secret.txt'), SECRET);
    const exported = path.join(root, 'alpha', 'final', '1-trial-3');
    mkdirSync(exported, { recursive: true });
    writeFileSync(path.join(exported, 'model.onnx'), 'ONNX-BYTES');
    mkdirSync(path.join(root, 'alpha', 'final', '2-trial-4'));
    symlinkSync(path.join(root, 'secret.txt'), path.join(root, 'alpha', 'final', '2-trial-4', 'escape.onnx'));
    const archs = storedTrials(path.join(root, 'alpha')).map((t) => t.arch as string);
    writeLatencyTableFor(path.join(root, 'table.json'), 'fmnist', archs.slice(0, 5));
    server = await DashboardServer.start({ dirs: [root], port: 0, token: TOKEN, pollMs: 100, latencyTable: path.join(root, 'table.json') });
  });
  after(async () => {
    await server?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('answers 401 to every route without the token, or with a wrong one', async () => {
    const paths = ['/', '/runs/alpha', '/runs/alpha/trials/3', '/compare', '/devices', '/static/app.js', '/static/uplot.esm.js', '/api/runs', '/api/runs/alpha/plot', '/api/events', '/files/alpha/final/1-trial-3/model.onnx', '/no/such/page'];
    for (const p of paths) {
      for (const [suffix, headers] of [['', {}], ['?token=wrong-token-99', {}], ['', { cookie: `mnas-dashboard-${server.port}=wrong-token-99` }]] as const) {
        const r = await rawGet(server.port, `${p}${suffix}`, headers);
        assert.equal(r.status, 401, `${p}${suffix} ${JSON.stringify(headers)}`);
        assert.doesNotMatch(r.body, /ONNX-BYTES|uPlot|<html/i);
      }
    }
  });

  it('serves pages with the token and hands it on as a cookie for the scripts they load', async () => {
    const page = await fetch(`http://127.0.0.1:${server.port}/runs/alpha?token=${TOKEN}`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script type="module" src="\/static\/app.js">/);
    const cookie = page.headers.get('set-cookie') ?? '';
    assert.match(cookie, new RegExp(`^mnas-dashboard-${server.port}=${TOKEN};.*HttpOnly.*SameSite=Strict`, 'i'));
    const script = await rawGet(server.port, '/static/uplot.esm.js', { cookie: cookie.split(';')[0]! });
    assert.equal(script.status, 200);
    assert.match(script.body, /uPlot/);
  });

  it('preloads every module a page imports, and answers a known static file with 304', async () => {
    const importsOf = (file: string): string[] => [...readFileSync(path.join(dashboardStaticDir(), file), 'utf8').matchAll(/^import .* from '\.\/([\w.-]+)';$/gm)].map((m) => m[1]!);
    const closure = (entry: string): string[] => {
      const seen = new Set<string>(['app.js']);
      const visit = (f: string): void => {
        if (seen.has(f) && f !== 'app.js') return;
        seen.add(f);
        if (f !== 'uplot.esm.js') for (const i of importsOf(f)) visit(i);
      };
      visit('app.js');
      visit(entry);
      return [...seen].sort();
    };
    const pages = { runs: ['/', 'runs-page.js'], run: ['/runs/alpha', 'run-page.js'], trial: ['/runs/alpha/trials/3', 'trial-page.js'], compare: ['/compare', 'compare-page.js'], devices: ['/devices', 'devices-page.js'] } as const;
    for (const [name, [url, entry]] of Object.entries(pages)) {
      assert.deepEqual([...PAGE_MODULES[name as keyof typeof PAGE_MODULES]].sort(), closure(entry), name);
      const html = await (await fetch(`http://127.0.0.1:${server.port}${url}?token=${TOKEN}`)).text();
      const preloaded = [...html.matchAll(/<link rel="modulepreload" href="\/static\/([\w.-]+)">/g)].map((m) => m[1]!).sort();
      assert.deepEqual(preloaded, closure(entry), url);
    }
    const cookie = { cookie: `mnas-dashboard-${server.port}=${TOKEN}` };
    const first = await fetch(`http://127.0.0.1:${server.port}/static/charts.js`, { headers: cookie });
    const etag = first.headers.get('etag');
    assert.match(etag ?? '', /^"[\w-]{22}"$/);
    const again = await fetch(`http://127.0.0.1:${server.port}/static/charts.js`, { headers: { ...cookie, 'If-None-Match': etag! } });
    assert.equal(again.status, 304);
    assert.equal(await again.text(), '');
  });

  it('lists the runs under the folder, nested ones too, with their summaries', async () => {
    const { status, body } = await api('/api/runs');
    assert.equal(status, 200);
    const runs = body['runs'] as { id: string; name: string; state: string; trialsDone: number }[];
    assert.deepEqual(runs.map((r) => [r.id, r.state, r.trialsDone]), [
      ['alpha', 'finished', 30],
      ['group-beta', 'finished', 20],
    ]);
  });

  it('sends plot columns and the Pareto front the run outputs define', async () => {
    const { body } = await api('/api/runs/alpha/plot');
    const expected = summarize(storedTrials(path.join(root, 'alpha')));
    assert.deepEqual(body['front'], expected.pareto.map((p) => p.trial));
    assert.equal(body['best'], expected.best?.trial);
    assert.equal((body['trial'] as number[]).length, 30);
    assert.equal((body['accuracy'] as number[]).length, 30);
    assert.ok(typeof body['targetMs'] === 'number' && body['targetMs'] > 0);
    // values to six significant digits, the stored ones otherwise
    const stored = new Map(storedTrials(path.join(root, 'alpha')).map((t) => [t.id, t]));
    (body['trial'] as number[]).forEach((id, i) => {
      const t = stored.get(id)!;
      for (const [column, value] of [['accuracy', t.accuracy], ['latencyMs', t.latencyMs], ['reward', t.reward]] as const) {
        const sent = (body[column] as number[])[i]!;
        assert.equal(sent, Number(value!.toPrecision(6)), `${column} of trial ${id}`);
        assert.ok(Math.abs(sent - value!) <= Math.abs(value!) * 1e-5, `${column} of trial ${id}`);
      }
    });
  });

  it('preloads the run page\'s first data with the page: the very URLs its script asks for, answered as the API answers them', async () => {
    const html = await (await fetch(`http://127.0.0.1:${server.port}/runs/alpha?token=${TOKEN}`)).text();
    const links = Object.fromEntries([...html.matchAll(/<link rel="preload" as="fetch" crossorigin="anonymous" data-api="(\w+)" href="([^"]+)">/g)].map((m) => [m[1]!, m[2]!.replace(/&amp;/g, '&')]));
    assert.deepEqual(Object.keys(links).sort(), ['plot', 'run', 'trials']);
    assert.equal(links['run'], `/api/runs/alpha?token=${TOKEN}`);
    assert.equal(links['plot'], `/api/runs/alpha/plot?token=${TOKEN}`);
    assert.equal(links['trials'], `/api/runs/alpha/trials?${FIRST_TABLE_PAGE}&token=${TOKEN}`);
    // the table's first page as trial-table.js asks for it (sort, order, offset, limit)
    const table = readFileSync(path.join(dashboardStaticDir(), 'trial-table.js'), 'utf8');
    assert.match(table, /new URLSearchParams\(\{ sort: state\.sort, order: state\.order, offset: String\(state\.offset\), limit: String\(PAGE\) \}\)/);
    assert.match(table, /const state = \{ sort: 'id', order: 'asc', status: '', q: '', offset: 0 \};/);
    assert.match(table, /const PAGE = 50;/);
    for (const [key, url] of Object.entries(links)) {
      const r = await fetch(`http://127.0.0.1:${server.port}${url}`);
      assert.equal(r.status, 200, key);
      assert.equal(r.headers.get('content-type'), 'application/json', key);
    }
    const trials = (await (await fetch(`http://127.0.0.1:${server.port}${links['trials']}`)).json()) as { rows: { id: number }[]; total: number };
    assert.deepEqual(trials.rows.map((r) => r.id), Array.from({ length: 30 }, (_, i) => i));
    // other pages preload no data
    for (const url of ['/', '/runs/alpha/trials/3', '/compare', '/devices']) {
      assert.doesNotMatch(await (await fetch(`http://127.0.0.1:${server.port}${url}?token=${TOKEN}`)).text(), /rel="preload"/, url);
    }
  });

  it('pages, sorts and filters the trial table on the server; bad parameters get 400 with one line', async () => {
    const trials = storedTrials(path.join(root, 'alpha'));
    const best = [...trials].sort((a, b) => (b.reward as number) - (a.reward as number))[0]!;
    let r = await api('/api/runs/alpha/trials?sort=reward&order=desc&limit=5');
    assert.equal(r.body['total'], 30);
    const rows = r.body['rows'] as { id: number; reward: number }[];
    assert.equal(rows.length, 5);
    assert.equal(rows[0]!.id, best.id);
    assert.ok(rows.every((row, i) => i === 0 || rows[i - 1]!.reward >= row.reward));
    r = await api('/api/runs/alpha/trials?offset=25&limit=10');
    assert.deepEqual((r.body['rows'] as { id: number }[]).map((x) => x.id), [25, 26, 27, 28, 29]);
    const text = (trials[7]!.arch as string).split(':')[1]!.split(',')[0]!;
    r = await api(`/api/runs/alpha/trials?q=${encodeURIComponent(text)}`);
    const expected = trials.filter((t) => (t.arch as string).toLowerCase().includes(text.toLowerCase())).length;
    assert.equal(r.body['total'], expected);
    r = await api('/api/runs/alpha/trials?status=failed');
    assert.equal(r.body['total'], 0);
    for (const bad of ['sort=arch', 'order=up', 'status=lost', 'limit=100000', 'offset=-1']) {
      r = await api(`/api/runs/alpha/trials?${bad}`);
      assert.equal(r.status, 400, bad);
      assert.match(r.body.error ?? '', /^[a-z]+ must be [^\n]+$/);
    }
    assert.equal((await api('/api/runs/nope/trials')).status, 404);
    assert.equal((await api('/api/runs/alpha/trials/999')).status, 404);
  });

  it('describes a trial: blocks with their decisions, per-layer costs and predicted latencies, exported files', async () => {
    const { status, body } = await api('/api/runs/alpha/trials/3');
    assert.equal(status, 200);
    const trial = body['trial'] as { id: number; arch: string; macs: number };
    const a = body['architecture'] as { blocks: { name: string; decisions: { kind: string }[] }[]; layers: { macs: number; predictedMs: number | null }[]; macs: number };
    assert.equal(a.macs, trial.macs, 'the cost model agrees with the stored MACs');
    assert.equal(a.layers.reduce((s, l) => s + l.macs, 0), a.macs);
    const blocks = a.blocks.filter((b) => b.name.startsWith('block'));
    assert.ok(blocks.length > 0 && blocks.every((b) => b.decisions.map((d) => d.kind).join() === 'conv_op,kernel,se_ratio,skip,filters,layers'));
    const lt = body['latencyTable'] as { predictedMs: number; fixedMs: number; missing: number };
    assert.equal(lt.missing, 0);
    const predicted = new LatencyPredictor(loadTable(path.join(root, 'table.json'))).predict(buildPlan(parseArch(trial.arch)));
    assert.ok(Math.abs(lt.predictedMs - predicted) < 1e-9);
    assert.ok(Math.abs(lt.fixedMs + a.layers.reduce((s, l) => s + (l.predictedMs as number), 0) - predicted) < 1e-9, 'the layers add up to the prediction');
    assert.deepEqual(body['files'], [{ path: 'final/1-trial-3/model.onnx', bytes: 10 }]);
    const other = await api('/api/runs/alpha/trials/29');
    const missing = (other.body['latencyTable'] as { missing?: number; predictedMs: number | null });
    assert.ok(missing.missing === undefined || missing.missing > 0 ? missing.predictedMs === null : true);
  });

  it('serves exported files and nothing else: traversal raw or encoded, links out of the run, other files', async () => {
    const ok = await rawGet(server.port, `/files/alpha/final/1-trial-3/model.onnx?token=${TOKEN}`);
    assert.equal(ok.status, 200);
    assert.equal(ok.body, 'ONNX-BYTES');
    const attempts = [
      '/files/alpha/final/2-trial-4/escape.onnx',
      '/files/alpha/mnas.db',
      '/files/alpha/final/1-trial-3/..%2f..%2fmnas.db',
      '/files/alpha/final/1-trial-3/%2e%2e%2f%2e%2e%2fmnas.db',
      '/files/alpha/final/..%2f..%2fsecret.txt/x',
      '/files/..%2fsecret.txt/final/1-trial-3/model.onnx',
      '/files/alpha/final/1-trial-3/..',
      '/files/alpha/final/1-trial-3/%2e%2e',
      '/files/alpha/../../secret.txt',
      '/static/../../../package.json',
      '/static/..%2f..%2f..%2fpackage.json',
      '/static/%2e%2e%2f%2e%2e%2fpackage.json',
      '/static/..%5c..%5cpackage.json',
      '/static/index.html%00.js',
      '/api/runs/..%2f..%2fsecret.txt',
      '/api/runs/..%2fgroup%2fbeta/plot',
      '/runs/..%2f..%2fsecret.txt',
      '/../../../etc/passwd',
      '/alpha/mnas.db',
      '/secret.txt',
    ];
    for (const p of attempts) {
      const r = await rawGet(server.port, `${p}${p.includes('?') ? '&' : '?'}token=${TOKEN}`);
      assert.ok([400, 403, 404].includes(r.status), `${p}: ${r.status}`);
      assert.doesNotMatch(r.body, new RegExp(`${SECRET}|SQLite format 3|"name": "mnas"|root:x:0`), p);
    }
  });

  it('pushes a trial written while a page listens (server-sent events), and only what changed', async () => {
    const dir = path.join(root, 'group', 'beta');
    const { body } = await api('/api/runs/group-beta');
    const version = body['version'] as number;
    const controller = new AbortController();
    const res = await fetch(`http://127.0.0.1:${server.port}/api/events?run=group-beta&since=${version}&token=${TOKEN}`, { signal: controller.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('event: hello')) text += (await reader.read()).value ?? '';
    const id = addFinishedTrial(dir, { accuracy: 0.99, latencyMs: 1, reward: 0.99, macs: 1000 });
    const deadline = Date.now() + 10_000;
    while (!/event: trials\ndata: .*\n\n/.test(text) && Date.now() < deadline) text += (await reader.read()).value ?? '';
    controller.abort();
    const data = JSON.parse(/event: trials\ndata: (.*)\n/.exec(text)![1]!) as { trials: { id: number; accuracy: number }[]; front: number[]; best: number; summary: { trialsDone: number } };
    assert.deepEqual(data.trials.map((t) => t.id), [id], 'only the new trial');
    assert.deepEqual(data.front, [id], 'it dominates every other trial');
    assert.equal(data.best, id);
    assert.equal(data.summary.trialsDone, 21);
  });
});
