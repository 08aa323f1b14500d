/**
 * Latency lookup tables: every distinct layer configuration of a search space measured on one
 * device, alone at batch 1, saved as JSON with the device description. A layer is measured as
 * the one-layer range of a plan it occurs in (model.ts layersToModel): the same graph, node names
 * and seeded weights (seed 0) as inside that plan's whole network, which is how whole networks
 * are measured too.
 *
 * A layer configuration is what decides its cost: for a searched layer (op, cin, cout, expand,
 * kernel, stride, SE width, the shortcut it resolves to, input size); plus the stem, head,
 * global pool and classifier. In the factorized space a layer depends only on its own block's
 * decisions and the previous block's width, so the configurations are enumerated block by block
 * (a few thousand for the small spaces) instead of over the 432^B architectures.
 *
 * Besides the layers the table records `overhead_ms`: the median latency of a trivial model
 * (one Relu on a 1-element tensor), i.e. what every session.run costs regardless of the
 * network (dispatch, input binding, output copy). See predictor.ts for how it is used.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { costOfLayer } from '../model/cost.js';
import { buildPlan, type LayerPlan, type NetworkPlan } from '../model/plan.js';
import { BATCH, GraphBuilder } from '../model/onnx/index.js';
import { saveModel } from '../model/onnx/save.js';
import type { SearchSpace } from '../space/space.js';
import { InputError } from '../util/input-error.js';
import type { DeviceDescription, LatencyDevice, LatencyModel, MeasureProtocol } from './device.js';
import { archToModel, layersToModel } from './model.js';
import { PROFILE_PROTOCOL } from './protocol.js';
import { BLOCK_QUANTILE } from './interleaved.js';
import { median } from '../util/stats.js';
import { PREDICTOR_FEATURES, type PredictorFeature } from './model-features.js';
import { DEVICE_KINDS } from './registry.js';
import { atSameSpeed } from './repeatability.js';
import { GAUGE_EVERY_LAYERS, type CalibrationSpeed, type SpeedGauge } from './speed-gauge.js';
import { printArch } from '../space/arch-string.js';

export const TABLE_FORMAT = 'mnas-latency-table/1';

/** Canonical key of a layer configuration (two layers with the same key cost the same). */
export function layerKey(l: LayerPlan): string {
  const size = `${l.inSize.height}x${l.inSize.width}`;
  switch (l.kind) {
    case 'stem':
    case 'head':
      return `${l.kind}_c${l.conv.inChannels}_o${l.conv.outChannels}_k${l.conv.kernel}_s${l.conv.stride}_@${size}`;
    case 'pool':
      return `pool_c${l.inChannels}_@${size}`;
    case 'classifier':
      return `fc_i${l.inFeatures}_o${l.outFeatures}`;
    case 'block': {
      const s = l.shortcut;
      const skip = !s ? 'noskip' : s.kind === 'identity' ? 'id' : `pool${s.downsample ? 'd' : ''}${s.channelChange === 'none' ? '' : s.channelChange === 'zero_pad' ? 'p' : 't'}`;
      return `${l.op}_c${l.inChannels}_o${l.outChannels}_e${l.expand}_k${l.kernel}_s${l.stride}_se${l.seChannels}_${skip}_@${size}`;
    }
  }
}

/** Layer `index` of `plan`: a layer configuration together with a network it occurs in. */
export interface PlannedLayer {
  readonly plan: NetworkPlan;
  readonly index: number;
  readonly layer: LayerPlan;
}

/**
 * The distinct layer configurations of a space, keyed by layerKey, each with the first decoded
 * plan it occurs in. For every block, every combination of its op/kernel/SE/skip/width with
 * every width of the previous block is decoded (with the most repeats, so the repeated layer
 * appears too); stem, head, pool and classifier come from the same decodes.
 */
