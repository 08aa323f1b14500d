/**
 * timm's architecture strings for the MnasNet family, decoder and encoder: stages of block
 * strings `<type>_r<repeats>_k<kernel>_s<stride>_e<expand>_c<out>[_se<ratio>][_noskip]` with
 * type `ds` (depthwise separable = 'dsconv'), `ir` (inverted residual = 'mbconv', e >= 2) or
 * `cn` (conv-BN-act = 'conv'). Stages are given as arrays (`[['ds_...'], ['ir_...', ...]]`)
 * or as one string with stages separated by '|' and blocks inside a stage by ','. The encoder
 * writes one block per stage. timm strings carry no input filters, so decoded blocks have none.
 * Unknown tokens (timm's own extras included) are errors naming the block and token index.
 */
import { ArchError } from './arch-error.js';
import type { BlockArgs } from './arch.js';
import { blockFromFields, type BlockFields } from './tf-block-string.js';
import { formatNumber, parseInteger, parseNumber, SeenKeys, splitTokens, tokenError } from './tokens.js';

const FORMAT = 'timm arch string';
const EXAMPLE = 'ir_r2_k3_s2_e6_c24_se0.25';
const TYPES: Record<string, BlockArgs['op']> = { ds: 'dsconv', ir: 'mbconv', cn: 'conv' };
const TYPE_OF_OP: Record<BlockArgs['op'], string> = { dsconv: 'ds', mbconv: 'ir', conv: 'cn' };

export function parseTimmBlock(text: string, blockIndex = 0): BlockArgs {
  const where = `block ${blockIndex}`;
  const tokens = splitTokens(FORMAT, text, where);
  const type = tokens[0] as string;
  const op = TYPES[type];
  if (!op) throw tokenError(FORMAT, where, 0, type, `unknown block type (known: ${Object.keys(TYPES).join(', ')})`);
  const seen = new SeenKeys(FORMAT, where);
  const fields: BlockFields = { conv: op === 'conv' };
  tokens.slice(1).forEach((token, j) => {
    const i = j + 1;
    const bad = (problem: string): Error => tokenError(FORMAT, where, i, token, problem);
    if (token === 'noskip') {
      seen.mark('skip', i, token);
      fields.skip = 'none';
      return;
    }
    if (token.startsWith('se')) {
      const v = parseNumber(token.slice(2));
      if (v === undefined) throw bad('SE ratio must be a number, e.g. se0.25');
      seen.mark('se', i, token);
      fields.seRatio = v;
      return;
    }
    const key = token[0] ?? '';
    if (!['r', 'k', 's', 'e', 'c'].includes(key)) throw bad('unknown token (known: r, k, s, e, c, se, noskip)');
    const v = parseInteger(token.slice(1), bad);
    if (v === undefined) throw bad(`'${key}' must be followed by an integer`);
    seen.mark(key, i, token);
    if (key === 'r') fields.repeats = v;
    else if (key === 'k') fields.kernel = v;
    else if (key === 's') fields.stride = v;
    else if (key === 'e') fields.expand = v;
    else fields.filters = v;
  });
  seen.require(op === 'mbconv' ? ['r', 'k', 's', 'e', 'c'] : ['r', 'k', 's', 'c'], EXAMPLE);
  if (op === 'mbconv' && fields.expand === 1) {
    throw new ArchError(`${FORMAT}: ${where}: 'ir' with e1 keeps a 1x1 expand conv in timm; write it as 'ds'`);
  }
  if (op !== 'mbconv' && fields.expand !== undefined && fields.expand !== 1) {
    throw new ArchError(`${FORMAT}: ${where}: '${type}' has no expansion, got e${fields.expand}`);
  }
  fields.expand ??= 1;
  return blockFromFields(FORMAT, where, fields);
}

/** Stages as arrays, or one string with '|' between stages and ',' inside a stage. */
export function parseTimm(input: string | readonly (string | readonly string[])[]): BlockArgs[] {
  const stages: readonly (string | readonly string[])[] = typeof input === 'string' ? input.split('|') : input;
  const flat = stages.flatMap((stage) => (typeof stage === 'string' ? stage.split(',') : [...stage]));
  if (flat.length === 0) throw new ArchError(`${FORMAT}: no blocks given`);
  return flat.map((s, i) => parseTimmBlock(s, i));
}

export function printTimmBlock(block: BlockArgs, blockIndex = 0): string {
  if (block.skip === 'pool') throw new ArchError(`${FORMAT}: block ${blockIndex} has the pooling skip, which timm cannot express`);
  const tokens = [TYPE_OF_OP[block.op], `r${block.repeats}`, `k${block.kernel}`, `s${block.stride}`, `e${block.expand}`, `c${block.filters}`];
  if (block.seRatio > 0) tokens.push(`se${formatNumber(block.seRatio)}`);
  if (block.skip === 'none') tokens.push('noskip');
  return tokens.join('_');
}

/** timm's arch_def: one stage (array) per block. */
export function printTimmStages(blocks: readonly BlockArgs[]): string[][] {
  return blocks.map((b, i) => [printTimmBlock(b, i)]);
}

/** The same as one string: stages joined by ' | '. */
export function printTimm(blocks: readonly BlockArgs[]): string {
  return printTimmStages(blocks)
    .map((stage) => stage.join(','))
    .join(' | ');
}
