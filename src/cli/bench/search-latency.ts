/** `mnas bench search-latency`: a search's measured latencies against quiet re-measurements (see src/bench/search-latency.ts). */
import type { Command } from 'commander';
import { cpus } from 'node:os';
import { DEFAULT_PASS_WAIT_S, DEFAULT_SPEED_PASSES, MAX_PASS_WAIT_S, MAX_SPEED_PASSES, planSearchLatency, runSearchLatency, type Agreement, type SearchLatencyReport } from '../../bench/search-latency.js';
import { intOption } from '../options.js';
import { Progress } from '../progress.js';

interface BenchSearchLatencyOptions {
  run: string;
  samples: number;
  seed: number;
  speedPasses: number;
  passWait: number;
  quiet?: boolean;
  json?: boolean;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function formatAgreement(name: string, a: Agreement, tolerance: number): string {
  return `${name}: ${pct(a.within)} within ${pct(tolerance)}; |error| median ${pct(a.median_abs)}, p90 ${pct(a.p90_abs)}, max ${pct(a.max_abs)}; median signed ${a.median >= 0 ? '+' : ''}${pct(a.median)}`;
}

function formatReport(r: SearchLatencyReport): string {
  const [before, after] = r.loadavg_1m;
  return [
    `${r.run}: ${r.samples} of ${r.measured_trials} measured trials re-measured on ${r.device} (${r.threads} thread(s)), seed ${r.seed}`,
    `reference ${r.reference.name}: ${r.reference.search_start_ms.toFixed(4)} ms at the search's start, ${r.reference.quiet_before_ms.toFixed(4)} / ${r.reference.quiet_after_ms.toFixed(4)} ms quiet (before / after)`,
    formatAgreement('raw (search measurement / quiet)', r.raw, r.tolerance),
    formatAgreement('reference-normalized', r.normalized, r.tolerance),
    r.same_speed.normalized
      ? formatAgreement(`  of the ${r.same_speed.trials} whose reference ran within ${pct(r.same_speed.tolerance)} of its search-time speed`, r.same_speed.normalized, r.tolerance)
      : `  no trial's reference ran within ${pct(r.same_speed.tolerance)} of its search-time speed: the machine is in another speed mode`,
    `off the search's speed after the first quiet pass: ${r.speed_passes.off_speed_first} trial(s); measured again in up to ${r.speed_passes.allowed} more pass(es), ${r.speed_passes.wait_s} s apart`,
    formatAgreement('repeatability (a second quiet measurement / the first, normalized)', r.repeat, r.tolerance),
    `load average ${before.toFixed(1)} -> ${after.toFixed(1)} on ${cpus().length} CPUs (measure on a quiet machine)`,
  ].join('\n') + '\n';
}

export function registerBenchSearchLatency(bench: Command): void {
  bench
    .command('search-latency')
    .description("a search's measured latencies against quiet re-measurements of the same models (target: within 3%), raw and normalized by the reference model")
    .requiredOption('--run <dir>', 'run directory of a local search that measured its latencies')
    .option('--samples <n>', 'trials re-measured, a seeded sample (all when the run has fewer)', intOption('--samples', 1, 100_000), 30)
    .option('--seed <n>', 'seed of the sample', intOption('--seed', 0, 2 ** 31 - 1), 0)
    .option('--speed-passes <n>', "more passes over the trials measured quietly off the search's speed (the machine in another speed mode)", intOption('--speed-passes', 0, MAX_SPEED_PASSES), DEFAULT_SPEED_PASSES)
    .option('--pass-wait <s>', 'seconds to wait before each of those passes', intOption('--pass-wait', 0, MAX_PASS_WAIT_S), DEFAULT_PASS_WAIT_S)
    .option('--quiet', 'no progress display')
    .option('--json', 'print one JSON object on the last line')
    .action(async (o: BenchSearchLatencyOptions) => {
      const options = { dir: o.run, samples: o.samples, seed: o.seed, speedPasses: o.speedPasses, passWaitS: o.passWait };
      // every refusal before the device is opened
      const plan = planSearchLatency(options);
      const progress = new Progress({ label: 'quiet measurements', total: plan.sample.length, silent: o.quiet === true });
      const report = await runSearchLatency(
        {
          ...options,
          onMeasured: (_m, done) => progress.update(done),
          onPass: (pass, trials) => {
            if (o.quiet !== true) process.stderr.write(`pass ${pass + 1}: ${trials} trial(s) were measured off the search's speed; measuring them again in ${o.passWait} s\n`);
          },
        },
        plan,
      );
      process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : formatReport(report));
    });
}
