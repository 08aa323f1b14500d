/** Rank statistics for latency studies: Spearman correlation (ties -> average ranks) and misordered pairs. */

/** 1-based ranks with ties sharing their average rank. */
export function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && (order[j + 1] as readonly [number, number])[0] === (order[i] as readonly [number, number])[0]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[(order[k] as readonly [number, number])[1]] = avg;
    i = j + 1;
  }
  return r;
}

export function pearson(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n !== ys.length) throw new Error('pearson: lengths differ');
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx, dy = (ys[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

/** Spearman's rho: Pearson correlation of the (tie-averaged) ranks. */
export function spearman(xs: readonly number[], ys: readonly number[]): number {
  return pearson(ranks(xs), ranks(ys));
}

export interface MisorderedPair {
  /** Indices into the inputs: a has fewer MACs (x) than b ... */
  a: number;
  b: number;
  /** ... but is slower by this factor: y[a] / y[b] (> 1), and x[b] / x[a] (> 1). */
  latency_ratio: number;
  macs_ratio: number;
  /** log(latency_ratio) + log(macs_ratio): how strongly the two orders disagree. */
  score: number;
}

/**
 * Pairs where the x order (e.g. MACs) and the y order (latency) disagree, the most
 * disagreeing first: x[a] < x[b] but y[a] > y[b], scored by log(x[b]/x[a]) + log(y[a]/y[b]).
 */
export function misorderedPairs(xs: readonly number[], ys: readonly number[], top = 10): MisorderedPair[] {
  const out: MisorderedPair[] = [];
  for (let i = 0; i < xs.length; i++) {
    for (let j = 0; j < xs.length; j++) {
      const xi = xs[i] as number, xj = xs[j] as number, yi = ys[i] as number, yj = ys[j] as number;
      if (xi < xj && yi > yj && xi > 0 && yj > 0) {
        const macsRatio = xj / xi, latRatio = yi / yj;
        out.push({ a: i, b: j, latency_ratio: latRatio, macs_ratio: macsRatio, score: Math.log(macsRatio) + Math.log(latRatio) });
      }
    }
  }
  out.sort((p, q) => q.score - p.score);
  return out.slice(0, top);
}
