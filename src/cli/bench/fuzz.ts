/** `mnas bench fuzz`: random and mutated inputs through the parsers (see src/bench/fuzz.ts). */
import type { Command } from 'commander';
import { runFuzz, type FuzzReport } from '../../bench/fuzz.js';
import { archTarget, configTarget, FUZZ_TARGETS } from '../../bench/fuzz-targets.js';
import { runCliFuzz, type CliFuzzReport } from '../../bench/fuzz-cli.js';
import { UsageError } from '../errors.js';
import { Progress } from '../progress.js';
import { intOption } from '../options.js';

interface BenchFuzzOptions {
  count: number;
  seed: number;
  targets: string;
  cli: number;
  json?: boolean;
}

function formatFuzzReport(r: FuzzReport, cli: CliFuzzReport[]): string {
  const lines = [`${r.inputs} inputs (seed ${r.seed}) in ${r.seconds.toFixed(1)} s: ${r.crashed} crashed, ${r.slow} slower than ${r.slow_ms} ms`];
  lines.push('target          inputs  accepted  refused  crashed  max ms');
  for (const t of r.targets) lines.push(`${t.target.padEnd(14)}  ${String(t.inputs).padStart(6)}  ${String(t.accepted).padStart(8)}  ${String(t.refused).padStart(7)}  ${String(t.crashed).padStart(7)}  ${t.max_ms.toFixed(1).padStart(6)}`);
  for (const t of r.targets) for (const c of t.crashes) lines.push(`crash in ${t.target}: ${c.error}\n  input ${c.input}`);
  for (const c of cli) lines.push(`mnas ${c.command}: ${c.runs} processes, exit codes ${JSON.stringify(c.exits)}, ${c.bad} other than 0/2 or with a stack trace`);
  for (const c of cli) for (const e of c.examples) lines.push(`bad exit ${e.exit} of mnas ${c.command} on ${e.input}: ${e.stderr}`);
  return `${lines.join('\n')}\n`;
}

export function registerBenchFuzz(bench: Command): void {
  bench
    .command('fuzz')
    .description('random and mutated arch strings, configs, safetensors files and device frames through the parsers: counts crashes (anything but accepted or one-line refusal)')
    .option('--count <n>', 'inputs in all, shared evenly by the targets', intOption('--count', 1, 100_000_000), 100_000)
    .option('--seed <n>', 'seed of the inputs', intOption('--seed', 0), 0)
    .option('--targets <list>', `comma-separated: ${FUZZ_TARGETS.map((t) => t.name).join(',')}`, FUZZ_TARGETS.map((t) => t.name).join(','))
    .option('--cli <n>', 'also give N arch inputs to `mnas inspect` and N configs to `mnas search` processes and check their exit codes', intOption('--cli', 0, 100_000), 50)
    .option('--json', 'print one JSON object on the last line')
    .action((o: BenchFuzzOptions) => {
      const names = o.targets.split(',').map((s) => s.trim());
      const targets = names.map((n) => {
        const t = FUZZ_TARGETS.find((x) => x.name === n);
        if (!t) throw new UsageError(`bench fuzz: --targets: unknown target '${n}' (known: ${FUZZ_TARGETS.map((x) => x.name).join(', ')})`);
        return t;
      });
      if (new Set(names).size !== names.length) throw new UsageError('bench fuzz: --targets names a target twice');
      const bar = new Progress({ label: 'fuzz', total: o.count + 2 * o.cli });
      const perTarget = Math.ceil(o.count / targets.length);
      const offsets = new Map(targets.map((t, i) => [t.name, i * perTarget]));
      const report = runFuzz({ targets, perTarget, seed: o.seed, onProgress: (name, done) => bar.update((offsets.get(name) ?? 0) + done, name) });
      const cli = o.cli > 0 ? runCliFuzz({ archTarget, configTarget, runs: o.cli, seed: o.seed, onRun: (done) => bar.update(perTarget * targets.length + done, 'cli') }) : [];
      bar.update(o.count + 2 * o.cli, "done");
      process.stdout.write(o.json ? `${JSON.stringify({ ...report, cli })}\n` : formatFuzzReport(report, cli));
      if (report.crashed > 0 || cli.some((c) => c.bad > 0)) process.exitCode = 1;
    });
}
