/**
 * `mnas bench dashboard`: how fast the dashboard opens a big run. Makes the run with the real
 * `mnas search --evaluator synthetic` (10,000 trials by default; or takes an existing one), then per
 * round starts a fresh `mnas dashboard` process and opens the run page in Debian's Chromium:
 * the first open right after the server says it listens (its read-ahead of the runs may still be
 * going on; nothing cached in the browser), a second open in a fresh browser context once the
 * first is closed (the server's caches warm), and the table's next page. A page counts as open
 * when it marks itself ready: plots drawn and the first table page shown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../latency/browser/launch.js';
import { mnasMainScript, runForLastJsonLine } from './child-process.js';
import { readRun } from '../runs/summary.js';
import { median } from '../util/stats.js';

export interface DashboardOpenOptions {
  /** Trials of the synthetic search made for the benchmark (ignored with `run`). */
  readonly trials: number;
  readonly rounds: number;
  readonly seed: number;
  /** An existing run directory to open instead of making one. */
  readonly run?: string;
  readonly onLog?: (line: string) => void;
}

export interface DashboardOpenRound {
  readonly round: number;
  /** Fresh server process, fresh browser context: from asking Chromium to open the URL to seeing the page ready. */
  readonly first_open_ms: number;
  /** The same, as the page measures it: navigation start to ready (without the driver's round trips). */
  readonly first_page_ms: number;
  /** The same page again in a fresh browser context, the server's caches warm. */
  readonly warm_open_ms: number;
  readonly warm_page_ms: number;
  /** Click on the table's next page until its rows are shown. */
  readonly next_page_ms: number;
  readonly load: number;
}

export interface DashboardOpenResult {
  readonly trials: number;
  /** Wall seconds of the synthetic search that made the run (null for an existing run). */
  readonly search_seconds: number | null;
  readonly rounds: DashboardOpenRound[];
  readonly median: Figures;
  readonly worst: Figures;
}

type Figures = { readonly [K in 'first_open_ms' | 'first_page_ms' | 'warm_open_ms' | 'warm_page_ms' | 'next_page_ms']: number };

export async function runDashboardOpen(o: DashboardOpenOptions): Promise<DashboardOpenResult> {
  const log = o.onLog ?? (() => {});
  const scratch = o.run === undefined ? mkdtempSync(path.join(tmpdir(), 'mnas-bench-dashboard-')) : undefined;
  const runDir = o.run ?? path.join(scratch!, 'big');
  let browser: Browser | undefined;
  try {
    let searchSeconds: number | null = null;
    if (o.run === undefined) {
      log(`bench: making a ${o.trials}-trial run with mnas search --evaluator synthetic`);
      const started = performance.now();
      runForLastJsonLine(process.execPath, [mnasMainScript(), 'search', '--evaluator', 'synthetic', '--strategy', 'evolution', '--budget', String(o.trials), '--seed', String(o.seed), '--out', runDir, '--json'], 'mnas search');
      searchSeconds = (performance.now() - started) / 1000;
      log(`bench: the run took ${searchSeconds.toFixed(1)} s`);
    }
    browser = (await launchChromium()).browser;
    const rounds: DashboardOpenRound[] = [];
    for (let round = 1; round <= o.rounds; round++) {
      const server = await startDashboard(path.dirname(runDir));
      try {
        const url = `${server.base}/runs/${encodeURIComponent(path.basename(runDir))}?token=${server.token}`;
        const first = await openTimed(browser, url);
        // (closed first: the warm open has the browser to itself, as a user opening the run again would)
        await first.page.context().close();
        const warm = await openTimed(browser, url);
        // (read before the next page is timed: it also sets up playwright's script in the page, which the click needs)
        const trials = Number(((await warm.page.textContent('#table-info')) ?? '').replace(/^.* of /, '').replace(/,/g, ''));
        const nextPage = await nextPageTimed(warm.page);
        await warm.page.context().close();
        const r: DashboardOpenRound = { round, first_open_ms: first.ms, first_page_ms: first.pageMs, warm_open_ms: warm.ms, warm_page_ms: warm.pageMs, next_page_ms: nextPage, load: loadavg()[0]! };
        log(`bench: round ${round}/${o.rounds}: first open ${r.first_open_ms.toFixed(0)} ms (page ${r.first_page_ms} ms), warm ${r.warm_open_ms.toFixed(0)} ms (page ${r.warm_page_ms} ms), next page ${r.next_page_ms.toFixed(0)} ms (${trials} trials, load ${r.load.toFixed(2)})`);
        rounds.push(r);
      } finally {
        await server.stop();
      }
    }
    const keys = ['first_open_ms', 'first_page_ms', 'warm_open_ms', 'warm_page_ms', 'next_page_ms'] as const;
    const pick = (f: (xs: number[]) => number): Figures => Object.fromEntries(keys.map((k) => [k, f(rounds.map((r) => r[k]))])) as Figures;
    const trials = readRun(runDir).trials.filter((t) => t.status === 'done').length;
    return { trials, search_seconds: searchSeconds, rounds, median: pick(median), worst: pick((xs) => Math.max(...xs)) };
  } finally {
    await browser?.close().catch(() => {});
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

interface RunningDashboard {
  readonly base: string;
  readonly token: string;
  stop(): Promise<void>;
}

async function startDashboard(root: string): Promise<RunningDashboard> {
  const child: ChildProcess = spawn(process.execPath, [mnasMainScript(), 'dashboard', root, '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const lines = createInterface({ input: child.stdout! });
  const listening = await new Promise<{ url: string; token: string }>((resolve, reject) => {
    lines.on('line', (line) => {
      const m = JSON.parse(line) as { event?: string; url?: string; token?: string };
      if (m.event === 'listening') resolve({ url: m.url!, token: m.token! });
    });
    void exited.then((code) => reject(new Error(`mnas dashboard exited (${code}) before listening: ${stderr.trim()}`)));
  });
  return {
    base: new URL(listening.url).origin,
    token: listening.token,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Opens `url` in a fresh browser context and times it until the page marks itself ready (its context stays open). */
export async function openTimed(browser: Browser, url: string): Promise<{ page: Page; ms: number; pageMs: number }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Waits by asking the page itself (DevTools protocol): playwright's selector waits would first
  // evaluate its injected script in the page, 50-60 ms of the very main thread being measured.
  const devtools = await context.newCDPSession(page);
  const started = performance.now();
  await page.goto(url, { waitUntil: 'commit' });
  let ready: { state: string; ms: number } | null = null;
  while (ready === null) {
    const { result } = (await devtools.send('Runtime.evaluate', { expression: READY_STATE, returnByValue: true })) as { result: { value?: { state: string; ms: number } | null } };
    ready = result.value ?? null;
    if (ready === null) {
      if (performance.now() - started > 60_000) throw new Error('the run page did not open within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  const ms = performance.now() - started;
  await devtools.detach();
  if (ready.state !== 'true' || errors.length > 0) throw new Error(`the run page did not open: ${errors.join('; ') || ((await page.textContent('main')) ?? '').trim()}`);
  return { page, ms, pageMs: ready.ms };
}

/** The page's ready mark (set by app.js) and its time from the navigation's start; null before. */
const READY_STATE = 'document.body?.dataset.ready ? { state: document.body.dataset.ready, ms: Number(document.body.dataset.readyMs) } : null';

async function nextPageTimed(page: Page): Promise<number> {
  const started = performance.now();
  await page.getByRole('button', { name: 'next \u2192' }).click();
  await page.locator('#table-info', { hasText: /^rows 51\u2013/ }).waitFor({ timeout: 30_000 });
  return performance.now() - started;
}
