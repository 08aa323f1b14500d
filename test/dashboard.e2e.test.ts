/**
 * The dashboard end to end in Debian's Chromium (playwright-core): runs made by a real
 * `mnas search` (synthetic evaluator) and a 10,000-trial run; every page loads without console
 * errors; the Pareto plot draws exactly the front; hovering a point shows its architecture and
 * clicking opens the trial; a trial written to the store by another process while the run page is open appears
 * without a reload; the big run opens quickly and its table pages; the devices page shows a
 * browser device farm's device and a distributed search's worker (a local redis-server). Screenshots of each page go to test-artifacts/ (and, with
 * MNAS_DOCS_SCREENSHOTS=1, the run page to docs/dashboard-run.png for the README).
 *
 * Time bounds are generous and stretched by the machine's load (a shared machine with a load of
 * 4 per core gets 4 times as long): they catch a page that reads the whole run on every request,
 * not a busy machine.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { assertUsageExit, runCli } from '../src/cli/testing.js';
import { DashboardServer } from '../src/dashboard/server.js';
import { REDIS_SERVER, startLocalRedis, type LocalRedis } from '../src/distributed/local-redis.js';
import { publishStatus } from '../src/distributed/worker-registry.js';
import { Redis } from 'ioredis';
import { DeviceServer } from '../src/latency/browser/server.js';
import { FakeDevice, wsUrl } from '../src/latency/browser/fakes.js';
import { DEFAULT_CHROMIUM, launchChromium, type LaunchedBrowser } from '../src/latency/browser/launch.js';
import { finishedInOrder, rewardImprovements } from '../src/runs/compare.js';
import { makeSyntheticRun } from '../src/runs/testing.js';
import { summarize } from '../src/search/outputs.js';
import { storedTrials } from '../src/search/testing.js';
import { repoRoot } from '../src/util/paths.js';
import { tempDir } from '../src/util/testing.js';

const skip = !existsSync(DEFAULT_CHROMIUM) ? `no Chromium at ${DEFAULT_CHROMIUM}` : !existsSync(REDIS_SERVER) ? `no ${REDIS_SERVER}` : false;
const ARTIFACTS = path.join(repoRoot(), 'test-artifacts');
const TOKEN = 'e2e-token-0123456789';
/** How many times over the machine's cores are busy (at least 1). */

