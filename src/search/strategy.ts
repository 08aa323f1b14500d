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
 * Resume: `state()` is a JSON snapshot of everything (RNG state, id counter, pending proposals,
 * population or policy weights); `restore()` on a fresh object of the same kind continues the
 * exact stream an uninterrupted object would have produced. The loop stores a snapshot after
 * every proposal and every feedback, in the same transaction as the trial row.
 */
import { Rng, type RngState } from '../util/rng.js';
import { checkedDecisions, validateDna, spaceSignature, type DecisionSpaceLike, type Dna, type Json } from './space-like.js';

export interface Proposal {
  readonly id: number;
  readonly dna: Dna;
}

export interface FeedbackInfo {
  /** The trial failed; `reward` is FAILED_TRIAL_REWARD. */
  readonly failed?: boolean;
  readonly reason?: string;
  /** The result was copied from an identical, already evaluated architecture. */
  readonly reused?: boolean;
  readonly accuracy?: number;
  readonly latencyMs?: number;
}

export interface StrategySnapshot {
  /** Strategy kind ('random', 'evolution', 'ppo', ...). */
  readonly kind: string;
  /** Snapshot format version of that kind. */
  readonly version: number;
  /** spaceSignature() of the space it was created for. */
  readonly space: string;
  readonly data: { readonly [key: string]: Json };
}

export interface Strategy {
  readonly kind: string;
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
   * before taking the snapshot that it stores with the result.
   */
  feedback(proposal: Proposal, reward: number, info?: FeedbackInfo): void | Promise<void>;
  /** Proposals still waiting for feedback, by id. */
  pending(): readonly Proposal[];
  state(): StrategySnapshot;
  restore(snapshot: StrategySnapshot): void;
}

export interface StrategyOptions {
  readonly seed: number;
}

/**
 * Id bookkeeping, pending set, seeded RNG and the snapshot envelope shared by strategies.
 * Subclasses implement generate() (next DNA), observe() (use a reward) and their own state.
 */
export abstract class BaseStrategy implements Strategy {
  abstract readonly kind: string;
  protected abstract readonly version: number;
  protected rng: Rng;
  private nextId = 0;
  private readonly waiting = new Map<number, Dna>();

  constructor(
    protected readonly space: DecisionSpaceLike,
    options: StrategyOptions,
  ) {
    checkedDecisions(space, 'strategy');
    if (!Number.isInteger(options.seed)) throw new Error(`strategy: seed must be an integer, got ${options.seed}`);
    this.rng = new Rng(options.seed);
  }

  protected abstract generate(): Dna;
  protected abstract observe(proposal: Proposal, reward: number, info: FeedbackInfo): void;
  protected abstract saveData(): { [key: string]: Json };
  protected abstract loadData(data: { readonly [key: string]: Json }): void;

  canPropose(): boolean {
    return true;
  }

  propose(): Proposal {
    if (!this.canPropose()) throw new Error(`${this.kind}: cannot propose before feedback on pending proposals`);
    const dna = Object.freeze(this.generate().slice());
    validateDna(this.space, dna, `${this.kind}.propose`);
    const proposal: Proposal = { id: this.nextId++, dna };
    this.waiting.set(proposal.id, dna);
    return proposal;
  }

  feedback(proposal: Proposal, reward: number, info: FeedbackInfo = {}): void {
    const dna = this.waiting.get(proposal.id);
    if (dna === undefined) throw new Error(`${this.kind}.feedback: proposal ${proposal.id} is not pending (unknown or already reported)`);
    if (dna.length !== proposal.dna.length || dna.some((c, i) => c !== proposal.dna[i]))
      throw new Error(`${this.kind}.feedback: DNA of proposal ${proposal.id} does not match what was proposed`);
    if (!Number.isFinite(reward)) throw new Error(`${this.kind}.feedback: reward must be finite, got ${reward}`);
    this.waiting.delete(proposal.id);
    this.observe({ id: proposal.id, dna }, reward, info);
  }

