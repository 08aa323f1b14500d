import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { getSpace } from '../space/space.js';
import { Rng } from '../util/rng.js';
import { misorderedPairs, pearson, ranks, spearman } from './correlation.js';
import type { DeviceDescription } from './device.js';
import { analyzeStudy, studyRows, studySvg, writeStudy } from './study.js';
import { escapeXml, niceTicks, scatterSvg } from './svg.js';
import { tempDir } from '../util/testing.js';

test('ranks average ties', () => {
  assert.deepEqual(ranks([10, 20, 20, 5]), [2, 3.5, 3.5, 1]);
});

test('Spearman: textbook values, monotone invariance, ties', () => {
  // classic example: rho = 1 - 6 * sum d^2 / (n (n^2 - 1)) without ties
  const x = [106, 86, 100, 101, 99, 103, 97, 113, 112, 110];
  const y = [7, 0, 27, 50, 28, 29, 20, 12, 6, 17];
  assert.ok(Math.abs(spearman(x, y) - -29 / 165) < 1e-12);
  assert.ok(Math.abs(spearman([1, 2, 3, 4], [1, 8, 27, 64]) - 1) < 1e-12);
  assert.ok(Math.abs(spearman([1, 2, 3, 4], [4, 3, 2, 1]) + 1) < 1e-12);
  // with ties: Pearson of average ranks
  assert.ok(Math.abs(spearman([1, 2, 2, 3], [1, 2, 3, 4]) - pearson([1, 2.5, 2.5, 4], [1, 2, 3, 4])) < 1e-12);
  assert.ok(Number.isNaN(spearman([1, 1, 1], [1, 2, 3])));
});

test('misordered pairs: only discordant pairs, the strongest first', () => {
  const macs = [100, 200, 300, 400];
  const lat = [1, 5, 3, 3.5]; // 200 MACs is slower than 300 and 400
  const p = misorderedPairs(macs, lat);
  assert.equal(p.length, 2);
  assert.deepEqual([p[0]!.a, p[0]!.b], [1, 3]); // log(2) + log(5/3.5) beats log(1.5) + log(5/3)
  for (const q of p) assert.ok((macs[q.a] as number) < (macs[q.b] as number) && (lat[q.a] as number) > (lat[q.b] as number));
  assert.deepEqual(misorderedPairs([1, 2, 3], [1, 2, 3]), []);
});

/** Minimal XML well-formedness check: balanced tags, quoted attributes, escaped text. */
function assertWellFormedXml(xml: string): void {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const re = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while ((m = re.exec(body)) !== null) {
    pos = re.lastIndex;
    if (m[5] !== undefined) {
      assert.ok(!/&(?!(amp|lt|gt|quot|apos);)/.test(m[5]), `unescaped & in text '${m[5]}'`);
      continue;
    }
    const [, close, name, , selfClose] = m;
    if (close) assert.equal(stack.pop(), name, `mismatched </${name}>`);
    else if (!selfClose) stack.push(name as string);
  }
  assert.equal(pos, body.length, `unparsable XML at ${pos}: ${body.slice(pos, pos + 60)}`);
  assert.deepEqual(stack, []);
}

test('scatterSvg is a well-formed standalone SVG with one marker per point and escaped text', () => {
  const svg = scatterSvg({
    title: 'a < b & "c"',
    xLabel: 'MACs',
    yLabel: 'ms',
    series: [
      { name: 's1', color: '#123456', points: [{ x: 1e6, y: 0.1, label: 'in8x8x1:<r1>' }, { x: 2e6, y: 0.3 }] },
      { name: 's2', color: 'red', points: [{ x: 1.5e6, y: 0.2 }, { x: NaN, y: 1 }] },
    ],
    links: [{ from: { x: 1e6, y: 0.1 }, to: { x: 2e6, y: 0.3 } }],
    footnote: 'rho = 0.9',
  });
  assertWellFormedXml(svg);
  assert.match(svg, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal((svg.match(/<circle /g) ?? []).length, 3 + 2); // 3 finite points + 2 legend markers
  assert.match(svg, /a &lt; b &amp; &quot;c&quot;/);
  assertWellFormedXml(scatterSvg({ title: 'empty', xLabel: 'x', yLabel: 'y', series: [] }));
  assert.equal(escapeXml(`<&>"'`), '&lt;&amp;&gt;&quot;&apos;');
});

test('niceTicks are round and cover the range', () => {
  assert.deepEqual(niceTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
  const t = niceTicks(0.013, 0.27);
  assert.ok(t[0]! >= 0.013 - 1e-12 && t.at(-1)! <= 0.27 + 1e-12);
  assert.ok(t.length >= 3);
});

test('study report: Spearman of MACs vs latency, predictor correlation, misordered pairs, files', () => {
  const space = getSpace('fmnist');
  const rng = new Rng(3);
  const device: DeviceDescription = { id: 'fake', kind: 'ort-cpu', cpu: 'test cpu', runtime: 'fake', runtimeVersion: '0', threads: 1 };
  const measured = Array.from({ length: 12 }, (_, i) => ({ arch: space.decode(space.sample(rng)), measured_ms: 0.05 + 0.01 * ((i * 7) % 12), converged: true }));
  const rows = studyRows(measured, (m) => m.measured_ms * 1.1);
  const report = analyzeStudy('fmnist', device, rows);
  assert.equal(report.samples, 12);
  assert.ok(Math.abs(report.spearman_macs - spearman(rows.map((r) => r.macs), rows.map((r) => r.measured_ms))) < 1e-12);
  assert.equal(report.spearman_predictor, 1);
  assert.ok(report.misordered_pairs.length > 0);
  for (const p of report.misordered_pairs) {
    assert.ok(p.slower_despite_fewer_macs.macs < p.faster_despite_more_macs.macs);
    assert.ok(p.slower_despite_fewer_macs.measured_ms > p.faster_despite_more_macs.measured_ms);
  }
  assertWellFormedXml(studySvg(report));
  const dir = tempDir('mnas-study-');
  try {
    const paths = writeStudy(join(dir, 'out'), report);
    assert.equal(JSON.parse(readFileSync(paths.json, 'utf8')).samples, 12);
    assertWellFormedXml(readFileSync(paths.svg, 'utf8'));
    assert.match(readFileSync(paths.markdown, 'utf8'), /Spearman\(MACs, latency\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
