import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { costOfLayer } from '../model/cost.js';
import { buildPlan, isWholeNetwork, layersIn } from '../model/plan.js';
import { parseArch, printArch } from '../space/arch-string.js';
import { SearchSpace } from '../space/space.js';
import type { Skeleton } from '../space/skeleton.js';
import { Rng } from '../util/rng.js';
import type { DeviceDescription, LatencyDevice, LatencyModel, LatencyResult, RelativeLatencyResult } from './device.js';
import { predictLinear } from './linear-fit.js';
import { archToModel } from './model.js';
import { MODEL_FEATURES, modelFeatures, PREDICTOR_FEATURES } from './model-features.js';
import { OrtCpuDevice } from './ort-cpu.js';
import { calibrateFrom, evaluatePredictor, fitLine, LatencyPredictor, measureRandomArchs, MIN_FEATURE_MODELS, MissingLayerError, robustFeatureFit, robustFit } from './predictor.js';
import { distinctLayers, LatencyTableError, layerKey, loadTable, OFF_SPEED_ROUNDS, profileSpace, saveTable } from './table.js';
import { calibrationSpeed, GAUGE_EVERY_LAYERS, GAUGE_EVERY_MODELS } from './speed-gauge.js';
import { tempDir } from '../util/testing.js';
import { fixedStats } from './testing.js';
import { buildLatencyTable, CALIBRATION_OFF_SPEED_ROUNDS, evaluateTable, EVALUATION_SEED, loadTableFor } from './table-workflows.js';

const TINY: Skeleton = {
  name: 'tiny',
  description: 'test space: 8x8x1, two blocks',
  input: { height: 8, width: 8, channels: 1 },
  classes: 4,
  stem: { filters: 8, stride: 1 },
  head: 0,
  blocks: [
    { width: 8, layers: 1, stride: 1 },
    { width: 16, layers: 1, stride: 2 },
  ],
};
const ONE_BLOCK: Skeleton = { ...TINY, name: 'one', blocks: [{ width: 16, layers: 2, stride: 2 }] };

const OVERHEAD = 0.01;
const INTERCEPT = 0.05;
const SCALE = 1.3;
const layerMs = (macs: number): number => 0.002 + macs * 1e-6;

/** Deterministic device: layers cost layerMs(macs) + OVERHEAD, whole models INTERCEPT + SCALE * sum(layerMs). */
class FakeDevice implements LatencyDevice {
  measured = 0;
  async describe(): Promise<DeviceDescription> {
    return { id: 'fake', kind: 'ort-cpu', cpu: 'test', runtime: 'fake', runtimeVersion: '0', threads: 1 };
  }
  async measure(model: LatencyModel): Promise<LatencyResult> {
    this.measured++;
    const source = model.source;
    assert.ok(source, 'a model of the space');
    let ms: number;
    if (source.kind === 'overhead') ms = OVERHEAD;
    else {
      const sum = layersIn(source.plan, source.layers).reduce((a, l) => a + layerMs(costOfLayer(l).macs), 0);
      ms = isWholeNetwork(source.plan, source.layers) ? INTERCEPT + SCALE * sum : OVERHEAD + sum;
    }
    return { ...fixedStats(ms, 10, 0.001), device: await this.describe() };
  }
  async close(): Promise<void> {}
}

test('distinctLayers: exactly the layer configs of every arch of a one-block space', () => {
  const space = new SearchSpace(ONE_BLOCK);
  const brute = new Set<string>();
  const n = space.decisions().map((d) => d.choices.length);
  const total = n.reduce((a, b) => a * b, 1);
  for (let i = 0; i < total; i++) {
    let r = i;
    const dna = n.map((c) => {
      const v = r % c;
      r = Math.floor(r / c);
      return v;
    });
    for (const l of buildPlan(space.decode(dna)).layers) brute.add(layerKey(l));
  }
  const keys = new Set(distinctLayers(space).keys());
  assert.deepEqual([...keys].sort(), [...brute].sort());
});

test('distinctLayers covers every layer of random archs of a two-block space', () => {
  const space = new SearchSpace(TINY);
  const keys = new Set(distinctLayers(space).keys());
  const rng = new Rng(5);
  for (let i = 0; i < 500; i++) {
    for (const l of buildPlan(space.decode(space.sample(rng))).layers) assert.ok(keys.has(layerKey(l)), `missing ${layerKey(l)}`);
  }
});

test('layerKey separates what changes the cost and merges what does not', () => {
  const a = buildPlan(parseArch('in8x8x1_cls4_stem8s1_head0:r1_k3_s22_e6_i8_o16')).layers[1]!;
  const b = buildPlan(parseArch('in8x8x1_cls4_stem8s1_head0:r1_k3_s22_e6_i8_o16_noskip')).layers[1]!;
  const c = buildPlan(parseArch('in8x8x1_cls4_stem8s1_head0:r1_k3_s22_e6_i8_o16_poolskip')).layers[1]!;
  const d = buildPlan(parseArch('in8x8x1_cls4_stem8s1_head0:r1_k5_s22_e6_i8_o16')).layers[1]!;
  assert.equal(layerKey(a), layerKey(b)); // identity skip cannot apply at stride 2: same layer as noskip
  assert.notEqual(layerKey(a), layerKey(c));
  assert.notEqual(layerKey(a), layerKey(d));
  assert.match(layerKey(c), /^mbconv_c8_o16_e6_k3_s2_se0_pooldp_@8x8$/);
});