export function distinctLayers(space: SearchSpace): Map<string, PlannedLayer> {
  const decisions = space.decisions();
  const perBlock = decisions.length / space.skeleton.blocks.length;
  const kinds = decisions.slice(0, perBlock).map((d) => d.kind);
  const idx = (b: number, kind: string): number => b * perBlock + kinds.indexOf(kind as (typeof kinds)[number]);
  const out = new Map<string, PlannedLayer>();
  const add = (plan: NetworkPlan, index: number): void => {
    const layer = plan.layers[index]!;
    const k = layerKey(layer);
    if (!out.has(k)) out.set(k, { plan, index, layer });
  };
  const base = [...space.defaultDna()];
  const B = space.skeleton.blocks.length;
  for (let b = 0; b < B; b++) {
    const layersIdx = idx(b, 'layers');
    const choicesOf = (kind: string): number[] => [...Array((decisions[idx(b, kind)] as { choices: readonly unknown[] }).choices.length).keys()];
    // the layers choice with the most repeats (so layer 1 exists when it can)
    const layerChoices = (decisions[layersIdx] as { choices: readonly unknown[] }).choices as readonly number[];
    const most = layerChoices.indexOf(Math.max(...layerChoices));
    const prevWidths = b === 0 ? [-1] : [...Array((decisions[idx(b - 1, 'filters')] as { choices: readonly unknown[] }).choices.length).keys()];
    for (const op of choicesOf('conv_op'))
      for (const k of choicesOf('kernel'))
        for (const se of choicesOf('se_ratio'))
          for (const skip of choicesOf('skip'))
            for (const f of choicesOf('filters'))
              for (const pf of prevWidths) {
                const dna = [...base];
                dna[idx(b, 'conv_op')] = op;
                dna[idx(b, 'kernel')] = k;
                dna[idx(b, 'se_ratio')] = se;
                dna[idx(b, 'skip')] = skip;
                dna[idx(b, 'filters')] = f;
                dna[layersIdx] = most;
                if (pf >= 0) dna[idx(b - 1, 'filters')] = pf;
                const plan = buildPlan(space.decode(dna));
                plan.layers.forEach((l, index) => {
                  if (l.kind === 'block' ? l.block === b && l.layer <= 1 : true) add(plan, index);
                });
              }
  }
  return out;
}

export interface TableEntry {
  /** What the layer is, for people reading the table. */
  kind: LayerPlan['kind'];
  macs: number;
  median_ms: number;
  p10_ms: number;
  p90_ms: number;
  runs: number;
  converged: boolean;
  /** The median of each profiling pass; median_ms is the lowest (timed alone) or their median (timed against the reference layer). */
  pass_medians?: number[];
  /** Timed against the table's reference layer: the ratio to it in each pass. */
  pass_ratios?: number[];
  /**
   * Timed against the reference layer: the reference's timing in each pass, the machine's speed at
   * that moment. Only the passes at the profile's speed (within SAME_SPEED_TOLERANCE of the
   * reference's median over the profile) make median_ms; `passes_at_speed` counts them.
   */
  pass_reference_ms?: number[];
  passes_at_speed?: number;
}

export interface LatencyTable {
  format: typeof TABLE_FORMAT;
  space: string;
  device: DeviceDescription;
  created: string;
  protocol: Partial<MeasureProtocol> & { passes?: number };
  /** Median latency of a trivial model: the fixed cost of one session run. */
  overhead_ms: number;
  entries: Record<string, TableEntry>;
  /** Layers timed interleaved with this one: its key and its median latency over the profile (what the ratios are scaled by). */
  reference_layer?: { key: string; ms: number };
  /** Set by calibrate() (predictor.ts). */
  calibration?: Calibration;
  /**
   * A checkpoint of a profile still running or interrupted: not a table to predict with. Each entry
   * holds the passes it was measured in so far (pass_ratios or pass_medians); the reference layer's
   * timings so far let a resumed profile rescale every ratio as the uninterrupted one would.
   */
  partial?: { reference_timings: number[] };
  /** Gauge pairs taken through the profile (speed-gauge.ts): what a calibration's speed is checked against. */
  speed_gauge?: SpeedGauge;
}

