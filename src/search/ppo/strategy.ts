/**
 * 'ppo': MnasNet's search strategy. An LSTM controller (./controller.ts) samples DNAs; rewards
 * become advantages against an exponential-moving-average baseline; every `batchSize` rewards
 * form a minibatch on which the controller takes `epochs` Adam steps of the PPO clipped
 * surrogate (./ppo.ts).
 *
 * Proposals never wait: while feedback is pending the controller keeps sampling from its current
 * weights, and each proposal records the per-decision log-probabilities of the policy that
 * sampled it, which the update uses as pi_old. Minibatches are filled in feedback order.
 *
 * Randomness: the initial weights come from a libtorch Generator seeded from `seed`; each choice
 * is drawn by inverse CDF with one uniform from the strategy's Rng. The snapshot therefore holds
 * everything needed to continue the exact stream: the Rng state (BaseStrategy), the controller
 * weights and the Adam moments and step count (safetensors, base64), the baseline, the
 * log-probabilities of pending proposals and the minibatch collected so far.
 *
 * Resume: replaying an update costs a controller training step, so PPO is a SnapshotStrategy
 * whose revision is its update count: the loop stores a snapshot (about 1.6 MB with the default
 * 100 hidden units) only with the feedback that triggered an update, and a resume replays the
 * few proposals and rewards since then on top of it.
 */
import { Adam, decodeSafetensors, encodeSafetensors, tidy, type Tensor } from '../../torch/index.js';
import { Rng } from '../../util/rng.js';
import { BaseStrategy } from '../base-strategy.js';
import type { Proposal, SnapshotStrategy, StrategyDefinition, StrategyOptions, StrategySnapshot } from '../strategy.js';
import type { DecisionSpaceLike, Dna, Json } from '../space-like.js';
import { Controller } from './controller.js';
import { EmaBaseline, ppoUpdate, type PpoSample, type PpoStats } from './ppo.js';

export interface PpoOptions extends StrategyOptions {
  /** LSTM hidden units (paper: 100). */
  readonly hiddenSize?: number;
  /** Initial weights U[-initRange, initRange] (paper: 0.1). */
  readonly initRange?: number;
  /** Adam learning rate (paper: 0.00035). */
  readonly learningRate?: number;
  /** Entropy bonus weight (paper: 1e-5). */
  readonly entropyWeight?: number;
  /** PPO clip epsilon (0.2). */
  readonly clip?: number;
  /** Architectures per minibatch (NASNet: 20). */
  readonly batchSize?: number;
  /** Adam steps per minibatch. */
  readonly epochs?: number;
  /** Decay of the reward baseline's moving average (paper: 0.95). */
  readonly baselineDecay?: number;
  /** Clip the gradient's global norm (0: off). */
  readonly maxGradNorm?: number;
}

export type PpoConfig = Required<Omit<PpoOptions, 'seed'>>;

/**
 * Defaults: the paper's settings (lr 0.00035, entropy 1e-5, EMA baseline 0.95, minibatches of 20,
 * 100 LSTM units, init U[-0.1, 0.1]) with clip 0.2 and 4 PPO epochs (neither is published).
 * Chosen on `mnas bench strategies` (fmnist-sized synthetic problem, soft reward, 10 seeds, 2,000
 * samples; median best / optimum, min, median samples to reach 98%):
 *   epochs 1: 0.9914, 0.9849, 1575   epochs 2: 0.9995, 0.9973, 826   epochs 4: 0.9999, 0.9987, 464
 *   epochs 8: 0.9986, 0.9943, 298    lr 0.001 with 4 epochs: 0.9991, 0.9895, 274
 * More epochs or a larger lr find good regions sooner but commit early and end lower; at the
 * paper's lr a single Adam step per minibatch (plain policy gradient) is borderline at 2,000.
 */
export const PPO_DEFAULTS: PpoConfig = Object.freeze({
  hiddenSize: 100,
  initRange: 0.1,
  learningRate: 0.00035,
  entropyWeight: 1e-5,
  clip: 0.2,
  batchSize: 20,
  epochs: 4,
  baselineDecay: 0.95,
  maxGradNorm: 0,
});

/** Adam whose step count can be restored from a snapshot. */
class ResumableAdam extends Adam {
  setSteps(n: number): void {
    this.stepCount = n;
  }
}

interface Pending {
  readonly logProbs: readonly number[];
}

const toBase64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
const fromBase64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64'));

