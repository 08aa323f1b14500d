import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { StaticCache, UPLOT_INTL_PRELUDE } from './static-files.js';

const require = createRequire(import.meta.url);

test('uPlot is served after the Intl stand-in, which covers every use of Intl in uPlot', () => {
  const source = readFileSync(require.resolve('uplot/dist/uPlot.esm.js'), 'utf8');
  const code = source.split('\n').filter((line) => !line.trim().startsWith('//')).join('\n');
  const uses = [...code.matchAll(/.{0,4}Intl\.\w+[^\n]*/g)].map((m) => m[0].trim());
  assert.deepEqual(uses, ['new Intl.NumberFormat(domEnv ? nav.language : \'en-US\');', 'new Intl.DateTimeFormat().resolvedOptions().timeZone;']);
  const served = new StaticCache().get('uplot.esm.js')!;
  assert.equal(served.body.toString('utf8'), UPLOT_INTL_PRELUDE + source);
  assert.equal(served.type, 'text/javascript; charset=utf-8');
});

test('the Intl stand-in formats numbers as Intl does, and leaves the time zone unknown', () => {
  const [formatted, zone] = new Function(`${UPLOT_INTL_PRELUDE}; const f = new Intl.NumberFormat('en-US'); return [[f.format(1234567.891), f.format(-0.5)], new Intl.DateTimeFormat().resolvedOptions().timeZone];`)() as [string[], unknown];
  assert.deepEqual(formatted, ['1,234,567.891', '-0.5']);
  assert.equal(zone, undefined);
});
