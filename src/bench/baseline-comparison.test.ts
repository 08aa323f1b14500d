import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareToBaseline } from './baseline-comparison.js';

const baseline = { tests: [0.930, 0.932, 0.934] };
const paired = (speedup: number) => ({ 'ort-cpu': { speedup, interleaved: true } });

describe('compareToBaseline', () => {
  it('more accurate, not slower: +0.5 points or more, every seed above every baseline seed, latency at most the baseline\'s', () => {
    const c = compareToBaseline({ tests: [0.937, 0.939, 0.941] }, baseline, paired(1.0));
    assert.ok(Math.abs(c.accuracy_delta! - 0.007) < 1e-12);
    assert.ok(Math.abs(c.accuracy_pooled_std! - 0.002) < 1e-12);
    assert.equal(c.above_every_baseline_seed, true);
    assert.deepEqual(c.verdict, { 'ort-cpu': 'more accurate, not slower' });
  });

  it('a gain within the seeds\' spread, a gain under 0.5 points, or a slower model is not more accurate', () => {
    // mean +0.6 points but one seed at the baseline's best
    assert.equal(compareToBaseline({ tests: [0.934, 0.940, 0.944] }, baseline, paired(1.1)).verdict['ort-cpu'], 'neither');
    // every seed above, but +0.4 points
    assert.equal(compareToBaseline({ tests: [0.935, 0.936, 0.937] }, baseline, paired(1.1)).verdict['ort-cpu'], 'neither');
    // more accurate but 1% slower
    assert.equal(compareToBaseline({ tests: [0.940, 0.941, 0.942] }, baseline, paired(0.99)).verdict['ort-cpu'], 'neither');
  });

  it('as accurate, faster: 1.3x faster and no more than the pooled std below', () => {
    assert.deepEqual(compareToBaseline({ tests: [0.929, 0.931, 0.933] }, baseline, paired(1.3)).verdict, { 'ort-cpu': 'as accurate, faster' });
    assert.equal(compareToBaseline({ tests: [0.929, 0.931, 0.933] }, baseline, paired(1.29)).verdict['ort-cpu'], 'neither');
    assert.equal(compareToBaseline({ tests: [0.920, 0.922, 0.924] }, baseline, paired(2)).verdict['ort-cpu'], 'neither');
  });

  it('judges each device on its own latency, and needs two seeds of each', () => {
    const c = compareToBaseline({ tests: [0.929, 0.931, 0.933] }, baseline, { 'ort-cpu': { speedup: 1.4, interleaved: true }, browser: { speedup: 1.1, interleaved: false } });
    assert.deepEqual(c.verdict, { 'ort-cpu': 'as accurate, faster', browser: 'neither' });
    const one = compareToBaseline({ tests: [0.95] }, baseline, paired(2));
    assert.deepEqual([one.accuracy_pooled_std, one.verdict['ort-cpu']], [null, 'too few seeds']);
    assert.ok(Math.abs(one.accuracy_delta! - 0.018) < 1e-12);
    assert.deepEqual(compareToBaseline({ tests: [] }, baseline, paired(2)).accuracy_delta, null);
  });
});
