import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeSyntheticDataset } from '../data/synthetic.js';
import { parseArch } from '../space/arch-string.js';
import { liveTensors, noGrad, setNumThreads } from '../torch/index.js';
import type { Network } from '../model/network.js';
import { autoEvalRuntime, evaluate, LIBTORCH_EVAL_MAX_BATCH, type EvalResult } from './evaluate.js';
import { buildPlan } from '../model/plan.js';
import { ONNX_EVAL_MAX_BATCH, tallyLogits, tallyOnOnnxRuntime } from './evaluate-onnx.js';
import { deferredStep, deferredStepsRunning } from './deferred-steps.js';
import { TrainingHold } from '../search/proxy-trial.js';
import { proxySplit, proxyTrain } from './run.js';
import { TensorDataset } from './tensor-data.js';

setNumThreads(1);

// SE, a pooled shortcut, an expansion and a plain conv block: every op the exported graph has
const GRAY = parseArch('in28x28x1_cls10_stem8s1_head32:conv_r1_k3_s11_e1_i8_o8,r2_k5_s22_e3_i8_o16_se0.25_poolskip,r1_k3_s22_e6_i16_o24_se0.25');
const RGB = parseArch('in32x32x3_cls10_stem8s1_head0:r1_k3_s22_e1_i8_o16,r1_k5_s22_e3_i16_o24_se0.25');

async function trained(arch: typeof GRAY, shape: '28x28x1' | '32x32x3', channelsLast = false) {
  const split = proxySplit(makeSyntheticDataset({ seed: 3, trainCount: 1500, testCount: 100, shape }), { subset: 1000, validationSize: 500, splitSeed: 0 });
  const r = await proxyTrain(arch, split, { epochs: 2, recipe: { batchSize: 50, channelsLast }, keepNetwork: true });
  assert.equal(r.status, 'done');
  return { net: (r as { network: Network }).network, pool: new TensorDataset(split.pool), validation: split.validation };
}

function assertSameScore(onnx: EvalResult, libtorch: EvalResult, what: string): void {
  assert.equal(onnx.count, libtorch.count);
  // rounding can flip an image whose two best logits tie to within float precision; no more than that
  assert.ok(Math.abs(onnx.correct - libtorch.correct) <= 1, `${what}: ${onnx.correct} against ${libtorch.correct} correct`);
  assert.ok(Math.abs(onnx.loss - libtorch.loss) <= 1e-4 * Math.max(1, libtorch.loss), `${what}: loss ${onnx.loss} against ${libtorch.loss}`);
}

test('evaluation on onnxruntime scores a trained network as libtorch does (gray and RGB, both layouts, 1 and 2 threads)', async () => {
  for (const [arch, shape, channelsLast] of [[GRAY, '28x28x1', false], [RGB, '32x32x3', false], [RGB, '32x32x3', true]] as const) {
    const { net, pool, validation } = await trained(arch, shape, channelsLast);
    try {
      const before = liveTensors();
      const libtorch = await evaluate(net, pool, validation, { runtime: 'libtorch', memoryFormat: channelsLast ? 'channels_last' : 'contiguous' });
      assert.ok(libtorch.accuracy > 0.3, `${shape}: trained (${libtorch.accuracy})`);
      for (const threads of [1, 2]) {
        setNumThreads(threads);
        const onnx = await evaluate(net, pool, validation, { runtime: 'onnxruntime', batchSize: 500 });
        assertSameScore(onnx, libtorch, `${shape}${channelsLast ? ' channels_last' : ''}, ${threads} threads`);
      }
      setNumThreads(1);
      assert.equal(liveTensors(), before, 'no tensor left behind');
      assert.equal(net.training, true, 'the network is back in training mode');
    } finally {
      setNumThreads(1);
      net.dispose();
      pool.dispose();
    }
  }
});

