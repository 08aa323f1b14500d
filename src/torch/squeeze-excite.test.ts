/**
 * Squeeze-and-excitation trains with mnas's fused autograd function (native/squeeze_excite.cc); the
 * float64 finite-difference checks are in gradcheck.test.ts. Here: in float32 at the sizes a search
 * trains, the same output (bit for bit: the forward pass is libtorch's ops) and the same gradients
 * as libtorch's autograd through the unfused ops (MNAS_SQUEEZE_EXCITE=aten), on one thread and two;
 * the calls that keep libtorch's path; and bad weights named.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { manualSeed, mul, noGrad, randn, setNumThreads, slice, squeezeExcite, sum, tidy, zeroGrad, type Tensor } from './index.js';
import { maxRelativeDifference } from './testing.js';

afterEach(() => {
  delete process.env.MNAS_SQUEEZE_EXCITE;
  setNumThreads(1);
});

interface Outcome {
  y: Float32Array;
  grads: (Float32Array | null)[];
}

/** Forward, then backward of sum(y * r): the output and the gradient of each of `inputs` (null where it has none). */
function run(inputs: Tensor[], r: Tensor, path: 'own' | 'aten', prepare: (x: Tensor) => Tensor = (x) => x): Outcome {
  if (path === 'aten') process.env.MNAS_SQUEEZE_EXCITE = 'aten';
  else delete process.env.MNAS_SQUEEZE_EXCITE;
  zeroGrad(inputs);
  const [x, w1, b1, w2, b2] = inputs as [Tensor, Tensor, Tensor, Tensor, Tensor];
  const y = tidy(() => {
    const out = squeezeExcite(prepare(x), w1, b1, w2, b2);
    sum(mul(out, r)).backward();
    return out.toFloat32Array();
  });
  return { y, grads: inputs.map((t) => t.grad?.toFloat32Array() ?? null) };
}

function layer(shape: readonly [number, number, number, number], reduced: number, layout: 'contiguous' | 'channels_last', xGrad = true): Tensor[] {
  const c = shape[1];
  const x = randn([...shape]).contiguous(layout);
  x.requiresGrad = xGrad;
  const ws = [randn([reduced, c]), tidy(() => mul(randn([reduced]), 0.5)), randn([c, reduced]), randn([c])];
  for (const w of ws) w.requiresGrad = true;
  return [x, ...ws];
}

const NAMES = ['x', 'reduceWeight', 'reduceBias', 'expandWeight', 'expandBias'];

function assertAgree(own: Outcome, aten: Outcome, label: string): void {
  assert.deepEqual(own.y, aten.y, `${label}: outputs differ`);
  own.grads.forEach((g, i) => {
    const a = aten.grads[i];
    assert.equal(g === null, a === null, `${label}: ${NAMES[i]} has a gradient on one path only`);
    if (g && a) assert.ok(maxRelativeDifference(g, a) < 1e-5, `${label}: ${NAMES[i]}'s gradients differ by ${maxRelativeDifference(g, a)}`);
  });
}

const cases = [
  { shape: [128, 96, 28, 28], reduced: 4, layout: 'channels_last' },
  { shape: [128, 144, 14, 14], reduced: 6, layout: 'channels_last' },
  { shape: [64, 40, 7, 7], reduced: 2, layout: 'contiguous' },
  { shape: [5, 9, 3, 5], reduced: 3, layout: 'channels_last' },
  { shape: [3, 17, 2, 3], reduced: 1, layout: 'contiguous' },
] as const;

for (const threads of [1, 2]) {
  test(`float32 squeeze-and-excitation agrees with libtorch's autograd (${threads} thread${threads > 1 ? 's' : ''})`, () => {
    setNumThreads(threads);
    for (const { shape, reduced, layout } of cases) {
      const label = `${shape.join('x')} ${layout} reduced to ${reduced}`;
      manualSeed(11);
      const inputs = layer(shape, reduced, layout);
      const r = randn([...shape]).contiguous(layout);
      assertAgree(run(inputs, r, 'own'), run(inputs, r, 'aten'), label);
      for (const t of [...inputs, r]) t.dispose();
    }
  });
}

test('the fused path is taken: its float32 input gradient is not bit-identical to libtorch\'s', () => {
  manualSeed(3);
  const inputs = layer([32, 48, 14, 14], 3, 'channels_last');
  const r = randn([32, 48, 14, 14]).contiguous('channels_last');
  const own = run(inputs, r, 'own');
  const aten = run(inputs, r, 'aten');
  assert.ok(own.grads[0]!.some((v, i) => v !== aten.grads[0]![i]), 'bit-identical gradients: is the fused path used?');
  for (const t of [...inputs, r]) t.dispose();
});

test('without a gradient for x, the weights still get theirs and x none', () => {
  manualSeed(4);
  const inputs = layer([16, 24, 7, 7], 2, 'channels_last', false);
  const r = randn([16, 24, 7, 7]).contiguous('channels_last');
  const own = run(inputs, r, 'own');
  assert.equal(own.grads[0], null);
  assertAgree(own, run(inputs, r, 'aten'), 'x constant');
  for (const t of [...inputs, r]) t.dispose();
});

test('calls the fused function does not take keep libtorch\'s: no gradients recorded, an input in neither layout', () => {
  manualSeed(5);
  const inputs = layer([8, 12, 5, 5], 3, 'contiguous');
  const [x, w1, b1, w2, b2] = inputs as [Tensor, Tensor, Tensor, Tensor, Tensor];
  const r = randn([8, 12, 5, 5]);
  const bothWays = (fn: () => Tensor) => (['own', 'aten'] as const).map((path) => {
    if (path === 'aten') process.env.MNAS_SQUEEZE_EXCITE = 'aten';
    else delete process.env.MNAS_SQUEEZE_EXCITE;
    return tidy(() => fn().toFloat32Array());
  });
  const [own, aten] = bothWays(() => noGrad(() => squeezeExcite(x, w1, b1, w2, b2)));
  assert.deepEqual(own, aten, 'no-grad outputs differ');
  // a channel slice of a wider tensor is contiguous in neither layout
  const wide = randn([8, 20, 5, 5]);
  wide.requiresGrad = true;
  const sliced = run([wide, w1, b1, w2, b2], r, 'own', (t) => slice(t, 1, 4, 16));
  const reference = run([wide, w1, b1, w2, b2], r, 'aten', (t) => slice(t, 1, 4, 16));
  // bit-identical gradients: libtorch's autograd ran on both paths
  assert.deepEqual(sliced, reference, 'a sliced input took the fused path');
  for (const t of [...inputs, r, wide]) t.dispose();
});

test('weights that do not fit the input are refused with the argument named', () => {
  const x = randn([2, 8, 3, 3]);
  const ok = [randn([2, 8]), randn([2]), randn([8, 2]), randn([8])];
  assert.throws(() => squeezeExcite(x, randn([2, 7]), ok[1]!, ok[2]!, ok[3]!), /squeezeExcite.*reduceWeight.*do not fit 8 input channels/);
  assert.throws(() => squeezeExcite(x, ok[0]!, ok[1]!, randn([8, 3]), ok[3]!), /reduceWeight.*do not fit/);
  assert.throws(() => squeezeExcite(x, ok[0]!, ok[1]!, ok[2]!, randn([7])), /do not fit/);
  assert.throws(() => squeezeExcite(randn([2, 8]), ok[0]!, ok[1]!, ok[2]!, ok[3]!), /input.*must be rank 4/);
  for (const t of [x, ...ok]) t.dispose();
});
