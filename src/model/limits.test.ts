import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArchError } from '../space/arch-error.js';
import { makeArch, type Arch, type ArchInput, type BlockArgs } from '../space/arch.js';
import { parseArch } from '../space/arch-string.js';
import { getPreset, presetNames } from '../space/presets.js';
import { getSpace, spaceNames } from '../space/space.js';
import { FINAL_RECIPE, PROXY_RECIPE } from '../train/recipe.js';
import { costOfPlan } from './cost.js';
import {
  availableMemoryBytes, checkPlanFits, checkTensorFits, LimitError, MAX_BLOCKS, MAX_CHANNELS, MAX_CLASSES, MAX_EXPAND,
  MAX_EXPANDED_CHANNELS, MAX_INPUT_CHANNELS, MAX_INPUT_SIZE, MAX_KERNEL, MAX_LAYERS, MAX_MACS, MAX_REPEATS, parseInputShapeText,
  planMemoryBytes,
} from './limits.js';
import { buildPlan } from './plan.js';

const GB = 2 ** 30;
const block = (over: Partial<BlockArgs> = {}): BlockArgs => ({
  op: 'dsconv', expand: 1, kernel: 3, stride: 1, seRatio: 0, skip: 'identity', filters: 16, repeats: 1, ...over,
});
const archInput = (blocks: BlockArgs[] = [block()], global: Partial<ArchInput['global']> = {}): ArchInput => ({
  global: { input: { height: 28, width: 28, channels: 1 }, classes: 10, stem: { filters: 16, stride: 1 }, head: 0, ...global },
  blocks,
});
const limit = (name: string, message: RegExp) => (e: unknown) => e instanceof LimitError && e instanceof ArchError && e.limit === name && message.test(e.message);

/** Every decision at its first or its last choice, in every combination of the two per kind. */
function extremeArchs(spaceName: string): Arch[] {
  const space = getSpace(spaceName);
  const decisions = space.decisions();
  const kinds = [...new Set(decisions.map((d) => d.kind))];
  const archs: Arch[] = [];
  for (let mask = 0; mask < 2 ** kinds.length; mask++) {
    const dna = decisions.map((d) => ((mask >> kinds.indexOf(d.kind)) & 1 ? d.count - 1 : 0));
    archs.push(space.decode(dna));
  }
  return archs;
}

test('every preset and every extreme arch of every shipped space is within the static limits', () => {
  for (const name of presetNames()) buildPlan(getPreset(name).arch);
  for (const name of spaceNames()) {
    for (const arch of extremeArchs(name)) {
      const plan = buildPlan(arch);
      assert.ok(costOfPlan(plan).macs < MAX_MACS / 1000, `${name}: far below the MACs limit`);
    }
  }
});

test('the shipped spaces fit their training batches: 28/32-pixel spaces in 2 GB, the 224x224 mobilenet-v2 space in 32 GB', () => {
  for (const name of spaceNames()) {
    const budget = name === 'mobilenet-v2' ? 32 * GB : 2 * GB;
    for (const arch of extremeArchs(name)) {
      const plan = buildPlan(arch);
      for (const batch of [FINAL_RECIPE.batchSize, PROXY_RECIPE.batchSize]) checkPlanFits(plan, { batch, available: budget });
      checkPlanFits(plan, { batch: FINAL_RECIPE.evalBatchSize, use: 'eval', available: budget });
      checkPlanFits(plan, { batch: 1, use: 'eval', available: GB });
      checkPlanFits(plan, { use: 'export', available: GB });
    }
  }
});

