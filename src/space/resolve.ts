/**
 * Turns what a user typed into an Arch: a preset name, an mnas arch string, a timm arch string
 * (`ds_r1_k3_s1_e1_c16 | ir_r2_k3_s2_e6_c24 | ...`, or timm's arch_def list pasted as is:
 * `[['ds_r1_k3_s1_e1_c16'], ['ir_r2_k3_s2_e6_c24'], ...]`; timm strings carry only the blocks,
 * so the rest is timm's MnasNet frame: 224x224x3, 1000 classes, stem 32 s2, head 1280), or a path
 * to a file holding any of these or JSON (an Arch record `{global, blocks}`, or `{"arch": "<arch
 * string>"}`), with optional overrides of input shape, classes and head. Whatever it cannot
 * resolve is an ArchError (an InputError) with a one-line message.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ArchError, quoteText } from './arch-error.js';
import { makeArch, withGlobal, type Arch, type ArchInput, type InputShape } from './arch.js';
import { parseArch } from './arch-string.js';
import { getPreset, hasPreset, presetNames } from './presets.js';
import { parseTimm } from './timm-string.js';

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

/** The global parameters of a timm arch string's network: timm's MnasNet / EfficientNet-family frame. */
export const TIMM_DEFAULT_GLOBAL = Object.freeze({
  input: Object.freeze({ height: 224, width: 224, channels: 3 }),
  classes: 1000,
  stem: Object.freeze({ filters: 32, stride: 2 }),
  head: 1280,
});

/** Whether `text` is a timm arch string or timm arch_def list (its first block starts with ds_, ir_ or cn_). */
export function isTimmArch(text: string): boolean {
  return /^(\[\s*\[?\s*['"])?(ds|ir|cn)_/.test(text.trim());
}

/** A timm arch string or pasted arch_def list, in timm's MnasNet frame. */
export function timmArch(text: string): Arch {
  const trimmed = text.trim();
  let stages: string | string[][] = trimmed;
  if (trimmed.startsWith('[')) {
    try {
      stages = JSON.parse(trimmed.replace(/'/g, '"').replace(/,\s*\]/g, ']')) as string[][];
    } catch (e) {
      throw new ArchError(`timm arch_def list: not a list of lists of block strings: ${(e as Error).message}`);
    }
    if (!Array.isArray(stages) || !stages.every((s) => Array.isArray(s) && s.every((b) => typeof b === 'string'))) {
      throw new ArchError('timm arch_def list: expected a list of stages, each a list of block strings');
    }
  }
  // timm strings carry no input filters: each block takes the stem's or the previous block's
  const blocks = parseTimm(stages).map((b, i, all) => ({ ...b, inputFilters: i === 0 ? TIMM_DEFAULT_GLOBAL.stem.filters : all[i - 1]!.filters }));
  return makeArch({ global: TIMM_DEFAULT_GLOBAL, blocks });
}

function resolveBase(spec: string): Arch {
  if (hasPreset(spec)) return getPreset(spec).arch;
  if (isTimmArch(spec) && !existsSync(spec)) return timmArch(spec);
  if (spec.includes(':') && !existsSync(spec)) return parseArch(spec);
  if (existsSync(spec)) return readArchFile(spec);
  throw new ArchError(
    `'${quoteText(spec)}' is not a preset (known: ${presetNames().join(', ')}), not an arch string (no ':' after the global prefix), not a timm arch string (ds_/ir_/cn_ blocks) and not an existing file`,
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
    if (isTimmArch(text)) return timmArch(text);
    if (!text.startsWith('{')) return parseArch(text);
    const json: unknown = JSON.parse(text);
    if (json !== null && typeof json === 'object' && 'arch' in json && typeof json.arch === 'string') return parseArch(json.arch);
    return makeArch(json as ArchInput);
  } catch (e) {
    throw new ArchError(`arch file '${quoteText(path, 200)}': ${quoteText((e as Error).message, 400)}`, { cause: e });
  }
}
