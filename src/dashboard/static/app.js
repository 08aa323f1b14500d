// @ts-check
/**
 * The dashboard page: one HTML shell for every page; this picks the page the path names, lets it
 * draw itself into <main>, and marks the body ready (data-ready, data-ready-ms) for whoever waits for it.
 */
import { withToken } from './api.js';
import { h } from './format.js';

const ROUTES = [
  { path: /^\/$/, page: () => import('./runs-page.js'), params: [] },
  { path: /^\/runs\/([^/]+)$/, page: () => import('./run-page.js'), params: ['run'] },
  { path: /^\/runs\/([^/]+)\/trials\/(\d+)$/, page: () => import('./trial-page.js'), params: ['run', 'trial'] },
  { path: /^\/compare$/, page: () => import('./compare-page.js'), params: [] },
  { path: /^\/devices$/, page: () => import('./devices-page.js'), params: [] },
];

async function start() {
  for (const a of document.querySelectorAll('a[data-nav]')) a.setAttribute('href', withToken(a.getAttribute('href') ?? '/'));
  const main = /** @type {HTMLElement} */ (document.getElementById('main'));
  const route = ROUTES.find((r) => r.path.test(location.pathname));
  try {
    if (!route) throw new Error(`no page at ${location.pathname}`);
    const m = /** @type {RegExpMatchArray} */ (location.pathname.match(route.path));
    const params = Object.fromEntries(route.params.map((p, i) => [p, decodeURIComponent(m[i + 1] ?? '')]));
    const { render } = await route.page();
    main.replaceChildren();
    await render(main, params);
    // milliseconds from the navigation's start, as the page measures it (for benchmarks)
    document.body.dataset.readyMs = String(Math.round(performance.now()));
    document.body.dataset.ready = 'true';
  } catch (e) {
    main.replaceChildren(h('p', { class: 'error' }, String(/** @type {Error} */ (e).message ?? e)));
    document.body.dataset.ready = 'error';
  }
}

start();