export interface Calibration {
  /** prediction = intercept_ms + scale * sum over layers of (entry - overhead_ms). */
  intercept_ms: number;
  scale: number;
  models: number;
  /** Mean absolute % error of the fit on the calibration models themselves. */
  fit_mape: number;
  /** The calibration points: [sum of net layer latencies, measured], ms. */
  points: Array<[number, number]>;
  /**
   * With enough calibration models, the predictor proper: a linear model of these features of the
   * whole network (model-features.ts), coefficients[0] the intercept; fit_mape is then its fit.
   */
  features?: PredictorFeature[];
  coefficients?: number[];
  /** How the calibration models were measured: interleaved with this reference (the space's default), or each on its own. */
  reference?: { arch: string; ms: number };
  /** The calibration's gauge pairs against the profile's (speed-gauge.ts): its milliseconds were divided by `slowdown`. */
  speed?: CalibrationSpeed;
}

/** A model whose run costs only the session overhead: ONNX, one Relu on a 1-element tensor. */
function overheadModel(): LatencyModel {
  const g = new GraphBuilder({ graphName: 'overhead' });
  g.output(g.relu(g.input('input', [BATCH, 1, 1, 1]), 'relu'), 'output');
  return { name: 'overhead', onnx: g.toBytes(), inputShape: [1, 1, 1, 1], source: { kind: 'overhead' } };
}

export interface ProfileOptions {
  protocol?: Partial<MeasureProtocol>;
  /** Called after each layer (done, total, key). */
  onProgress?: (done: number, total: number, key: string) => void;
  signal?: AbortSignal;
  /**
   * Keys already measured: they are kept and not measured again. A checkpoint (`partial`) resumes
   * where it stopped: each layer is measured in the passes it misses.
   */
  previous?: LatencyTable;
  /** Save the partial table every this many layers (with `out`). */
  checkpointEvery?: number;
  out?: string;
  /** Passes over all layers (default DEFAULT_PROFILE_PASSES): see profileSpace. */
  passes?: number;
  /** Measure only these layers (default: distinctLayers(space)). */
  layers?: Iterable<readonly [string, PlannedLayer]>;
  /** Time each layer against a reference layer where the device can (default true). */
  interleave?: boolean;
}

/** Passes a checkpointed entry was measured in (its pass ratios, or its pass medians when timed alone). */
export function passesMeasured(e: TableEntry): number {
  return e.pass_ratios?.length ?? e.pass_medians?.length ?? 0;
}

/**
 * Measures every distinct layer of `space` on `device`, in `passes` passes (default 3) over all
 * layers, each pass in a different order.
 *
 * Where the device can time two models in turn (ort-cpu, browser), each layer is timed interleaved
 * with one reference layer (a layer of the space's default architecture) in blocks of a couple of
 * milliseconds: its entry is the median of its pass ratios times the reference's median over the
 * whole profile. This VM has periods of seconds when it runs up to 1.5x slower; two fresh tables
 * timed alone, lowest of two passes in different orders, disagreed by more than 28% on 10% of the
 * fmnist layers (whole runs of neighbouring layers hit in both passes, 2026-12-01), which no
 * calibration could fix. Elsewhere each layer is timed alone and keeps its lowest pass median:
 * noise on a shared machine only ever adds time.
 *
 * The ratios themselves move when this VM switches to its slow mode: in twelve profiles
 * (2026-12-03) the reference layer ran more than 10% slower than its median in 8-33% of the pairs
 * (up to 2.1x), and in one profile a layer's ratio in those was 5% lower than at speed in the
 * median, 27% lower for one layer in 20, where its passes at speed agreed within 1.7% in the
 * median. So a layer's entry is the median of only its passes whose reference ran at the
 * profile's speed (within SAME_SPEED_TOLERANCE of the reference's median over the profile), and a
 * layer that has none is measured again after the passes, in up to OFF_SPEED_ROUNDS more rounds.
 * In one fmnist profile before this (2026-12-03) two of three passes of 187 layers had fallen into
 * a slow mode: the predictor built on it missed two architectures by 19-21% that tables profiled
 * at one speed predicted within 5%.
 *
 * Interleaved, the profile also gauges the device's speed (speed-gauge.ts): the space's default
 * architecture timed against the reference layer at the start of each pass and every
 * GAUGE_EVERY_LAYERS layers, kept in the table (`speed_gauge`) for the calibration to be checked against.
 */
