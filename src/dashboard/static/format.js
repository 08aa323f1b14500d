// @ts-check
/** Number and time formats, and a small helper to build DOM elements. */

const dash = '\u2013';

export const pct = (v) => (v == null ? dash : `${(v * 100).toFixed(2)}%`);
export const ms = (v) => (v == null ? dash : v < 10 ? v.toFixed(3) : v.toFixed(1));
export const num = (v, digits = 4) => (v == null ? dash : Number(v).toFixed(digits));
/** Thousands grouped, at most three decimals (as toLocaleString('en-US')). */
export const int = (v) => (v == null ? dash : grouped(Number(Number(v).toFixed(3))));
/** An axis label: as int (as uPlot's own labels), nothing for no value. */
export const axisNumber = (v) => (v == null ? '' : int(v));
export const mega = (v) => (v == null ? dash : `${(v / 1e6).toFixed(2)} M`);

/**
 * A number with commas between its thousands, written here rather than with toLocaleString:
 * the first use of Intl costs a freshly opened page 35-65 ms (ICU's set-up).
 * @param {number} v
 */
function grouped(v) {
  const text = Object.is(v, -0) ? '-0' : String(v);
  if (!Number.isFinite(v) || /e/i.test(text)) return text;
  const [whole, fraction] = text.split('.');
  const withCommas = /** @type {string} */ (whole).replace(/\B(?=(\d{3})+$)/g, ',');
  return fraction === undefined ? withCommas : `${withCommas}.${fraction}`;
}

/** Seconds as 1 h 02 min, 3 min 05 s or 4.2 s. */
export function duration(s) {
  if (s == null || !Number.isFinite(s)) return dash;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/**
 * An element: h('a', { href: '/x', class: 'y' }, 'text', child, ...). Attributes starting with
 * "on" are listeners; children may be strings, nodes, null or arrays of them.
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) if (c != null && c !== false) e.append(c instanceof Node ? c : String(c));
  return e;
}

/** A key/value table of a JSON object (nested values as compact JSON). */
export function kvTable(obj) {
  if (obj == null || typeof obj !== 'object') return h('p', { class: 'muted' }, 'none recorded');
  const rows = Object.entries(obj).map(([k, v]) => h('tr', {}, h('td', {}, k), h('td', { class: 'text' }, typeof v === 'number' ? (Number.isInteger(v) ? int(v) : v.toPrecision(5)) : typeof v === 'object' ? JSON.stringify(v) : String(v))));
  return rows.length ? h('table', { class: 'kv' }, rows) : h('p', { class: 'muted' }, 'none recorded');
}
