/** `mnas bench search-latency`: a search's measured latencies against quiet re-measurements (see src/bench/search-latency.ts). */
import type { Command } from 'commander';
import { cpus } from 'node:os';
import { SAME_SPEED_TOLERANCE, planSearchLatency, runSearchLatency, type Agreement, type SearchLatencyReport } from '../../bench/search-latency.js';
import { intOption } from '../options.js';
import { Progress } from '../progress.js';

interface BenchSearchLatencyOptions {
  run: string;
  samples: number;
  seed: number;
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
      ? formatAgreement(`  of the ${r.same_speed.trials} whose reference ran within ${pct(SAME_SPEED_TOLERANCE)} of its search-time speed`, r.same_speed.normalized, r.tolerance)
      : `  no trial's reference ran within ${pct(SAME_SPEED_TOLERANCE)} of its search-time speed: the machine is in another speed mode`,
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
    .option('--quiet', 'no progress display')
    .option('--json', 'print one JSON object on the last line')
    .action(async (o: BenchSearchLatencyOptions) => {
      const options = { dir: o.run, samples: o.samples, seed: o.seed };
      // every refusal before the device is opened
      const plan = planSearchLatency(options);
      const progress = new Progress({ label: 'quiet measurements', total: plan.sample.length, silent: o.quiet === true });
      const report = await runSearchLatency({ ...options, onMeasured: (_m, done) => progress.update(done) }, plan);
      process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : formatReport(report));
    });
}
