/**
 * Bringing a fresh strategy to the state of a stored run (pyglove's recover): check that the run
 * was made by an equal strategy (kind, version, space, seed and options), restore its latest
 * snapshot if the strategy takes snapshots, then replay the stored events after it - the same
 * proposals (each checked against the stored DNA) and the same feedback, in the stored order.
 * Afterwards the strategy's pending proposals must be exactly the run's in-flight trials.
 */
import { canonicalJson, jsonDifferences } from './json.js';
import { dnaKey, type Json } from './space-like.js';
import type { RunStore, TrialRecord } from './run-store.js';
import type { FeedbackInfo, SnapshotStrategy, Strategy } from './strategy.js';

export function takesSnapshots(strategy: Strategy): strategy is SnapshotStrategy {
  return typeof (strategy as Partial<SnapshotStrategy>).snapshotRevision === 'function';
}

/** What the strategy was told about a finished trial. */
function feedbackOf(t: TrialRecord): FeedbackInfo {
  return t.status === 'done' ? { accuracy: t.accuracy!, latencyMs: t.latencyMs!, reused: t.reusedFrom !== null } : { failed: true, reason: t.error! };
}

/**
 * Brings `strategy` (fresh, built like the run's) to the run's state; on an empty run, records it
 * as the run's strategy. Returns the snapshot revision the store holds (for snapshot strategies).
 */
export async function restoreStrategy(strategy: Strategy, store: RunStore): Promise<number | undefined> {
  const description = strategy.describe();
  const recorded = store.strategy();
  if (recorded === undefined) {
    if (store.count() > 0) throw new Error('runSearch: the store has trials but no record of the strategy that proposed them');
    store.recordStrategy(description);
  } else if (canonicalJson(recorded as unknown as Json) !== canonicalJson(description as unknown as Json)) {
    const differences = jsonDifferences(recorded as unknown as Json, description as unknown as Json);
    throw new Error(
      `runSearch: the run was made by a different strategy (stored: ${recorded.kind} ${canonicalJson(recorded.settings)}; given: ${description.kind} ${canonicalJson(description.settings)}; differences at ${differences.join(', ')})`,
    );
  }

  const snapshot = store.latestSnapshot();
  let after = -1;
  if (snapshot) {
    if (!takesSnapshots(strategy)) throw new Error(`runSearch: the store holds a snapshot but the '${strategy.kind}' strategy does not take snapshots`);
    strategy.restore(snapshot.state);
    after = snapshot.afterEvent;
  }
  const revision = takesSnapshots(strategy) ? strategy.snapshotRevision() : undefined;

  for (const event of store.events(after)) {
    const t = event.trial;
    if (event.kind === 'propose') {
      const p = strategy.canPropose() ? await strategy.propose() : undefined;
      if (p?.id !== t.id || dnaKey(p.dna) !== dnaKey(t.dna))
        throw new Error(
          `runSearch: the strategy does not reproduce the stored run: trial ${t.id} has DNA ${dnaKey(t.dna)}, the strategy now ${p ? `proposes ${dnaKey(p.dna)} as ${p.id}` : 'cannot propose'} (was its algorithm changed?)`,
        );
    } else {
      await strategy.feedback({ id: t.id, dna: t.dna }, t.reward!, feedbackOf(t));
    }
  }

  const stored = store.inFlight();
  const pending = strategy.pending();
  if (stored.length !== pending.length || stored.some((t, i) => t.id !== pending[i]!.id || dnaKey(t.dna) !== dnaKey(pending[i]!.dna)))
    throw new Error(
      `runSearch: store and strategy disagree on in-flight trials (store: ${stored.map((t) => t.id).join(',') || 'none'}; strategy: ${pending.map((p) => p.id).join(',') || 'none'})`,
    );
  return revision;
}
