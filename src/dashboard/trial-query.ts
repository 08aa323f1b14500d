/**
 * The run page's trial table, one page at a time: filtered by status and by text (in the
 * architecture or the error), sorted by any column, sliced on the server so a run of any size
 * sends only the rows on screen.
 */
import type { TrialBrief, TrialStatus } from '../search/run-store.js';

export const SORT_KEYS = ['id', 'status', 'accuracy', 'latencyMs', 'reward', 'macs', 'params', 'seconds', 'attempts'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export const STATUSES: readonly TrialStatus[] = ['pending', 'running', 'done', 'failed'];
export const MAX_PAGE_ROWS = 500;

export interface TrialQuery {
  readonly sort: SortKey;
  readonly descending: boolean;
  readonly status: TrialStatus | null;
  /** Case-insensitive text that the architecture or the error must contain. */
  readonly text: string;
  readonly offset: number;
  readonly limit: number;
}

/** A row of the table: what the page shows of a trial. */
export interface TrialRow {
  readonly id: number;
  readonly status: TrialStatus;
  readonly accuracy: number | null;
  readonly latencyMs: number | null;
  readonly reward: number | null;
  readonly macs: number | null;
  readonly params: number | null;
  readonly seconds: number | null;
  readonly attempts: number;
  readonly reusedFrom: number | null;
  readonly arch: string | null;
  readonly error: string | null;
}

export class TrialQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrialQueryError';
  }
}

/** The query of URL parameters sort, order (asc|desc), status, q, offset, limit; TrialQueryError naming a bad one. */
export function parseTrialQuery(params: URLSearchParams): TrialQuery {
  const sort = params.get('sort') ?? 'id';
  if (!(SORT_KEYS as readonly string[]).includes(sort)) throw new TrialQueryError(`sort must be one of ${SORT_KEYS.join(', ')}, got '${sort.slice(0, 40)}'`);
  const order = params.get('order') ?? 'asc';
  if (order !== 'asc' && order !== 'desc') throw new TrialQueryError(`order must be asc or desc, got '${order.slice(0, 40)}'`);
  const status = params.get('status') || null;
  if (status !== null && !(STATUSES as readonly string[]).includes(status)) throw new TrialQueryError(`status must be one of ${STATUSES.join(', ')}, got '${status.slice(0, 40)}'`);
  const int = (name: string, def: number, max: number): number => {
    const text = params.get(name);
    if (text === null || text === '') return def;
    const n = Number(text);
    if (!/^\d+$/.test(text) || n > max) throw new TrialQueryError(`${name} must be an integer in [0, ${max}], got '${text.slice(0, 40)}'`);
    return n;
  };
  return {
    sort: sort as SortKey,
    descending: order === 'desc',
    status: status as TrialStatus | null,
    text: (params.get('q') ?? '').slice(0, 200).toLowerCase(),
    offset: int('offset', 0, Number.MAX_SAFE_INTEGER),
    limit: Math.max(1, int('limit', 50, MAX_PAGE_ROWS)),
  };
}

export function trialRow(t: TrialBrief): TrialRow {
  return {
    id: t.id,
    status: t.status,
    accuracy: t.accuracy,
    latencyMs: t.latencyMs,
    reward: t.reward,
    macs: t.macs,
    params: t.params,
    seconds: secondsOf(t),
    attempts: t.attempts,
    reusedFrom: t.reusedFrom,
    arch: t.arch,
    error: t.error,
  };
}

function secondsOf(t: TrialBrief): number | null {
  if (t.startedAt === null || t.finishedAt === null) return null;
  const s = (Date.parse(t.finishedAt) - Date.parse(t.startedAt)) / 1000;
  return Number.isFinite(s) ? s : null;
}

/** The page of rows `q` asks for and how many rows match in all. Missing values sort last either way. */
export function queryTrials(trials: readonly TrialBrief[], q: TrialQuery): { total: number; rows: TrialRow[] } {
  let rows = trials.filter((t) => (q.status === null || t.status === q.status) && (q.text === '' || matches(t, q.text))).map(trialRow);
  if (q.sort !== 'id' || q.descending) {
    const key = q.sort;
    const sign = q.descending ? -1 : 1;
    rows = rows.sort((a, b) => {
      const x = a[key];
      const y = b[key];
      if (x === null || y === null) return x === y ? a.id - b.id : x === null ? 1 : -1;
      const c = typeof x === 'string' ? x.localeCompare(y as string) : x - (y as number);
      return c !== 0 ? sign * c : a.id - b.id;
    });
  }
  return { total: rows.length, rows: rows.slice(q.offset, q.offset + q.limit) };
}

function matches(t: TrialBrief, text: string): boolean {
  return (t.arch ?? '').toLowerCase().includes(text) || (t.error ?? '').toLowerCase().includes(text) || String(t.id) === text;
}