describe('mnas dashboard in headless Chromium', { skip }, () => {
  let root: string;
  let dashboard: DashboardServer;
  let farm: DeviceServer;
  let device: FakeDevice;
  let chromium: LaunchedBrowser;
  let redis: LocalRedis;
  const url = (p: string) => `http://127.0.0.1:${dashboard.port}${p}${p.includes('?') ? '&' : '?'}token=${TOKEN}`;

  before(async () => {
    root = tempDir('mnas-dash-e2e-');
    mkdirSync(ARTIFACTS, { recursive: true });
    for (const [name, strategy, seed] of [['random-40', 'random', '3'], ['evolution-60', 'evolution', '4']] as const) {
      const r = runCli(['search', '--evaluator', 'synthetic', '--strategy', strategy, '--budget', name.split('-')[1]!, '--seed', seed, '--out', path.join(root, name), '--quiet'], 120_000);
      assert.equal(r.status, 0, r.stderr);
    }
    await makeSyntheticRun(path.join(root, 'big-10k'), 10_000, 7);
    farm = await DeviceServer.start({ host: '127.0.0.1', port: 0 });
    device = await FakeDevice.connect(wsUrl(farm));
    await device.hello('dashboard-e2e', 'test phone');
    // a distributed search's worker, as it announces itself in Redis
    redis = await startLocalRedis();
    const client = new Redis(redis.url);
    const now = new Date().toISOString();
    await publishStatus(client, { id: 'worker-host.42', host: 'worker-host', pid: 42, jobs: ['train', 'measure'], device: 'ort-cpu', processes: 2, threads: 1, running: [], done: { train: 3, measure: 7 }, failed: { train: 0, measure: 0 }, refused: {}, startedAt: now, seenAt: now }, 600_000);
    client.disconnect();
    dashboard = await DashboardServer.start({ dirs: [root], port: 0, token: TOKEN, pollMs: 250, farmUrl: farm.controlUrl, redis: redis.url });
    chromium = await launchChromium();
  });
  after(async () => {
    await chromium?.close();
    await dashboard?.close();
    device?.ws.close();
    await farm?.close();
    await redis?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  /** Opens `p` in a fresh page that records console errors and failed requests; waits until the page says it is ready. */
  async function open(p: string): Promise<{ page: Page; errors: string[]; ms: number }> {
    const page = await chromium.browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('requestfailed', (r) => {
      if (!r.url().includes('/api/events')) errors.push(`request failed: ${r.url()}`);
    });
    const started = performance.now();
    await page.goto(url(p));
    await page.waitForSelector('body[data-ready]', { timeout: 20_000 });
    const ms = performance.now() - started;
    assert.equal(await page.getAttribute('body', 'data-ready'), 'true', await page.textContent('main') ?? '');
    return { page, errors, ms };
  }

  async function shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: path.join(ARTIFACTS, `dashboard-${name}.png`), fullPage: true });
  }

  /** Polls the text of `selector` until it matches (the page updates it asynchronously). */
  async function waitForText(page: Page, selector: string, re: RegExp, timeoutMs = 10_000): Promise<void> {
    await waitForAttribute(page, selector, null, (v) => re.test(v), timeoutMs);
  }

  async function waitForAttribute(page: Page, selector: string, attribute: string | null, ok: (value: string) => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      last = (attribute === null ? await page.textContent(selector) : await page.getAttribute(selector, attribute)) ?? '';
      if (ok(last)) return;
      if (Date.now() > deadline) assert.fail(`${selector}${attribute ? ` @${attribute}` : ''} is still '${last}'`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const counts = async (page: Page, chart: string): Promise<Record<string, number>> =>
    JSON.parse((await page.getAttribute(`.chart[data-chart="${chart}"]`, 'data-counts')) ?? '{}') as Record<string, number>;

  it('runs page: every run with its state and progress', async () => {
    const { page, errors } = await open('/');
    const runs = await Promise.all((await page.locator('#runs tbody tr').all()).map((r) => r.getAttribute('data-run')));
    assert.deepEqual(runs, ['big-10k', 'evolution-60', 'random-40']);
    assert.match((await page.textContent('#runs tr[data-run="big-10k"]')) ?? '', /finished.*10,000/);
    await shot(page, 'runs');
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('run page: the Pareto plot draws exactly the front, hover shows the architecture, click opens the trial', async () => {
    const dir = path.join(root, 'random-40');
    const { page, errors } = await open('/runs/random-40');
    const outputs = summarize(storedTrials(dir));
    const pareto = await counts(page, 'Accuracy against latency (Pareto front)');
    assert.equal(pareto['Pareto front'], outputs.pareto.length);
    assert.equal(pareto['Pareto front']! + pareto['trials']!, outputs.done);
    // the best reward so far is drawn as steps: a point where it rises (trials by id) and one at the last trial
    const rewards = storedTrials(dir).filter((t) => t.status === 'done').sort((a, b) => a.id - b.id).map((t) => t.reward!);
    const rises = rewards.filter((r, i) => r > Math.max(-Infinity, ...rewards.slice(0, i))).length;
    const lastRises = rewards.at(-1)! > Math.max(-Infinity, ...rewards.slice(0, -1));
    assert.deepEqual(await counts(page, 'Reward over trials'), { reward: outputs.done, 'best so far': rises + (lastRises ? 0 : 1) });
    assert.equal((await counts(page, 'Latency against MACs'))['trials'], outputs.done);
    assert.equal(await page.locator('#trials tbody tr').count(), 40);
    assert.equal(await page.locator('#trials tbody tr.front').count(), outputs.pareto.length);
    await shot(page, 'run');
    if (process.env['MNAS_DOCS_SCREENSHOTS'] === '1') await page.screenshot({ path: path.join(repoRoot(), 'docs', 'dashboard-run.png') });

    const best = outputs.pareto[outputs.pareto.length - 1]!;
    const at = await page.$eval(
      '.chart[data-chart="Accuracy against latency (Pareto front)"]',
      (box, p) => {
        const u = (box as unknown as { uplot: { over: { getBoundingClientRect(): { left: number; top: number } }; valToPos(v: number, s: string): number } }).uplot;
        const r = u.over.getBoundingClientRect();
        return { x: r.left + u.valToPos(p.x, 'x'), y: r.top + u.valToPos(p.y, 'y') };
      },
      { x: best.latency_ms, y: best.accuracy * 100 },
    );
    await page.mouse.move(at.x, at.y);
    const tooltip = page.locator('.chart[data-chart="Accuracy against latency (Pareto front)"] .tooltip');
    await tooltip.getByText(best.arch).waitFor({ timeout: 5000 });
    assert.match((await tooltip.textContent()) ?? '', new RegExp(`trial ${best.trial}`));
    await page.mouse.click(at.x, at.y);
    await page.waitForURL(new RegExp(`/runs/random-40/trials/${best.trial}\\?token=`));
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await page.textContent('#arch-string'), best.arch);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('run page: the table sorts and filters on the server', async () => {
    const dir = path.join(root, 'evolution-60');
    const trials = storedTrials(dir);
    const { page, errors } = await open('/runs/evolution-60');
    await page.click('#trials th[data-key="reward"]');
    await page.click('#trials th[data-key="reward"]');
    await page.waitForSelector('#trials th.sorted.desc[data-key="reward"]');
    const best = summarize(trials).best!;
    assert.equal(await page.getAttribute('#trials tbody tr:first-child', 'data-trial'), String(best.trial));
    const text = (best.arch.split(':')[1] ?? '').split(',')[0]!;
    await page.fill('#text-filter', text);
    const expected = trials.filter((t) => (t.arch ?? '').toLowerCase().includes(text.toLowerCase())).length;
    await waitForText(page, '#table-info', new RegExp(`of ${expected}$`));
    await page.selectOption('#status-filter', 'failed');
    await waitForText(page, '#table-info', /^no trials match$/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('run page: a trial written to the store by another process while the page is open appears without a reload', async () => {
    const dir = path.join(root, 'random-40');
    const { page, errors } = await open('/runs/random-40');
    await page.evaluate('window.marker = 42');
    const before = summarize(storedTrials(dir));
    const top = [...before.pareto].sort((a, b) => b.accuracy - a.accuracy)[0]!;
    // beats the most accurate trial on accuracy at a little more latency: joins the front, evicts nothing
    // written by another process, as a search would
    const metrics = { accuracy: Math.min(0.999, top.accuracy + 0.005), latencyMs: top.latency_ms + 0.01, reward: 0.5, macs: 1_000_000, params: 1000 };
    const helper = new URL('../src/dashboard/testing.js', import.meta.url).href;
    const writer = spawnSync(process.execPath, ['--input-type=module', '-e', `const { addFinishedTrial } = await import(${JSON.stringify(helper)}); console.log(addFinishedTrial(${JSON.stringify(dir)}, ${JSON.stringify(metrics)}));`], { encoding: 'utf8' });
    assert.equal(writer.status, 0, writer.stderr);
    const id = Number(writer.stdout.trim());
    assert.equal(id, 40);
    await page.waitForSelector(`#trials tr[data-trial="${id}"]`, { timeout: 15_000 });
    const after = summarize(storedTrials(dir));
    assert.equal(after.pareto.length, before.pareto.length + 1);
    await waitForAttribute(page, '.chart[data-chart="Accuracy against latency (Pareto front)"]', 'data-counts', (v) => JSON.parse(v)['Pareto front'] === after.pareto.length);
    assert.match((await page.textContent('#run-trials')) ?? '', /^41/);
    assert.equal(await page.evaluate('window.marker'), 42, 'the page was not reloaded');
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('a 10,000-trial run: the API answers, the page opens with the first 50 rows and the front, the table pages (speed: mnas bench dashboard)', async (t) => {
    for (const p of ['/api/runs/big-10k', '/api/runs/big-10k/plot', '/api/runs/big-10k/trials?sort=reward&order=desc']) {
      const started = performance.now();
      const r = await fetch(url(p));
      await r.arrayBuffer();
      const ms = performance.now() - started;
      assert.equal(r.status, 200);
      t.diagnostic(`${p}: ${ms.toFixed(0)} ms (load ${os.loadavg()[0]!.toFixed(1)})`);
    }
    const { page, errors, ms } = await open('/runs/big-10k');
    t.diagnostic(`page ready in ${ms.toFixed(0)} ms`);
    assert.equal(await page.textContent('#table-info'), 'rows 1\u201350 of 10,000');
    assert.equal(await page.locator('#trials tbody tr').count(), 50);
    const front = summarize(storedTrials(path.join(root, 'big-10k'))).pareto.length;
    assert.equal((await counts(page, 'Accuracy against latency (Pareto front)'))['Pareto front'], front);
    await page.getByRole('button', { name: 'next \u2192' }).click();
    await waitForText(page, '#table-info', /^rows 51\u2013100 of 10,000$/);
    assert.equal(await page.getAttribute('#trials tbody tr:first-child', 'data-trial'), '50');
    await shot(page, 'run-10k');
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('mnas bench dashboard: one round of opening the 10,000-trial run, timed as the page measures it', () => {
    const r = runCli(['bench', 'dashboard', '--run', path.join(root, 'big-10k'), '--rounds', '1', '--json'], 180_000);
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { trials: number; rounds: Record<string, number>[]; median: Record<string, number> };
    assert.equal(result.trials, 10_000);
    assert.equal(result.rounds.length, 1);
    for (const k of ['first_open_ms', 'first_page_ms', 'warm_open_ms', 'warm_page_ms', 'next_page_ms']) {
      assert.ok(result.rounds[0]![k]! > 0 && Number.isFinite(result.rounds[0]![k]), k);
      assert.equal(result.median[k], result.rounds[0]![k], k);
    }
    // (the page's own clock starts at the navigation, after the driver asks for it)
    assert.ok(result.rounds[0]!.first_page_ms! <= result.rounds[0]!.first_open_ms!);
  });

  it('trial page: the architecture block by block with its decisions, and the per-layer table', async () => {
    const { page, errors } = await open('/runs/evolution-60/trials/5');
    assert.ok((await page.locator('#arch-drawing g[data-block^="block"]').count()) > 0);
    assert.match((await page.textContent('#arch-drawing')) ?? '', /conv_op: (conv|dsconv|mbconv_e3|mbconv_e6)/);
    assert.ok((await page.locator('#layers tbody tr').count()) > 3);
    assert.match((await page.textContent('#latency-table-note')) ?? '', /No predicted latencies: the run has no latency table/);
    await shot(page, 'trial');
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('compare page: the fronts of several runs on one plot, and their best reward over trials', async () => {
    const { page, errors } = await open('/compare?runs=random-40,evolution-60');
    const got = await counts(page, 'Pareto fronts: accuracy against latency');
    assert.deepEqual(got, {
      'random-40': summarize(storedTrials(path.join(root, 'random-40'))).pareto.length,
      'evolution-60': summarize(storedTrials(path.join(root, 'evolution-60'))).pareto.length,
    });
    // the optimization history: per run, its rises of the best reward as steps (two points per rise after the first) and the carry to the end
    const steps = (run: string) => {
      const finished = finishedInOrder(storedTrials(path.join(root, run)));
      const rises = rewardImprovements(finished);
      return 2 * rises.length - 1 + (finished.length > rises.at(-1)!.n ? 1 : 0);
    };
    assert.deepEqual(await counts(page, 'Best reward over trials'), { 'random-40': steps('random-40'), 'evolution-60': steps('evolution-60') });
    await shot(page, 'compare');
    assert.deepEqual(errors, []);
    await page.close();
  });

  it("devices page: the farm and its connected device, a distributed search's workers", async () => {
    const { page, errors } = await open('/devices');
    assert.match((await page.textContent('#farm')) ?? '', /1 device\(s\)/);
    assert.match((await page.textContent('main')) ?? '', /test phone/);
    assert.match((await page.textContent('#workers')) ?? '', /1 worker\(s\)/);
    assert.match((await page.textContent('main')) ?? '', /worker-host\.42/);
    await shot(page, 'devices');
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('the command: --help, and bad input exits 2 with one line before anything starts', () => {
    const help = runCli(['dashboard', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--port <n>/);
    assert.match(help.stdout, /--token <token>/);
    assertUsageExit(runCli(['dashboard', path.join(root, 'nope')]), /nope: no such directory/, { prefix: 'dashboard: ', seconds: 20 });
    assertUsageExit(runCli(['dashboard', root, '--port', 'http']), /--port must be an integer/, { seconds: 20 });
    assertUsageExit(runCli(['dashboard', root, '--token', 'a b']), /--token must be/, { prefix: 'dashboard: ', seconds: 20 });
    assertUsageExit(runCli(['dashboard', root, '--farm', 'not a url']), /browser device URL/, { prefix: 'dashboard: ', seconds: 20 });
    assertUsageExit(runCli(['dashboard', root, '--redis', 'http://x']), /--redis/, { prefix: 'dashboard: ', seconds: 20 });
    assertUsageExit(runCli(['dashboard', root, '--latency-table', path.join(root, 'none.json')]), /no such file/, { prefix: 'dashboard: ', seconds: 20 });
  });
});
