/**
 * The mnas architecture string: a global prefix, ':', then comma-separated block strings in
 * the tensorflow/tpu grammar extended with the op kind and the pooling skip. Example
 * (mnasnet-a1):
 *
 *   in224x224x3_cls1000_stem32s2_head1280:r1_k3_s11_e1_i32_o16_noskip,r2_k3_s22_e6_i16_o24,...
 *
 * Grammar (tokens separated by '_', any order inside a part, each at most once; whitespace
 * around ':' and ',' is ignored):
 *   arch    := global ':' block (',' block)*
 *   global  := in<H>x<W>x<C> cls<classes> stem<filters>s<stride> head<filters, 0 = none>
 *              [drop<p>] [bnm<momentum>] [bne<eps>]     (defaults 0.2, 0.99, 0.001; printed
 *                                                        only when different)
 *   block   := [conv] r<repeats> k<kernel> s<stride><stride> e<expand> [i<in>] o<out>
 *              [se<ratio>] [noskip | poolskip]
 * Op kind: `conv` marks a regular conv (e must be 1); otherwise e1 is 'dsconv' and e >= 2 is
 * 'mbconv', as in tensorflow/tpu. Skip: none of the two tokens = 'identity', `noskip` = 'none',
 * `poolskip` = 'pool'. `i` is printed when the arch declares input filters (decoded archs do).
 * Every plain tf block string is a valid block here. Unknown or malformed tokens are errors
 * naming the block index, the token index and the token. parseArch throws only ArchError (size
 * limits: LimitError, a subclass), for any string.
 */
import { checkBlockCount } from '../model/limits.js';
import { ArchError, quoteText } from './arch-error.js';
import { makeArch, type Arch, type BlockArgs, DEFAULT_BN_EPS, DEFAULT_BN_MOMENTUM, DEFAULT_DROPOUT, type GlobalParamsInput } from './arch.js';
import { blockFromFields, formatTfTokens, readTfToken, type BlockFields } from './tf-block-string.js';
import { formatNumber, parseInteger, parseNumber, SeenKeys, splitTokens, tokenError } from './tokens.js';

const FORMAT = 'arch string';
const GLOBAL_EXAMPLE = 'in224x224x3_cls1000_stem32s2_head1280';
const BLOCK_EXAMPLE = 'r2_k3_s22_e6_i16_o24_se0.25';

export function printArch(arch: Arch): string {
  return `${printGlobal(arch)}:${arch.blocks.map(printBlock).join(',')}`;
}

export function parseArch(text: string): Arch {
  if (typeof text !== 'string') throw new ArchError(`${FORMAT}: expected a string, got ${typeof text}`);
  try {
    const colon = text.indexOf(':');
    if (colon < 0) throw new ArchError(`${FORMAT}: missing ':' between the global prefix (e.g. ${GLOBAL_EXAMPLE}) and the blocks in '${quoteText(text)}'`);
    const global = parseGlobal(text.slice(0, colon));
    const blockTexts = text.slice(colon + 1).split(',');
    checkBlockCount(blockTexts.length, `${FORMAT}: blocks`);
    const blocks = blockTexts.map((s, i) => parseBlock(s, i));
    try {
      return makeArch({ global, blocks });
    } catch (e) {
      if (e instanceof ArchError) e.message = `${FORMAT}: ${e.message}`; // keeps the class (LimitError)
      throw e;
    }
  } catch (e) {
    if (e instanceof ArchError) throw e;
    // a bug, or the engine out of stack or memory: still the one error type callers handle
    throw new ArchError(`${FORMAT}: cannot parse '${quoteText(text)}': ${quoteText(String((e as Error)?.message ?? e), 200)}`, { cause: e });
  }
}

export function printGlobal(arch: Arch): string {
  const g = arch.global;
  const tokens = [
    `in${g.input.height}x${g.input.width}x${g.input.channels}`,
    `cls${g.classes}`,
    `stem${g.stem.filters}s${g.stem.stride}`,
    `head${g.head}`,
  ];
  if (g.dropout !== DEFAULT_DROPOUT) tokens.push(`drop${formatNumber(g.dropout)}`);
  if (g.bnMomentum !== DEFAULT_BN_MOMENTUM) tokens.push(`bnm${formatNumber(g.bnMomentum)}`);
  if (g.bnEps !== DEFAULT_BN_EPS) tokens.push(`bne${formatNumber(g.bnEps)}`);
  return tokens.join('_');
}