  pending(): readonly Proposal[] {
    return [...this.waiting].sort((a, b) => a[0] - b[0]).map(([id, dna]) => ({ id, dna }));
  }

  /** Number of proposals made so far (= the next proposal id). */
  get proposed(): number {
    return this.nextId;
  }

  state(): StrategySnapshot {
    return {
      kind: this.kind,
      version: this.version,
      space: spaceSignature(this.space),
      data: {
        rng: [...this.rng.state()],
        nextId: this.nextId,
        pending: this.pending().map((p) => [p.id, [...p.dna]]),
        ...this.saveData(),
      },
    };
  }

  restore(snapshot: StrategySnapshot): void {
    if (snapshot.kind !== this.kind) throw new Error(`${this.kind}.restore: snapshot is of a '${snapshot.kind}' strategy`);
    if (snapshot.version !== this.version) throw new Error(`${this.kind}.restore: snapshot version ${snapshot.version}, expected ${this.version}`);
    if (snapshot.space !== spaceSignature(this.space)) throw new Error(`${this.kind}.restore: snapshot was taken for a different search space`);
    const d = snapshot.data;
    const rng = d['rng'];
    if (!Array.isArray(rng) || rng.length !== 4 || !rng.every((x) => typeof x === 'number')) throw new Error(`${this.kind}.restore: bad rng state`);
    if (typeof d['nextId'] !== 'number' || !Number.isInteger(d['nextId'])) throw new Error(`${this.kind}.restore: bad nextId`);
    const pending = d['pending'];
    if (!Array.isArray(pending)) throw new Error(`${this.kind}.restore: bad pending list`);
    this.loadData(d);
    this.rng = Rng.fromState(rng as unknown as RngState);
    this.nextId = d['nextId'];
    this.waiting.clear();
    for (const entry of pending) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'number' || !Array.isArray(entry[1])) throw new Error(`${this.kind}.restore: bad pending entry`);
      const dna = Object.freeze((entry[1] as number[]).slice());
      validateDna(this.space, dna, `${this.kind}.restore`);
      this.waiting.set(entry[0], dna);
    }
  }
}

/** A factory that builds a strategy of one kind from a space and JSON options (CLI / run config). */
export type StrategyFactory = (space: DecisionSpaceLike, options: { seed: number; [key: string]: Json }) => Strategy;

const registry = new Map<string, { factory: StrategyFactory; options: readonly string[] }>();

/**
 * Registers a strategy kind with the option names it accepts (besides `seed`); createStrategy
 * refuses any other option, so a misspelt option is an error, not a silently ignored setting.
 */
export function registerStrategy(kind: string, factory: StrategyFactory, options: readonly string[]): void {
  if (registry.has(kind)) throw new Error(`registerStrategy: '${kind}' is already registered`);
  registry.set(kind, { factory, options });
}

export function createStrategy(kind: string, space: DecisionSpaceLike, options: { seed: number; [key: string]: Json }): Strategy {
  const entry = registry.get(kind);
  if (!entry) throw new Error(`createStrategy: unknown strategy '${kind}' (known: ${[...registry.keys()].join(', ') || 'none'})`);
  const unknown = Object.keys(options).filter((k) => k !== 'seed' && !entry.options.includes(k));
  if (unknown.length) throw new Error(`${kind}: unknown option(s) ${unknown.join(', ')} (known: ${entry.options.join(', ') || 'none'})`);
  return entry.factory(space, options);
}

export function strategyKinds(): string[] {
  return [...registry.keys()];
}

/** The option names a registered strategy kind accepts besides `seed` (for the config's JSON Schema). */
export function strategyOptionNames(kind: string): readonly string[] {
  const entry = registry.get(kind);
  if (!entry) throw new Error(`strategyOptionNames: unknown strategy '${kind}'`);
  return entry.options;
}
