// Where a 2-process distributed search loses against a 1-process one, architecture by
// architecture. Runs the search of `mnas bench distributed-scale` (random strategy, seed 0,
// Fashion-MNIST, one `mnas worker` of N one-thread training processes, latency on ort-cpu, a
// fresh loopback redis-server each time) for each process count of the list in turn; the same
// seed proposes the same architectures every time, so each one's trial can be compared across
// process counts. Per trial it takes from the train job's result: wall seconds outside holds,
// the training loop's seconds (images / images per second), CPU seconds of the training process.
// Prints per search the totals per trial, then, over the architectures trained at both the first
// and the second process count (medians of their runs), the median ratios of CPU seconds, of
// training-loop seconds, of trial seconds outside holds and of the rest (build, BN
// recalibration, evaluation), and a least-squares line of the trial's extra seconds against its
// seconds at the first count: a cost per trial shows as the intercept, a slowdown as the slope.
//
//   node bench/scale-per-arch.mjs [COUNTS=1,2,1,2] [BUDGET=30] [VALIDATION_IMAGES=2000] [--rows FILE]
//
// --rows FILE writes every search's per-trial rows as JSON lines.
import { writeFileSync } from 'node:fs';
import { completedTrainJobs, runScaleSearch, trainingSeconds } from '../dist/src/bench/distributed-scale.js';
import { fitLine } from '../dist/src/latency/predictor.js';
import { mean, median } from '../dist/src/util/stats.js';

const args = process.argv.slice(2);
const rowsAt = args.indexOf('--rows');
const rowsFile = rowsAt >= 0 ? args.splice(rowsAt, 2)[1] : undefined;
const [countsArg = '1,2,1,2', budgetArg = '30', validationArg = '2000'] = args;
const counts = countsArg.split(',').map(Number);
const budget = Number(budgetArg);
const validationImages = Number(validationArg);
if (counts.some((c) => !Number.isInteger(c) || c < 1) || new Set(counts).size < 2 || !Number.isInteger(budget) || budget < 2 || !Number.isInteger(validationImages) || validationImages < 1 || (rowsAt >= 0 && !rowsFile)) {
  console.error('usage: node bench/scale-per-arch.mjs [COUNTS (two process counts or more, e.g. 1,2,1,2)] [BUDGET >= 2] [VALIDATION_IMAGES >= 1] [--rows FILE]');
  process.exit(2);
}
const PROXY_IMAGES = 5000;

function runSearch(processes) {
  return runScaleSearch({ processes, budget, images: PROXY_IMAGES, seed: 0, validationImages }, async (r, redisUrl) => {
    const trials = (await completedTrainJobs(redisUrl))
      .filter(({ outcome }) => outcome?.status === 'done' && outcome.timeline)
      .map(({ job, outcome }) => {
        const { ran, paused } = trainingSeconds([outcome.timeline]);
        const held = outcome.heldSeconds ?? 0;
        return {
          arch: job.arch,
          ran_s: ran,
          paused_s: paused,
          held_s: held,
          trial_s: outcome.seconds - held,
          loop_s: PROXY_IMAGES / outcome.trainImagesPerSecond,
          cpu_s: outcome.memory.cpuSeconds,
        };
      });
    return { processes, seconds: r.session.seconds, trials_per_hour: r.session.trials_per_hour, trials };
  });
}

const per = (trials, key) => mean(trials.map((t) => t[key])) ?? Number.NaN;
const runs = [];
for (const processes of counts) {
  const run = await runSearch(processes);
  runs.push(run);
  const t = run.trials;
  const busy = t.reduce((s, x) => s + x.ran_s - x.paused_s, 0) / (processes * run.seconds);
  console.log(
    `${processes} process(es): ${t.length} trials in ${run.seconds.toFixed(1)} s, ${run.trials_per_hour.toFixed(0)}/h; per trial ${per(t, 'trial_s').toFixed(2)} s outside holds ` +
      `(training loop ${per(t, 'loop_s').toFixed(2)} s), ${per(t, 'cpu_s').toFixed(2)} CPU s, paused ${per(t, 'paused_s').toFixed(2)} s, at closed hold points ${per(t, 'held_s').toFixed(2)} s; ${(100 * busy).toFixed(1)}% busy`,
  );
}
if (rowsFile) writeFileSync(rowsFile, runs.map((r) => JSON.stringify(r)).join('\n') + '\n');

const [first, second] = [...new Set(counts)];
const byArch = new Map();
for (const run of runs) {
  for (const t of run.trials) {
    const entry = byArch.get(t.arch) ?? new Map();
    entry.set(run.processes, [...(entry.get(run.processes) ?? []), t]);
    byArch.set(t.arch, entry);
  }
}
const pairs = [];
for (const entry of byArch.values()) {
  const a = entry.get(first);
  const b = entry.get(second);
  if (!a || !b) continue;
  const m = (ts, f) => median(ts.map(f));
  const rest = (t) => t.trial_s - t.loop_s;
  pairs.push({
    cpu: m(b, (t) => t.cpu_s) / m(a, (t) => t.cpu_s),
    loop: m(b, (t) => t.loop_s) / m(a, (t) => t.loop_s),
    trial: m(b, (t) => t.trial_s) / m(a, (t) => t.trial_s),
    rest: m(b, rest) / m(a, rest),
    x: m(a, (t) => t.trial_s),
    extra: m(b, (t) => t.trial_s) - m(a, (t) => t.trial_s),
  });
}
if (pairs.length < 2) {
  console.log(`fewer than two architectures trained at both ${first} and ${second} processes: nothing to compare`);
  process.exit(0);
}
const { intercept, scale: slope } = fitLine(pairs.map((p) => p.x), pairs.map((p) => p.extra));
const med = (k) => median(pairs.map((p) => p[k])).toFixed(3);
console.log(
  `${pairs.length} architectures at ${second} against ${first} process(es), median ratios: CPU s x${med('cpu')}, training loop x${med('loop')}, trial outside holds x${med('trial')}, ` +
    `the rest of the trial x${med('rest')}; extra seconds per trial = ${intercept.toFixed(3)} s + ${(100 * slope).toFixed(1)}% of its time at ${first}`,
);
