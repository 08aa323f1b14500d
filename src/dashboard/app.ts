/**
 * The dashboard's HTTP routes (a hono app): the pages (one HTML shell; the page script draws
 * the page the path names), their static files, the JSON API the pages read, the live updates
 * (server-sent events) and the files final training exported. Every route needs the token.
 *
 *   /  /runs/:run  /runs/:run/trials/:trial  /compare?runs=a,b  /devices     pages
 *   /static/:name                                                            page scripts, uPlot
 *   /api/runs  /api/runs/:run  /api/runs/:run/plot  /api/runs/:run/trials?sort&order&status&q&offset&limit
 *   /api/runs/:run/trials/:trial  /api/runs/:run/arch/:trial  /api/compare?runs=a,b  /api/devices
 *   /api/events[?run=:run&since=:version]                                    server-sent events
 *   /files/:run/final/:subdir/:name                                          exported model files
 */
import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { isInputError } from '../util/input-error.js';
import { rememberToken, requireToken } from './auth.js';
import { devicesView } from './devices.js';
import type { LatencyTables } from './latency-tables.js';
import type { LiveUpdates } from './live-updates.js';
import type { RunCatalog } from './run-catalog.js';
import { exportedFile } from './run-files.js';
import { RunView } from './run-view.js';
import { finishedInOrder, rewardImprovements } from '../runs/compare.js';
import { StaticCache } from './static-files.js';
import { trialDetail } from './trial-detail.js';
import { parseTrialQuery, queryTrials, TrialQueryError } from './trial-query.js';

export interface AppContext {
  readonly token: string;
  /** The port the server listens on (known once it listens). */
  readonly port: () => number;
  readonly catalog: RunCatalog;
  readonly live: LiveUpdates;
  readonly tables: LatencyTables;
  readonly farmUrl: string | null;
  readonly redis: string | null;
  /** Called with each live-update stream's closer, so the server can end them when it stops. */
  readonly trackStream: (close: () => void) => () => void;
}

const MAX_COMPARE = 12;

/** Every module each page imports, directly or not (src/dashboard/static; checked by a test). */
export const PAGE_MODULES = {
  runs: ['app.js', 'api.js', 'format.js', 'runs-page.js'],
  run: ['app.js', 'api.js', 'format.js', 'run-page.js', 'charts.js', 'point-order.js', 'uplot.esm.js', 'trial-table.js', 'devices-page.js'],
  trial: ['app.js', 'api.js', 'format.js', 'trial-page.js', 'arch-drawing.js'],
  compare: ['app.js', 'api.js', 'format.js', 'compare-page.js', 'charts.js', 'point-order.js', 'uplot.esm.js'],
  devices: ['app.js', 'api.js', 'format.js', 'devices-page.js'],
} as const satisfies Record<string, readonly string[]>;

/** The query of the run page's first table page (trial-table.js asks for the same when it opens). */
export const FIRST_TABLE_PAGE = 'sort=id&order=asc&offset=0&limit=50';

