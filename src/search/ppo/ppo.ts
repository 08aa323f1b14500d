/**
 * Proximal Policy Optimization (Schulman et al. 2017) for the controller, the pieces kept
 * small and separate: the reward baseline, the clipped surrogate loss, and the update that runs
 * several epochs of it on one minibatch of sampled architectures.
 *
 * Each decision of a DNA is one action of a T-step episode whose only reward arrives at the end
 * (no discount), so every decision of a sample shares the sample's advantage, and the
 * probability ratio is taken per decision, each clipped to [1 - clip, 1 + clip]:
 *     r_bi   = exp(log pi(a_bi | a_b<i) - log pi_old(a_bi | a_b<i))
 *     L      = -mean_{b,i} min(r_bi * A_b, clip(r_bi, 1 - eps, 1 + eps) * A_b) - beta * mean_{b,i} H_bi
 * pi_old is the policy that sampled the architecture (its log-probabilities are recorded at
 * sampling time), so samples proposed before an earlier update still get the right ratio.
 */
import {
  Adam,
  clamp,
  exp,
  mean,
  minimum,
  mul,
  neg,
  sub,
  tensor,
  tidy,
  clipGradNorm,
  noGrad,
  type Tensor,
} from '../../torch/index.js';
import type { Controller } from './controller.js';

/**
 * Exponential moving average of rewards (NASNet: decay 0.95). Starts at the first reward, so the
 * first samples are judged against each other rather than against 0.
 */
export class EmaBaseline {
  private v: number | undefined;
  constructor(
    readonly decay: number,
    value?: number,
  ) {
    if (!(decay >= 0 && decay < 1)) throw new Error(`EmaBaseline: decay must be in [0, 1), got ${decay}`);
    this.v = value;
  }

  get value(): number | undefined {
    return this.v;
  }

  /** Advantage of `reward` against the baseline so far, then folds the reward in. */
  advantage(reward: number): number {
    const b = this.v ?? reward;
    this.v = this.decay * b + (1 - this.decay) * reward;
    return reward - b;
  }
}

/** One sampled architecture in a PPO minibatch. */
export interface PpoSample {
  readonly dna: readonly number[];
  /** Per-decision log-probabilities under the policy that sampled it. */
  readonly oldLogProbs: readonly number[];
  readonly advantage: number;
}

export interface PpoSettings {
  /** Surrogate clip epsilon (0.2). */
  readonly clip: number;
  /** Entropy bonus weight beta. */
  readonly entropyWeight: number;
  /** Adam steps on the minibatch (each a full pass over it). */
  readonly epochs: number;
  readonly learningRate: number;
  /** Clip the gradient's global L2 norm (0: no clipping). */
  readonly maxGradNorm: number;
}

export interface PpoStats {
  /** Surrogate loss of the first epoch (before any step). */
  readonly loss: number;
  /** Mean per-decision entropy at the first epoch. */
  readonly entropy: number;
  /** Fraction of (sample, decision) ratios outside the clip range at the last epoch. */
  readonly clipFraction: number;
  /** Approximate KL(old || new) per decision after the last step: mean(old - new log-probs). */
  readonly approxKl: number;
}

/** The clipped surrogate loss (scalar tensor) and its parts. */
export function ppoLoss(
  logProbs: Tensor,
  entropies: Tensor,
  oldLogProbs: Tensor,
  advantages: Tensor,
  clip: number,
  entropyWeight: number,
): { loss: Tensor; ratio: Tensor; entropy: Tensor } {
  const ratio = exp(sub(logProbs, oldLogProbs));
  const surrogate = minimum(mul(ratio, advantages), mul(clamp(ratio, 1 - clip, 1 + clip), advantages));
  const entropy = mean(entropies);
  const loss = sub(neg(mean(surrogate)), mul(entropy, entropyWeight));
  return { loss, ratio, entropy };
}

/** Runs `settings.epochs` Adam steps of the clipped surrogate on one minibatch. */
export function ppoUpdate(controller: Controller, optimizer: Adam, batch: readonly PpoSample[], s: PpoSettings): PpoStats {
  if (batch.length === 0) throw new Error('ppoUpdate: empty minibatch');
  if (!(s.clip > 0)) throw new Error(`ppoUpdate: clip must be > 0, got ${s.clip}`);
  if (!Number.isInteger(s.epochs) || s.epochs < 1) throw new Error(`ppoUpdate: epochs must be an integer >= 1, got ${s.epochs}`);
  const B = batch.length;
  const D = controller.decisions;
  const params = controller.parameters();
  return tidy(() => {
    const old = tensor(batch.flatMap((x) => x.oldLogProbs), [B, D]);
    const adv = tensor(batch.map((x) => x.advantage), [B, 1]);
    const dnas = batch.map((x) => x.dna);
    let loss0 = 0;
    let entropy0 = 0;
    let clipFraction = 0;
    for (let e = 0; e < s.epochs; e++) {
      tidy(() => {
        const ev = controller.evaluate(dnas);
        const { loss, ratio, entropy } = ppoLoss(ev.logProbs, ev.entropies, old, adv, s.clip, s.entropyWeight);
        if (e === 0) {
          loss0 = loss.item();
          entropy0 = entropy.item();
        }
        if (e === s.epochs - 1) {
          const r = ratio.toFloat32Array();
          clipFraction = r.reduce((n, v) => n + (v < 1 - s.clip || v > 1 + s.clip ? 1 : 0), 0) / r.length;
        }
        optimizer.zeroGrad();
        loss.backward();
        if (s.maxGradNorm > 0) clipGradNorm(params, s.maxGradNorm);
        optimizer.step(s.learningRate);
      });
    }
    const approxKl = noGrad(() => mean(sub(old, controller.evaluate(dnas).logProbs)).item());
    return { loss: loss0, entropy: entropy0, clipFraction, approxKl };
  });
}
