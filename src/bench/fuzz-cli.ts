/**
 * The command line's side of `mnas bench fuzz`: a sample of the fuzz inputs given to real `mnas`
 * processes (arch strings to `mnas inspect`, configs to `mnas search --evaluator synthetic`),
 * checking what a user sees: exit code 0 or 2, never a stack trace or another code.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mnasMainScript } from './child-process.js';
import { fuzzInputs, type FuzzTarget } from './fuzz.js';

export interface CliFuzzReport {
  readonly command: string;
  readonly runs: number;
  /** Exit code (or signal name) -> count. */
  readonly exits: Record<string, number>;
  /** Runs that exited other than 0 or 2, or printed a stack trace. */
  readonly bad: number;
  readonly examples: readonly { input: string; exit: string; stderr: string }[];
}

const STACK = /\n\s+at /;

export function runCliFuzz(o: { archTarget: FuzzTarget; configTarget: FuzzTarget; runs: number; seed: number; onRun?: (done: number, total: number) => void }): CliFuzzReport[] {
  const main = mnasMainScript();
  const dir = mkdtempSync(path.join(tmpdir(), 'mnas-fuzz-cli-'));
  const total = 2 * o.runs;
  let done = 0;
  const sample = (command: string, target: FuzzTarget, index: number, args: (input: string, i: number) => string[]): CliFuzzReport => {
    const inputs = fuzzInputs(target, o.seed, index);
    const exits: Record<string, number> = {};
    const examples: CliFuzzReport['examples'][number][] = [];
    let bad = 0;
    for (let i = 0; i < o.runs; i++) {
      // argv cannot carry NUL bytes; everything else goes through as is
      const input = Buffer.from(inputs.next().value as Uint8Array).toString('utf8').replace(/\0/g, '');
      const r = spawnSync(process.execPath, [main, ...args(input, i)], { encoding: 'utf8', timeout: 120_000 });
      const exit = r.signal ?? String(r.status);
      exits[exit] = (exits[exit] ?? 0) + 1;
      if ((exit !== '0' && exit !== '2') || STACK.test(r.stderr)) {
        bad++;
        if (examples.length < 5) examples.push({ input: JSON.stringify(input), exit, stderr: r.stderr.slice(0, 600) });
      }
      o.onRun?.(++done, total);
    }
    return { command, runs: o.runs, exits, bad, examples };
  };
  try {
    return [
      sample('inspect', o.archTarget, 0, (arch) => ['inspect', arch, '--json']),
      sample('search --config', o.configTarget, 1, (config, i) => {
        const file = path.join(dir, `config-${i}.json`);
        writeFileSync(file, config);
        return ['search', '--config', file, '--evaluator', 'synthetic', '--budget', '2', '--out', path.join(dir, `run-${i}`), '--quiet', '--json'];
      }),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
