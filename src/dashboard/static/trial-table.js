// @ts-check
/**
 * Every trial of a run in a table the server sorts, filters and pages (a run of any size sends
 * one page of rows). Click a column to sort by it (again to reverse); filter by status and by
 * text in the architecture or the error.
 */
import { getJson } from './api.js';
import { duration, h, int, mega, ms, num, pct } from './format.js';

const PAGE = 50;
const COLUMNS = [
  { key: 'id', label: 'trial', sort: true },
  { key: 'status', label: 'status', sort: true, text: true },
  { key: 'accuracy', label: 'accuracy', sort: true, fmt: pct },
  { key: 'latencyMs', label: 'latency ms', sort: true, fmt: ms },
  { key: 'reward', label: 'reward', sort: true, fmt: (v) => num(v) },
  { key: 'macs', label: 'MACs', sort: true, fmt: mega },
  { key: 'params', label: 'params', sort: true, fmt: int },
  { key: 'seconds', label: 'time', sort: true, fmt: duration },
  { key: 'attempts', label: 'attempts', sort: true },
  { key: 'arch', label: 'architecture', text: true },
  { key: 'error', label: 'error', text: true },
];

/** The query of the table's first page, so a page can fetch it together with its other data. */
export function firstPageQuery() {
  return new URLSearchParams({ sort: 'id', order: 'asc', offset: '0', limit: String(PAGE) }).toString();
}

/**
 * @param {HTMLElement} container
 * @param {{ base: string, trialUrl: (id: number) => string, isFront: (id: number) => boolean, firstPage?: { query: string, data: Promise<any> } }} o
 *   firstPage: a page already asked for (its query, without the token), used if it is the table's first
 */
export function trialTable(container, o) {
  const state = { sort: 'id', order: 'asc', status: '', q: '', offset: 0 };
  let firstPage = o.firstPage;
  const status = h('select', { id: 'status-filter', onchange: () => update({ status: status.value, offset: 0 }) }, ['', 'pending', 'running', 'done', 'failed'].map((s) => h('option', { value: s }, s || 'any status')));
  const text = h('input', { id: 'text-filter', type: 'search', placeholder: 'filter: architecture or error text', size: 34 });
  let typing;
  text.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => update({ q: /** @type {HTMLInputElement} */ (text).value, offset: 0 }), 250);
  });
  const info = h('span', { class: 'muted', id: 'table-info' });
  const prev = h('button', { onclick: () => update({ offset: Math.max(0, state.offset - PAGE) }) }, '\u2190 previous');
  const next = h('button', { onclick: () => update({ offset: state.offset + PAGE }) }, 'next \u2192');
  const head = h('tr');
  const body = h('tbody');
  container.append(h('div', { class: 'toolbar' }, status, text, h('span', { class: 'pager' }, prev, next), info), h('table', { id: 'trials' }, h('thead', {}, head), body));

  function drawHead() {
    head.replaceChildren(
      ...COLUMNS.map((c) =>
        h('th', {
          class: [c.text ? 'text' : '', c.sort ? 'sortable' : '', state.sort === c.key ? 'sorted' : '', state.sort === c.key && state.order === 'desc' ? 'desc' : ''].join(' ').trim(),
          dataset: { key: c.key },
          onclick: c.sort ? () => update({ sort: c.key, order: state.sort === c.key && state.order === 'asc' ? 'desc' : 'asc', offset: 0 }) : null,
        }, c.label),
      ),
    );
  }

  let loading = Promise.resolve();
  async function load() {
    const params = new URLSearchParams({ sort: state.sort, order: state.order, offset: String(state.offset), limit: String(PAGE) });
    if (state.status) params.set('status', state.status);
    if (state.q) params.set('q', state.q);
    const r = firstPage && params.toString() === firstPage.query ? await firstPage.data : await getJson(`${o.base}/trials?${params}`);
    firstPage = undefined;
    if (r.total > 0 && state.offset >= r.total) {
      state.offset = Math.floor((r.total - 1) / PAGE) * PAGE;
      return load();
    }
    drawHead();
    body.replaceChildren(...r.rows.map(row));
    info.textContent = r.total === 0 ? 'no trials match' : `rows ${int(state.offset + 1)}\u2013${int(state.offset + r.rows.length)} of ${int(r.total)}`;
    prev.toggleAttribute('disabled', state.offset === 0);
    next.toggleAttribute('disabled', state.offset + PAGE >= r.total);
  }

  function row(t) {
    return h(
      'tr',
      { dataset: { trial: t.id }, class: o.isFront(t.id) ? 'front' : null },
      COLUMNS.map((c) => {
        const v = t[c.key];
        if (c.key === 'id') return h('td', {}, h('a', { href: o.trialUrl(t.id) }, String(v)));
        if (c.key === 'arch') return h('td', { class: 'arch', title: v ?? '' }, v ?? '');
        if (c.key === 'error') return h('td', { class: 'err', title: v ?? '' }, v ?? '');
        return h('td', { class: c.text ? 'text' : '' }, c.fmt ? c.fmt(v) : String(v));
      }),
    );
  }

  function update(change) {
    Object.assign(state, change);
    loading = loading.then(load).catch((e) => void (info.textContent = e.message));
    return loading;
  }

  let pending;
  return {
    load: () => update({}),
    /** Trials changed: reload the page shown (at most about once a second). */
    changed() {
      if (pending) return;
      pending = setTimeout(() => {
        pending = undefined;
        update({});
      }, 500);
    },
  };
}
