#!/usr/bin/env node
/**
 * The `mnas` command line. Each command lives in its own file and registers itself here.
 * Exit codes: 0 success, 2 invalid input (UsageError or bad options), 1 anything else.
 */
import { Command, CommanderError } from 'commander';
import { UsageError } from './errors.js';
import { registerInspect } from './inspect.js';
import { registerLatency } from './latency.js';
import { registerBench } from './bench.js';
import { registerDevices } from './devices.js';
import { registerMeasure } from './measure.js';
import { registerExport } from './export.js';
import { registerSearch } from './search.js';
import { registerTrain } from './train.js';
// commands: one import per command above, one register call per command below (keep sorted)

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('mnas')
    .description('Platform-aware neural architecture search (MnasNet): search, train, measure and export mobile CNNs')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerBench(program);
  registerDevices(program);
  registerExport(program);
  registerInspect(program);
  registerLatency(program);
  registerMeasure(program);
  registerSearch(program);
  registerTrain(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version also end here, with exit code 0
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`mnas: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`mnas: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === new URL(`file://${(await import('node:fs')).realpathSync(process.argv[1])}`).href;
if (invokedDirectly) {
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
}