export async function profileSpace(device: LatencyDevice, space: SearchSpace, o: ProfileOptions = {}): Promise<LatencyTable> {
  const passes = o.passes ?? DEFAULT_PROFILE_PASSES;
  if (!Number.isInteger(passes) || passes < 1) throw new Error(`profile: passes must be a positive integer, got ${passes}`);
  const interleave = (o.interleave ?? true) && device.measureAgainst !== undefined;
  const protocol = { ...(interleave ? LAYER_PAIR_PROTOCOL : PROFILE_PROTOCOL), ...(o.protocol ?? {}) };
  const layers = [...(o.layers ?? distinctLayers(space))];
  const description = await device.describe();
  if (o.previous && o.previous.device.id !== description.id) {
    throw new Error(`profile: the previous table was measured on '${o.previous.device.id}', not '${description.id}'`);
  }
  const partial = o.previous?.partial;
  if (o.previous && partial) {
    const was = { passes: o.previous.protocol.passes, interleaved: o.previous.reference_layer !== undefined || partial.reference_timings.length > 0 };
    if (was.passes !== passes || was.interleaved !== interleave) {
      throw new LatencyTableError(`profile: the checkpoint was a profile of ${String(was.passes)} passes${was.interleaved ? ' timed against a reference layer' : ''}, not of ${passes}${interleave ? ' timed against a reference layer' : ''}: profile with the same settings or remove it`);
    }
    // a checkpoint from before blockQuantile was recorded compared the blocks' medians
    const wasQuantile = o.previous.protocol.blockQuantile ?? 0.5;
    const quantile = protocol.blockQuantile ?? BLOCK_QUANTILE;
    if (interleave && wasQuantile !== quantile) {
      throw new LatencyTableError(`profile: the checkpoint's layers were timed comparing each block's ${wasQuantile} quantile, not its ${quantile}: their ratios would not mix; remove it and profile again`);
    }
  }
  const overheadProtocol = { ...PROFILE_PROTOCOL, ...(o.protocol ?? {}), minSeconds: 0.1, maxSeconds: 1 };
  const reference = interleave ? referenceLayer(space) : undefined;
  const table: LatencyTable = {
    format: TABLE_FORMAT,
    space: space.name,
    device: description,
    created: new Date().toISOString(),
    protocol: { ...protocol, passes },
    overhead_ms: Infinity,
    entries: { ...(o.previous?.entries ?? {}) },
    ...(o.previous?.reference_layer ? { reference_layer: o.previous.reference_layer } : {}),
  };
  const gauge = interleave ? speedGaugeModels(space) : undefined;
  if (gauge) table.speed_gauge = { arch: gauge.arch, timings_ms: [...(o.previous?.speed_gauge?.arch === gauge.arch ? o.previous.speed_gauge.timings_ms : [])] };
  let pairsSinceGauge = 0;
  const takeGauge = async (): Promise<void> => {
    if (!gauge) return;
    table.speed_gauge!.timings_ms.push(await measureSpeedGauge(device, gauge, protocol, o.signal));
    pairsSinceGauge = 0;
  };
  // passes each layer was measured in already: a checkpoint's are in its entries, a finished table's are all done
  const passesDone = new Map<string, number>();
  for (const [key, e] of Object.entries(table.entries)) passesDone.set(key, partial ? passesMeasured(e) : passes);
  const todo = layers.filter(([key]) => (passesDone.get(key) ?? 0) < passes);
  const referenceTimings: number[] = [...(partial?.reference_timings ?? [])];
  const ratios = new Map<string, number[]>();
  // the reference's timing in each of a layer's pairs (absent for a checkpoint from before they were recorded)
  const referenceByPass = new Map<string, number[]>();
  // every checkpointed ratio is rescaled at the end, also of layers it holds all passes of
  if (partial && interleave) {
    for (const [key, e] of Object.entries(table.entries)) {
      if (e.pass_ratios) ratios.set(key, [...e.pass_ratios]);
      if (e.pass_reference_ms?.length === e.pass_ratios?.length && e.pass_reference_ms) referenceByPass.set(key, [...e.pass_reference_ms]);
    }
  }
  const checkpoint = (): void => {
    settle();
    saveTable(o.out!, { ...table, partial: { reference_timings: [...referenceTimings] } });
  };
  // interleaved: every ratio in ms at the reference's median over all the pairs so far (checkpoints, the end)
  const settle = (): void => {
    if (!reference || referenceTimings.length === 0) return;
    const referenceMs = median(referenceTimings);
    for (const [key, mine] of ratios) Object.assign(table.entries[key]!, entryFromRatios(mine, referenceMs, referenceByPass.get(key)));
    table.reference_layer = { key: reference.key, ms: referenceMs };
  };
  let done = 0;
  let total = todo.reduce((n, [key]) => n + passes - (passesDone.get(key) ?? 0), 0);
  const measurePair = async (key: string, { plan, index, layer }: PlannedLayer, firstPass: boolean): Promise<void> => {
    const model = layersToModel(plan, { from: index, to: index + 1 }, key);
    if (pairsSinceGauge >= GAUGE_EVERY_LAYERS) await takeGauge();
    pairsSinceGauge++;
    const r = await device.measureAgainst!(model, reference!.model, protocol, o.signal);
    referenceTimings.push(r.reference_ms);
    const mine = [...(ratios.get(key) ?? []), r.ratio];
    ratios.set(key, mine);
    // a layer checkpointed before the reference's timings were recorded keeps all its passes
    const before = referenceByPass.get(key);
    const refs = before ? [...before, r.reference_ms] : mine.length === 1 ? [r.reference_ms] : undefined;
    if (refs) referenceByPass.set(key, refs);
    const previous = table.entries[key];
    // in ms at this pair's reference timing until settle()
    table.entries[key] = {
      kind: layer.kind,
      macs: costOfLayer(layer).macs,
      ...entryFromRatios(mine, r.reference_ms, refs),
      runs: (firstPass ? 0 : (previous?.runs ?? 0)) + r.runs,
      converged: r.converged && (firstPass || (previous?.converged ?? true)),
    };
  };
  const step = (key: string): void => {
    done++;
    if (o.out && o.checkpointEvery && done % o.checkpointEvery === 0) checkpoint();
    o.onProgress?.(done, total, key);
  };
  if (partial) table.overhead_ms = o.previous!.overhead_ms;
  for (let pass = 0; pass < passes; pass++) {
    table.overhead_ms = Math.min(table.overhead_ms, (await device.measure(overheadModel(), overheadProtocol, o.signal)).median_ms);
    await takeGauge();
    // pass 0 in order, pass 1 reversed, later passes rotated: never the same neighbours in time
    const order = pass === 0 ? todo : pass === 1 ? [...todo].reverse() : [...todo.slice((pass * todo.length) / passes), ...todo.slice(0, (pass * todo.length) / passes)];
    for (const [key, planned] of order) {
      if ((passesDone.get(key) ?? 0) > pass) continue;
      if (reference) await measurePair(key, planned, pass === 0);
      else {
        const r = await device.measure(layersToModel(planned.plan, { from: planned.index, to: planned.index + 1 }, key), protocol, o.signal);
        const e = table.entries[key];
        if (!e || pass === 0) {
          table.entries[key] = { kind: planned.layer.kind, macs: costOfLayer(planned.layer).macs, median_ms: r.median_ms, p10_ms: r.p10_ms, p90_ms: r.p90_ms, runs: r.runs, converged: r.converged, pass_medians: [r.median_ms] };
        } else {
          e.pass_medians = [...(e.pass_medians ?? [e.median_ms]), r.median_ms];
          if (r.median_ms < e.median_ms) Object.assign(e, { median_ms: r.median_ms, p10_ms: r.p10_ms, p90_ms: r.p90_ms, runs: r.runs, converged: r.converged });
        }
      }
      step(key);
    }
  }
  // the layers none of whose passes ran at the profile's speed, again (the machine may be back at it)
  for (let round = 0; reference && round < OFF_SPEED_ROUNDS; round++) {
    settle();
    const offSpeed = layers.filter(([key]) => ratios.has(key) && table.entries[key]?.passes_at_speed === 0);
    if (offSpeed.length === 0) break;
    total += offSpeed.length;
    for (const [key, planned] of offSpeed) {
      await measurePair(key, planned, false);
      step(key);
    }
  }
  // every layer measured: what comes next (calibrating) resumes from here
  if (o.out && o.checkpointEvery) checkpoint();
  settle();
  if (!Number.isFinite(table.overhead_ms)) table.overhead_ms = o.previous?.overhead_ms ?? 0;
  return table;
}

