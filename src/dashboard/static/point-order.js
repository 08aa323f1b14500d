// @ts-check
/** The order in which a chart hands its points to uPlot. */

/** Points (and series) the packed sort below has room for. */
const MAX_POINTS = 1 << 24;
const MAX_SERIES = 1 << 8;

/**
 * The indices of the points in order of x (compared as 32-bit floats: finer than any chart
 * shows), then series, then index. Each point becomes one 64-bit integer (x's sortable bits
 * above its series and index) sorted by the engine's own typed-array sort: on a page that has
 * just loaded, a comparison sort of 10,000 points spends tens of milliseconds in its comparator
 * (so does a radix sort written here) before the code is optimized; this takes a few.
 * @param {ArrayLike<number>} xs
 * @param {ArrayLike<number>} series integers from 0 to 255
 * @returns {Uint32Array}
 */
export function orderByXThenSeries(xs, series) {
  const n = xs.length;
  if (n > MAX_POINTS) throw new Error(`a chart draws at most ${MAX_POINTS} points, not ${n}`);
  const packed = new BigUint64Array(n);
  // (the 64-bit integers as 32-bit halves, low half first on the little-endian machines browsers run on)
  const halves = new Uint32Array(packed.buffer);
  const x32 = new Float32Array(1);
  const bits = new Uint32Array(x32.buffer);
  for (let i = 0; i < n; i++) {
    const s = series[i];
    if (!((s | 0) === s && s >= 0 && s < MAX_SERIES)) throw new Error(`series ${s} of point ${i} is not an integer from 0 to ${MAX_SERIES - 1}`);
    x32[0] = xs[i] + 0; // (+ 0: -0 becomes 0)
    // float bits made to sort as unsigned integers: negatives reversed, below the positives
    const b = bits[0];
    halves[2 * i + 1] = b & 0x80000000 ? ~b : b | 0x80000000;
    halves[2 * i] = ((s << 24) | i) >>> 0;
  }
  packed.sort();
  const order = new Uint32Array(n);
  for (let k = 0; k < n; k++) order[k] = halves[2 * k] & 0xffffff;
  return order;
}
