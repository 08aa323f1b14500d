/**
 * Who runs the proxy training of a search's candidates. The evaluator hands a trainer the trial's
 * plan (the one it measured the latency of) and seed; the trainer trains that plan in this
 * process (InProcessTrainer), or sends the arch string to worker processes of its own
 * (workers/worker-pool.ts, each with its own libtorch and thread count), which plan it there.
 * Both hold training off while a latency measurement runs on this machine (`holdWhile`), so
 * latencies measured during a search are those of a quiet machine.
 */
import type { DatasetRef } from '../data/prepare.js';
import type { NetworkPlan } from '../model/plan.js';
import type { MemoryUsage } from '../torch/index.js';

/** Everything a trial needs besides the architecture: the same for every trial of a search. */
export interface ProxySettings {
  /** A built-in dataset or the cache file of the user's own data (src/data/prepare.ts): workers load it, never decode. */
  readonly dataset: DatasetRef & { readonly validationImages: number };
  /** Proxy-training images per trial and epochs. */
  readonly images: number;
  readonly epochs: number;
  readonly batch?: number;
  readonly lr?: number;
  /** libtorch intra-op threads of each training process. */
  readonly threads: number;
  /** Seed of the validation/proxy split (fixed for a search, so every trial is scored on the same images). */
  readonly splitSeed: number;
}

export interface ProxyTrial {
  /** The planned architecture. */
  readonly plan: NetworkPlan;
  /** Seed of weight initialisation, shuffling and augmentation. */
  readonly seed: number;
  /** The search's trial id: trainers that name jobs after it (src/distributed) need it; others ignore it. */
  readonly trialId?: number;
}

export interface ProxyTrialDone {
  readonly status: 'done';
  readonly valAccuracy: number;
  readonly valLoss: number;
  readonly epochLoss: readonly number[];
  readonly trainImagesPerSecond: number;
  /** Wall seconds of the trial in the training process (build, train, recalibrate, evaluate). */
  readonly seconds: number;
  /** Of those, seconds the trial stood at a closed hold point (training held off for a measurement). */
  readonly heldSeconds?: number;
  /** Absent when nothing was trained (the answer came from the trained table). */
  readonly memory?: MemoryUsage;
  /** Which worker ran it and how many attempts it took (worker pools only). */
  readonly worker?: number;
  readonly attempts?: number;
}

export interface ProxyTrialFailed {
  readonly status: 'failed';
  readonly reason: string;
  readonly seconds: number;
  readonly heldSeconds?: number;
  readonly memory?: MemoryUsage;
  readonly worker?: number;
  readonly attempts?: number;
}

export type ProxyTrialResult = ProxyTrialDone | ProxyTrialFailed;

export interface ProxyTrainer {
  /** Trials that can train at once. */
  readonly slots: number;
  /** Rejects with the signal's reason when aborted, or on errors of the trainer itself. */
  train(trial: ProxyTrial, signal?: AbortSignal): Promise<ProxyTrialResult>;
  /**
   * Runs fn while no training step runs on this machine: started steps finish first, or the
   * training processes are stopped, and new ones wait. `ready`: a set-up fn awaits that the hold
   * need not cover (a measurement's sessions); a trainer that stops training at once waits for it
   * first, one that waits for steps to end lets the two overlap.
   */
  holdWhile<T>(fn: () => Promise<T>, ready?: Promise<unknown>): Promise<T>;
  close(): Promise<void>;
}
