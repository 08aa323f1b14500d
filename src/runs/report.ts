/**
 * `mnas report DIR`: rewrites a run's outputs (report.html, summary.json, pareto.json,
 * best.json) from its store at any time, also while its search runs. What the store does not
 * hold - the latency device's description and the final training results - is kept from the
 * summary.json the search wrote.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { writeOutputs, type ReportContext, type SearchOutputs } from '../search/outputs.js';
import { reportTitle } from '../search/report-html.js';
import { readRun, summaryOf, type RunSummary } from './summary.js';

export interface RewrittenReport {
  readonly summary: RunSummary;
  readonly outputs: SearchOutputs;
  /** The files written, absolute. */
  readonly files: string[];
}

export function rewriteReport(dir: string, now: Date = new Date()): RewrittenReport {
  const run = readRun(dir);
  const summary = summaryOf(run, now);
  const earlier = readEarlierSummary(run.dir);
  const { record } = run;
  const context: ReportContext = {
    title: reportTitle(record.config),
    config: record,
    reward: record.reward,
    device: earlier.device ?? 'not recorded (the search has not written summary.json)',
    budget: record.config.budget,
    state: summary.state,
    ...(record.optimumReward !== undefined ? { optimumReward: record.optimumReward } : {}),
    ...(earlier.final !== undefined && earlier.final !== null ? { final: earlier.final } : {}),
    ...(summary.drift ? { drift: summary.drift } : {}),
  };
  const { files, ...outputs } = writeOutputs(run.dir, run.trials, context);
  return { summary, outputs, files };
}

function readEarlierSummary(dir: string): { device?: unknown; final?: unknown } {
  try {
    const s = JSON.parse(readFileSync(path.join(dir, 'summary.json'), 'utf8')) as unknown;
    return typeof s === 'object' && s !== null ? (s as { device?: unknown; final?: unknown }) : {};
  } catch {
    return {};
  }
}