export function createApp(ctx: AppContext): Hono {
  const app = new Hono();
  const statics = new StaticCache();

  app.use('*', async (c, next) => {
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('X-Frame-Options', 'DENY');
    c.header('Content-Security-Policy', "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'");
  });
  app.use('*', requireToken(ctx.token, ctx.port));

  // The page's modules are preloaded with the HTML, so the browser fetches them at once instead of
  // one import level at a time; so is the data a page needs first (fetched while the modules load).
  const page = (c: Context, modules: readonly string[], data: Record<string, string> = {}) => {
    const f = statics.get('index.html');
    if (!f) return c.notFound();
    rememberToken(c, ctx.token, ctx.port());
    const preload = [
      ...modules.map((m) => `<link rel="modulepreload" href="/static/${m}">`),
      ...Object.entries(data).map(([key, url]) => `<link rel="preload" as="fetch" crossorigin="anonymous" data-api="${key}" href="${escapeAttribute(`${url}${url.includes('?') ? '&' : '?'}token=${ctx.token}`)}">`),
    ].join('\n');
    return c.body(f.body.toString('utf8').replace('</head>', `${preload}\n</head>`), 200, { 'Content-Type': f.type, 'Cache-Control': 'no-store' });
  };
  app.get('/', (c) => page(c, PAGE_MODULES.runs));
  // a run's pages exist only for the runs served
  const runPage = (modules: readonly string[], data: (run: string) => Record<string, string> = () => ({})) => (c: Context) => {
    const run = c.req.param('run') ?? '';
    return ctx.catalog.dirOf(run) === undefined ? c.text('not found\n', 404) : page(c, modules, data(encodeURIComponent(run)));
  };
  app.get('/runs/:run', runPage(PAGE_MODULES.run, (run) => ({ run: `/api/runs/${run}`, plot: `/api/runs/${run}/plot`, trials: `/api/runs/${run}/trials?${FIRST_TABLE_PAGE}` })));
  app.get('/runs/:run/trials/:trial', runPage(PAGE_MODULES.trial));
  app.get('/compare', (c) => page(c, PAGE_MODULES.compare));
  app.get('/devices', (c) => page(c, PAGE_MODULES.devices));

  app.get('/static/:name', (c) => {
    const f = statics.get(c.req.param('name'));
    if (!f) return c.notFound();
    if (c.req.header('If-None-Match') === f.etag) return c.body(null, 304, { ETag: f.etag, 'Cache-Control': 'no-cache' });
    return c.body(new Uint8Array(f.body), 200, { 'Content-Type': f.type, 'Cache-Control': 'no-cache', ETag: f.etag });
  });

  app.get('/api/runs', (c) => c.json({ runs: ctx.catalog.listings() }));

  app.get('/api/runs/:run', (c) =>
    withView(c, ctx, (view, id) => c.json({ id, version: view.version, summary: ctx.catalog.listing(id), settings: view.settings, distributed: view.settings.redis !== null })),
  );

  app.get('/api/runs/:run/plot', (c) => withView(c, ctx, (view) => c.body(view.plotJson(), 200, { 'Content-Type': 'application/json' })));

  app.get('/api/runs/:run/trials', (c) =>
    withView(c, ctx, (view) => {
      const query = parseTrialQuery(new URL(c.req.url).searchParams);
      return c.json({ version: view.version, ...queryTrials(view.records(), query) });
    }),
  );

  app.get('/api/runs/:run/trials/:trial', (c) =>
    withView(c, ctx, (view) => {
      const trial = view.fullTrial(Number(c.req.param('trial')));
      if (!trial || !/^\d+$/.test(c.req.param('trial'))) return c.json({ error: `no trial ${c.req.param('trial').slice(0, 20)} in this run` }, 404);
      return c.json(trialDetail(trial, view.dir, view.settings.space, ctx.tables.forRun(view.dir, view.settings.latencyTable, view.settings.space)));
    }),
  );

  app.get('/api/runs/:run/arch/:trial', (c) =>
    withView(c, ctx, (view) => {
      const t = view.trial(Number(c.req.param('trial')));
      if (!t || !/^\d+$/.test(c.req.param('trial'))) return c.json({ error: 'no such trial' }, 404);
      return c.json({ id: t.id, arch: t.arch, accuracy: t.accuracy, latencyMs: t.latencyMs, reward: t.reward, macs: t.macs });
    }),
  );

  app.get('/api/compare', (c) => {
    const ids = (c.req.query('runs') ?? '').split(',').filter((s) => s !== '').slice(0, MAX_COMPARE);
    const runs = [];
    for (const id of ids) {
      const view = openView(ctx, id);
      if (view === undefined) return c.json({ error: `no run '${id.slice(0, 80)}'` }, 404);
      if (!(view instanceof RunView)) return c.json({ error: view.message }, 409);
      view.refresh();
      const front = view.summary().pareto.map((p) => ({ trial: p.trial, accuracy: p.accuracy, latencyMs: p.latency_ms }));
      const finished = finishedInOrder(view.records());
      runs.push({ id, name: ctx.catalog.listing(id)?.name ?? id, targetMs: view.settings.targetMs, front, finished: finished.length, improvements: rewardImprovements(finished) });
    }
    return c.json({ runs });
  });

  app.get('/api/devices', async (c) => c.json(await devicesView({ farmUrl: ctx.farmUrl, redis: ctx.redis })));

  app.get('/api/events', (c) => {
    const run = c.req.query('run') ?? null;
    const since = Number(c.req.query('since') ?? 0);
    if (run !== null) {
      const view = openView(ctx, run);
      if (view === undefined) return c.json({ error: `no run '${run.slice(0, 80)}'` }, 404);
      if (!(view instanceof RunView)) return c.json({ error: view.message }, 409);
    }
    return streamSSE(c, async (stream) => {
      let end: () => void = () => {};
      const ended = new Promise<void>((resolve) => (end = resolve));
      const unsubscribe = ctx.live.subscribe(run, Number.isSafeInteger(since) ? since : 0, (e) => {
        stream.writeSSE({ event: e.event, data: JSON.stringify(e.data) }).catch(() => end());
      });
      const untrack = ctx.trackStream(() => end());
      stream.onAbort(() => end());
      await stream.writeSSE({ event: 'hello', data: '{}' });
      await ended;
      unsubscribe();
      untrack();
    });
  });

  app.get('/files/:run/final/:subdir/:name', (c) => {
    const dir = ctx.catalog.dirOf(c.req.param('run'));
    const file = dir === undefined ? undefined : exportedFile(dir, c.req.param('subdir'), c.req.param('name'));
    if (file === undefined) return c.text('not found\n', 404);
    const body = Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>;
    return c.body(body, 200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(statSync(file).size),
      'Content-Disposition': `attachment; filename="${c.req.param('name')}"`,
    });
  });

  app.notFound((c) => c.text('not found\n', 404));
  app.onError((e: Error, c) => {
    const message = e.message;
    if (e instanceof TrialQueryError) return c.json({ error: message }, 400);
    if (isInputError(e)) return c.json({ error: message }, 409);
    return c.json({ error: `internal error: ${message}` }, 500);
  });
  return app;
}

/** The run's live view brought up to date; undefined for an unknown run, the error if its store cannot be read. */
function openView(ctx: AppContext, id: string): RunView | Error | undefined {
  try {
    return ctx.catalog.view(id);
  } catch (e) {
    if (isInputError(e)) return e;
    throw e;
  }
}

function withView(c: Context, ctx: AppContext, f: (view: RunView, id: string) => Response | Promise<Response>): Response | Promise<Response> {
  const id = c.req.param('run') ?? '';
  const view = openView(ctx, id);
  if (view === undefined) return c.json({ error: `no run '${id.slice(0, 80)}'` }, 404);
  if (!(view instanceof RunView)) return c.json({ error: view.message }, 409);
  view.refresh();
  return f(view, id);
}

function escapeAttribute(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
