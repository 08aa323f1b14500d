/**
 * What every built-in strategy shares: the id counter, the pending set, the seeded RNG,
 * validation of proposals and feedback, and its description. Subclasses implement generate()
 * (next DNA), observe() (use a reward) and settings() (the options recorded with the run).
 */
import { Rng, type RngState } from '../util/rng.js';
import { validateDna } from '../space/space.js';
import { checkedDecisions, spaceSignature, type DecisionSpaceLike, type Dna, type Json } from './space-like.js';
import type { FeedbackInfo, Proposal, Strategy, StrategyDescription, StrategyOptions, StrategySnapshot } from './strategy.js';

export abstract class BaseStrategy implements Strategy {
  abstract readonly kind: string;
  protected abstract readonly version: number;
  readonly seed: number;
  protected rng: Rng;
  private nextId = 0;
  private readonly waiting = new Map<number, Dna>();

  constructor(
    protected readonly space: DecisionSpaceLike,
    options: StrategyOptions,
  ) {
    checkedDecisions(space, 'strategy');
    if (!Number.isInteger(options.seed)) throw new Error(`strategy: seed must be an integer, got ${options.seed}`);
    this.seed = options.seed;
    this.rng = new Rng(options.seed);
  }

  protected abstract generate(): Dna;
  protected abstract observe(proposal: Proposal, reward: number, info: FeedbackInfo): void;
  /** The options that shape the proposals, besides the seed. */
  protected abstract settings(): { [key: string]: Json };

  describe(): StrategyDescription {
    return { kind: this.kind, version: this.version, space: spaceSignature(this.space), settings: { seed: this.seed, ...this.settings() } };
  }

  canPropose(): boolean {
    return true;
  }

  propose(): Proposal {
    if (!this.canPropose()) throw new Error(`${this.kind}: cannot propose before feedback on pending proposals`);
    const dna = Object.freeze(this.generate().slice());
    validateDna(this.space.decisions(), dna, `${this.kind}.propose`);
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

  /** For strategies that take snapshots: the snapshot envelope around `data`, with the RNG state, id counter and pending proposals. */
  protected snapshotWith(data: { [key: string]: Json }): StrategySnapshot {
    return {
      kind: this.kind,
      version: this.version,
      space: spaceSignature(this.space),
      data: { rng: [...this.rng.state()], nextId: this.nextId, pending: this.pending().map((p) => [p.id, [...p.dna]]), ...data },
    };
  }

  /**
   * Checks a snapshot's envelope and shared state, then lets `load` restore the strategy's own
   * data (it throws before changing anything if that data is bad), then restores the shared state.
   */
  protected restoreWith(snapshot: StrategySnapshot, load: (data: { readonly [key: string]: Json }) => void): void {
    if (snapshot.kind !== this.kind) throw new Error(`${this.kind}.restore: snapshot is of a '${snapshot.kind}' strategy`);
    if (snapshot.version !== this.version) throw new Error(`${this.kind}.restore: snapshot version ${snapshot.version}, expected ${this.version}`);
    if (snapshot.space !== spaceSignature(this.space)) throw new Error(`${this.kind}.restore: snapshot was taken for a different search space`);
    const d = snapshot.data;
    const rng = d['rng'];
    if (!Array.isArray(rng) || rng.length !== 4 || !rng.every((x) => typeof x === 'number')) throw new Error(`${this.kind}.restore: bad rng state`);
    const nextId = d['nextId'];
    if (typeof nextId !== 'number' || !Number.isInteger(nextId)) throw new Error(`${this.kind}.restore: bad nextId`);
    const pending = d['pending'];
    if (!Array.isArray(pending)) throw new Error(`${this.kind}.restore: bad pending list`);
    const waiting = new Map<number, Dna>();
    for (const entry of pending) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'number' || !Array.isArray(entry[1])) throw new Error(`${this.kind}.restore: bad pending entry`);
      const dna = Object.freeze((entry[1] as number[]).slice());
      validateDna(this.space.decisions(), dna, `${this.kind}.restore`);
      waiting.set(entry[0], dna);
    }
    load(d);
    this.rng = Rng.fromState(rng as unknown as RngState);
    this.nextId = nextId;
    this.waiting.clear();
    for (const [id, dna] of waiting) this.waiting.set(id, dna);
  }
}
