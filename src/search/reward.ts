/**
 * MnasNet's multi-objective reward (paper section 3, reference section 1):
 *     reward = ACC * (LAT / T) ^ w,   w = alpha if LAT <= T else beta
 * soft: alpha = beta = -0.07 (2x latency costs ~5% relative accuracy)
 * hard: alpha = 0, beta = -1   (no bonus under the target, steep penalty above it)
 */
import { z } from 'zod';

export type RewardPreset = 'soft' | 'hard' | 'custom';

export interface RewardConfig {
  readonly preset: RewardPreset;
  /** Target latency T in milliseconds (> 0). */
  readonly targetMs: number;
  /** Exponent when LAT <= T. */
  readonly alpha: number;
  /** Exponent when LAT > T. */
  readonly beta: number;
}

/**
 * The reward of a trial that failed (training diverged, out of memory, export or measurement
 * failed, invalid metrics). 0 is the lowest reward a valid trial can get (ACC >= 0, the latency
 * factor is > 0), so a failure is never preferred to a working model, and the strategy still gets
 * a signal (PPO sees a low reward; evolution's tournament never picks it over a valid member).
 */
export const FAILED_TRIAL_REWARD = 0;

export const PRESETS = {
  soft: { alpha: -0.07, beta: -0.07 },
  hard: { alpha: 0, beta: -1 },
} as const;

/** zod schema of a reward config as it appears in a run config (CLI / JSON). */
export const RewardConfigSchema = z
  .object({
    preset: z.enum(['soft', 'hard', 'custom']),
    targetMs: z.number().positive().finite(),
    alpha: z.number().finite(),
    beta: z.number().finite(),
  })
  .strict();

/**
 * Builds a reward config. For 'soft' and 'hard' the exponents come from the paper and passing
 * others is an error; 'custom' requires both.
 */
export function rewardConfig(preset: RewardPreset, targetMs: number, exponents?: { alpha?: number; beta?: number }): RewardConfig {
  if (!(typeof targetMs === 'number' && Number.isFinite(targetMs) && targetMs > 0))
    throw new Error(`rewardConfig: targetMs must be a finite number > 0, got ${targetMs}`);
  if (preset === 'custom') {
    const alpha = exponents?.alpha;
    const beta = exponents?.beta;
    if (typeof alpha !== 'number' || !Number.isFinite(alpha)) throw new Error(`rewardConfig: custom preset needs a finite alpha, got ${alpha}`);
    if (typeof beta !== 'number' || !Number.isFinite(beta)) throw new Error(`rewardConfig: custom preset needs a finite beta, got ${beta}`);
    return { preset, targetMs, alpha, beta };
  }
  if (preset !== 'soft' && preset !== 'hard') throw new Error(`rewardConfig: unknown preset '${String(preset)}' (soft, hard, custom)`);
  if (exponents && (exponents.alpha !== undefined || exponents.beta !== undefined))
    throw new Error(`rewardConfig: preset '${preset}' fixes alpha and beta; use preset 'custom' to set them`);
  return { preset, targetMs, ...PRESETS[preset] };
}

/** Validates a config read from JSON (e.g. a stored run config). */
export function parseRewardConfig(value: unknown): RewardConfig {
  const c = RewardConfigSchema.parse(value);
  if (c.preset !== 'custom') {
    const p = PRESETS[c.preset];
    if (c.alpha !== p.alpha || c.beta !== p.beta)
      throw new Error(`parseRewardConfig: preset '${c.preset}' requires alpha=${p.alpha}, beta=${p.beta}; got alpha=${c.alpha}, beta=${c.beta}`);
  }
  return c;
}

/** The exponent applied at a given latency. */
export function rewardExponent(cfg: RewardConfig, latencyMs: number): number {
  return latencyMs <= cfg.targetMs ? cfg.alpha : cfg.beta;
}

/** reward = ACC * (LAT/T)^w. Throws on ACC outside [0,1], LAT <= 0 or non-finite, T <= 0. */
export function computeReward(cfg: RewardConfig, accuracy: number, latencyMs: number): number {
  if (!(Number.isFinite(cfg.targetMs) && cfg.targetMs > 0)) throw new Error(`computeReward: targetMs must be > 0, got ${cfg.targetMs}`);
  if (!(typeof accuracy === 'number' && accuracy >= 0 && accuracy <= 1))
    throw new Error(`computeReward: accuracy must be in [0, 1], got ${accuracy}`);
  if (!(typeof latencyMs === 'number' && Number.isFinite(latencyMs) && latencyMs > 0))
    throw new Error(`computeReward: latencyMs must be a finite number > 0, got ${latencyMs}`);
  const w = rewardExponent(cfg, latencyMs);
  return accuracy * Math.pow(latencyMs / cfg.targetMs, w);
}
