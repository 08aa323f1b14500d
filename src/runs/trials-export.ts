/**
 * Every trial of a run as CSV or JSON (`mnas runs export`), read through the read-only store.
 * CSV follows RFC 4180: a header row, fields that hold a comma, a quote or a line break are
 * quoted with quotes doubled (architecture strings and error messages hold commas), CRLF line
 * ends. JSON is an array of objects with the same keys plus the nested latency statistics,
 * timings and evaluator extras.
 */
import type { Json } from '../search/space-like.js';
import { ExperimentStore, type TrialRecord } from '../search/store.js';
import { NotARunError } from './summary.js';

export const TRIAL_EXPORT_FORMATS = ['csv', 'json'] as const;
export type TrialExportFormat = (typeof TRIAL_EXPORT_FORMATS)[number];

/** The flat columns of a trial, in CSV order. */
export const TRIAL_COLUMNS = [
  'trial',
  'status',
  'reward',
  'accuracy',
  'latency_ms',
  'macs',
  'params',
  'arch',
  'dna',
  'reused_from',
  'attempts',
  'eval_ms',
  'error',
  'created_at',
  'started_at',
  'finished_at',
] as const;

export type TrialColumn = (typeof TRIAL_COLUMNS)[number];
export type TrialRow = { [K in TrialColumn]: string | number | null };

export function trialRow(t: TrialRecord): TrialRow {
  const evalMs = t.timings !== null && typeof t.timings === 'object' && !Array.isArray(t.timings) ? t.timings['evalMs'] : undefined;
  return {
    trial: t.id,
    status: t.status,
    reward: t.reward,
    accuracy: t.accuracy,
    latency_ms: t.latencyMs,
    macs: t.macs,
    params: t.params,
    arch: t.arch,
    dna: t.dna.join(' '),
    reused_from: t.reusedFrom,
    attempts: t.attempts,
    eval_ms: typeof evalMs === 'number' ? evalMs : null,
    error: t.error,
    created_at: t.createdAt,
    started_at: t.startedAt,
    finished_at: t.finishedAt,
  };
}

/** One CSV field: null is empty; quoted when it holds a comma, quote, CR or LF (or starts/ends with a space). */
export function csvField(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function trialsCsv(trials: readonly TrialRecord[]): string {
  const lines = [TRIAL_COLUMNS.join(',')];
  for (const t of trials) {
    const row = trialRow(t);
    lines.push(TRIAL_COLUMNS.map((c) => csvField(row[c])).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

export function trialsJson(trials: readonly TrialRecord[]): string {
  const rows = trials.map((t) => ({ ...trialRow(t), latency_stats: t.latencyStats, timings: t.timings, extra: t.extra }) satisfies { [k: string]: Json });
  return `${JSON.stringify(rows)}\n`;
}

export function exportTrials(trials: readonly TrialRecord[], format: TrialExportFormat): string {
  return format === 'csv' ? trialsCsv(trials) : trialsJson(trials);
}

/** Every trial of the run in `dir`, complete, read-only; a NotARunError (or another InputError) if it cannot be read. */
export function readRunTrials(dir: string): TrialRecord[] {
  if (!ExperimentStore.exists(dir)) throw new NotARunError(dir);
  const store = ExperimentStore.open(dir, { readonly: true });
  try {
    return store.listTrials();
  } finally {
    store.close();
  }
}