function checkConfig(c: PpoConfig): void {
  const bad = (name: string, v: number, rule: string) => new Error(`ppo: ${name} must be ${rule}, got ${v}`);
  if (!Number.isInteger(c.hiddenSize) || c.hiddenSize < 1 || c.hiddenSize > 4096) throw bad('hiddenSize', c.hiddenSize, 'an integer in [1, 4096]');
  if (!(c.initRange > 0 && Number.isFinite(c.initRange))) throw bad('initRange', c.initRange, 'a finite number > 0');
  if (!(c.learningRate > 0 && Number.isFinite(c.learningRate))) throw bad('learningRate', c.learningRate, 'a finite number > 0');
  if (!(c.entropyWeight >= 0 && Number.isFinite(c.entropyWeight))) throw bad('entropyWeight', c.entropyWeight, 'a finite number >= 0');
  if (!(c.clip > 0 && c.clip < 1)) throw bad('clip', c.clip, 'in (0, 1)');
  if (!Number.isInteger(c.batchSize) || c.batchSize < 1 || c.batchSize > 100_000) throw bad('batchSize', c.batchSize, 'an integer in [1, 100000]');
  if (!Number.isInteger(c.epochs) || c.epochs < 1 || c.epochs > 1000) throw bad('epochs', c.epochs, 'an integer in [1, 1000]');
  if (!(c.baselineDecay >= 0 && c.baselineDecay < 1)) throw bad('baselineDecay', c.baselineDecay, 'in [0, 1)');
  if (!(c.maxGradNorm >= 0 && Number.isFinite(c.maxGradNorm))) throw bad('maxGradNorm', c.maxGradNorm, 'a finite number >= 0');
}

export class PpoSearch extends BaseStrategy implements SnapshotStrategy {
  readonly kind = 'ppo';
  protected readonly version = 1;
  readonly config: PpoConfig;
  private readonly controller: Controller;
  private readonly optimizer: ResumableAdam;
  private baseline: EmaBaseline;
  private readonly behaviour = new Map<number, Pending>();
  private batch: PpoSample[] = [];
  private updateCount = 0;
  private lastStats: PpoStats | undefined;
  /** Encoded weights + optimizer state; weights only change in updates and restores. */
  private encoded: { weights: string; optimizer: string } | undefined;

  constructor(space: DecisionSpaceLike, options: PpoOptions) {
    super(space, options);
    const config: { -readonly [K in keyof PpoConfig]: PpoConfig[K] } = { ...PPO_DEFAULTS };
    for (const k of Object.keys(PPO_DEFAULTS) as (keyof PpoConfig)[]) {
      const v = options[k];
      if (v !== undefined) config[k] = v;
    }
    checkConfig(config);
    this.config = Object.freeze(config);
    // The weight seed is derived from (not drawn from) the sampling stream's seed.
    const weightSeed = new Rng(options.seed ^ 0x2545f491).nextUint32() >>> 1;
    this.controller = new Controller({
      choiceCounts: space.decisions().map((d) => d.count),
      hiddenSize: config.hiddenSize,
      initRange: config.initRange,
      seed: weightSeed,
    });
    this.optimizer = new ResumableAdam(this.controller.parameters());
    this.baseline = new EmaBaseline(config.baselineDecay);
  }

  /** Number of PPO updates (minibatches) so far. */
  get updates(): number {
    return this.updateCount;
  }

  /** Statistics of the latest update. */
  get stats(): PpoStats | undefined {
    return this.lastStats;
  }

  get baselineValue(): number | undefined {
    return this.baseline.value;
  }

  /** Rewards collected towards the next minibatch. */
  get collected(): number {
    return this.batch.length;
  }

  /** The controller (read-only use: inspecting the policy, counting parameters). */
  get policy(): Controller {
    return this.controller;
  }

  protected generate(): Dna {
    const s = this.controller.sample(() => this.rng.next());
    this.behaviour.set(this.proposed, { logProbs: s.logProbs });
    return s.dna;
  }

  protected observe(proposal: Proposal, reward: number): void {
    const b = this.behaviour.get(proposal.id);
    if (!b) throw new Error(`ppo: no sampling record for proposal ${proposal.id}`);
    this.behaviour.delete(proposal.id);
    this.batch.push({ dna: proposal.dna, oldLogProbs: b.logProbs, advantage: this.baseline.advantage(reward) });
    if (this.batch.length >= this.config.batchSize) {
      const c = this.config;
      this.lastStats = ppoUpdate(this.controller, this.optimizer, this.batch, {
        clip: c.clip,
        entropyWeight: c.entropyWeight,
        epochs: c.epochs,
        learningRate: c.learningRate,
        maxGradNorm: c.maxGradNorm,
      });
      this.batch = [];
      this.updateCount++;
      this.encoded = undefined;
    }
  }

  snapshotRevision(): number {
    return this.updateCount;
  }

  protected settings(): { [key: string]: Json } {
    return { ...this.config };
  }

  state(): StrategySnapshot {
    this.encoded ??= {
      weights: toBase64(encodeSafetensors(this.controller.stateDict())),
      optimizer: toBase64(encodeSafetensors(this.optimizer.stateTensors())),
    };
    return this.snapshotWith({
      config: { ...this.config },
      weights: this.encoded.weights,
      optimizer: this.encoded.optimizer,
      optimizerSteps: this.optimizer.steps,
      baseline: this.baseline.value ?? null,
      updates: this.updateCount,
      behaviour: [...this.behaviour].sort((a, b) => a[0] - b[0]).map(([id, p]) => [id, [...p.logProbs]]),
      batch: this.batch.map((x) => ({ dna: [...x.dna], oldLogProbs: [...x.oldLogProbs], advantage: x.advantage })),
    });
  }

