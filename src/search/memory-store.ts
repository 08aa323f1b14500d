/**
 * A RunStore in memory: the same records, event numbering and checks as the SQLite
 * ExperimentStore, without a file. For benchmarks and tests that drive a strategy through the
 * search loop; a run kept here is gone with the process. Records and snapshots are copied on the
 * way in (snapshots through JSON, as the database stores them), so later changes to a strategy
 * never reach a stored snapshot.
 */
import type { Json } from './space-like.js';
import { canonicalJson } from './json.js';
import type { Proposal, StrategyDescription, StrategySnapshot } from './strategy.js';
import { eventsOf, type RunEvent, type RunStore, type SnapshotRecord, type TrialFailure, type TrialMetrics, type TrialRecord, type TrialStatus } from './run-store.js';

const now = (): string => new Date().toISOString();
const copyJson = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export class MemoryStore implements RunStore {
  private readonly trials = new Map<number, TrialRecord>();
  private snapshotRecord: SnapshotRecord | undefined;
  private strategyDescription: StrategyDescription | undefined;
  private nextEvent = 0;

  strategy(): StrategyDescription | undefined {
    return this.strategyDescription && copyJson(this.strategyDescription);
  }

  recordStrategy(description: StrategyDescription): void {
    const text = canonicalJson(description as unknown as Json);
    if (this.strategyDescription !== undefined && canonicalJson(this.strategyDescription as unknown as Json) !== text)
      throw new Error(`MemoryStore.recordStrategy: the run already records another strategy (${JSON.stringify(this.strategyDescription)})`);
    this.strategyDescription = copyJson(description);
  }

  addTrial(proposal: Proposal, arch: string | undefined, snapshot?: StrategySnapshot): void {
    if (this.trials.has(proposal.id)) throw new Error(`MemoryStore.addTrial: trial ${proposal.id} exists (UNIQUE)`);
    const event = this.nextEvent++;
    this.trials.set(
      proposal.id,
      Object.freeze({
        id: proposal.id,
        dna: Object.freeze(proposal.dna.slice()),
        arch: arch ?? null,
        status: 'pending',
        accuracy: null,
        latencyMs: null,
        latencyStats: null,
        macs: null,
        params: null,
        reward: null,
        reusedFrom: null,
        extra: null,
        timings: null,
        error: null,
        attempts: 0,
        proposeEvent: event,
        resultEvent: null,
        createdAt: now(),
        startedAt: null,
        finishedAt: null,
      }),
    );
    if (snapshot) this.keepSnapshot(event, proposal.id, snapshot);
  }

  markRunning(id: number): number {
    const t = this.inFlightTrial(id, 'markRunning');
    const attempts = t.attempts + 1;
    this.replace({ ...t, status: 'running', attempts, startedAt: now() });
    return attempts;
  }

  complete(id: number, m: TrialMetrics, snapshot?: StrategySnapshot): void {
    const t = this.inFlightTrial(id, 'complete');
    const event = this.nextEvent++;
    this.replace({
      ...t,
      status: 'done',
      accuracy: m.accuracy,
      latencyMs: m.latencyMs,
      latencyStats: optional(m.latencyStats),
      macs: m.macs ?? null,
      params: m.params ?? null,
      reward: m.reward,
      reusedFrom: m.reusedFrom ?? null,
      extra: optional(m.extra),
      timings: optional(m.timings),
      error: null,
      resultEvent: event,
      finishedAt: now(),
    });
    if (snapshot) this.keepSnapshot(event, id, snapshot);
  }

  fail(id: number, failure: TrialFailure, snapshot?: StrategySnapshot): void {
    const t = this.inFlightTrial(id, 'fail');
    const event = this.nextEvent++;
    this.replace({ ...t, status: 'failed', reward: failure.reward, error: failure.reason, timings: optional(failure.timings), resultEvent: event, finishedAt: now() });
    if (snapshot) this.keepSnapshot(event, id, snapshot);
  }

  trial(id: number): TrialRecord | undefined {
    return this.trials.get(id);
  }

  listTrials(filter: { status?: TrialStatus } = {}): TrialRecord[] {
    const all = [...this.trials.values()].sort((a, b) => a.id - b.id);
    return filter.status ? all.filter((t) => t.status === filter.status) : all;
  }

  count(status?: TrialStatus): number {
    return status ? this.listTrials({ status }).length : this.trials.size;
  }

  inFlight(): TrialRecord[] {
    return this.listTrials().filter((t) => t.status === 'pending' || t.status === 'running');
  }

  latestSnapshot(): SnapshotRecord | undefined {
    return this.snapshotRecord && { ...this.snapshotRecord, state: copyJson(this.snapshotRecord.state) };
  }

  events(afterEvent = -1): RunEvent[] {
    return eventsOf(this.trials.values(), afterEvent);
  }

  private inFlightTrial(id: number, who: string): TrialRecord {
    const t = this.trial(id);
    if (!t || (t.status !== 'pending' && t.status !== 'running')) throw new Error(`MemoryStore.${who}: trial ${id} is not pending or running`);
    return t;
  }

  private replace(record: TrialRecord): void {
    this.trials.set(record.id, Object.freeze(record));
  }

  private keepSnapshot(afterEvent: number, trialId: number, state: StrategySnapshot): void {
    this.snapshotRecord = { afterEvent, trialId, state: copyJson(state), createdAt: now() };
  }
}

const optional = (v: Json | undefined): Json | null => (v === undefined ? null : copyJson(v));
