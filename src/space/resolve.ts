/**
 * Turns what a user typed into an Arch: a preset name, an mnas arch string, or a path to a
 * file holding an arch string or JSON (an Arch record `{global, blocks}`, or `{"arch": "<arch
 * string>"}`), with optional overrides of input shape, classes and head. Whatever it cannot
 * resolve is an ArchError (an InputError) with a one-line message.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ArchError, quoteText } from './arch-error.js';
import { makeArch, withGlobal, type Arch, type ArchInput, type InputShape } from './arch.js';
import { parseArch } from './arch-string.js';
import { getPreset, hasPreset, presetNames } from './presets.js';

export interface ArchOverrides {
  readonly input?: InputShape;
  readonly classes?: number;
  readonly head?: number;
}

export function resolveArch(spec: string, overrides: ArchOverrides = {}): Arch {
  if (typeof spec !== 'string' || spec.trim() === '') throw new ArchError('resolveArch: expected a preset name, an arch string or a file path, got nothing');
  return withOverrides(resolveBase(spec.trim()), overrides);
}

/** `arch` with the given input shape, classes and head (undefined ones unchanged). */
export function withOverrides(arch: Arch, overrides: ArchOverrides): Arch {
  const changes = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return Object.keys(changes).length === 0 ? arch : withGlobal(arch, changes);
}

function resolveBase(spec: string): Arch {
  if (hasPreset(spec)) return getPreset(spec).arch;
  if (spec.includes(':') && !existsSync(spec)) return parseArch(spec);
  if (existsSync(spec)) return readArchFile(spec);
  throw new ArchError(
    `'${quoteText(spec)}' is not a preset (known: ${presetNames().join(', ')}), not an arch string (no ':' after the global prefix) and not an existing file`,
  );
}

export function readArchFile(path: string): Arch {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (e) {
    throw new ArchError(`cannot read arch file '${quoteText(path, 200)}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    if (!text.startsWith('{')) return parseArch(text);
    const json: unknown = JSON.parse(text);
    if (json !== null && typeof json === 'object' && 'arch' in json && typeof json.arch === 'string') return parseArch(json.arch);
    return makeArch(json as ArchInput);
  } catch (e) {
    throw new ArchError(`arch file '${quoteText(path, 200)}': ${quoteText((e as Error).message, 400)}`, { cause: e });
  }
}