test('each static limit: the limit itself passes, one more is a LimitError naming the field, the value and the limit', () => {
  const ok = (a: ArchInput): void => void buildPlan(makeArch(a));
  const over = (a: ArchInput, name: string, message: RegExp): void => assert.throws(() => makeArch(a), limit(name, message));
  ok(archInput([block({ repeats: MAX_REPEATS })]));
  over(archInput([block(), block({ repeats: 99999999999 })]), 'MAX_REPEATS', /^arch\.blocks\[1\]\.repeats: 99999999999 exceeds the limit 64 \(repeats per block\)$/);
  ok(archInput(Array.from({ length: MAX_BLOCKS }, () => block())));
  over(archInput(Array.from({ length: MAX_BLOCKS + 1 }, () => block())), 'MAX_BLOCKS', /arch\.blocks: 65 exceeds the limit 64 \(blocks per arch\)/);
  over(archInput(Array.from({ length: 17 }, () => block({ repeats: 64 }))), 'MAX_LAYERS', new RegExp(`arch\\.blocks: 1088 exceeds the limit ${MAX_LAYERS} \\(layers over all blocks\\)`));
  ok(archInput([block({ filters: MAX_CHANNELS })], { input: { height: 4, width: 4, channels: 1 } }));
  over(archInput([block({ filters: 100_000_000 })]), 'MAX_CHANNELS', /arch\.blocks\[0\]\.filters: 100000000 exceeds the limit 8192/);
  over(archInput([block({ inputFilters: MAX_CHANNELS + 1 })]), 'MAX_CHANNELS', /arch\.blocks\[0\]\.inputFilters: 8193/);
  over(archInput([block()], { stem: { filters: MAX_CHANNELS + 1, stride: 1 } }), 'MAX_CHANNELS', /arch\.global\.stem\.filters: 8193/);
  over(archInput([block()], { head: 1e20 }), 'MAX_CHANNELS', /arch\.global\.head: 1e\+20 exceeds the limit 8192/);
  ok(archInput([block({ op: 'mbconv', expand: MAX_EXPAND })]));
  over(archInput([block({ op: 'mbconv', expand: MAX_EXPAND + 1 })]), 'MAX_EXPAND', /arch\.blocks\[0\]\.expand: 17 exceeds the limit 16/);
  // the first layer expands the previous width (16 x 16 = 256), the repeats their own (4096 x 16)
  ok(archInput([block({ op: 'mbconv', expand: 16, filters: 4096 })], { input: { height: 2, width: 2, channels: 1 } }));
  over(archInput([block({ op: 'mbconv', expand: 16, filters: 4096, repeats: 2 })]), 'MAX_EXPANDED_CHANNELS', new RegExp(`arch\\.blocks\\[0\\] expanded width: 65536 exceeds the limit ${MAX_EXPANDED_CHANNELS}`));
  ok(archInput([block({ kernel: MAX_KERNEL })]));
  over(archInput([block({ kernel: MAX_KERNEL + 2 })]), 'MAX_KERNEL', /arch\.blocks\[0\]\.kernel: 17 exceeds the limit 15/);
  ok(archInput([block()], { classes: MAX_CLASSES }));
  over(archInput([block()], { classes: 99999999999 }), 'MAX_CLASSES', /arch\.global\.classes: 99999999999 exceeds the limit 100000/);
  over(archInput([block()], { classes: 1e20 }), 'MAX_CLASSES', /arch\.global\.classes: 1e\+20 exceeds/);
  ok(archInput([block()], { input: { height: MAX_INPUT_SIZE, width: 8, channels: MAX_INPUT_CHANNELS } }));
  over(archInput([block()], { input: { height: 28, width: 100_000, channels: 1 } }), 'MAX_INPUT_SIZE', /arch\.global\.input width: 100000 exceeds the limit 4096/);
  over(archInput([block()], { input: { height: 28, width: 28, channels: MAX_INPUT_CHANNELS + 1 } }), 'MAX_INPUT_CHANNELS', /input channels: 65 exceeds the limit 64/);
});

test('MACs are checked on the plan: a deep, wide arch that passes every per-field limit is refused by buildPlan', () => {
  const wide = makeArch(archInput(Array.from({ length: 16 }, () => block({ filters: 8192, repeats: 64 })), { input: { height: 64, width: 64, channels: 1 } }));
  assert.throws(() => buildPlan(wide), limit('MAX_MACS', /^plan: \d{15} exceeds the limit 10000000000000 \(MACs per image\)$/));
});

