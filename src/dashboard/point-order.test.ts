import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { dashboardStaticDir } from './static-files.js';
import { Rng } from '../util/rng.js';

type OrderFn = (xs: ArrayLike<number>, series: ArrayLike<number>) => Uint32Array;

test('the charts order points by x as 32-bit floats, then series, like a comparison sort', async () => {
  const { orderByXThenSeries } = (await import(pathToFileURL(path.join(dashboardStaticDir(), 'point-order.js')).href)) as { orderByXThenSeries: OrderFn };
  const rng = new Rng(7);
  const random = () => rng.next();
  for (let round = 0; round < 100; round++) {
    const n = Math.floor(random() * 2000);
    // ties, zeros, negative values, integers and magnitudes from 1e-4 to 1e8 (latencies, MACs)
    const xs = Array.from({ length: n }, () => {
      const r = random();
      if (r < 0.1) return 0;
      if (r < 0.2) return -random() * 1000;
      if (r < 0.3) return Math.round(random() * 5);
      return random() * 10 ** Math.floor(random() * 12 - 4);
    });
    const series = Array.from({ length: n }, () => Math.floor(random() * 3));
    const got = [...orderByXThenSeries(xs, series)];
    const want = [...xs.keys()].sort((a, b) => Math.fround(xs[a]!) - Math.fround(xs[b]!) || series[a]! - series[b]! || a - b);
    assert.deepEqual(got, want, `round ${round}, ${n} points`);
  }
  assert.deepEqual([...orderByXThenSeries([], [])], []);
  assert.deepEqual([...orderByXThenSeries([2, -0, 0, 1], [0, 1, 0, 0])], [2, 1, 3, 0]);
});

test('the charts refuse to order points of a series out of range', async () => {
  const { orderByXThenSeries } = (await import(pathToFileURL(path.join(dashboardStaticDir(), 'point-order.js')).href)) as { orderByXThenSeries: OrderFn };
  assert.throws(() => orderByXThenSeries([1, 2], [0, 256]), /series 256 of point 1/);
  assert.throws(() => orderByXThenSeries([1, 2], [0.5, 0]), /series 0.5 of point 0/);
});
