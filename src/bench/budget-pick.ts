/**
 * Fidelity per second, as a search spends it: give every proxy setting the same budget of
 * proxy-training seconds, let it train as many architectures drawn at random from the study's
 * pool as the budget pays for, and keep the one its proxy ranks first. The figure is the final
 * test accuracy of that pick, in expectation over the draws (exact, no sampling). A cheap proxy
 * ranks worse but sees more candidates; this says which effect wins on the pool at hand.
 */

export interface PoolItem {
  readonly proxy: number;
  readonly final: number;
}

/**
 * Expected final accuracy of the proxy's first choice among n items drawn without replacement
 * from the pool (n is capped at the pool's size). Items that tie on proxy accuracy are equally
 * likely to be chosen.
 */
export function expectedTopPick(pool: readonly PoolItem[], n: number): number {
  const size = pool.length;
  if (size === 0) throw new Error('expectedTopPick: empty pool');
  if (!Number.isInteger(n) || n < 1) throw new Error(`expectedTopPick: draw at least one item, got ${n}`);
  const draws = Math.min(n, size);
  const ranked = [...pool].sort((a, b) => b.proxy - a.proxy);
  // P(the item at rank i is the first drawn in rank order) = C(size-1-i, draws-1) / C(size, draws)
  let p = draws / size;
  let expected = 0;
  let i = 0;
  while (i < size) {
    let j = i;
    let groupP = 0;
    let groupFinal = 0;
    while (j < size && ranked[j]!.proxy === ranked[i]!.proxy) {
      groupP += p;
      groupFinal += ranked[j]!.final;
      p = j + 1 < size ? (p * (size - j - draws)) / (size - j - 1) : 0;
      j++;
    }
    expected += groupP * (groupFinal / (j - i));
    i = j;
  }
  return expected;
}

/** Architectures a budget of proxy seconds pays for at `secondsPerTrial` each (at least one), and whether the pool runs out first. */
export function trialsFor(budgetSeconds: number, secondsPerTrial: number, poolSize: number): { readonly n: number; readonly exhausted: boolean } {
  const affordable = Math.max(1, Math.floor(budgetSeconds / secondsPerTrial + 1e-9));
  return { n: Math.min(affordable, poolSize), exhausted: affordable > poolSize };
}
