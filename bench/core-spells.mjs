// Whether the host's slow spells are per core: one process times bench-fmnist on onnxruntime (one
// thread) for SECONDS, its main thread pinned in turn to each core it may use (util-linux taskset)
// for 40 ms blocks, and prints per 1 s window each core's p10 over the fastest windows' p10; then how
// many windows had no core, one core or every core more than 12% slow. When spells are per core
// (a busy neighbour on that physical core), a measurement can avoid them by choosing its core
// (src/latency/core-choice.ts). Usage (after `npm run build`): node bench/core-spells.mjs [SECONDS=120] [--out FILE.json]
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args[outAt + 1] : undefined;
const seconds = Number(args.find((a, i) => !a.startsWith('--') && i !== outAt + 1) ?? 120);
if (!(seconds >= 2) || (outAt >= 0 && !out)) {
  console.error('usage: node bench/core-spells.mjs [SECONDS>=2] [--out FILE.json]');
  process.exit(2);
}
const { mainThreadCores } = await import('../dist/src/latency/core-choice.js');
const cores = mainThreadCores();
if (!cores || cores.length < 2) {
  console.error('core-spells: needs Linux and at least 2 cores for this process');
  process.exit(2);
}
const ort = await import('onnxruntime-node');
const { resolveModel } = await import('../dist/src/latency/model.js');
const model = resolveModel('bench-fmnist');
const session = await ort.InferenceSession.create(model.onnx, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', new Float32Array(784).map((_, j) => ((j * 2654435761) % 1000) / 1000), [1, 1, 28, 28]) };
const pin = (list) => execFileSync('taskset', ['-pc', list.join(','), String(process.pid)], { stdio: 'ignore' });

const calls = [];
const t0 = performance.now();
try {
  for (let block = 0; performance.now() - t0 < seconds * 1000; block++) {
    const core = cores[block % cores.length];
    pin([core]);
    const start = performance.now();
    while (performance.now() - start < 40) {
      const a = performance.now();
      await session.run(feeds);
      calls.push([a - t0, performance.now() - a, core]);
    }
  }
} finally {
  pin(cores);
}
const quantile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(p * (s.length - 1))];
};
const windows = [];
for (let w = 0; (w + 1) * 1000 <= calls.at(-1)[0]; w++) {
  const p10 = {};
  for (const c of cores) {
    const inside = calls.filter(([t, , core]) => core === c && t >= w * 1000 && t < (w + 1) * 1000).map(([, ms]) => ms);
    if (inside.length > 0) p10[c] = quantile(inside, 0.1);
  }
  windows.push({ start_s: w, p10_ms: p10 });
}
const fast = quantile(windows.flatMap((w) => Object.values(w.p10_ms)), 0.1);
const counts = { none: 0, some: 0, all: 0 };
for (const w of windows) {
  const slow = Object.values(w.p10_ms).filter((ms) => ms > fast * 1.12).length;
  w.slow_cores = slow;
  counts[slow === 0 ? 'none' : slow === Object.keys(w.p10_ms).length ? 'all' : 'some']++;
  console.log(`${String(w.start_s).padStart(4)} s  ` + Object.entries(w.p10_ms).map(([c, ms]) => `core ${c} ${(ms / fast).toFixed(2)}`).join('  '));
}
const summary = { cpu: readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown', cores, seconds, fast_p10_ms: fast, windows: windows.length, windows_no_core_slow: counts.none, windows_some_cores_slow: counts.some, windows_every_core_slow: counts.all };
console.log(`fast p10 ${fast.toFixed(4)} ms; of ${windows.length} windows of 1 s: no core slow ${counts.none}, some cores slow ${counts.some}, every core slow ${counts.all} (slow: p10 > 1.12x fast)`);
if (out) writeFileSync(out, JSON.stringify({ when: new Date().toISOString(), summary, windows }, null, 1) + '\n');
