/**
 * `mnas runs <list|show|export|stop|compare>`: the runs on disk, read through the store without taking
 * their lock (src/runs), so they work while a search runs.
 *
 *   list [ROOT] [--json]          every run at or below ROOT (default ./runs, or . without it)
 *   show DIR [--top N] [--json]   summary, Pareto front, best and top trials by reward
 *   export DIR --format csv|json [--out FILE]   every trial (stdout by default)
 *   stop DIR [--wait S] [--json]  asks the running search to stop cleanly (resumable)
 *   compare DIR... [--at N,...] [--window N] [--svg FILE] [--json]   runs trial by trial (best reward over trials)
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { fmt } from './progress.js';
import { choiceOption, intOption } from './options.js';
import { bestAt, compareRuns, historySvg, type RunComparison } from '../runs/compare.js';
import { runDetails, type RunDetails } from '../runs/details.js';
import { intListOption } from './bench/int-list.js';
import { stopRun } from '../runs/stop.js';
import { listRuns, type RunsList } from '../runs/list.js';
import type { RunSummary } from '../runs/summary.js';
import { driftLabel, driftText, failedText } from '../search/report-html.js';
import { TRIAL_EXPORT_FORMATS, exportTrials, readRunTrials, type TrialExportFormat } from '../runs/trials-export.js';
import type { TrialPoint } from '../search/outputs.js';
import { writeFileAtomic } from '../util/write-atomic.js';

type Writer = (s: string) => void;

export function registerRuns(program: Command, write: Writer = (s) => void process.stdout.write(s), warn: Writer = (s) => void process.stderr.write(s)): Command {
  const runs = program.command('runs').description('list, inspect, export and stop search runs (also while they run)');
  runs
    .command('list')
    .description('every run at or below ROOT: state, settings, progress, best reward, time')
    .argument('[root]', 'folder to look in (default ./runs, or . if there is none)')
    .option('--json', 'print one JSON object: {root, runs: RunSummary[], skipped}')
    .action((root: string | undefined, flags: { json?: boolean }) => {
      const list = listRuns(root ?? (existsSync('runs') ? 'runs' : '.'));
      if (flags.json) return write(`${JSON.stringify(list)}\n`);
      for (const s of list.skipped) warn(`mnas: runs list: skipped ${s.dir}: ${s.error}\n`);
      write(formatList(list));
    });
  runs
    .command('show')
    .description('one run: summary, Pareto front, best trial and the top trials by reward')
    .argument('<dir>', 'run directory')
    .option('--top <n>', 'how many of the best trials to list', intOption('runs show: --top', 0, 1_000_000), 10)
    .option('--json', 'print one JSON object: {summary, best, pareto, top}')
    .action((dir: string, flags: { top: number; json?: boolean }) => {
      const d = runDetails(dir, flags.top);
      write(flags.json ? `${JSON.stringify(d)}\n` : formatDetails(d));
    });
  runs
    .command('export')
    .description('every trial of a run as CSV or JSON')
    .argument('<dir>', 'run directory')
    .requiredOption('--format <format>', `${TRIAL_EXPORT_FORMATS.join('|')}`, choiceOption('runs export: --format', TRIAL_EXPORT_FORMATS))
    .option('--out <file>', 'write to FILE (atomically) instead of stdout')
    .action((dir: string, flags: { format: TrialExportFormat; out?: string }) => {
      const text = exportTrials(readRunTrials(dir), flags.format);
      if (flags.out === undefined) return write(text);
      const file = writeFileAtomic(flags.out, text);
      warn(`wrote ${file}\n`);
    });
  runs
    .command('stop')
    .description('ask the search running in DIR to stop cleanly, as on Ctrl-C (continue it with mnas search --resume DIR); works across machines sharing DIR')
    .argument('<dir>', 'run directory')
    .option('--wait <seconds>', 'how long to wait for the search to stop (0: ask and return)', intOption('runs stop: --wait', 0, 86_400), 120)
    .option('--json', 'print one JSON object: {stopped, holder, summary}')
    .action(async (dir: string, flags: { wait: number; json?: boolean }) => {
      const r = await stopRun(dir, { waitS: flags.wait, onWait: (s) => !flags.json && s % 5 === 0 && warn(`runs stop: waiting for the search to stop (${s} s)\n`) });
      if (flags.json) return write(`${JSON.stringify(r)}\n`);
      const who = r.holder ? ` (process ${r.holder.pid} on ${r.holder.host})` : '';
      write(
        r.stopped
          ? `stopped the search in ${r.summary.dir}${who}: ${r.summary.trialsDone + r.summary.trialsFailed} of ${r.summary.budget} trials finished; continue with: mnas search --resume ${r.summary.dir}\n`
          : `asked the search in ${r.summary.dir}${who} to stop; ${flags.wait > 0 ? `it has not stopped after ${flags.wait} s (it stops once it sees the request)` : 'not waiting'}\n`,
      );
    });
  runs
    .command('compare')
    .description('several runs trial by trial: best reward reached after n trials, mean reward per window of trials, best trial of each; --svg draws the history')
    .argument('<dirs...>', 'run directories')
    .option('--at <list>', 'trial counts to report the best reward at, comma-separated (default 10,25,50,100,... and the end)', intListOption('runs compare: --at', 1, 100_000_000))
    .option('--window <n>', 'trials per window of the mean reward', intOption('runs compare: --window', 1, 1_000_000), 50)
    .option('--svg <file>', 'also write the best reward over trials as an SVG plot (atomically)')
    .option('--json', 'print one JSON object: {runs, checkpoints, window, notes}')
    .action((dirs: string[], flags: { at?: number[]; window: number; svg?: string; json?: boolean }) => {
      const c = compareRuns(dirs, { ...(flags.at ? { checkpoints: flags.at } : {}), window: flags.window });
      if (flags.svg !== undefined) warn(`wrote ${writeFileAtomic(flags.svg, historySvg(c))}\n`);
      write(flags.json ? `${JSON.stringify(c)}\n` : formatComparison(c));
    });
  return runs;
}

function formatComparison(c: RunComparison): string {
  const names = c.runs.map((r) => `${r.name} (${r.strategy})`);
  const best = [['BEST REWARD AFTER', ...names], ...c.checkpoints.map((n) => [`${n} trials`, ...c.runs.map((r) => num(bestAt(r, n), 4))])];
  const windows = Math.max(0, ...c.runs.map((r) => r.windowMeans.length));
  const means = [[`MEAN REWARD OF TRIALS`, ...names]];
  for (let w = 0; w < windows; w++) means.push([`${w * c.window + 1}-${(w + 1) * c.window}`, ...c.runs.map((r) => num(r.windowMeans[w] ?? null, 4))]);
  const bestRows = [['RUN', 'TRIALS', 'T ms', 'BEST TRIAL', 'REWARD', 'ACC %', 'LATENCY ms']];
  for (const [i, r] of c.runs.entries()) {
    const b = r.bestTrial;
    bestRows.push([names[i]!, String(r.trials), num(r.targetMs, 4), b ? String(b.id) : '-', b ? b.reward.toFixed(4) : '-', b?.accuracy != null ? (100 * b.accuracy).toFixed(2) : '-', num(b?.latencyMs ?? null, 4)]);
  }
  const notes = c.notes.map((n) => `note: ${n}\n`).join('');
  return `${columns(best)}\n\n${columns(means)}\n\n${columns(bestRows)}\n${notes}`;
}

const num = (v: number | null, digits: number) => (v === null ? '-' : v.toFixed(digits));
const time = (s: number | null) => (s === null ? '-' : fmt(s));

/** Left-aligned columns, two spaces apart. */
function columns(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

function formatList(list: RunsList): string {
  if (list.runs.length === 0) return `no runs at or below ${list.root}\n`;
  const header = ['RUN', 'STATE', 'SPACE', 'STRATEGY', 'DEVICE', 'T ms', 'TRIALS', 'FAILED', 'BEST', 'ELAPSED', 'ETA'];
  const rows = list.runs.map((s) => [
    path.relative(list.root, s.dir) || '.',
    s.state,
    s.space,
    s.strategy,
    s.device,
    num(s.targetMs, 2),
    `${s.trialsDone + s.trialsFailed}/${s.budget ?? '-'}`,
    String(s.trialsFailed - s.trialsSkipped),
    num(s.bestReward, 4),
    time(s.elapsedSec),
    time(s.etaSec),
  ]);
  return `${columns([header, ...rows])}\n`;
}

function stateLine(s: RunSummary): string {
  if (s.state === 'running') {
    const by = s.holder ? ` (process ${s.holder.pid} on ${s.holder.host} since ${s.holder.since})` : '';
    return `running${by}${s.stopRequested ? ', asked to stop' : ''}`;
  }
  if (s.state === 'stopped') return `stopped${s.stopped ? ` (${s.stopped.reason} at ${s.stopped.at})` : ''}; continue with: mnas search --resume ${s.dir}`;
  if (s.state === 'interrupted') return `interrupted (the search ended without finishing: killed or crashed); continue with: mnas search --resume ${s.dir}`;
  return s.state;
}

function pointRows(points: readonly TrialPoint[]): string {
  if (points.length === 0) return '  (none)\n';
  const rows = [['TRIAL', 'ACC %', 'LATENCY ms', 'REWARD', 'MACS', 'ARCHITECTURE']];
  for (const p of points) rows.push([String(p.trial), (p.accuracy * 100).toFixed(2), `${p.latency_ms.toFixed(3)}${p.latency_measured === false ? ' (predicted)' : ''}`, p.reward.toFixed(4), String(p.macs ?? '-'), p.arch]);
  return `${columns(rows).replace(/^/gm, '  ')}\n`;
}

function formatDetails(d: RunDetails): string {
  const s = d.summary;
  const lines = [
    `run: ${s.dir}`,
    `state: ${stateLine(s)}`,
    `settings: space ${s.space}, strategy ${s.strategy}, evaluator ${s.evaluator}, latency ${s.device}, seed ${s.seed}`,
    `target T: ${num(s.targetMs, 3)} ms`,
    `trials: ${s.trialsDone + s.trialsFailed} of ${s.budget ?? '-'} finished (${s.trialsDone} done, ${failedText(s.trialsFailed, s.trialsSkipped)}, ${s.trialsPending} in flight)`,
    `time: started ${s.startedAt ?? '-'}, last update ${s.updatedAt ?? '-'}, searching ${time(s.elapsedSec)}${s.etaSec !== null ? `, ETA ${time(s.etaSec)}` : ''}`,
  ];
  const b = d.best;
  if (s.drift) lines.push(`${driftLabel(s.drift)}: ${driftText(s.drift)}`);
  if (d.measured) lines.push(`latencies measured: ${d.measured.measured} of ${d.measured.done} done trials (${(100 * d.measured.share).toFixed(1)}%); fronts and best hold measured ones only`);
  lines.push(b ? `best: trial ${b.trial}, reward ${b.reward.toFixed(4)}, accuracy ${(b.accuracy * 100).toFixed(2)}%, latency ${b.latency_ms.toFixed(3)} ms\n      ${b.arch}` : 'best: - (no trial has finished)');
  let devices = '';
  for (const [kind, f] of Object.entries(d.devices ?? {})) {
    devices += `pareto front on ${kind} (${f.pareto.length} of ${f.measured} measured, by its latency)${f.best ? `; the best trial takes ${f.best.latency_ms.toFixed(3)} ms there` : ''}:\n${pointRows(f.pareto)}`;
  }
  return `${lines.join('\n')}\npareto front (${d.pareto.length}, by latency):\n${pointRows(d.pareto)}${devices}top ${d.top.length} by reward:\n${pointRows(d.top)}`;
}