test('buildPlan checks the limits of a hand-made record before expanding it (no 1e11-layer loop)', () => {
  const arch = makeArch(archInput());
  const forged = { ...arch, blocks: [{ ...arch.blocks[0]!, repeats: 99_999_999_999 }] } as Arch;
  const started = performance.now();
  assert.throws(() => buildPlan(forged), limit('MAX_REPEATS', /repeats: 99999999999 exceeds the limit 64/));
  assert.ok(performance.now() - started < 100);
});

test('checkPlanFits: weights and activations at the batch against the available memory, with the margin', () => {
  const plan = buildPlan(getPreset('bench-fmnist').arch);
  const cost = costOfPlan(plan);
  const m = planMemoryBytes(plan, { batch: 128 });
  assert.equal(m.weightBytes, 4 * 4 * (cost.params + cost.buffers), 'train: weights, gradients, two optimizer states');
  assert.equal(m.activationBytes, 128 * 4 * cost.activations);
  assert.equal(m.totalBytes, m.weightBytes + m.activationBytes);
  assert.equal(planMemoryBytes(plan, { batch: 256 }).activationBytes, 2 * m.activationBytes);
  assert.equal(planMemoryBytes(plan, { batch: 10, use: 'eval' }).activationBytes, 10 * 12 * cost.peakActivations);
  assert.equal(planMemoryBytes(plan, { batch: 10, use: 'export' }).activationBytes, 0);
  assert.deepEqual(checkPlanFits(plan, { batch: 128, available: m.totalBytes / 0.9 + 1 }), m);
  assert.throws(
    () => checkPlanFits(plan, { batch: 128, available: m.totalBytes }),
    limit('MEMORY', /^the network needs at least [\d.]+ MB for training at batch 128 \(weights [\d.]+ MB, activations [\d.]+ MB\), more than the [\d.]+ MB usable \(90% of [\d.]+ MB available\)$/),
  );
  assert.throws(() => checkPlanFits(plan, { batch: 0 }), LimitError);
  assert.throws(() => checkPlanFits(plan, { batch: 1, use: 'eval', available: 1000 }), /for inference at batch 1/);
});

test('checkTensorFits and availableMemoryBytes', () => {
  assert.ok(availableMemoryBytes() > 0);
  checkTensorFits([1, 3, 224, 224], 'input', 10 * 2 ** 20);
  assert.throws(() => checkTensorFits([1, 3, 100_000, 100_000], "model input 'x'", 64 * GB), limit('MEMORY', /^model input 'x' \[1, 3, 100000, 100000\] needs 111\.8 GB, more than the 57\.6 GB usable$/));
});

test('parseInputShapeText: HxWxC within the input limits, else one clear line', () => {
  assert.deepEqual(parseInputShapeText(' 224x224x3 '), { height: 224, width: 224, channels: 3 });
  assert.throws(() => parseInputShapeText('224x224'), (e: unknown) => e instanceof ArchError && /--input must be HxWxC/.test(e.message));
  assert.throws(() => parseInputShapeText('0x28x1'), ArchError);
  assert.throws(() => parseInputShapeText('99999999999999999999x28x1'), limit('MAX_INPUT_SIZE', /^--input height: 1e\+20 exceeds the limit 4096/));
  assert.throws(() => parseInputShapeText('28x28\nx1'), (e: unknown) => e instanceof ArchError && !e.message.includes('\n'));
  assert.throws(() => parseInputShapeText('100000x100000x3', '--input'), limit('MAX_INPUT_SIZE', /^--input height: 100000 exceeds the limit 4096/));
  assert.throws(() => parseInputShapeText('28x28x100'), limit('MAX_INPUT_CHANNELS', /--input channels: 100/));
});

test('arch strings over the limits are refused by parseArch, before any plan', () => {
  const g = 'in28x28x1_cls10_stem16s1_head0';
  assert.throws(() => parseArch(`${g}:r99999999999_k3_s11_e1_i16_o16`), limit('MAX_REPEATS', /^arch string: arch\.blocks\[0\]\.repeats: 99999999999 exceeds the limit 64/));
  assert.throws(() => parseArch(`${g}:${Array(65).fill('r1_k3_s11_e1_o16').join(',')}`), limit('MAX_BLOCKS', /^arch string: blocks: 65 exceeds the limit 64 \(blocks per arch\)$/));
});