/**
 * How layers are timed against the reference layer: blocks of about 2 ms each in turn (both are
 * tens of microseconds), the ratio to +-2% within 0.01-0.1 s; about 70 ms per layer and pass with
 * the two sessions' creation. A layer's speed also depends on its session (where its buffers
 * land), so more passes at this precision, each in new sessions (hence one session per pass),
 * beat fewer at a higher one: on the fmnist space (1,559 layers, ort-cpu, 2026-12-01) 3 passes at
 * +-2% took 328 s and 2 at +-1% 345 s; the predictor fitted on 120 random models then left 99.0%
 * and 97.0% of 200 others within 10%.
 */
export const LAYER_PAIR_PROTOCOL: Readonly<MeasureProtocol> = Object.freeze({ ...PROFILE_PROTOCOL, blockSeconds: 0.002, minSeconds: 0.01, relPrecision: 0.02, maxSeconds: 0.1, blockQuantile: BLOCK_QUANTILE, sessions: 1 });

/** Passes over the layers when profiling a table (LAYER_PAIR_PROTOCOL says why 3). */
export const DEFAULT_PROFILE_PASSES = 3;

/** Rounds of measuring again the layers none of whose passes ran at the profile's speed (profileSpace). */
export const OFF_SPEED_ROUNDS = 3;

