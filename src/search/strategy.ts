/**
 * Search strategies, pyglove / NNI style: the strategy proposes DNA and is told the reward; it
 * never sees a network, the evaluator never sees the policy.
 *
 * Batching: the loop evaluates several trials concurrently, so a strategy may be asked for
 * several proposals before any feedback arrives. Every proposal carries an id (0, 1, 2, ... in
 * proposal order, also the trial id in the store); feedback names the proposal it is for and may
 * arrive in any order. `pending()` lists proposals still waiting for feedback. A strategy that
 * cannot propose until some feedback arrives (e.g. a strictly on-policy PPO minibatch) says so
 * with `canPropose() === false`; the loop then waits for a result before asking again.
 *
 * Resume (pyglove's recover): a strategy is a deterministic function of its seed, its settings
 * and the events it saw, so a fresh strategy built like the original one and fed the stored
 * events again (the same proposals, the same feedback, in the same order) is in exactly the
 * original state. The run records `describe()` and refuses to continue with a strategy that
 * describes itself differently. A strategy whose events are costly to replay (PPO: every
 * minibatch is a controller update) also implements SnapshotStrategy: the loop stores its
 * `state()` whenever `snapshotRevision()` changes, and a resume restores the latest snapshot and
 * replays only the events after it.
 */
import type { DecisionSpaceLike, Dna, Json } from './space-like.js';
import { STRATEGY_KINDS, type StrategyKind } from './strategy-kinds.js';
import { BUILTIN_STRATEGIES } from './builtin-strategies.js';

export interface Proposal {
  readonly id: number;
  readonly dna: Dna;
}

export interface FeedbackInfo {
  /** The trial failed; `reward` is FAILED_TRIAL_REWARD (or a skipped trial's assumed reward). */
  readonly failed?: boolean;
  readonly reason?: string;
  /** The result was copied from an identical, already evaluated architecture. */
  readonly reused?: boolean;
  readonly accuracy?: number;
  readonly latencyMs?: number;
}

/** What a run records about the strategy that made its trials. */
export interface StrategyDescription {
  /** Strategy kind ('random', 'evolution', 'ppo', ...). */
  readonly kind: string;
  /** Version of that kind's algorithm and snapshot format. */
  readonly version: number;
  /** spaceSignature() of the space it searches. */
  readonly space: string;
  /** The seed and every option that shapes its proposals. */
  readonly settings: { readonly [key: string]: Json };
}

export interface StrategySnapshot {
  readonly kind: string;
  readonly version: number;
  /** spaceSignature() of the space it was created for. */
  readonly space: string;
  readonly data: { readonly [key: string]: Json };
}

export interface Strategy {
  readonly kind: string;
  describe(): StrategyDescription;
  /** False when the strategy needs feedback on pending proposals before it can propose again. */
  canPropose(): boolean;
  /**
   * The next proposal; ids are 0, 1, 2, ... in call order. May return a promise (e.g. sampling a
   * policy on an accelerator); the loop awaits it and makes no other strategy call meanwhile.
   */
  propose(): Proposal | Promise<Proposal>;
  /**
   * Reports the reward of a pending proposal (any order). Throws for unknown or already-reported
   * ids. May return a promise (e.g. a PPO update when a minibatch completes); the loop awaits it
   * before it stores the result.
   */
  feedback(proposal: Proposal, reward: number, info?: FeedbackInfo): void | Promise<void>;
  /** Proposals still waiting for feedback, by id. */
  pending(): readonly Proposal[];
}

/** A strategy whose state is costly to rebuild by replay, so the loop stores snapshots of it. */
export interface SnapshotStrategy extends Strategy {
  /** Changes whenever the state moved in a way that replay could only redo at a cost (PPO: its update count). */
  snapshotRevision(): number;
  /** A JSON snapshot of everything: restore() on a fresh strategy of the same kind continues the exact stream. */
  state(): StrategySnapshot;
  restore(snapshot: StrategySnapshot): void;
}

export interface StrategyOptions {
  readonly seed: number;
}

/** JSON options of a strategy kind (CLI / run config): the seed and kind-specific settings. */
export type StrategyJsonOptions = { readonly seed: number; readonly [key: string]: Json };

/** How the registry builds one strategy kind. */
export interface StrategyDefinition {
  /** Option names accepted besides `seed`; createStrategy refuses any other. */
  readonly options: readonly string[];
  create(space: DecisionSpaceLike, options: StrategyJsonOptions): Strategy;
}

/**
 * A strategy of a built-in kind from JSON options. A misspelt option is an error, not a silently
 * ignored setting.
 */
export function createStrategy(kind: string, space: DecisionSpaceLike, options: StrategyJsonOptions): Strategy {
  if (!isStrategyKind(kind)) throw new Error(`createStrategy: unknown strategy '${kind}' (known: ${STRATEGY_KINDS.join(', ')})`);
  const definition = BUILTIN_STRATEGIES[kind];
  const unknown = Object.keys(options).filter((k) => k !== 'seed' && !definition.options.includes(k));
  if (unknown.length) throw new Error(`${kind}: unknown option(s) ${unknown.join(', ')} (known: ${definition.options.join(', ') || 'none'})`);
  return definition.create(space, options);
}

function isStrategyKind(kind: string): kind is StrategyKind {
  return (STRATEGY_KINDS as readonly string[]).includes(kind);
}