export function printBlock(block: BlockArgs): string {
  const tokens = formatTfTokens(block, block.inputFilters);
  if (block.skip === 'none') tokens.push('noskip');
  if (block.skip === 'pool') tokens.push('poolskip');
  return (block.op === 'conv' ? ['conv', ...tokens] : tokens).join('_');
}

function parseGlobal(text: string): GlobalParamsInput {
  const where = 'global prefix';
  const seen = new SeenKeys(FORMAT, where);
  const g: { -readonly [K in keyof GlobalParamsInput]?: GlobalParamsInput[K] } = {};
  splitTokens(FORMAT, text, where).forEach((token, i) => {
    const bad = (problem: string): Error => tokenError(FORMAT, where, i, token, problem);
    let m: RegExpExecArray | null;
    if ((m = /^in(.*)$/.exec(token))) {
      const dims = /^(\d+)x(\d+)x(\d+)$/.exec(m[1] as string);
      if (!dims) throw bad('input must be in<H>x<W>x<C>, e.g. in224x224x3');
      seen.mark('in', i, token);
      const dim = (k: number): number => parseInteger(dims[k] as string, bad) as number;
      g.input = { height: dim(1), width: dim(2), channels: dim(3) };
    } else if ((m = /^cls(.*)$/.exec(token))) {
      const v = parseInteger(m[1] as string, bad);
      if (v === undefined) throw bad('classes must be cls<integer>, e.g. cls1000');
      seen.mark('cls', i, token);
      g.classes = v;
    } else if ((m = /^stem(.*)$/.exec(token))) {
      const s = /^(\d+)s(\d+)$/.exec(m[1] as string);
      if (!s) throw bad('stem must be stem<filters>s<stride>, e.g. stem32s2');
      seen.mark('stem', i, token);
      g.stem = { filters: parseInteger(s[1] as string, bad) as number, stride: parseInteger(s[2] as string, bad) as number };
    } else if ((m = /^head(.*)$/.exec(token))) {
      const v = parseInteger(m[1] as string, bad);
      if (v === undefined) throw bad('head must be head<filters> (head0 = no head conv)');
      seen.mark('head', i, token);
      g.head = v;
    } else if ((m = /^(drop|bnm|bne)(.*)$/.exec(token))) {
      const v = parseNumber(m[2] as string);
      if (v === undefined) throw bad(`'${m[1]}' must be followed by a number`);
      seen.mark(m[1] as string, i, token);
      if (m[1] === 'drop') g.dropout = v;
      else if (m[1] === 'bnm') g.bnMomentum = v;
      else g.bnEps = v;
    } else {
      throw bad('unknown token (known: in, cls, stem, head, drop, bnm, bne)');
    }
  });
  seen.require(['in', 'cls', 'stem', 'head'], GLOBAL_EXAMPLE);
  return g as GlobalParamsInput;
}

function parseBlock(text: string, blockIndex: number): BlockArgs {
  const where = `block ${blockIndex}`;
  const seen = new SeenKeys(FORMAT, where);
  const fields: BlockFields = {};
  splitTokens(FORMAT, text, where).forEach((token, i) => {
    if (token === 'conv') {
      seen.mark('conv', i, token);
      fields.conv = true;
    } else if (token === 'poolskip') {
      seen.mark('skip', i, token);
      fields.skip = 'pool';
    } else if (!readTfToken(FORMAT, where, i, token, fields, seen)) {
      throw tokenError(FORMAT, where, i, token, 'unknown token (known: conv, r, k, s, e, i, o, se, noskip, poolskip)');
    }
  });
  seen.require(['r', 'k', 's', 'e', 'o'], BLOCK_EXAMPLE);
  return blockFromFields(FORMAT, where, fields);
}