/**
 * A layer's entry from its pass ratios to the reference layer, in ms at the reference's
 * `referenceMs`: the median of the passes whose reference timing (`passReferenceMs`, when
 * recorded) was within SAME_SPEED_TOLERANCE of `referenceMs`, of all passes when none was.
 */
function entryFromRatios(
  passRatios: readonly number[],
  referenceMs: number,
  passReferenceMs?: readonly number[],
): Pick<TableEntry, 'median_ms' | 'p10_ms' | 'p90_ms' | 'pass_medians' | 'pass_ratios' | 'pass_reference_ms' | 'passes_at_speed'> {
  const atSpeed = passRatios.filter((_, i) => passReferenceMs === undefined || atSameSpeed(passReferenceMs[i]!, referenceMs));
  const ms = median(atSpeed.length ? atSpeed : passRatios) * referenceMs;
  const pass = passRatios.map((r) => r * referenceMs);
  return {
    median_ms: ms,
    p10_ms: Math.min(...pass),
    p90_ms: Math.max(...pass),
    pass_medians: pass,
    pass_ratios: [...passRatios],
    ...(passReferenceMs ? { pass_reference_ms: [...passReferenceMs], passes_at_speed: atSpeed.length } : {}),
  };
}

/** The two models of a gauge pair (speed-gauge.ts): the space's default architecture, timed against the table's reference layer. */
export function speedGaugeModels(space: SearchSpace): { arch: string; model: LatencyModel; against: LatencyModel } {
  const arch = space.decode(space.defaultDna());
  return { arch: printArch(arch), model: archToModel(arch, `${space.name}#gauge`), against: referenceLayer(space).model };
}

