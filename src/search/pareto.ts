/**
 * Pareto front of (accuracy: maximise, latency: minimise) points.
 * a dominates b iff a.accuracy >= b.accuracy and a.latencyMs <= b.latencyMs with one strict.
 * Points exactly equal to an earlier point are dropped (the earlier one represents them), so
 * re-used results of identical architectures do not crowd the front. The front keeps the
 * insertion order of its members (stable), whatever order points dominate each other in.
 */
export interface ParetoPoint {
  readonly accuracy: number;
  readonly latencyMs: number;
}

function check(p: ParetoPoint, who: string): void {
  if (!Number.isFinite(p.accuracy) || !Number.isFinite(p.latencyMs))
    throw new Error(`${who}: accuracy and latencyMs must be finite, got (${p.accuracy}, ${p.latencyMs})`);
}

export function dominates(a: ParetoPoint, b: ParetoPoint): boolean {
  return a.accuracy >= b.accuracy && a.latencyMs <= b.latencyMs && (a.accuracy > b.accuracy || a.latencyMs < b.latencyMs);
}

function same(a: ParetoPoint, b: ParetoPoint): boolean {
  return a.accuracy === b.accuracy && a.latencyMs === b.latencyMs;
}

/** Incrementally maintained front. */
export class ParetoFront<T extends ParetoPoint> {
  private members: T[] = [];

  /** Adds a point; returns true if it joined the front (evicting the members it dominates). */
  add(p: T): boolean {
    check(p, 'ParetoFront.add');
    if (this.members.some((m) => dominates(m, p) || same(m, p))) return false;
    this.members = this.members.filter((m) => !dominates(p, m));
    this.members.push(p);
    return true;
  }

  get size(): number {
    return this.members.length;
  }

  /** Members in insertion order. */
  points(): readonly T[] {
    return this.members.slice();
  }

  /** Members sorted by latency ascending (accuracy ascending with it), for display. */
  byLatency(): readonly T[] {
    return this.members.slice().sort((a, b) => a.latencyMs - b.latencyMs || a.accuracy - b.accuracy);
  }
}

/** The non-dominated subset of `points`, in input order. */
export function paretoFront<T extends ParetoPoint>(points: readonly T[]): T[] {
  const f = new ParetoFront<T>();
  for (const p of points) f.add(p);
  return f.points().slice();
}
