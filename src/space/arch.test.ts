import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArchError } from './arch-error.js';
import { chainedInputFilters, makeArch, withGlobal, type ArchInput, type BlockArgs } from './arch.js';

const block = (over: Partial<BlockArgs> = {}): BlockArgs => ({
  op: 'mbconv', expand: 6, kernel: 3, stride: 1, seRatio: 0, skip: 'identity', filters: 16, repeats: 1, ...over,
});
const input = (blocks: BlockArgs[] = [block()]): ArchInput => ({
  global: { input: { height: 28, width: 28, channels: 1 }, classes: 10, stem: { filters: 16, stride: 1 }, head: 0 },
  blocks,
});

test('makeArch fills defaults and deep-freezes', () => {
  const arch = makeArch(input());
  assert.equal(arch.global.dropout, 0.2);
  assert.equal(arch.global.bnMomentum, 0.99);
  assert.equal(arch.global.bnEps, 1e-3);
  assert.equal(arch.global.stem.kernel, 3);
  assert.ok(Object.isFrozen(arch) && Object.isFrozen(arch.global.input) && Object.isFrozen(arch.blocks[0]));
  assert.throws(() => {
    (arch.blocks[0] as { filters: number }).filters = 3;
  }, TypeError);
});

test('makeArch names the bad field and value', () => {
  const cases: [ArchInput, RegExp][] = [
    [input([block({ op: 'sep' as never })]), /arch\.blocks\[0\]\.op: expected one of .* got 'sep'/],
    [input([block({ op: 'mbconv', expand: 1 })]), /blocks\[0\]\.expand: 'mbconv' needs an expansion >= 2/],
    [input([block({ op: 'dsconv', expand: 6 })]), /blocks\[0\]\.expand: 'dsconv' has no expansion/],
    [input([block({ kernel: 4 })]), /blocks\[0\]\.kernel: must be odd/],
    [input([block({ stride: 3 })]), /blocks\[0\]\.stride/],
    [input([block({ seRatio: 1.5 })]), /blocks\[0\]\.seRatio/],
    [input([block(), block({ repeats: 0 })]), /blocks\[1\]\.repeats: expected a positive integer, got 0/],
    [input([block({ filters: 24 }), block({ inputFilters: 16 })]), /blocks\[1\]\.inputFilters: declared 16 but block 0 outputs 24/],
    [input([]), /arch\.blocks: expected a non-empty array/],
    [{ ...input(), global: { ...input().global, classes: 0 } }, /arch\.global\.classes/],
    [{ ...input(), global: { ...input().global, colour: 1 } as never }, /arch\.global: unknown field 'colour'/],
    [input([{ ...block(), extra: 1 } as never]), /arch\.blocks\[0\]: unknown field 'extra'/],
  ];
  for (const [bad, message] of cases) assert.throws(() => makeArch(bad), message);
});

test('the stem wins over block 0 inputFilters; chained widths follow the blocks', () => {
  const arch = makeArch(input([block({ inputFilters: 99, filters: 24 }), block({ filters: 32 })]));
  assert.deepEqual(chainedInputFilters(arch), [16, 24]);
});

test('withGlobal overrides and revalidates', () => {
  const arch = makeArch(input());
  assert.equal(withGlobal(arch, { classes: 3 }).global.classes, 3);
  assert.throws(() => withGlobal(arch, { head: -1 }), /arch\.global\.head/);
});

test('makeArch throws ArchError with a one-line message for any value, hostile ones included', () => {
  const circular: Record<string, unknown> = {};
  circular['self'] = circular;
  const values: unknown[] = [null, 'x\ny', 'z'.repeat(5000), 10n, circular, [1, [2]], Symbol('s'), Object.create(null), NaN, -0.5];
  for (const v of values) {
    for (const bad of [input([block({ repeats: v as number })]), input([block({ skip: v as never })]), { ...input(), global: v as never }, v as ArchInput]) {
      assert.throws(() => makeArch(bad), (e: unknown) => e instanceof ArchError && !e.message.includes('\n') && e.message.length < 400, String(typeof v));
    }
  }
  assert.throws(() => makeArch(input([{ ...block(), ['bad\nkey']: 1 } as never])), (e: unknown) => e instanceof ArchError && /unknown field 'bad\\u000akey'/.test(e.message));
});
