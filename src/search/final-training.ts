/**
 * The end of a search with final.epochs > 0: the best architecture and the next best of the
 * Pareto front (top-k by reward) are trained with the full recipe, tested on the test set and
 * saved (weights and ONNX) under `<run>/final/<rank>-trial-<id>/`.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { loadDataset } from '../data/load.js';
import type { DatasetRef } from '../data/prepare.js';
import { parseArch } from '../space/arch-string.js';
import { FINAL_RECIPE } from '../train/recipe.js';
import { finalTrain } from '../train/run.js';
import { inputNormalizationOf, saveNetwork } from '../train/save-network.js';
import type { SearchConfig } from './config.js';
import type { TrialPoint } from './outputs.js';
import type { Json } from './space-like.js';

export interface FinalEpochEvent {
  /** 1-based rank among the trained candidates, and how many there are. */
  readonly rank: number;
  readonly candidates: number;
  readonly trial: number;
  readonly epoch: number;
  readonly epochs: number;
  readonly loss: number;
}

export interface FinalTrainingOptions {
  readonly signal?: AbortSignal;
  readonly onLog?: (line: string) => void;
  readonly onEpoch?: (e: FinalEpochEvent) => void;
  /** The prepared dataset (src/data/prepare.ts) when it is the user's own; default: config.dataset. */
  readonly dataset?: DatasetRef;
}

/** The candidates final training takes: the best first, then the front by reward. */
export function finalCandidates(pareto: readonly TrialPoint[], best: TrialPoint, topK: number): TrialPoint[] {
  return [best, ...pareto.filter((p) => p.arch !== best.arch).sort((a, b) => b.reward - a.reward)].slice(0, topK);
}

/** Trains, tests and saves the candidates; one that fails is reported in the result, not thrown. */
export async function trainFinalCandidates(dir: string, config: SearchConfig, pareto: readonly TrialPoint[], best: TrialPoint, o: FinalTrainingOptions = {}): Promise<Json> {
  const ref = o.dataset ?? { name: config.dataset.name, ...(config.dataset.dataDir ? { dataDir: config.dataset.dataDir } : {}) };
  const datasets = loadDataset({ ...ref, seed: config.splitSeed });
  const candidates = finalCandidates(pareto, best, config.final.topK);
  const results: Json[] = [];
  for (const [index, c] of candidates.entries()) {
    const rank = index + 1;
    o.onLog?.(`final ${rank}/${candidates.length}: training trial ${c.trial} for ${config.final.epochs} epochs`);
    try {
      const r = await finalTrain(parseArch(c.arch), datasets, {
        // the training workers are gone by now: final training gets every core
        threads: availableParallelism(),
        keepNetwork: true,
        splitSeed: config.splitSeed,
        // short final runs get a proportionally short warm-up (the recipe's is one epoch)
        recipe: { epochs: config.final.epochs, seed: config.initSeed, warmupEpochs: Math.min(FINAL_RECIPE.warmupEpochs, config.final.epochs / 10) },
        ...(o.signal ? { signal: o.signal } : {}),
        onEpoch: (e) => o.onEpoch?.({ rank, candidates: candidates.length, trial: c.trial, epoch: e.epoch, epochs: e.epochs, loss: e.loss }),
      });
      if (r.status === 'failed') {
        results.push({ trial: c.trial, arch: c.arch, status: 'failed', reason: r.reason });
        continue;
      }
      let files: string[] = [];
      if (r.network) {
        const sub = path.join(dir, 'final', `${rank}-trial-${c.trial}`);
        try {
          const saved = saveNetwork(r.network, { onnx: path.join(sub, 'model.onnx'), weights: path.join(sub, 'weights.safetensors'), inputNormalization: inputNormalizationOf(datasets.train) });
          files = [saved.onnx!, saved.weights!];
        } finally {
          r.network.dispose();
        }
      }
      results.push({ trial: c.trial, arch: c.arch, status: 'done', test_accuracy: r.testAccuracy ?? null, epochs: r.epochs, seconds: r.seconds, files });
    } catch (e) {
      // the search results stand; a final training that cannot run is reported, not fatal
      results.push({ trial: c.trial, arch: c.arch, status: 'failed', reason: (e as Error).message });
    }
  }
  return results;
}
