// @ts-check
/** The dashboard's server API as the pages use it: every URL carries the token the page was opened with. */

const token = new URLSearchParams(location.search).get('token') ?? '';

/** `path` (may hold a query) with the page's token added. */
export function withToken(path) {
  const u = new URL(path, location.origin);
  if (token) u.searchParams.set('token', token);
  return u.pathname + u.search;
}

/** GET a JSON API route; throws an Error with the server's one-line message when it refuses. */
export async function getJson(path) {
  return jsonOf(await fetch(withToken(path), { cache: 'no-store' }));
}

/**
 * The data the server preloads with the page (`<link rel="preload" data-api="key">`), asked for
 * with the very request the link made, so the browser answers from the preload; undefined if the
 * page has no such link. `query`: the request's query without the token.
 * @param {string} key
 * @returns {{ query: string, data: Promise<any> } | undefined}
 */
export function preloaded(key) {
  const href = document.querySelector(`link[rel="preload"][data-api="${key}"]`)?.getAttribute('href');
  if (!href) return undefined;
  const data = fetch(href).then(jsonOf);
  data.catch(() => {}); // whoever awaits it shows the error
  const query = new URL(href, location.origin).searchParams;
  query.delete('token');
  return { query: query.toString(), data };
}

/** @param {Response} r */
async function jsonOf(r) {
  const body = await r.json().catch(() => ({ error: `${r.status} ${r.statusText}` }));
  if (!r.ok) throw new Error(body.error ?? `${r.status} ${r.statusText}`);
  return body;
}

/**
 * Live updates from /api/events (server-sent events): `handlers` maps event names to functions
 * of the parsed data. The header dot shows whether the stream is connected.
 * @param {Record<string, string>} params
 * @param {Record<string, (data: any) => void>} handlers
 */
export function liveEvents(params, handlers) {
  const es = new EventSource(withToken(`/api/events?${new URLSearchParams(params)}`));
  const dot = document.getElementById('live');
  es.addEventListener('hello', () => dot?.classList.add('on'));
  es.addEventListener('error', () => dot?.classList.remove('on'));
  for (const [name, f] of Object.entries(handlers)) es.addEventListener(name, (e) => f(JSON.parse(/** @type {MessageEvent} */ (e).data)));
  return es;
}