test('evaluation on onnxruntime: batches of at most ONNX_EVAL_MAX_BATCH whatever is asked, a hold before the session and each batch, abort between them', async () => {
  const { net, pool, validation } = await trained(GRAY, '28x28x1');
  try {
    const done: number[] = [];
    let holds = 0;
    await evaluate(net, pool, validation, { runtime: 'onnxruntime', batchSize: 500, hold: () => { holds++; return undefined; }, onBatch: (d, total) => { assert.equal(total, 500); done.push(d); } });
    assert.deepEqual(done, Array.from({ length: Math.ceil(500 / ONNX_EVAL_MAX_BATCH) }, (_, i) => Math.min(500, (i + 1) * ONNX_EVAL_MAX_BATCH)));
    assert.equal(holds, 1 + Math.ceil(500 / ONNX_EVAL_MAX_BATCH), 'one before the export and the session, one before each batch');
    const small: number[] = [];
    await evaluate(net, pool, validation, { runtime: 'onnxruntime', batchSize: 200, onBatch: (d) => small.push(d) });
    const capped = Math.ceil(500 / ONNX_EVAL_MAX_BATCH);
    assert.equal(small.length, capped, 'the batch is capped, not raised');
    await evaluate(net, pool, validation, { runtime: 'onnxruntime', batchSize: 10, onBatch: (d) => small.push(d) });
    assert.equal(small.length, capped + 50);

    const stop = new AbortController();
    await assert.rejects(
      evaluate(net, pool, validation, { runtime: 'onnxruntime', signal: stop.signal, onBatch: (d) => { if (d >= 128) stop.abort(new Error('stopped by the test')); } }),
      /stopped by the test/,
    );
    assert.equal(net.training, true, 'training mode restored after an abort');
    // a hold that waits delays the pass
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => { release = r; });
    let first = true;
    const pending = evaluate(net, pool, validation.subarray(0, 64), { runtime: 'onnxruntime', hold: () => (first ? ((first = false), gate) : undefined) });
    let settled = false;
    void pending.then(() => { settled = true; });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(settled, false, 'waits for the hold');
    release();
    assert.equal((await pending).count, 64);
  } finally {
    net.dispose();
    pool.dispose();
  }
});

test('tallyOnOnnxRuntime runs the batch it is given (the cap is evaluate\'s) and refuses a bad one before any work', async () => {
  const { net, pool, validation } = await trained(GRAY, '28x28x1');
  try {
    net.eval();
    const done: number[] = [];
    const idx = validation.subarray(0, 100);
    const t = await tallyOnOnnxRuntime(net, pool, idx, { batchSize: 64, onBatch: (d) => done.push(d) });
    assert.deepEqual(done, [64, 100]);
    const capped = await evaluate(net, pool, idx, { runtime: 'onnxruntime', batchSize: 64 });
    assert.equal(t.correct, capped.correct, 'the batch size does not change the hits');
    assert.ok(Math.abs(t.lossSum / 100 - capped.loss) < 1e-5, `loss ${t.lossSum / 100} against ${capped.loss}`);
    let holds = 0;
    for (const bad of [0, 2.5, Number.NaN]) {
      await assert.rejects(tallyOnOnnxRuntime(net, pool, idx, { batchSize: bad, hold: () => { holds++; return undefined; } }), /tallyOnOnnxRuntime: batchSize must be a positive integer/);
    }
    assert.equal(holds, 0, 'nothing exported or held for a bad batch size');
  } finally {
    net.dispose();
    pool.dispose();
  }
});

test('a network with a non-finite weight is scored on libtorch instead (onnx export refuses it)', async () => {
  const { net, pool, validation } = await trained(GRAY, '28x28x1');
  try {
    const weight = net.parameters().find((p) => p.shape.length === 4)!;
    noGrad(() => weight.fill(Number.NaN));
    const r = await evaluate(net, pool, validation.subarray(0, 100), { runtime: 'onnxruntime' });
    assert.equal(r.count, 100);
    assert.ok(Number.isNaN(r.loss), `loss of a NaN network: ${r.loss}`);
  } finally {
    net.dispose();
    pool.dispose();
  }
});

test('tallyLogits: first maximum wins as in torch.argmax, cross-entropy in double, NaN logits score no hit', () => {
  const tally = { correct: 0, lossSum: 0 };
  tallyLogits(Float32Array.from([1, 3, 3, 0, 0, 0, 0, 0, Number.NaN]), Int32Array.from([1, 0, 2]), 3, tally);
  // row 0: max 3 at 1 (tie with 2: the first), label 1; row 1: all 0, argmax 0, label 0; row 2: NaN
  assert.equal(tally.correct, 2);
  assert.ok(Number.isNaN(tally.lossSum));
  const clean = { correct: 0, lossSum: 0 };
  tallyLogits(Float32Array.from([1, 3, 3, 0, 0, 0]), Int32Array.from([1, 0]), 3, clean);
  const expected = -Math.log(Math.exp(3) / (Math.exp(1) + 2 * Math.exp(3))) - Math.log(1 / 3);
  assert.ok(Math.abs(clean.lossSum - expected) < 1e-12, `${clean.lossSum} against ${expected}`);
  assert.throws(() => tallyLogits(new Float32Array(5), Int32Array.from([0, 1]), 3, clean), /5 logits for 2 labels of 3 classes/);
});

