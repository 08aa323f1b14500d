import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { dashboardStaticDir } from './static-files.js';

test('the pages group thousands as en-US Intl does, without Intl', async () => {
  const { int, axisNumber } = (await import(pathToFileURL(path.join(dashboardStaticDir(), 'format.js')).href)) as Record<'int' | 'axisNumber', (v: number | null) => string>;
  const intl = new Intl.NumberFormat('en-US');
  const values = [0, 1, 12, 123, 999, 1000, 1234, 12345, 123456, 1234567, 10_000_000, 987_654_321_012, -1, -999, -1000, -1234, -123456789, 0.5, 12.5, 0.1 + 0.2, 1234.56789, -0.0004, -1234.5, 2.5e-7, 0.0005, 999.9996];
  for (const v of values) {
    assert.equal(int(v), intl.format(v), `int(${v})`);
    assert.equal(axisNumber(v), intl.format(v), `axisNumber(${v})`);
  }
  assert.equal(int(null), '\u2013');
  assert.equal(axisNumber(null), '');
  assert.equal(int(NaN), 'NaN');
});
