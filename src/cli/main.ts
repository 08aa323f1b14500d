#!/usr/bin/env node
/**
 * The `mnas` command line. Each command lives in its own file and registers itself here.
 * Exit codes: 0 success, 2 invalid input (any InputError, bad options) or no browser device in
 * time, 1 a browser device that failed a measurement (it left, could not run the model, or
 * reported timings that cannot be true) or an internal error.
 * Only internal errors may print a stack, and only with --debug (anywhere on the command line)
 * or MNAS_DEBUG=1; every error a user can cause is one line.
 */
import { Command, CommanderError } from 'commander';
import { isInputError } from '../util/input-error.js';
import { JobFailedError, NoDeviceError } from '../latency/browser/farm.js';

type Register = (program: Command) => void;

/**
 * Every command, with the module that registers it. A command's module is loaded only when that
 * command runs (or for the whole --help), so `mnas inspect` does not load what `mnas search` needs.
 * Keep sorted.
 */
const COMMANDS: ReadonlyArray<readonly [name: string, load: () => Promise<Register>]> = [
  ['bench', async () => (await import('./bench.js')).registerBench],
  ['config', async () => (await import('./config.js')).registerConfig],
  ['dashboard', async () => (await import('./dashboard.js')).registerDashboard],
  ['devices', async () => (await import('./devices.js')).registerDevices],
  ['export', async () => (await import('./export.js')).registerExport],
  ['inspect', async () => (await import('./inspect.js')).registerInspect],
  ['latency', async () => (await import('./latency.js')).registerLatency],
  ['measure', async () => (await import('./measure.js')).registerMeasure],
  ['report', async () => (await import('./report.js')).registerReport],
  ['runs', async () => (await import('./runs.js')).registerRuns],
  ['search', async () => (await import('./search.js')).registerSearch],
  ['train', async () => (await import('./train.js')).registerTrain],
  ['worker', async () => (await import('./worker.js')).registerWorker],
  ['workers', async () => (await import('./workers.js')).registerWorkers],
];

export const COMMAND_NAMES: readonly string[] = COMMANDS.map(([name]) => name);

/** The program with every command, or only the one `argv` starts with (what it will run). */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command();
  program
    .name('mnas')
    .description('Platform-aware neural architecture search (MnasNet): search, train, measure and export mobile CNNs')
    .version('0.1.0')
    .option('--debug', 'print the stack trace of an internal error (also MNAS_DEBUG=1)')
    // one line for a usage error, like every other error a user can cause
    .configureOutput({ outputError: (text, write) => write(`mnas: ${oneLine(text.replace(/^error: /, ''))} (see --help)\n`) })
    .exitOverride();
  const version = argv[0] === '--version' || argv[0] === '-V';
  const named = COMMANDS.filter(([name]) => name === argv[0]);
  for (const [, load] of version ? [] : named.length > 0 ? named : COMMANDS) (await load())(program);
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
  // a device's failure, said by the device server in one line: not a fault of mnas to report
  if (e instanceof JobFailedError) {
    write(`mnas: browser device failed: ${oneLine(e.message)}\n`);
    if (debug && e.stack) write(`${e.stack}\n`);
    return 1;
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
  const program = await buildProgram(args);
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
