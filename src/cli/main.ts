#!/usr/bin/env node
/**
 * The `mnas` command line. Each command lives in its own file and registers itself here.
 * Exit codes: 0 success, 2 invalid input (any InputError, bad options) or no browser device in
 * time, 1 an internal error.
 * Only internal errors may print a stack, and only with --debug (anywhere on the command line)
 * or MNAS_DEBUG=1; every error a user can cause is one line.
 */
import { Command, CommanderError } from 'commander';
import { isInputError } from '../util/input-error.js';
import { NoDeviceError } from '../latency/browser/farm.js';
import { registerConfig } from './config.js';
import { registerDashboard } from './dashboard.js';
import { registerInspect } from './inspect.js';
import { registerLatency } from './latency.js';
import { registerBench } from './bench.js';
import { registerDevices } from './devices.js';
import { registerMeasure } from './measure.js';
import { registerReport } from './report.js';
import { registerRuns } from './runs.js';
import { registerExport } from './export.js';
import { registerSearch } from './search.js';
import { registerTrain } from './train.js';
import { registerWorker } from './worker.js';
import { registerWorkers } from './workers.js';
// commands: one import per command above, one register call per command below (keep sorted)

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('mnas')
    .description('Platform-aware neural architecture search (MnasNet): search, train, measure and export mobile CNNs')
    .version('0.1.0')
    .option('--debug', 'print the stack trace of an internal error (also MNAS_DEBUG=1)')
    // one line for a usage error, like every other error a user can cause
    .configureOutput({ outputError: (text, write) => write(`mnas: ${oneLine(text.replace(/^error: /, ''))} (see --help)\n`) })
    .exitOverride();
  registerBench(program);
  registerConfig(program);
  registerDashboard(program);
  registerDevices(program);
  registerExport(program);
  registerInspect(program);
  registerLatency(program);
  registerMeasure(program);
  registerReport(program);
  registerRuns(program);
  registerSearch(program);
  registerTrain(program);
  registerWorker(program);
  registerWorkers(program);
  return program;
}

/** --debug anywhere before a `--` turns on stacks; it is removed before the commands parse. */
function takeDebugFlag(argv: readonly string[]): { argv: string[]; debug: boolean } {
  const end = argv.indexOf('--');
  const head = end < 0 ? [...argv] : argv.slice(0, end);
  const debug = head.includes('--debug') || process.env['MNAS_DEBUG'] === '1';
  return { argv: [...head.filter((a) => a !== '--debug'), ...(end < 0 ? [] : argv.slice(end))], debug };
}

/** One line for the user; the stack only when debugging. Returns the exit code. */
export function reportError(e: unknown, debug: boolean, write: (s: string) => void = (s) => void process.stderr.write(s)): number {
  // no browser device came: the user's setup to fix, like a bad argument
  if (isInputError(e) || e instanceof NoDeviceError) {
    write(`mnas: ${oneLine(e.message)}\n`);
    if (debug && e.stack) write(`${e.stack}\n`);
    return 2;
  }
  const message = e instanceof Error ? e.message : String(e);
  write(`mnas: internal error: ${oneLine(message)}${debug ? '' : ' (run with --debug or MNAS_DEBUG=1 for the stack trace, and please report it)'}\n`);
  if (debug) write(`${(e as Error)?.stack ?? String(e)}\n`);
  return 1;
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

export async function main(argv: readonly string[]): Promise<number> {
  const { argv: args, debug } = takeDebugFlag(argv);
  const program = buildProgram();
  try {
    await program.parseAsync(args, { from: 'user' });
    // a command that ended early but cleanly (an interrupted search: 130) set its own code
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version also end here, with exit code 0
      return e.exitCode === 0 ? 0 : 2;
    }
    return reportError(e, debug);
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === new URL(`file://${(await import('node:fs')).realpathSync(process.argv[1])}`).href;
if (invokedDirectly) {
  const { debug } = takeDebugFlag(process.argv.slice(2));
  // errors thrown outside the command's promise (event handlers, timers) get the same treatment
  const fatal = (e: unknown) => {
    process.exitCode = reportError(e, debug);
    process.exit();
  };
  // output piped into a reader that stopped early (`mnas runs export DIR --format csv | head`) is not an error
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') return fatal(e);
    process.exit();
  });
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
}
