// How many trials to queue ahead of the local training processes (QUEUED_AHEAD in
// src/search/setup.ts): replays the ordered schedule of src/search/loop.ts on trial times taken
// from finished runs. Each draw takes TRIALS proxy-trial times at random (with replacement, seeded)
// from the runs' stores, runs them on WORKERS training processes with 0..3 trials queued ahead
// (proposal k waits for trial k - (WORKERS + ahead) to be recorded; results are recorded in id
// order; a trial starts on the first free process), and compares the span with the lower bound
// sum / WORKERS. Prints the mean of that ratio over the draws per number queued ahead.
//
//   node bench/schedule-replay.mjs RUN_DIR... [--workers 2] [--trials 60] [--draws 300] [--seed 0]
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { workers: { type: 'string', default: '2' }, trials: { type: 'string', default: '60' }, draws: { type: 'string', default: '300' }, seed: { type: 'string', default: '0' } },
});
const [workers, trials, draws, seed] = [values.workers, values.trials, values.draws, values.seed].map(Number);
if (positionals.length === 0 || ![workers, trials, draws].every((n) => Number.isInteger(n) && n >= 1) || !Number.isInteger(seed)) {
  console.error('usage: node bench/schedule-replay.mjs RUN_DIR... [--workers N>=1] [--trials N>=1] [--draws N>=1] [--seed N]');
  process.exit(2);
}

const times = [];
for (const dir of positionals) {
  const file = path.join(dir, 'mnas.db');
  if (!existsSync(file)) {
    console.error(`schedule-replay: ${dir} is not a run directory (no mnas.db)`);
    process.exit(2);
  }
  const db = new Database(file, { readonly: true, fileMustExist: true });
  for (const { timings } of db.prepare("SELECT timings FROM trials WHERE status = 'done' AND timings IS NOT NULL").all()) {
    const s = JSON.parse(timings).trial_s;
    if (typeof s === 'number' && s > 0) times.push(s);
  }
  db.close();
}
if (times.length === 0) {
  console.error('schedule-replay: no trained trials with trial_s in the given runs');
  process.exit(2);
}

/** Span of the ordered schedule with `window` trials in flight (proposed, not yet recorded). */
function span(durations, window) {
  const free = new Array(workers).fill(0);
  const recorded = [];
  let end = 0;
  for (let k = 0; k < durations.length; k++) {
    const proposedAt = k < window ? 0 : recorded[k - window];
    const w = free.indexOf(Math.min(...free));
    const finish = Math.max(proposedAt, free[w]) + durations[k];
    free[w] = finish;
    recorded.push(Math.max(finish, k > 0 ? recorded[k - 1] : 0));
    end = Math.max(end, finish);
  }
  return end;
}

// mulberry32: a small seeded generator, so the same seed draws the same trials
let state = seed >>> 0;
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const ratios = new Map([0, 1, 2, 3].map((ahead) => [ahead, 0]));
for (let d = 0; d < draws; d++) {
  const durations = Array.from({ length: trials }, () => times[Math.floor(random() * times.length)]);
  const bound = durations.reduce((a, b) => a + b, 0) / workers;
  for (const ahead of ratios.keys()) ratios.set(ahead, ratios.get(ahead) + span(durations, workers + ahead) / bound / draws);
}
console.log(JSON.stringify({ trial_times: times.length, workers, trials, draws, seed, mean_span_over_bound: Object.fromEntries([...ratios].map(([a, r]) => [`ahead_${a}`, +r.toFixed(4)])) }));