test('MNAS_EVAL_RUNTIME picks the runtime; an unknown value is refused by name', async () => {
  const { net, pool, validation } = await trained(GRAY, '28x28x1');
  try {
    process.env.MNAS_EVAL_RUNTIME = 'libtorch';
    const batches: number[] = [];
    await evaluate(net, pool, validation, { batchSize: 500, onBatch: (d) => batches.push(d) });
    assert.deepEqual(batches, [128, 256, 384, 500], 'libtorch runs batches of at most LIBTORCH_EVAL_MAX_BATCH');
    process.env.MNAS_EVAL_RUNTIME = 'tensorflow';
    await assert.rejects(evaluate(net, pool, validation), /MNAS_EVAL_RUNTIME must be one of auto, onnxruntime, libtorch, got 'tensorflow'/);
  } finally {
    delete process.env.MNAS_EVAL_RUNTIME;
    net.dispose();
    pool.dispose();
  }
});

test('auto: libtorch for networks mostly of regular convolutions, onnxruntime for the rest, decided by the architecture alone', async () => {
  const mbconv = parseArch('in28x28x1_cls10_stem8s1_head0:r2_k5_s22_e6_i8_o16_se0.25,r1_k3_s22_e3_i16_o24');
  const regular = parseArch('in28x28x1_cls10_stem8s1_head0:conv_r2_k5_s11_e1_i8_o24,r1_k3_s22_e3_i24_o24');
  assert.equal(autoEvalRuntime(buildPlan(mbconv)), 'onnxruntime');
  assert.equal(autoEvalRuntime(buildPlan(regular)), 'libtorch');
  assert.equal(autoEvalRuntime(buildPlan(GRAY)), autoEvalRuntime(buildPlan(GRAY)));
  // the default follows it: onnxruntime caps its batches at ONNX_EVAL_MAX_BATCH, libtorch at LIBTORCH_EVAL_MAX_BATCH
  const split = proxySplit(makeSyntheticDataset({ seed: 3, trainCount: 700, testCount: 10 }), { subset: 200, validationSize: 500, splitSeed: 0 });
  const pool = new TensorDataset(split.pool);
  try {
    for (const [arch, batches] of [[mbconv, Math.ceil(500 / ONNX_EVAL_MAX_BATCH)], [regular, Math.ceil(500 / LIBTORCH_EVAL_MAX_BATCH)]] as const) {
      const r = await proxyTrain(arch, split, { epochs: 1, recipe: { batchSize: 50 }, keepNetwork: true });
      const net = (r as { network: Network }).network;
      const seen: number[] = [];
      await evaluate(net, pool, split.validation, { batchSize: 500, onBatch: (d) => seen.push(d) });
      assert.equal(seen.length, batches);
      net.dispose();
    }
  } finally {
    pool.dispose();
  }
});

test('a hold for a latency measurement never runs while an onnxruntime call of an evaluation is running', async () => {
  const { net, pool, validation } = await trained(GRAY, '28x28x1');
  try {
    const hold = new TrainingHold();
    let slow: () => void = () => undefined;
    const pending = deferredStep(new Promise<void>((r) => (slow = r)));
    let ran = false;
    const first = hold.holdWhile(async () => { ran = true; });
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(ran, false, 'the hold waits for the running call');
    slow();
    await pending;
    await first;
    assert.equal(ran, true);

    const evaluation = evaluate(net, pool, validation, { runtime: 'onnxruntime', hold: hold.gate });
    let holds = 0;
    let done = false;
    void evaluation.then(() => (done = true));
    while (!done) {
      await hold.holdWhile(async () => {
        holds++;
        assert.equal(deferredStepsRunning(), 0, 'no onnxruntime call runs during a hold');
        await new Promise((r) => setTimeout(r, 2));
        assert.equal(deferredStepsRunning(), 0, 'none starts during it either');
      });
      await new Promise((r) => setImmediate(r));
    }
    assert.equal((await evaluation).count, 500);
    assert.ok(holds >= 3, `${holds} holds during the evaluation`);
  } finally {
    net.dispose();
    pool.dispose();
  }
});
