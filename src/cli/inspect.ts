/**
 * `mnas inspect <preset|arch-string|file> [--input HxWxC] [--classes N] [--head N] [--json]`:
 * resolves an architecture, builds its plan and prints a per-layer table (channels, sizes,
 * params, MACs, activations) with totals and the arch string. With --json the output is one
 * JSON line: { arch, params, buffers, macs, activations, peakActivations, layers }.
 */
import type { Command } from 'commander';
import type { LayerCost } from '../model/cost.js';
import { inspect, type Inspection } from '../model/inspect.js';
import { MAX_CHANNELS, MAX_CLASSES, parseInputShapeText } from '../model/limits.js';
import type { InputShape } from '../space/arch.js';
import { quoteText } from '../space/arch-error.js';
import type { ArchOverrides } from '../space/resolve.js';
import { UsageError } from './errors.js';

export type Writer = (text: string) => void;

interface InspectOptions {
  input?: string;
  classes?: string;
  head?: string;
  json?: boolean;
}

export function registerInspect(program: Command, write: Writer = (text) => void process.stdout.write(text)): Command {
  return program
    .command('inspect')
    .description('print the per-layer table, params, MACs and activation memory of an architecture')
    .argument('<arch>', 'a preset name, an arch string, or a file holding an arch string or JSON')
    .option('--input <HxWxC>', 'override the input shape, e.g. 224x224x3')
    .option('--classes <n>', 'override the number of classes')
    .option('--head <n>', 'override the head conv width (0 = no head conv)')
    .option('--json', 'print one JSON object instead of the table')
    .action((spec: string, options: InspectOptions) => {
      write(inspectCommand(spec, options));
    });
}

/** The text `mnas inspect` prints (ends with a newline). Throws UsageError on bad input. */
export function inspectCommand(spec: string, options: InspectOptions = {}): string {
  const overrides: ArchOverrides = {
    ...(options.input !== undefined ? { input: parseInputShape(options.input) } : {}),
    ...(options.classes !== undefined ? { classes: parseCount(options.classes, '--classes', 1, MAX_CLASSES) } : {}),
    ...(options.head !== undefined ? { head: parseCount(options.head, '--head', 0, MAX_CHANNELS) } : {}),
  };
  let inspection: Inspection;
  try {
    inspection = inspect(spec, overrides);
  } catch (e) {
    throw new UsageError(`inspect: ${(e as Error).message}`, { cause: e });
  }
  return options.json ? `${JSON.stringify(inspection)}\n` : formatTable(inspection);
}

export function parseInputShape(text: string): InputShape {
  try {
    return parseInputShapeText(text);
  } catch (e) {
    throw new UsageError(`inspect: ${(e as Error).message}`, { cause: e });
  }
}

function parseCount(text: string, flag: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || value < min) throw new UsageError(`inspect: ${flag} must be an integer >= ${min}, got '${quoteText(text)}'`);
  if (!(value <= max)) throw new UsageError(`inspect: ${flag} ${quoteText(text.trim())} exceeds the limit ${max}`);
  return value;
}

const group = (n: number): string => n.toLocaleString('en-US');

function formatTable(cost: Inspection): string {
  const archString = cost.arch;
  const header = ['layer', 'op', 'in', 'out', 'params', 'MACs', 'activations'];
  const row = (l: LayerCost): string[] => [
    l.name,
    l.description,
    `${l.inChannels}@${l.inSize}`,
    `${l.outChannels}@${l.outSize}`,
    group(l.params),
    group(l.macs),
    group(l.activations),
  ];
  const total = ['total', '', '', '', group(cost.params), group(cost.macs), group(cost.activations)];
  const rows = [header, ...cost.layers.map(row), total];
  const widths = header.map((_, c) => Math.max(...rows.map((r) => (r[c] as string).length)));
  const numeric = (c: number): boolean => c >= 4;
  const line = (r: string[]): string =>
    r.map((cell, c) => (numeric(c) ? cell.padStart(widths[c] as number) : cell.padEnd(widths[c] as number))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [
    `arch: ${archString}`,
    '',
    line(header),
    rule,
    ...cost.layers.map((l) => line(row(l))),
    rule,
    line(total),
    '',
    `params ${group(cost.params)} (+ ${group(cost.buffers)} BN buffers), MACs ${group(cost.macs)}, activations ${group(cost.activations)} elements incl. the input image (peak layer in+out ${group(cost.peakActivations)})`,
    '',
  ].join('\n');
}
