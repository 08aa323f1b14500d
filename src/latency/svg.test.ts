/** The shared SVG plot: footnotes wrap inside the plot's width and the document grows to hold them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scatterSvg, wrapWords } from './svg.js';

test('wrapWords fills lines up to the width; a longer word gets a line of its own', () => {
  assert.deepEqual(wrapWords('a bb ccc dddd', 6), ['a bb', 'ccc', 'dddd']);
  assert.deepEqual(wrapWords('  one   two ', 20), ['one two']);
  assert.deepEqual(wrapWords('short averyveryverylongword x', 8), ['short', 'averyveryverylongword', 'x']);
  assert.deepEqual(wrapWords('', 10), []);
});

test('a long footnote is drawn as several lines inside the width, and the SVG grows taller by the extra lines', () => {
  const series = [{ name: 's', color: '#000', points: [{ x: 1, y: 1 }, { x: 2, y: 3 }] }];
  const height = (svg: string) => Number(/<svg [^>]*height="(\d+)"/.exec(svg)![1]);
  const plain = scatterSvg({ title: 't', xLabel: 'x', yLabel: 'y', series, footnote: 'one short line' });
  const long = scatterSvg({ title: 't', xLabel: 'x', yLabel: 'y', series, footnote: 'word '.repeat(60) });
  const lines = [...long.matchAll(/<text [^>]*font-size="11">([^<]*)<\/text>/g)].map((m) => m[1]!);
  assert.ok(lines.length >= 3, `${lines.length} lines`);
  for (const l of lines) assert.ok(l.length * 6.2 <= 760 - 78 - 24, `line of ${l.length} characters`);
  assert.equal(height(long) - height(plain), (lines.length - 1) * 14);
});