  restore(snapshot: StrategySnapshot): void {
    this.restoreWith(snapshot, (data) => this.load(data));
  }

  private load(data: { readonly [key: string]: Json }): void {
    const cfg = data['config'] as { [k: string]: Json } | null;
    if (!cfg || typeof cfg !== 'object') throw new Error('ppo.restore: bad config');
    const diff = (Object.keys(this.config) as (keyof PpoConfig)[]).filter((k) => cfg[k] !== this.config[k]);
    if (diff.length)
      throw new Error(`ppo.restore: snapshot has ${diff.map((k) => `${k}=${String(cfg[k])}`).join(', ')}; this strategy has ${diff.map((k) => `${k}=${this.config[k]}`).join(', ')}`);
    const { weights, optimizer, optimizerSteps, baseline, updates, behaviour, batch } = data;
    if (typeof weights !== 'string' || typeof optimizer !== 'string') throw new Error('ppo.restore: bad weights');
    if (typeof optimizerSteps !== 'number' || !Number.isInteger(optimizerSteps) || optimizerSteps < 0) throw new Error('ppo.restore: bad optimizerSteps');
    if (baseline !== null && typeof baseline !== 'number') throw new Error('ppo.restore: bad baseline');
    if (typeof updates !== 'number' || !Number.isInteger(updates)) throw new Error('ppo.restore: bad updates');
    if (!Array.isArray(behaviour) || !Array.isArray(batch)) throw new Error('ppo.restore: bad pending records');
    const D = this.controller.decisions;
    const logProbsOf = (v: Json, what: string): number[] => {
      if (!Array.isArray(v) || v.length !== D || !v.every((x) => typeof x === 'number')) throw new Error(`ppo.restore: bad log-probabilities of ${what}`);
      return v as number[];
    };
    const pending = new Map<number, Pending>();
    for (const e of behaviour) {
      if (!Array.isArray(e) || typeof e[0] !== 'number') throw new Error('ppo.restore: bad behaviour entry');
      pending.set(e[0], { logProbs: logProbsOf(e[1]!, `proposal ${e[0]}`) });
    }
    const samples: PpoSample[] = batch.map((x, i) => {
      const o = x as { dna: Json; oldLogProbs: Json; advantage: Json };
      if (!Array.isArray(o?.dna) || o.dna.length !== D || typeof o.advantage !== 'number') throw new Error(`ppo.restore: bad minibatch entry ${i}`);
      return { dna: Object.freeze((o.dna as number[]).slice()), oldLogProbs: logProbsOf(o.oldLogProbs, `minibatch entry ${i}`), advantage: o.advantage };
    });

    tidy(() => {
      const w = decodeSafetensors(fromBase64(weights), 'ppo snapshot weights');
      const opt = decodeSafetensors(fromBase64(optimizer), 'ppo snapshot optimizer');
      const own = this.optimizer.stateTensors();
      const problems = [...own].filter(([k, t]) => opt.tensors.get(k)?.shape.join('x') !== t.shape.join('x')).map(([k]) => k);
      if (problems.length || opt.tensors.size !== own.size) throw new Error(`ppo.restore: optimizer state does not match the controller (${problems.slice(0, 3).join(', ') || 'tensor count'})`);
      this.controller.loadStateDict(w.tensors); // checks every key and shape before copying
      for (const [k, t] of own) t.copyFrom(opt.tensors.get(k) as Tensor);
    });
    this.optimizer.setSteps(optimizerSteps);
    this.baseline = new EmaBaseline(this.config.baselineDecay, baseline ?? undefined);
    this.updateCount = updates;
    this.behaviour.clear();
    for (const [id, p] of pending) this.behaviour.set(id, p);
    this.batch = samples;
    this.encoded = { weights, optimizer };
    this.lastStats = undefined;
  }

  /** Frees the controller's and optimizer's native tensors; the strategy is unusable afterwards. */
  dispose(): void {
    this.optimizer.dispose();
    this.controller.dispose();
  }
}

const NUMERIC_OPTIONS = Object.keys(PPO_DEFAULTS) as (keyof PpoConfig)[];

export const PPO_SEARCH: StrategyDefinition = {
  options: NUMERIC_OPTIONS,
  create: (space, o) => {
    const opts: { -readonly [K in keyof PpoOptions]: PpoOptions[K] } = { seed: o.seed };
    for (const k of NUMERIC_OPTIONS) {
      const v = o[k];
      if (v === undefined) continue;
      if (typeof v !== 'number') throw new Error(`ppo: option ${k} must be a number, got ${JSON.stringify(v)}`);
      opts[k] = v;
    }
    return new PpoSearch(space, opts);
  },
};
