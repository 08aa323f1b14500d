// Traces the host's speed modes from inside measuring processes: REPS repetitions of PROCS separate
// processes, each timing bench-fmnist on ort-cpu (one thread, 3 sessions rotated every 10 ms block)
// for SECONDS and keeping every run's time. Prints each process's p10 per 0.5 s, then per repetition
// the CV over its processes of several statistics of their runs, for the first 0.25/1/2/4 s.
// Usage (after `npm run build`): node bench/speed-trace.mjs [REPS=3] [PROCS=5] [SECONDS=4]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const CHILD = process.env.MNAS_SPEED_TRACE_CHILD;
if (CHILD) {
  const ort = await import('onnxruntime-node');
  const [file, seconds, out] = JSON.parse(CHILD);
  const bytes = readFileSync(file);
  const sessions = [];
  for (let i = 0; i < 3; i++) {
    const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', enableCpuMemArena: true, enableMemPattern: true });
    const data = new Float32Array(28 * 28);
    for (let j = 0; j < data.length; j++) data[j] = ((j * 2654435761) % 1000) / 1000;
    const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', data, [1, 1, 28, 28]) };
    const o = await s.run(feeds);
    const fetches = {};
    for (const n of s.outputNames) fetches[n] = new ort.Tensor('float32', new Float32Array(o[n].size), [...o[n].dims]);
    sessions.push(() => s.run(feeds, fetches));
  }
  const w0 = performance.now();
  for (let k = 0; performance.now() - w0 < 100; k++) await sessions[k % 3]();
  const t0 = performance.now();
  const rows = [];
  for (let b = 0; performance.now() - t0 < seconds * 1000; b++) {
    const run = sessions[b % 3];
    const bs = performance.now();
    while (performance.now() - bs < 10) {
      const a = performance.now();
      await run();
      rows.push([a - t0, performance.now() - a, b]);
    }
  }
  writeFileSync(out, JSON.stringify(rows));
  process.exit(0);
}

const [reps, procs, seconds] = [Number(process.argv[2] ?? 3), Number(process.argv[3] ?? 5), Number(process.argv[4] ?? 4)];
const dir = mkdtempSync(path.join(tmpdir(), 'mnas-speed-trace-'));
const q = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  const i = p * (s.length - 1);
  return s[Math.floor(i)] + (s[Math.ceil(i)] - s[Math.floor(i)]) * (i - Math.floor(i));
};
const cv = (xs) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) / m;
};
try {
  const onnx = path.join(dir, 'bench-fmnist.onnx');
  execFileSync(process.execPath, ['dist/src/cli/main.js', 'export', 'bench-fmnist', '--out', onnx], { stdio: 'ignore' });
  for (let r = 1; r <= reps; r++) {
    const traces = [];
    for (let p = 1; p <= procs; p++) {
      const out = path.join(dir, `r${r}p${p}.json`);
      const c = spawnSync(process.execPath, [process.argv[1]], { env: { ...process.env, MNAS_SPEED_TRACE_CHILD: JSON.stringify([onnx, seconds, out]) }, stdio: 'inherit' });
      if (c.status !== 0) throw new Error(`trace process exited with ${c.status}`);
      const rows = JSON.parse(readFileSync(out, 'utf8'));
      traces.push(rows);
      const segments = [];
      for (let a = 0; a * 500 < seconds * 1000; a++) segments.push(q(rows.filter((x) => x[0] >= a * 500 && x[0] < (a + 1) * 500).map((x) => x[1]), 0.1).toFixed(3));
      console.log(`repetition ${r} process ${p}: p10 per 0.5 s (ms) ${segments.join(' ')}`);
    }
    for (const window of [0.25, 1, 2, 4].filter((w) => w <= seconds)) {
      const stats = traces.map((rows) => {
        const runs = rows.filter((x) => x[0] < window * 1000);
        const times = runs.map((x) => x[1]);
        const blocks = new Map();
        for (const [, ms, b] of runs) blocks.set(b, [...(blocks.get(b) ?? []), ms]);
        return { median: q(times, 0.5), p10: q(times, 0.1), p25: q(times, 0.25), blocks_p10: q([...blocks.values()].map((v) => q(v, 0.1)), 0.5), min: Math.min(...times) };
      });
      const line = Object.keys(stats[0]).map((k) => `${k} ${(100 * cv(stats.map((s) => s[k]))).toFixed(2)}%`).join(', ');
      console.log(`repetition ${r}, first ${window} s of each process: CV over ${procs} processes: ${line}`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
