/**
 * Everything the trial page shows of one trial: the architecture block by block with the
 * decisions that made it, the cost model's per-layer table with each layer's predicted latency
 * (when a latency table is available), the measured latency statistics, the timings, and the
 * files final training exported for it.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { costOfLayer, costOfPlan, type LayerCost } from '../model/cost.js';
import { buildPlan, type NetworkPlan } from '../model/plan.js';
import { LatencyPredictor } from '../latency/predictor.js';
import { layerKey, type LatencyTable } from '../latency/table.js';
import { parseArch } from '../space/arch-string.js';
import type { Arch } from '../space/arch.js';
import { getSpace, spaceNames } from '../space/space.js';
import type { TrialRecord } from '../search/run-store.js';
import type { TableLookup } from './latency-tables.js';

export interface BlockView {
  readonly name: string;
  readonly description: string;
  readonly outChannels: number;
  readonly layers: number;
  readonly stride: number;
  /** This block's decisions (label and chosen value); empty for the stem and head. */
  readonly decisions: { label: string; kind: string; value: string | number }[];
}

export interface LayerView extends LayerCost {
  /** Isolated latency of this layer configuration in the table (ms), null without a table or entry. */
  readonly tableMs: number | null;
  /** What the layer adds to the predicted latency (ms), LatencyPredictor.parts: with fixedMs they add up to the prediction. */
  readonly predictedMs: number | null;
}

export interface TrialDetail {
  readonly trial: TrialRecord;
  readonly architecture: { blocks: BlockView[]; layers: LayerView[]; params: number; macs: number; activations: number } | { error: string };
  readonly latencyTable: { file: string; device: string; space: string; calibrated: boolean; fixedMs: number; predictedMs: number | null; missing: number } | { unavailable: string };
  /** Files final training saved for this trial, relative to the run directory. */
  readonly files: { path: string; bytes: number }[];
}

export function trialDetail(trial: TrialRecord, runDir: string, spaceName: string | null, lookup: TableLookup): TrialDetail {
  let arch: Arch;
  let plan: NetworkPlan;
  try {
    if (trial.arch === null) throw new Error('the trial has no architecture string');
    arch = parseArch(trial.arch);
    plan = buildPlan(arch);
  } catch (e) {
    return { trial, architecture: { error: (e as Error).message }, latencyTable: noTable(lookup), files: exportedFiles(runDir, trial.id) };
  }
  const cost = costOfPlan(plan);
  const table = lookup.table;
  const parts = table ? new LatencyPredictor(table).parts(plan) : undefined;
  let missing = 0;
  const layers: LayerView[] = plan.layers.map((l, i) => {
    const entry = table?.entries[layerKey(l)];
    if (table && !entry) missing++;
    return { ...costOfLayer(l), tableMs: entry?.median_ms ?? null, predictedMs: parts?.layers[i] ?? null };
  });
  let latencyTable: TrialDetail['latencyTable'] = noTable(lookup);
  if (lookup.table && parts) {
    const t = lookup.table;
    latencyTable = {
      file: lookup.file,
      device: t.device.id,
      space: t.space,
      calibrated: t.calibration !== undefined,
      fixedMs: parts.fixedMs,
      predictedMs: missing === 0 ? new LatencyPredictor(t).predict(plan) : null,
      missing,
    };
  }
  return {
    trial,
    architecture: { blocks: blockViews(arch, trial, spaceName), layers, params: cost.params, macs: cost.macs, activations: cost.activations },
    latencyTable,
    files: exportedFiles(runDir, trial.id),
  };
}

function noTable(lookup: TableLookup): { unavailable: string } {
  return { unavailable: lookup.table === null ? lookup.why : 'the architecture could not be built' };
}

function blockViews(arch: Arch, trial: TrialRecord, spaceName: string | null): BlockView[] {
  const decisions = spaceName !== null && spaceNames().includes(spaceName) ? getSpace(spaceName).decisions() : [];
  const usable = decisions.length === trial.dna.length;
  const decisionsOf = (block: number) =>
    usable
      ? decisions.flatMap((d, i) => (d.block === block ? [{ label: d.label, kind: d.kind, value: d.choices[trial.dna[i] as number] ?? '?' }] : []))
      : [];
  const g = arch.global;
  return [
    { name: 'stem', description: `conv 3x3 s${g.stem.stride}`, outChannels: g.stem.filters, layers: 1, stride: g.stem.stride, decisions: [] },
    ...arch.blocks.map((b, i) => ({
      name: `block ${i}`,
      description: `${b.op === 'mbconv' ? `mbconv e${b.expand}` : b.op} k${b.kernel}${b.seRatio > 0 ? ` se${b.seRatio}` : ''} skip ${b.skip}`,
      outChannels: b.filters,
      layers: b.repeats,
      stride: b.stride,
      decisions: decisionsOf(i),
    })),
    ...(g.head > 0 ? [{ name: 'head', description: 'conv 1x1', outChannels: g.head, layers: 1, stride: 1, decisions: [] }] : []),
    { name: 'classifier', description: `pool, fc ${g.classes}`, outChannels: g.classes, layers: 1, stride: 1, decisions: [] },
  ];
}

/** Files under `<run>/final/<rank>-trial-<id>/` (what final training saved), relative to the run directory. */
export function exportedFiles(runDir: string, trialId: number): { path: string; bytes: number }[] {
  const finalDir = path.join(runDir, 'final');
  let subs: string[];
  try {
    subs = readdirSync(finalDir).filter((s) => new RegExp(`^\\d+-trial-${trialId}$`).test(s));
  } catch {
    return [];
  }
  const files: { path: string; bytes: number }[] = [];
  for (const sub of subs.sort()) {
    let names: string[];
    try {
      names = readdirSync(path.join(finalDir, sub));
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      const st = statSync(path.join(finalDir, sub, name), { throwIfNoEntry: false });
      if (st?.isFile()) files.push({ path: `final/${sub}/${name}`, bytes: st.size });
    }
  }
  return files;
}
