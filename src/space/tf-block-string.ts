/**
 * The tensorflow/tpu MnasNet block-string grammar, decoder and encoder:
 *   r<repeats>_k<kernel>_s<stride><stride>_e<expand>_i<in>_o<out>[_se<ratio>][_noskip]
 * e1 decodes to 'dsconv' and e >= 2 to 'mbconv'; no `noskip` means skip 'identity' (a residual
 * where stride 1 and in == out). Regular convs and the pooling skip cannot be written in this
 * grammar (the encoder says so); use the mnas arch string (arch-string.ts) for those.
 */
import { ArchError } from './arch-error.js';
import { chainedInputFilters, makeBlockArgs, type Arch, type BlockArgs } from './arch.js';
import { formatNumber, parseInteger, parseNumber, SeenKeys, splitTokens, tokenError } from './tokens.js';

const FORMAT = 'tf block string';
const EXAMPLE = 'r2_k3_s22_e6_i16_o24_se0.25';

/** Fields of one block string as written; shared with the mnas arch-string grammar. */
export interface BlockFields {
  repeats?: number;
  kernel?: number;
  stride?: number;
  expand?: number;
  inputFilters?: number;
  filters?: number;
  seRatio?: number;
  skip?: 'none' | 'pool';
  conv?: boolean;
}

/**
 * Reads one tf-style token into `fields`; returns false if the token is not a tf token.
 * Throws for a tf token with a malformed value.
 */
export function readTfToken(format: string, where: string, index: number, token: string, fields: BlockFields, seen: SeenKeys): boolean {
  const bad = (problem: string): Error => tokenError(format, where, index, token, problem);
  if (token === 'noskip') {
    seen.mark('skip', index, token);
    fields.skip = 'none';
    return true;
  }
  if (token.startsWith('se')) {
    const v = parseNumber(token.slice(2));
    if (v === undefined) throw bad('SE ratio must be a number, e.g. se0.25');
    seen.mark('se', index, token);
    fields.seRatio = v;
    return true;
  }
  const key = token[0] ?? '';
  const rest = token.slice(1);
  switch (key) {
    case 's': {
      const m = /^(\d)(\d)$/.exec(rest);
      if (!m) throw bad('stride must be two digits (rows, cols), e.g. s22');
      if (m[1] !== m[2]) throw bad(`non-square strides are not supported (got ${m[1]}x${m[2]})`);
      seen.mark('s', index, token);
      fields.stride = Number(m[1]);
      return true;
    }
    case 'r':
    case 'k':
    case 'e':
    case 'i':
    case 'o': {
      const v = parseInteger(rest, bad);
      if (v === undefined) throw bad(`'${key}' must be followed by an integer`);
      seen.mark(key, index, token);
      if (key === 'r') fields.repeats = v;
      else if (key === 'k') fields.kernel = v;
      else if (key === 'e') fields.expand = v;
      else if (key === 'i') fields.inputFilters = v;
      else fields.filters = v;
      return true;
    }
    default:
      return false;
  }
}

/** Turns parsed fields into validated BlockArgs (op from `conv` and e). */
export function blockFromFields(format: string, where: string, f: BlockFields): BlockArgs {
  const expand = f.expand as number;
  const op = f.conv ? 'conv' : expand === 1 ? 'dsconv' : 'mbconv';
  const block: BlockArgs = {
    op,
    expand,
    kernel: f.kernel as number,
    stride: f.stride as number,
    seRatio: f.seRatio ?? 0,
    skip: f.skip ?? 'identity',
    filters: f.filters as number,
    repeats: f.repeats as number,
    ...(f.inputFilters !== undefined ? { inputFilters: f.inputFilters } : {}),
  };
  try {
    return makeBlockArgs(block, where);
  } catch (e) {
    if (e instanceof ArchError) e.message = `${format}: ${e.message}`;
    throw e;
  }
}

/** Core tokens r k s e [i] o [se] [noskip], as shared with the mnas grammar. */
export function formatTfTokens(block: BlockArgs, inputFilters: number | undefined): string[] {
  const tokens = [`r${block.repeats}`, `k${block.kernel}`, `s${block.stride}${block.stride}`, `e${block.expand}`];
  if (inputFilters !== undefined) tokens.push(`i${inputFilters}`);
  tokens.push(`o${block.filters}`);
  if (block.seRatio > 0) tokens.push(`se${formatNumber(block.seRatio)}`);
  return tokens;
}

export function parseTfBlock(text: string, blockIndex = 0): BlockArgs {
  const where = `block ${blockIndex}`;
  const fields: BlockFields = {};
  const seen = new SeenKeys(FORMAT, where);
  splitTokens(FORMAT, text, where).forEach((token, i) => {
    if (!readTfToken(FORMAT, where, i, token, fields, seen)) {
      throw tokenError(FORMAT, where, i, token, 'unknown token (known: r, k, s, e, i, o, se, noskip)');
    }
  });
  seen.require(['r', 'k', 's', 'e', 'i', 'o'], EXAMPLE);
  return blockFromFields(FORMAT, where, fields);
}

/** A list of tf block strings, as an array or one comma-separated string. */
export function parseTfBlocks(input: string | readonly string[]): BlockArgs[] {
  const list = typeof input === 'string' ? input.split(',') : input;
  if (list.length === 0) throw new ArchError(`${FORMAT}: no blocks given`);
  const blocks = list.map((s, i) => parseTfBlock(s, i));
  blocks.forEach((b, i) => {
    const prev = blocks[i - 1];
    if (prev && b.inputFilters !== prev.filters) {
      throw new ArchError(`${FORMAT}: block ${i} says i${b.inputFilters} but block ${i - 1} outputs o${prev.filters}`);
    }
  });
  return blocks;
}

export function printTfBlock(block: BlockArgs, inputFilters: number, blockIndex = 0): string {
  if (block.op === 'conv') throw new ArchError(`${FORMAT}: block ${blockIndex} is a regular conv, which the tf grammar cannot express`);
  if (block.skip === 'pool') throw new ArchError(`${FORMAT}: block ${blockIndex} has the pooling skip, which the tf grammar cannot express`);
  const tokens = formatTfTokens(block, inputFilters);
  if (block.skip === 'none') tokens.push('noskip');
  return tokens.join('_');
}

/** The tf block strings of an arch (declared input filters where given, else the chained ones). */
export function printTfBlocks(arch: Arch): string[] {
  const chained = chainedInputFilters(arch);
  return arch.blocks.map((b, i) => printTfBlock(b, b.inputFilters ?? (chained[i] as number), i));
}
