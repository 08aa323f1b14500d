import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fakeFolder } from './fake-processes.js';
import { runLatencyStability } from './latency-stability.js';

const measured = (median_ms: number, p10_ms: number, latency_ms = p10_ms) => ({ latency_ms, quantile: 0.1, median_ms, p10_ms, p90_ms: median_ms * 1.1, cv: 0.01, runs: 40, converged: true, rel_half_width: 0.01, device: { id: 'ort-cpu', cpu: 'test cpu' } });

test('latency stability: one `mnas measure --json` per process; mean and CV of the latencies, and the CVs of the medians and of the p10s', () => {
  const folder = fakeFolder();
  try {
    const mnas = folder.fake('mnas', [measured(1, 0.9, 1), measured(1.1, 1, 1.1), measured(0.9, 0.8, 0.9)]);
    const seen: number[] = [];
    const r = runLatencyStability({ model: 'bench-fmnist', device: 'ort-cpu', processes: 3, threads: 2, mnasMain: mnas.script, onProcess: (j, i) => seen.push(i, j.median_ms) });
    assert.deepEqual(mnas.calls(), Array(3).fill(['measure', 'bench-fmnist', '--device', 'ort-cpu', '--threads', '2', '--json']));
    assert.deepEqual(seen, [1, 1, 2, 1.1, 3, 0.9]);
    assert.deepEqual(r.latencies_ms, [1, 1.1, 0.9]);
    assert.equal(r.quantile, 0.1);
    assert.ok(Math.abs(r.mean_latency_ms - 1) < 1e-12);
    // sample standard deviation 0.1 over the mean 1
    assert.ok(Math.abs(r.cv_of_latencies - 0.1) < 1e-12, String(r.cv_of_latencies));
    assert.deepEqual(r.medians_ms, [1, 1.1, 0.9]);
    assert.ok(Math.abs(r.cv_of_medians - 0.1) < 1e-12, String(r.cv_of_medians));
    assert.ok(Math.abs(r.cv_of_p10 - 0.1 / 0.9) < 1e-12, String(r.cv_of_p10));
    assert.equal(r.target_cv, 0.03);
    assert.equal(r.within_target, false);
    assert.equal(r.loadavg_1m.length, 2);
    assert.deepEqual(r.runs[0], { latency_ms: 1, median_ms: 1, p10_ms: 0.9, p90_ms: 1.1, runs: 40, converged: true, rel_half_width: 0.01 });
    assert.deepEqual(Object.keys(r), ['model', 'device', 'threads', 'processes', 'quantile', 'latencies_ms', 'mean_latency_ms', 'cv_of_latencies', 'medians_ms', 'cv_of_medians', 'cv_of_p10', 'target_cv', 'within_target', 'loadavg_1m', 'runs']);
  } finally {
    folder.remove();
  }
});

test('latency stability --against: each process measures against the reference; the CV of the ratios is reported beside the medians', () => {
  const folder = fakeFolder();
  try {
    const against = (median_ms: number, ratio: number) => ({ ...measured(median_ms, median_ms * 0.9), ratio, reference_ms: median_ms / ratio });
    const mnas = folder.fake('mnas', [against(1, 1.1), against(1.3, 1.1), against(0.9, 1.1)]);
    const r = runLatencyStability({ model: 'fmnist-default', against: 'bench-fmnist', device: 'ort-cpu', processes: 3, threads: 1, mnasMain: mnas.script });
    assert.deepEqual(mnas.calls()[0], ['measure', 'fmnist-default', '--device', 'ort-cpu', '--threads', '1', '--against', 'bench-fmnist', '--json']);
    assert.deepEqual(r.ratios, [1.1, 1.1, 1.1]);
    assert.equal(r.cv_of_ratios, 0);
    assert.equal(r.ratios_within_target, true);
    assert.equal(r.within_target, false, 'the latencies moved 0.9 -> 1.17 -> 0.81');
  } finally {
    folder.remove();
  }
});

test('latency stability refuses processes that report different quantiles', () => {
  const folder = fakeFolder();
  try {
    const mnas = folder.fake('mnas', [measured(1, 0.9), { ...measured(1, 0.9), quantile: 0.5 }]);
    assert.throws(() => runLatencyStability({ model: 'bench-fmnist', device: 'ort-cpu', processes: 2, threads: 1, mnasMain: mnas.script }), /process 2 reported its 0.5 quantile, process 1 its 0.1/);
  } finally {
    folder.remove();
  }
});

test('latency stability needs two processes', () => {
  assert.throws(() => runLatencyStability({ model: 'x', device: 'ort-cpu', processes: 1, threads: 1 }), /processes must be an integer >= 2/);
});