test('profile + calibrate on a fake device recovers the overhead, intercept and scale exactly', async () => {
  const space = new SearchSpace(TINY);
  const device = new FakeDevice();
  const table = await profileSpace(device, space, { passes: 2 });
  const distinct = distinctLayers(space).size;
  assert.equal(Object.keys(table.entries).length, distinct);
  assert.equal(device.measured, 2 * distinct + 2); // two passes + one overhead model per pass
  assert.equal(table.overhead_ms, OVERHEAD);
  assert.equal(table.space, 'tiny');
  assert.equal(table.device.id, 'fake');
  for (const e of Object.values(table.entries)) assert.deepEqual(e.pass_medians?.length, 2);

  const measured = await measureRandomArchs(device, space, 8, 1);
  const cal = calibrateFrom(table, measured);
  assert.ok(Math.abs(cal.intercept_ms - INTERCEPT) < 1e-9, `intercept ${cal.intercept_ms}`);
  assert.ok(Math.abs(cal.scale - SCALE) < 1e-9, `scale ${cal.scale}`);
  assert.ok(cal.fit_mape < 1e-9);

  const report = evaluatePredictor(new LatencyPredictor(table), await measureRandomArchs(device, space, 20, 2));
  assert.equal(report.samples, 20);
  assert.equal(report.within_10pct, 1);
  assert.ok(report.mean_abs_pct_error < 1e-6);

  // uncalibrated: overhead + sum of (layer - overhead) = exactly what isolated layers add up to
  const raw = new LatencyPredictor({ ...table, calibration: undefined });
  const plan = buildPlan(measured[0]!.arch);
  const expected = OVERHEAD + plan.layers.reduce((a, l) => a + layerMs(costOfLayer(l).macs), 0);
  assert.ok(Math.abs(raw.predict(plan) - expected) < 1e-12);
  // a noisy profile can time a tiny layer below the empty model: it adds nothing, never a negative time
  const firstKey = layerKey(plan.layers[0]!);
  const noisy = new LatencyPredictor({ ...table, calibration: undefined, entries: { ...table.entries, [firstKey]: { ...table.entries[firstKey]!, median_ms: OVERHEAD / 2 } } });
  const firstMs = layerMs(costOfLayer(plan.layers[0]!).macs);
  assert.ok(Math.abs(noisy.predict(plan) - (expected - firstMs)) < 1e-12);
  assert.equal(noisy.parts(plan).layers[0], 0);

  const dir = tempDir('mnas-table-');
  try {
    const file = saveTable(join(dir, 'sub', 't.json'), table);
    const back = loadTable(file);
    assert.deepEqual(back, JSON.parse(JSON.stringify(table)));
    assert.throws(() => loadTable(join(dir, 'missing.json')), (e: unknown) => e instanceof LatencyTableError && /missing.json': ENOENT/.test(e.message));
    // valid JSON that is not a table, or a table with wrong values, is a LatencyTableError naming where
    const plain = JSON.parse(JSON.stringify(table)) as Record<string, any>;
    const key = Object.keys(plain['entries'])[0]!;
    const broken: [string, (t: Record<string, any>) => unknown, RegExp][] = [
      ['an array', () => [1, 2], /not a mnas-latency-table\/1 file/],
      ['another format', (t) => ({ ...t, format: 'x' }), /not a mnas-latency-table\/1 file/],
      ['entries a list', (t) => ({ ...t, entries: [] }), /entries: /],
      ['a negative median', (t) => ({ ...t, entries: { [key]: { ...t['entries'][key], median_ms: -1 } } }), new RegExp(`entries\\.${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.median_ms`)],
      ['a string overhead', (t) => ({ ...t, overhead_ms: '3' }), /overhead_ms: /],
      ['no device id', (t) => ({ ...t, device: { ...t['device'], id: undefined } }), /device\.id: /],
      ['a zero scale', (t) => ({ ...t, calibration: { intercept_ms: 0, scale: 0, models: 1, fit_mape: 0, points: [] } }), /calibration\.scale: /],
    ];
    for (const [what, mutate, message] of broken) {
      const file = join(dir, `${what}.json`);
      writeFileSync(file, JSON.stringify(mutate(JSON.parse(JSON.stringify(plain)))));
      assert.throws(() => loadTable(file), (e: unknown) => e instanceof LatencyTableError && message.test(e.message), what);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => new LatencyPredictor(table).predict(parseArch('in8x8x1_cls4_stem8s1_head0:r1_k7_s11_e1_i8_o8')), MissingLayerError);
});

test('profileSpace keeps the lowest pass median (noise only adds time)', async () => {
  const space = new SearchSpace(ONE_BLOCK);
  let call = 0;
  const device = new FakeDevice();
  const base = device.measure.bind(device);
  device.measure = async (m) => {
    const r = await base(m);
    call++;
    // every third measurement is disturbed
    return call % 3 === 0 ? { ...r, median_ms: r.median_ms * 2 } : r;
  };
  const table = await profileSpace(device, space, { passes: 2 });
  for (const [key, { layer }] of distinctLayers(space)) {
    const e = table.entries[key]!;
    assert.ok(Math.abs(e.median_ms - (OVERHEAD + layerMs(costOfLayer(layer).macs))) < 1e-12, key);
  }
});

/** A gauge pair of the device's speed (speed-gauge.ts): the space's default timed against the reference layer. */
function isGaugePair(model: LatencyModel): boolean {
  return model.name.endsWith('#gauge');
}

/**
 * FakeDevice that can time two models in turn, on a machine that runs 1.5x slower for a while in
 * the middle of each of two passes over `layers` layers (the calls around the middle layer: pass 0
 * in order, pass 1 reversed, after one overhead measurement each), as this VM did.
 */
class SlowPeriodsDevice extends FakeDevice {
  calls = 0;
  constructor(private readonly layers: number) {
    super();
  }
  speed(): number {
    this.calls++;
    const mid = this.layers >> 1;
    return Math.abs(this.calls - (2 + mid)) <= 1 || Math.abs(this.calls - (2 * this.layers + 3 - mid)) <= 1 ? 1.5 : 1;
  }
  override async measure(model: LatencyModel): Promise<LatencyResult> {
    const r = await super.measure(model);
    return { ...r, median_ms: r.median_ms * this.speed() };
  }
  async measureAgainst(model: LatencyModel, reference: LatencyModel): Promise<RelativeLatencyResult> {
    // gauge pairs (speed-gauge.ts) run at speed and do not move the slow periods
    const factor = isGaugePair(model) ? 1 : this.speed();
    const m = await super.measure(model);
    const ref = await super.measure(reference);
    return { ...m, median_ms: m.median_ms * factor, ratio: m.median_ms / ref.median_ms, ratio_rel_half_width: 0, reference_ms: ref.median_ms * factor, pairs: 12, runs_per_block: 3 };
  }
}

test('profileSpace times each layer against a reference layer: slow periods that hit both passes cancel out', async () => {
  const space = new SearchSpace(TINY);
  const truth = (layer: Parameters<typeof costOfLayer>[0]): number => OVERHEAD + layerMs(costOfLayer(layer).macs);
  const table = await profileSpace(new SlowPeriodsDevice(distinctLayers(space).size), space, { passes: 2 });
  const plan = buildPlan(space.decode(space.defaultDna()));
  const refLayer = plan.layers[plan.layers.length >> 1]!;
  assert.equal(table.reference_layer?.key, layerKey(refLayer));
  // the reference's median over the profile: its true latency, or 1.5x it, whichever most of its timings saw
  const scale = table.reference_layer!.ms / truth(refLayer);
  assert.ok(Math.abs(scale - 1) < 1e-9 || Math.abs(scale - 1.5) < 1e-9, `reference scale ${scale}`);
  for (const [key, { layer }] of distinctLayers(space)) {
    const e = table.entries[key]!;
    assert.ok(Math.abs(e.median_ms / (scale * truth(layer)) - 1) < 1e-9, `${key}: ${e.median_ms} against ${scale * truth(layer)}`);
    // a layer both of whose passes fell into the slow period is measured once more, at speed
    assert.equal(e.pass_ratios?.length, e.pass_reference_ms!.filter((ms) => ms > 1.2 * table.reference_layer!.ms).length === 2 ? 3 : 2);
  }
  assert.ok(Object.values(table.entries).some((e) => e.pass_ratios?.length === 3), 'some layers hit in both passes');
  // gauge pairs of the device's speed through the profile (speed-gauge.ts): at the start of each pass and every GAUGE_EVERY_LAYERS layers
  assert.equal(table.speed_gauge?.arch, printArch(space.decode(space.defaultDna())));
  assert.ok(table.speed_gauge.timings_ms.length >= 2 * Math.ceil(distinctLayers(space).size / GAUGE_EVERY_LAYERS), `${table.speed_gauge.timings_ms.length} gauge pairs`);
  // timed alone, the same slow periods leave some layers 1.5x too slow in both passes
  const alone = await profileSpace(new SlowPeriodsDevice(distinctLayers(space).size), space, { passes: 2, interleave: false });
  assert.equal(alone.reference_layer, undefined);
  const off = [...distinctLayers(space)].filter(([key, { layer }]) => Math.abs(alone.entries[key]!.median_ms / truth(layer) - 1) > 0.01);
  assert.ok(off.length > 0, 'some layers hit in both passes');
  // stored and read back
  const dir = tempDir('mnas-table-interleaved-');
  try {
    assert.deepEqual(loadTable(saveTable(join(dir, 't.json'), table)).reference_layer, table.reference_layer);
    // a checkpoint holds every ratio in ms at the reference's median so far: after the last layer, the table itself
    const checkpoint = join(dir, 'checkpoint.json');
    const checkpointed = await profileSpace(new SlowPeriodsDevice(distinctLayers(space).size), space, { passes: 2, out: checkpoint, checkpointEvery: 1 });
    assert.deepEqual(loadTable(checkpoint).entries, JSON.parse(JSON.stringify(checkpointed.entries)));
    assert.deepEqual(loadTable(checkpoint).reference_layer, checkpointed.reference_layer);
    // resuming from it measures nothing again and keeps its reference
    const resumed = await profileSpace(new SlowPeriodsDevice(distinctLayers(space).size), space, { passes: 2, previous: loadTable(checkpoint) });
    assert.deepEqual(resumed.reference_layer, checkpointed.reference_layer);
    assert.deepEqual(resumed.entries, loadTable(checkpoint).entries);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * A device that can time two models in turn and is lost after `lostAfter` pairs (then throws). The
 * reference's timing varies with the layer it is paired with (not with time), so the reference's
 * median over a profile, which scales every entry, is the same however the profile was interrupted.
 */
class LostDevice extends SlowPeriodsDevice {
  pairs = 0;
  constructor(private readonly lostAfter = Infinity) {
    super(1e9); // no slow period
  }
  override async measureAgainst(model: LatencyModel, reference: LatencyModel): Promise<RelativeLatencyResult> {
    if (this.pairs >= this.lostAfter) throw new Error('device lost');
    if (!isGaugePair(model)) this.pairs++;
    const r = await super.measureAgainst(model, reference);
    // within SAME_SPEED_TOLERANCE of each other: the machine at one speed
    return { ...r, reference_ms: r.reference_ms * (1 + (model.name.length % 7) / 100) };
  }
}

test('an interrupted profile resumes from its checkpoint: each layer in the passes it missed, the same table', async () => {
  const space = new SearchSpace(TINY);
  const layers = distinctLayers(space).size;
  const dir = tempDir('mnas-table-resume-');
  try {
    const whole = await profileSpace(new LostDevice(), space, { passes: 2 });
    for (const lostAfter of [3, layers + 2]) {
      const checkpoint = join(dir, `checkpoint-${lostAfter}.json`);
      // lost in pass 0, or in pass 1 after every layer's first pass
      await assert.rejects(profileSpace(new LostDevice(lostAfter), space, { passes: 2, out: checkpoint, checkpointEvery: 1 }), /device lost/);
      const saved = loadTable(checkpoint);
      assert.equal(saved.partial?.reference_timings.length, lostAfter);
      assert.equal(Object.values(saved.entries).reduce((n, e) => n + (e.pass_ratios?.length ?? 0), 0), lostAfter);
      const device = new LostDevice();
      const resumed = await profileSpace(device, space, { passes: 2, previous: saved, out: checkpoint, checkpointEvery: 1 });
      assert.equal(device.pairs, 2 * layers - lostAfter, 'no layer measured twice in a pass');
      // the checkpoint's gauge pairs are kept, and the resumed profile's added to them
      assert.ok(saved.speed_gauge!.timings_ms.length >= 1);
      assert.deepEqual(resumed.speed_gauge!.timings_ms.slice(0, saved.speed_gauge!.timings_ms.length), saved.speed_gauge!.timings_ms);
      assert.ok(resumed.speed_gauge!.timings_ms.length > saved.speed_gauge!.timings_ms.length);
      assert.deepEqual(resumed.entries, whole.entries);
      assert.deepEqual(resumed.reference_layer, whole.reference_layer);
      assert.equal(resumed.partial, undefined);
      // the last checkpoint: every layer measured, calibration next
      assert.equal(loadTable(checkpoint).partial?.reference_timings.length, 2 * layers);
      // a checkpoint of other settings is refused, not mixed in
      await assert.rejects(profileSpace(new LostDevice(), space, { passes: 3, previous: saved }), /checkpoint was a profile of 2 passes timed against a reference layer, not of 3/);
      await assert.rejects(profileSpace(new LostDevice(), space, { passes: 2, previous: saved, interleave: false }), /not of 2: profile with the same settings/);
      // a checkpoint whose layers compared the blocks' medians (from before blockQuantile was recorded) does not mix with the p10s compared now
      const { blockQuantile: _recorded, ...medianProtocol } = saved.protocol;
      assert.equal(_recorded, 0.1);
      await assert.rejects(profileSpace(new LostDevice(), space, { passes: 2, previous: { ...saved, protocol: medianProtocol } }), /checkpoint's layers were timed comparing each block's 0.5 quantile, not its 0.1/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * A device that can time two models in turn, whose slow mode moves the ratios as this VM's does:
 * the reference 1.3x slower, the layer not (its ratio 1/1.3). `slow(name, n)` says whether the
 * n-th timing (from 0) of the layer named `name` falls into a slow period.
 */
class SlowModeDevice extends FakeDevice {
  pairs = 0;
  private readonly timings = new Map<string, number>();
  constructor(private readonly slow: (name: string, n: number) => boolean) {
    super();
  }
  async measureAgainst(model: LatencyModel, reference: LatencyModel): Promise<RelativeLatencyResult> {
    if (!isGaugePair(model)) this.pairs++;
    const n = this.timings.get(model.name) ?? 0;
    this.timings.set(model.name, n + 1);
    const factor = this.slow(model.name, n) ? 1.3 : 1;
    const m = await super.measure(model);
    const ref = await super.measure(reference);
    return { ...m, ratio: m.median_ms / (ref.median_ms * factor), ratio_rel_half_width: 0, reference_ms: ref.median_ms * factor, pairs: 12, runs_per_block: 3 };
  }
}

test("profileSpace keeps only the passes at the profile's speed and measures again, a bounded number of times, a layer none of whose passes was", async () => {
  const space = new SearchSpace(TINY);
  const distinct = [...distinctLayers(space)];
  const layers = distinct.length;
  const truth = (layer: Parameters<typeof costOfLayer>[0]): number => OVERHEAD + layerMs(costOfLayer(layer).macs);
  const [twice, always, never] = [distinct[1]![0], distinct[2]![0], distinct[3]![0]];
  // `twice` slow in 2 of its 3 passes, `always` in all 3 (then at speed again), `never` slow whenever it is timed
  const device = new SlowModeDevice((name, n) => (name === twice && n >= 1) || (name === always && n < 3) || name === never);
  const table = await profileSpace(device, space, { passes: 3 });
  assert.equal(device.pairs, 3 * layers + 1 + OFF_SPEED_ROUNDS, 'the layer back at speed once more, the one never at speed in every round');
  const scale = table.reference_layer!.ms / truth(distinct.find(([k]) => k === table.reference_layer!.key)![1].layer);
  assert.ok(Math.abs(scale - 1) < 1e-9, 'the profile ran at speed most of the time');
  for (const [key, { layer }] of distinct) {
    const e = table.entries[key]!;
    if (key === never) {
      assert.equal(e.pass_ratios?.length, 3 + OFF_SPEED_ROUNDS);
      assert.equal(e.passes_at_speed, 0);
      assert.ok(Math.abs(e.median_ms / (truth(layer) / 1.3) - 1) < 1e-9, 'of all its passes when none ran at speed');
      continue;
    }
    assert.ok(Math.abs(e.median_ms / truth(layer) - 1) < 1e-9, `${key}: ${e.median_ms} against ${truth(layer)}`);
    assert.equal(e.pass_ratios?.length, key === always ? 4 : 3);
    assert.equal(e.pass_reference_ms?.length, e.pass_ratios?.length);
    assert.equal(e.passes_at_speed, key === twice || key === always ? 1 : 3);
  }
  // with all of them, the median of `twice` would have been the slow mode's
  assert.ok(Math.abs(table.entries[twice]!.pass_ratios!.slice().sort((a, b) => a - b)[1]! / table.entries[twice]!.pass_ratios![0]! - 1 / 1.3) < 1e-9);
  // saved and read back with the reference's timings
  const dir = tempDir('mnas-table-speed-');
  try {
    assert.deepEqual(loadTable(saveTable(join(dir, 't.json'), table)).entries[always], table.entries[always]);
    // interrupted after the passes: the resumed profile measures again what the uninterrupted one did, and nothing else
    const checkpoint = join(dir, 'checkpoint.json');
    const slowLayers = (name: string, n: number): boolean => (name === twice && n >= 1) || (name === always && n < 3) || name === never;
    class LostAfter extends SlowModeDevice {
      constructor(private readonly after: number) {
        super(slowLayers);
      }
      override async measureAgainst(model: LatencyModel, reference: LatencyModel): Promise<RelativeLatencyResult> {
        if (this.pairs >= this.after) throw new Error('device lost');
        return super.measureAgainst(model, reference);
      }
    }
    await assert.rejects(profileSpace(new LostAfter(3 * layers), space, { passes: 3, out: checkpoint, checkpointEvery: 1 }), /device lost/);
    const resumedDevice = new SlowModeDevice((name, n) => name === never || (name === always && n < 0));
    const resumed = await profileSpace(resumedDevice, space, { passes: 3, previous: loadTable(checkpoint) });
    assert.equal(resumedDevice.pairs, 1 + OFF_SPEED_ROUNDS);
    assert.deepEqual(resumed.entries[always]!.passes_at_speed, 1);
    assert.ok(Math.abs(resumed.entries[twice]!.median_ms / table.entries[twice]!.median_ms - 1) < 1e-9);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('buildLatencyTable goes on from the checkpoint at its path; an unfinished table is refused for predicting', async () => {
  const space = new SearchSpace(TINY);
  const layers = distinctLayers(space).size;
  const dir = tempDir('mnas-table-build-resume-');
  try {
    const out = join(dir, 'table.json');
    await assert.rejects(buildLatencyTable(new LostDevice(5), space, { passes: 2, calibrate: 4, checkpoint: out, checkpointEvery: 1 }), /device lost/);
    await assert.rejects(loadTableFor(out, new LostDevice(), space), /is the checkpoint of an unfinished profile: run `mnas latency profile --out .*table\.json` with the same --device and --space to finish it/);
    await assert.rejects(buildLatencyTable(new LostDevice(), new SearchSpace(ONE_BLOCK), { passes: 2, calibrate: 4, checkpoint: out, checkpointEvery: 1 }), /is the checkpoint of an unfinished profile of space 'tiny', not 'one': finish it with that one, or remove it to start over/);
    const device = new LostDevice();
    const table = await buildLatencyTable(device, space, { passes: 2, calibrate: 4, checkpoint: out, checkpointEvery: 1 });
    assert.equal(device.pairs, 2 * layers - 5 + 4, 'the layers left, then the calibration models against the default');
    assert.ok(table.calibration);
    // a finished table at the path is replaced by a new profile, not resumed
    saveTable(out, table);
    const again = new LostDevice();
    await buildLatencyTable(again, space, { passes: 2, calibrate: 4, checkpoint: out, checkpointEvery: 1 });
    assert.equal(again.pairs, 2 * layers + 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fitLine and robustFit: exact lines, weights, and one outlier ignored', () => {
  const xs = [1, 2, 3, 4, 5, 6, 7, 8];
  const ys = xs.map((x) => 0.5 + 2 * x);
  const f = fitLine(xs, ys);
  assert.ok(Math.abs(f.intercept - 0.5) < 1e-12 && Math.abs(f.scale - 2) < 1e-12);
  const pts = xs.map((x, i) => [x, i === 3 ? 3 * (ys[i] as number) : (ys[i] as number)] as const);
  const r = robustFit(pts);
  assert.ok(Math.abs(r.intercept - 0.5) < 1e-9 && Math.abs(r.scale - 2) < 1e-9, JSON.stringify(r));
  assert.throws(() => fitLine([1], [1]), /at least 2/);
});

test('a real ort-cpu table on a few layer configs predicts a positive latency', async () => {
  const space = new SearchSpace(TINY);
  const device = new OrtCpuDevice();
  const arch = space.decode(space.defaultDna());
  const plan = buildPlan(arch);
  const layers = plan.layers.map((layer, index) => [layerKey(layer), { plan, index, layer }] as const);
  const table = await profileSpace(device, space, { passes: 1, layers, protocol: { minRuns: 6, maxSeconds: 0.05 } });
  assert.equal(Object.keys(table.entries).length, new Set(layers.map(([k]) => k)).size);
  assert.ok(table.overhead_ms > 0);
  for (const e of Object.values(table.entries)) assert.ok(e.median_ms > 0 && e.runs >= 6);
  const predicted = new LatencyPredictor(table).predict(arch);
  assert.ok(predicted > 0 && Number.isFinite(predicted));
});

/** A device whose whole networks take a linear function of their features, timed interleaved with a reference like ort-cpu. */
/** A FeatureDevice's fixed cost and one cost per model feature (MODEL_FEATURES order): a dispatch per conv and per layer, work by kind, memory traffic. */
const FEATURE_COEFFICIENTS: readonly number[] = [0.02, 0.004, 0.003, 0.0045, 0.005, 0.0035, 0.02, 0.002, 0.002, 0.003, 0.004, 0.001, 0.0008, 0.05, 0.02, 0.003, 0.002, 0.01, 0.006, 0.03, 0.05];

class FeatureDevice implements LatencyDevice {
  /** Pairs timed, gauge pairs (speed-gauge.ts) apart. */
  interleaved = 0;
  gauges = 0;
  /** How much slower than its coefficients the device runs now (a machine that drifts). */
  slower = 1;
  /** How much slower its fixed per-model cost runs besides (a slow mode that moves the ratios too, not only the milliseconds). */
  fixedSlower = 1;
  /** A spell that slows only the whole networks slower than `spellAboveMs` (the big ones, not the small default) by this much. */
  spell = 1;
  spellAboveMs = Infinity;
  constructor(readonly coefficients: readonly number[]) {}
  async describe(): Promise<DeviceDescription> {
    return { id: 'features', kind: 'ort-cpu', cpu: 'test', runtime: 'fake', runtimeVersion: '0', threads: 1 };
  }
  ms(model: LatencyModel): number {
    const source = model.source;
    assert.ok(source, 'a model of the space');
    if (source.kind === 'overhead') return OVERHEAD;
    if (!isWholeNetwork(source.plan, source.layers)) return OVERHEAD + layersIn(source.plan, source.layers).reduce((a, l) => a + layerMs(costOfLayer(l).macs), 0);
    const f = modelFeatures(source.plan);
    const [fixed, ...perFeature] = this.coefficients;
    const ms = this.slower * predictLinear({ coefficients: [fixed! * this.fixedSlower, ...perFeature] }, MODEL_FEATURES.map((k) => f[k]));
    return ms > this.spellAboveMs ? ms * this.spell : ms;
  }
  async measure(model: LatencyModel): Promise<LatencyResult> {
    const ms = this.ms(model);
    return { ...fixedStats(ms, 10, 0.001), device: await this.describe() };
  }
  async measureAgainst(model: LatencyModel, reference: LatencyModel): Promise<RelativeLatencyResult> {
    if (isGaugePair(model)) this.gauges++;
    else this.interleaved++;
    const r = await this.measure(model);
    const ref = this.ms(reference);
    return { ...r, ratio: r.median_ms / ref, ratio_rel_half_width: 0, reference_ms: ref, pairs: 12, runs_per_block: 3 };
  }
  async close(): Promise<void> {}
}

test('with enough calibration models the predictor is a linear model of the network features, calibrated interleaved with the default arch', async () => {
  const space = new SearchSpace({ ...TINY, blocks: [{ width: 8, layers: 2, stride: 1 }, { width: 16, layers: 2, stride: 2 }] });
  const coefficients = FEATURE_COEFFICIENTS;
  assert.equal(coefficients.length, MODEL_FEATURES.length + 1);
  const device = new FeatureDevice(coefficients);
  const table = await profileSpace(device, space, { passes: 1 });
  device.interleaved = 0;
  const reference = space.decode(space.defaultDna());
  let referenceMs: number | undefined;
  const measured = await measureRandomArchs(device, space, MIN_FEATURE_MODELS, 1, { reference, onReference: (ms) => (referenceMs = ms) });
  assert.equal(device.interleaved, MIN_FEATURE_MODELS, 'each calibration model timed in turn with the reference');
  assert.ok(measured.every((m) => m.ratio !== undefined && Math.abs(m.measured_ms - m.ratio * referenceMs!) < 1e-12));
  const cal = calibrateFrom(table, measured, { arch: 'default', ms: referenceMs! });
  assert.deepEqual(cal.features, [...PREDICTOR_FEATURES]);
  assert.ok(cal.fit_mape < 1e-3, `fit ${cal.fit_mape}`);
  const report = evaluatePredictor(new LatencyPredictor(table), await measureRandomArchs(device, space, 30, 2));
  assert.ok(report.max_abs_pct_error < 0.5, `out of sample: worst ${report.max_abs_pct_error}%`);
  // the prediction splits into a fixed part and one per layer, for the dashboard's layer table: they add up, with either model
  const sample = buildPlan(measured[3]!.arch);
  for (const t of [table, { ...table, calibration: { ...cal, features: undefined, coefficients: undefined } }]) {
    const p = new LatencyPredictor(t);
    const parts = p.parts(sample);
    const sum = parts.fixedMs + parts.layers.reduce<number>((a, b) => a + b!, 0);
    assert.ok(Math.abs(sum - p.predict(sample)) < 1e-12, `parts ${sum} against ${p.predict(sample)}`);
  }
  // the line alone cannot: on the same models it misses by more
  const line = evaluatePredictor(new LatencyPredictor({ ...table, calibration: { ...cal, features: undefined, coefficients: undefined } }), await measureRandomArchs(device, space, 30, 2));
  assert.ok(line.max_abs_pct_error > report.max_abs_pct_error, `line ${line.max_abs_pct_error}% against features ${report.max_abs_pct_error}%`);

  // stored and read back; a coefficient list that does not match the features is refused
  const dir = tempDir('mnas-table-features-');
  try {
    const back = loadTable(saveTable(join(dir, 't.json'), table));
    assert.deepEqual(back.calibration, JSON.parse(JSON.stringify(cal)));
    const bad = { ...JSON.parse(JSON.stringify(table)), calibration: { ...cal, coefficients: cal.coefficients!.slice(1) } };
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(bad));
    assert.throws(() => loadTable(join(dir, 'bad.json')), /calibration: features and coefficients go together/);
    writeFileSync(join(dir, 'odd.json'), JSON.stringify({ ...bad, calibration: { ...cal, features: ['nonsense', ...cal.features!.slice(1)] } }));
    assert.throws(() => loadTable(join(dir, 'odd.json')), /calibration\.features\.0: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a network whose weights outgrow the cache: the weight knees carry the bend a linear model of the layers cannot', async () => {
  // wide enough that random networks hold from well under 0.2 M weights to over 0.5 M
  const space = new SearchSpace({ ...TINY, name: 'wide', blocks: [{ width: 96, layers: 1, stride: 1 }, { width: 192, layers: 1, stride: 2 }] });
  const device = new FeatureDevice(FEATURE_COEFFICIENTS);
  const table = await profileSpace(device, space, { passes: 1 });
  const reference = space.decode(space.defaultDna());
  let referenceMs: number | undefined;
  const measured = await measureRandomArchs(device, space, MIN_FEATURE_MODELS, 1, { reference, onReference: (ms) => (referenceMs = ms) });
  const weights = measured.map((m) => modelFeatures(buildPlan(m.arch)).weights_m);
  assert.ok(Math.min(...weights) < 0.2 && Math.max(...weights) > 0.5, `weights ${Math.min(...weights)}-${Math.max(...weights)} M`);
  calibrateFrom(table, measured, { arch: 'default', ms: referenceMs! });
  const others = await measureRandomArchs(device, space, 30, 2);
  const withKnees = evaluatePredictor(new LatencyPredictor(table), others);
  assert.ok(withKnees.max_abs_pct_error < 0.5, `with the knees: worst ${withKnees.max_abs_pct_error}%`);
  const features = PREDICTOR_FEATURES.filter((f) => f !== 'weights_beyond_200k' && f !== 'weights_beyond_500k');
  const plain = new LatencyPredictor({ ...table, calibration: undefined });
  const coefficients = robustFeatureFit(measured.map((m) => plain.featureValues(buildPlan(m.arch), features)), measured.map((m) => m.measured_ms));
  const without = evaluatePredictor(new LatencyPredictor({ ...table, calibration: { ...table.calibration!, features, coefficients } }), others);
  assert.ok(without.max_abs_pct_error > 2 * withKnees.max_abs_pct_error + 1, `without the knees: worst ${without.max_abs_pct_error}% against ${withKnees.max_abs_pct_error}%`);
  // the dashboard's per-layer split still adds up to the prediction when the knees are in it
  const big = buildPlan(measured[weights.indexOf(Math.max(...weights))]!.arch);
  const p = new LatencyPredictor(table);
  const parts = p.parts(big);
  const sum = parts.fixedMs + parts.layers.reduce<number>((a, b) => a + b!, 0);
  assert.ok(Math.abs(sum - p.predict(big)) < 1e-12, `parts ${sum} against ${p.predict(big)}`);
});

test('latency eval tells the predictor\'s own error from the device\'s drift since the table was calibrated', async () => {
  const space = new SearchSpace({ ...TINY, blocks: [{ width: 8, layers: 2, stride: 1 }, { width: 16, layers: 2, stride: 2 }] });
  const device = new FeatureDevice([0.02, 0.004, 0.003, 0.0045, 0.005, 0.0035, 0.02, 0.002, 0.002, 0.003, 0.004, 0.001, 0.0008, 0.05, 0.02, 0.003, 0.002, 0.01]);
  const table = await buildLatencyTable(device, space, { passes: 1, calibrate: MIN_FEATURE_MODELS });
  assert.equal(table.calibration?.reference?.arch, printArch(space.decode(space.defaultDna())));
  device.slower = 1.2;
  const e = await evaluateTable(device, space, table, { samples: 20, passes: 1 });
  assert.ok(e.report.within_10pct < 0.5, `in ms the 20% drift shows: ${e.report.within_10pct}`);
  assert.ok(e.reference && Math.abs(e.reference.ms / e.reference.tableMs! - 1.2) < 1e-9);
  assert.equal(e.driftFree?.within_10pct, 1, 'brought back to the calibration\'s speed, the predictor is exact');
  assert.equal(e.repeatability, undefined, 'no retest unless asked');
  assert.equal(e.betweenPasses, undefined, 'one pass: nothing to compare');

  // the first 5 measured again at the end, after the machine slowed by a further 30%: the ratios repeat exactly
  const again = await evaluateTable(device, space, table, {
    samples: 20,
    passes: 1,
    retest: 5,
    onProgress: (done, total) => {
      if (done === total) device.slower = 1.2 * 1.3;
    },
  });
  assert.equal(again.repeatability?.models, 5);
  assert.equal(again.repeatability?.within_5pct, 1);
  assert.equal(again.repeatability?.different_speed?.models, 5, 'the reference ran 30% slower the second time');
  const [fastest, slowest] = again.repeatability!.reference_ms_range!;
  assert.ok(Math.abs(slowest / fastest - 1.3) < 1e-9);
  await assert.rejects(evaluateTable(device, space, table, { samples: 3, retest: 4 }), /retest must be an integer from 0 to samples \(3\), got 4/);

  // halfway through, the machine switches to a slow mode in which the fixed per-model cost triples:
  // the models measured before it are predicted exactly, those after it are not, and the split says so
  device.slower = 1;
  const switched = await evaluateTable(device, space, table, {
    samples: 20,
    passes: 1,
    onProgress: (done) => {
      if (done === 10) {
        device.slower = 1.3;
        device.fixedSlower = 3;
      }
    },
  });
  const { atCalibrationSpeed, acrossSpeed } = switched.driftFreeBySpeed!;
  assert.equal(atCalibrationSpeed.samples, 10);
  assert.ok(atCalibrationSpeed.max_abs_pct_error < 0.5, `at the calibration's speed: worst ${atCalibrationSpeed.max_abs_pct_error}%`);
  assert.equal(acrossSpeed.samples, 10);
  assert.ok(acrossSpeed.max_abs_pct_error > 1, `in the slow mode the ratios moved: worst ${acrossSpeed.max_abs_pct_error}%`);
  assert.equal(switched.models.length, 20);
  assert.ok(switched.models.every((m, i) => m.ratio !== undefined && m.reference_ms !== undefined && Math.abs(m.drift_free_error_pct! - switched.driftFree!.rows[i]!.error_pct) < 1e-12));
  assert.ok(switched.models[15]!.reference_ms! > 1.3 * switched.models[5]!.reference_ms!, 'each model keeps its pair\'s reference timing');
});

test('latency eval measures every model in two passes and keeps the faster pair: a spell that slows big models and not the default shows in one pass only', async () => {
  const space = new SearchSpace({ ...TINY, blocks: [{ width: 8, layers: 2, stride: 1 }, { width: 16, layers: 2, stride: 2 }] });
  const device = new FeatureDevice(FEATURE_COEFFICIENTS);
  const table = await buildLatencyTable(device, space, { passes: 1, calibrate: MIN_FEATURE_MODELS });
  const samples = 30;
  const archs = await measureRandomArchs(device, space, samples, EVALUATION_SEED);
  const defaultMs = device.ms(archToModel(space.decode(space.defaultDna()), 'default'));
  const big = archs.filter((m) => m.measured_ms > defaultMs * 1.2).length;
  assert.ok(big >= 5, `enough models bigger than the default for the spell to hit: ${big}`);
  // models 5-19 of the first pass measured in a spell that slows the big ones by 20%, the default not at all
  const spellIn = (pass: (done: number, total: number) => boolean) => (done: number, total: number) => {
    const on = pass(done, total);
    device.spell = on ? 1.2 : 1;
    device.spellAboveMs = defaultMs * 1.2;
  };
  const onePass = await evaluateTable(device, space, table, { samples, passes: 1, onProgress: spellIn((done) => done >= 5 && done < 20) });
  const hit = onePass.driftFreeBySpeed!.atCalibrationSpeed;
  assert.equal(hit.samples, samples, 'the default ran at speed throughout: the split by its speed cannot see the spell');
  assert.ok(hit.max_abs_pct_error > 10, `one pass: the spell's models off by ${hit.max_abs_pct_error}%`);
  const twoPasses = await evaluateTable(device, space, table, { samples, onProgress: spellIn((done) => done >= 5 && done < 20) });
  const kept = twoPasses.driftFreeBySpeed!.atCalibrationSpeed;
  assert.equal(kept.samples, samples);
  assert.ok(kept.max_abs_pct_error < 0.5, `two passes, the faster pair kept: worst ${kept.max_abs_pct_error}%`);
  assert.ok(twoPasses.report.max_abs_pct_error < 0.5, `in ms too: worst ${twoPasses.report.max_abs_pct_error}%`);
  const between = twoPasses.betweenPasses!;
  assert.equal(between.models, samples);
  assert.ok(twoPasses.models.every((m) => m.passes?.length === 2 && m.ratio === Math.min(...m.passes)), 'every model lists its ratio in each pass; the lower kept');
  assert.ok(between.within_10pct < 1 && between.same_speed!.models === samples, 'the passes disagree on the spell\'s models, at one speed of the default');
  assert.equal(device.spell, 1);
  await assert.rejects(evaluateTable(device, space, table, { samples: 3, passes: 0 }), /passes must be an integer of at least 1, got 0/);
});

test('a table\'s calibration models measured while the machine was in its slow mode are measured again at speed, a bounded number of times', async () => {
  const space = new SearchSpace({ ...TINY, blocks: [{ width: 8, layers: 2, stride: 1 }, { width: 16, layers: 2, stride: 2 }] });
  const coefficients = FEATURE_COEFFICIENTS;
  const n = MIN_FEATURE_MODELS;
  const slowMode = (d: FeatureDevice, on: boolean): void => {
    d.slower = on ? 1.3 : 1;
    d.fixedSlower = on ? 3 : 1;
  };
  const layerPairs = async (): Promise<number> => {
    const d = new FeatureDevice(coefficients);
    await profileSpace(d, space, { passes: 1 });
    return d.interleaved;
  };
  const layers = await layerPairs();
  // models 11-20 in the slow mode (it moves their ratios); back at speed for the rest and for their second pair
  const device = new FeatureDevice(coefficients);
  const totals: number[] = [];
  const table = await buildLatencyTable(device, space, {
    passes: 1,
    calibrate: n,
    onCalibration: (done, total) => {
      totals.push(total);
      if (done === 10) slowMode(device, true);
      if (done === 20) slowMode(device, false);
    },
  });
  assert.equal(device.interleaved - layers, n + 10, 'the 10 measured in the slow mode, once more');
  assert.equal(totals.at(-1), n + 10, 'progress counts them');
  assert.ok(table.calibration!.fit_mape < 1e-3, `every calibration model at speed: fit ${table.calibration!.fit_mape}`);
  const report = evaluatePredictor(new LatencyPredictor(table), await measureRandomArchs(device, space, 30, 2));
  assert.ok(report.max_abs_pct_error < 0.5, `out of sample: worst ${report.max_abs_pct_error}%`);

  // a slow mode that lasts: measured again CALIBRATION_OFF_SPEED_ROUNDS times, then the table is built with what there is
  const stuck = new FeatureDevice(coefficients);
  await buildLatencyTable(stuck, space, { passes: 1, calibrate: n, onCalibration: (done) => done === n - 10 && slowMode(stuck, true) });
  assert.equal(stuck.interleaved - layers, n + 10 * CALIBRATION_OFF_SPEED_ROUNDS);

  // a slow mode through the first 60% of the calibration: the table is still at the device's fast
  // speed (a median of the default's timings would have been the slow mode's, scaling every prediction)
  const mostlySlow = new FeatureDevice(coefficients);
  const slowUntil = Math.ceil(0.6 * n);
  slowMode(mostlySlow, true);
  const slowFirst = await buildLatencyTable(mostlySlow, space, {
    passes: 1,
    calibrate: n,
    onCalibration: (done) => slowMode(mostlySlow, done < slowUntil),
  });
  assert.equal(mostlySlow.slower, 1);
  const fastDefaultMs = mostlySlow.ms(archToModel(space.decode(space.defaultDna()), 'default'));
  assert.ok(Math.abs(slowFirst.calibration!.reference!.ms / fastDefaultMs - 1) < 1e-9, `the default at ${slowFirst.calibration!.reference!.ms} ms, fast ${fastDefaultMs} ms`);
  assert.equal(mostlySlow.interleaved - layers, n + slowUntil, 'the models measured in the slow mode, once more at speed');
  const inMs = evaluatePredictor(new LatencyPredictor(slowFirst), await measureRandomArchs(mostlySlow, space, 30, 2));
  assert.ok(inMs.max_abs_pct_error < 0.5, `in ms at the fast speed: worst ${inMs.max_abs_pct_error}%`);
  assert.equal(slowFirst.calibration!.speed?.slowdown, 1, 'its gauge pairs at the fast speed too: nothing to bring back');
  assert.equal(mostlySlow.gauges, slowFirst.speed_gauge!.timings_ms.length + Math.ceil(n / GAUGE_EVERY_MODELS) + Math.ceil(slowUntil / GAUGE_EVERY_MODELS), 'a gauge pair before every GAUGE_EVERY_MODELS calibration models');

  // slow through the whole calibration, after a profile at speed: the calibration's own fast speed
  // is the slow mode's (every prediction 30% high before the gauge pairs); its gauge pairs against
  // the profile's bring it back
  const slowThroughout = new FeatureDevice(coefficients);
  const slowCalibration = await buildLatencyTable(slowThroughout, space, {
    passes: 1,
    calibrate: n,
    onLayers: (done, total) => done === total && (slowThroughout.slower = 1.3),
  });
  assert.equal(slowThroughout.slower, 1.3);
  assert.equal(slowThroughout.interleaved - layers, n, 'every pair at the calibration\'s own speed: none measured again');
  const speed = slowCalibration.calibration!.speed!;
  assert.ok(Math.abs(speed.slowdown - 1.3) < 1e-9 && Math.abs(speed.calibration_gauge_ms / speed.profile_gauge_ms - 1.3) < 1e-9, JSON.stringify(speed));
  assert.ok(Math.abs(slowCalibration.calibration!.reference!.ms / fastDefaultMs - 1) < 1e-9, `the default at ${slowCalibration.calibration!.reference!.ms} ms, fast ${fastDefaultMs} ms`);
  slowThroughout.slower = 1;
  const atProfileSpeed = evaluatePredictor(new LatencyPredictor(slowCalibration), await measureRandomArchs(slowThroughout, space, 30, 2));
  assert.ok(atProfileSpeed.max_abs_pct_error < 0.5, `in ms at the profile's speed: worst ${atProfileSpeed.max_abs_pct_error}%`);
  // read back with its speed
  const dir = tempDir('mnas-table-gauge-');
  try {
    const back = loadTable(saveTable(join(dir, 't.json'), slowCalibration));
    assert.deepEqual(back.calibration!.speed, speed);
    assert.deepEqual(back.speed_gauge, slowCalibration.speed_gauge);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('calibrationSpeed corrects only a calibration slower than its profile beyond the tolerance', () => {
  const profile = [1, 1.02, 1.5, 0.99, 1.01, 1.4, 1];
  assert.equal(calibrationSpeed(profile, [1.05, 1.06, 1.3]).slowdown, 1, 'within SAME_SPEED_TOLERANCE: noise, left alone');
  assert.equal(calibrationSpeed(profile, [0.8, 0.8, 0.81]).slowdown, 1, 'faster than the profile: already at the faster speed');
  const slow = calibrationSpeed(profile, [1.3, 1.31, 1.35, 1.3]);
  assert.ok(Math.abs(slow.slowdown - slow.calibration_gauge_ms / slow.profile_gauge_ms) < 1e-12 && slow.slowdown > 1.25, JSON.stringify(slow));
  assert.throws(() => calibrationSpeed(profile, []), /no reference timings/);
});

test('latency eval on ort-cpu measures the first models again and reports how well the device repeats itself', async () => {
  const space = new SearchSpace(TINY);
  const device = new OrtCpuDevice();
  const table = await buildLatencyTable(device, space, { passes: 1, calibrate: 4 });
  const e = await evaluateTable(device, space, table, { samples: 3, retest: 2 });
  assert.equal(e.betweenPasses?.models, 3, 'each model measured in two passes');
  const r = e.repeatability!;
  assert.equal(r.models, 2);
  assert.ok(Number.isFinite(r.median_abs_pct_diff) && r.max_abs_pct_diff >= r.median_abs_pct_diff);
  assert.equal(r.same_speed!.models + r.different_speed!.models, 2, 'interleaved with the default arch, so each pair has the reference\'s speed both times');
  assert.ok(r.reference_ms_range![0] > 0 && r.reference_ms_range![1] >= r.reference_ms_range![0]);
});