/** One gauge pair: the default architecture's latency timed interleaved with the reference layer, ms. */
export async function measureSpeedGauge(device: LatencyDevice, gauge: { model: LatencyModel; against: LatencyModel }, protocol: Partial<MeasureProtocol>, signal?: AbortSignal): Promise<number> {
  return (await device.measureAgainst!(gauge.model, gauge.against, protocol, signal)).latency_ms;
}

/** The layer every other is timed against: the middle layer of the space's default architecture. */
function referenceLayer(space: SearchSpace): { key: string; model: LatencyModel } {
  const plan = buildPlan(space.decode(space.defaultDna()));
  const index = plan.layers.length >> 1;
  const key = layerKey(plan.layers[index]!);
  return { key, model: layersToModel(plan, { from: index, to: index + 1 }, `${space.name}#reference-layer`) };
}

export function saveTable(path: string, table: LatencyTable): string {
  return saveModel(path, new TextEncoder().encode(`${JSON.stringify(table, null, 1)}\n`));
}

/** A latency table file that cannot be read or is not a valid table. */
export class LatencyTableError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'LatencyTableError';
  }
}

const finite = z.number().finite();
const positiveMs = finite.positive().max(3_600_000);
const tableSchema = z.object({
  format: z.literal(TABLE_FORMAT),
  space: z.string().min(1),
  device: z.object({
    id: z.string().min(1),
    kind: z.enum(DEVICE_KINDS),
    cpu: z.string(),
    runtime: z.string(),
    runtimeVersion: z.string(),
    threads: z.number().int().nonnegative(),
    details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  }),
  created: z.string(),
  protocol: z.looseObject({}),
  overhead_ms: finite.nonnegative().max(3_600_000),
  entries: z.record(
    z.string(),
    z.looseObject({
      kind: z.string(),
      macs: finite.nonnegative(),
      median_ms: positiveMs,
      p10_ms: positiveMs,
      p90_ms: positiveMs,
      runs: z.number().int().nonnegative(),
      converged: z.boolean(),
      pass_medians: z.array(positiveMs).optional(),
      pass_ratios: z.array(finite.positive()).optional(),
      pass_reference_ms: z.array(positiveMs).optional(),
      passes_at_speed: z.number().int().nonnegative().optional(),
    }),
  ),
  reference_layer: z.object({ key: z.string().min(1), ms: positiveMs }).optional(),
  partial: z.object({ reference_timings: z.array(positiveMs) }).optional(),
  speed_gauge: z.object({ arch: z.string().min(1), timings_ms: z.array(positiveMs) }).optional(),
  calibration: z
    .object({
      intercept_ms: finite,
      scale: finite.positive(),
      models: z.number().int().positive(),
      fit_mape: finite.nonnegative(),
      points: z.array(z.tuple([finite, finite])),
      features: z.array(z.enum(PREDICTOR_FEATURES)).min(1).optional(),
      coefficients: z.array(finite).optional(),
      reference: z.object({ arch: z.string().min(1), ms: positiveMs }).optional(),
      speed: z.object({ profile_gauge_ms: positiveMs, calibration_gauge_ms: positiveMs, slowdown: finite.min(1) }).optional(),
    })
    .refine((c) => (c.features === undefined) === (c.coefficients === undefined) && (c.features === undefined || c.coefficients!.length === c.features.length + 1), {
      message: 'features and coefficients go together, one coefficient per feature after the intercept',
    })
    .optional(),
});

/** Checks a parsed JSON value is a latency table; `source` names it in the error. */
function parseTable(json: unknown, source: string): LatencyTable {
  const r = tableSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const where = issue.path.length ? issue.path.map(String).join('.') : '(top level)';
    if (issue.path[0] === 'format' || issue.path.length === 0) throw new LatencyTableError(`latency table '${source}': not a ${TABLE_FORMAT} file`);
    throw new LatencyTableError(`latency table '${source}': ${where}: ${issue.message}`);
  }
  return r.data as LatencyTable;
}

export function loadTable(path: string): LatencyTable {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new LatencyTableError(`latency table '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseTable(json, path);
}
