// What slows the host's slow speed mode down: one process rotates 10 ms blocks of six kernels for
// SECONDS and keeps every call's time, with the kernel's steal and interrupt ticks (/proc/stat) and
// this process's run-queue delay (/proc/self/schedstat) per 0.5 s window:
//   ort              bench-fmnist on onnxruntime, one thread (what `measure` times)
//   engine           the same network on the libtorch engine, one thread
//   int-throughput   six independent integer chains: bound by the core's ALU ports
//   float-latency    one dependent floating-point chain: bound by the FP unit's latency
//   memory-latency   a pointer chase over 32 MiB: bound by memory latency
// Each window's p10 per kernel is divided by that kernel's fast p10 (the 10th percentile of its
// windows). Windows where ort is more than 12% slower than its fast speed are "slow"; the summary
// gives each kernel's median slowdown in slow and in other windows. A frequency change slows every
// kernel alike; a busy neighbour on the same physical core (another tenant on the SMT sibling)
// slows port-bound code much more than latency-bound code; steal or run delay would show in /proc.
// Usage (after `npm run build`): node bench/contention-trace.mjs [SECONDS=90] [--out FILE.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args[outAt + 1] : undefined;
const seconds = Number(args.find((a, i) => !a.startsWith('--') && i !== outAt + 1) ?? 90);
if (!(seconds >= 5) || (outAt >= 0 && !out)) {
  console.error('usage: node bench/contention-trace.mjs [SECONDS>=5] [--out FILE.json]');
  process.exit(2);
}

const ort = await import('onnxruntime-node');
const { resolveModel } = await import('../dist/src/latency/model.js');
const { buildLayers } = await import('../dist/src/model/builder.js');
const torch = await import('../dist/src/torch/index.js');

const model = resolveModel('bench-fmnist');
const session = await ort.InferenceSession.create(model.onnx, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
const pixels = new Float32Array(28 * 28).map((_, j) => ((j * 2654435761) % 1000) / 1000);
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', pixels, [1, 1, 28, 28]) };
const first = await session.run(feeds);
const fetches = Object.fromEntries(session.outputNames.map((n) => [n, new ort.Tensor('float32', new Float32Array(first[n].size), [...first[n].dims])]));
torch.setNumThreads(1);
const net = buildLayers(model.source.plan, model.source.layers, { seed: 0 });
net.eval();
const input = torch.rand([...model.inputShape]).keep();

let sink = 0;
const values = new Float64Array(4096).map((_, i) => i * 1e-3);
const chase = new Int32Array(8 << 20).map((_, i) => ((i * 2654435761) >>> 9) & ((8 << 20) - 1));
let at = 0;
const kernels = {
  ort: async () => {
    await session.run(feeds, fetches);
  },
  engine: async () => torch.noGrad(() => torch.tidy(() => void net.forward(input))),
  'int-throughput': async () => {
    let a = 1, b = 2, c = 3, d = 4, e = 5, f = 6;
    for (let i = 0; i < 20000; i++) {
      a = (a + i) | 0; b = (b ^ i) | 0; c = (c + (i << 1)) | 0; d = (d ^ (i >> 1)) | 0; e = (e + 7) | 0; f = (f - i) | 0;
    }
    sink += a + b + c + d + e + f;
  },
  'float-latency': async () => {
    let acc = 0;
    for (let r = 0; r < 12; r++) for (let i = 0; i < values.length; i++) acc = acc * 0.999 + values[i] * values[(i * 7) & 4095];
    sink += acc;
  },
  'memory-latency': async () => {
    for (let i = 0; i < 6000; i++) at = chase[at];
    sink += at;
  },
};
const names = Object.keys(kernels);
const procStat = () => {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { irq: f[5] + f[6], steal: f[7] };
};
const runDelayNs = () => Number(readFileSync('/proc/self/schedstat', 'utf8').split(' ')[1]);

for (const name of names) {
  const w = performance.now();
  while (performance.now() - w < 200) await kernels[name]();
}
const calls = names.map(() => []);
const windows = [];
const t0 = performance.now();
let windowStart = t0, stat = procStat(), delay = runDelayNs();
for (let block = 0; performance.now() - t0 < seconds * 1000; block++) {
  const k = block % names.length;
  const run = kernels[names[k]];
  const blockStart = performance.now();
  while (performance.now() - blockStart < 10) {
    const a = performance.now();
    await run();
    calls[k].push([a - t0, performance.now() - a]);
  }
  if (performance.now() - windowStart >= 500) {
    const s = procStat(), d = runDelayNs();
    windows.push({ start_s: (windowStart - t0) / 1000, steal_ticks: s.steal - stat.steal, irq_ticks: s.irq - stat.irq, run_delay_ms: (d - delay) / 1e6 });
    stat = s; delay = d; windowStart = performance.now();
  }
}
torch.noGrad(() => input.dispose());
net.dispose();

const quantile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(p * (s.length - 1))];
};
for (const w of windows) {
  w.p10_ms = {};
  for (const [k, name] of names.entries()) {
    const inside = calls[k].filter(([t]) => t >= w.start_s * 1000 && t < w.start_s * 1000 + 500).map(([, ms]) => ms);
    if (inside.length > 0) w.p10_ms[name] = quantile(inside, 0.1);
  }
}
const fast = Object.fromEntries(names.map((n) => [n, quantile(windows.map((w) => w.p10_ms[n]).filter(Number.isFinite), 0.1)]));
for (const w of windows) w.slowdown = Object.fromEntries(Object.entries(w.p10_ms).map(([n, ms]) => [n, ms / fast[n]]));
const slow = windows.filter((w) => w.slowdown.ort > 1.12);
const other = windows.filter((w) => !(w.slowdown.ort > 1.12));
const medianOf = (ws, n) => {
  const xs = ws.map((w) => w.slowdown[n]).filter(Number.isFinite);
  return xs.length > 0 ? quantile(xs, 0.5) : null;
};
for (let i = 0; i < windows.length; i += 2) {
  const w = windows[i];
  console.log(`${w.start_s.toFixed(1).padStart(6)} s  ` + names.map((n) => `${n} ${(w.slowdown[n] ?? NaN).toFixed(2)}`).join('  ') + `  steal ${w.steal_ticks} run delay ${w.run_delay_ms.toFixed(1)} ms`);
}
const summary = {
  cpu: cpus()[0]?.model ?? 'unknown',
  seconds,
  windows: windows.length,
  slow_windows: slow.length,
  fast_p10_ms: fast,
  median_slowdown_in_slow_windows: Object.fromEntries(names.map((n) => [n, medianOf(slow, n)])),
  median_slowdown_in_other_windows: Object.fromEntries(names.map((n) => [n, medianOf(other, n)])),
  steal_ticks: windows.reduce((a, w) => a + w.steal_ticks, 0),
  run_delay_ms: windows.reduce((a, w) => a + w.run_delay_ms, 0),
};
console.log(`${slow.length} of ${windows.length} windows slow (ort > 1.12x its fast p10); median slowdown in them / in the others:`);
for (const n of names) console.log(`  ${n.padEnd(15)} ${summary.median_slowdown_in_slow_windows[n]?.toFixed(3) ?? '-'} / ${summary.median_slowdown_in_other_windows[n]?.toFixed(3) ?? '-'}`);
console.log(`steal ticks ${summary.steal_ticks}, run-queue delay ${summary.run_delay_ms.toFixed(0)} ms in ${seconds} s (sink ${sink !== 0})`);
if (out) writeFileSync(out, JSON.stringify({ when: new Date().toISOString(), summary, windows }, null, 1) + '\n');
