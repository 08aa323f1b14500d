/** How long a run has been searching, from its stored trials' timestamps. */
import type { TrialBrief } from './run-store.js';

/**
 * Seconds covered by the trials' evaluations ([start of the last attempt, finish], or `now` for
 * trials in flight of a running search; without `now` those are left out): the union of those
 * intervals, so the time between sessions of a resumed run does not count.
 */
export function activeSeconds(trials: readonly TrialBrief[], now?: Date): number {
  const spans: [number, number][] = [];
  for (const t of trials) {
    const from = Date.parse(t.startedAt ?? t.createdAt);
    const to = t.finishedAt !== null ? Date.parse(t.finishedAt) : now ? now.getTime() : NaN;
    if (Number.isFinite(from) && Number.isFinite(to) && to >= from) spans.push([from, to]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = -Infinity;
  for (const [from, to] of spans) {
    if (to <= end) continue;
    total += to - Math.max(from, end);
    end = to;
  }
  return total / 1000;
}
