#!/usr/bin/env node
// Where the convolutions of a proxy trial spend their time: runs bench/trial-phases.mjs (same
// space, count and seed) with oneDNN's verbose log on and sums the logged execution times by
// primitive, implementation and propagation kind, next to the trials' training seconds, with the
// convolutions' multiply-adds per second (one core's AVX-512 peak is about 120 G here; a
// convolution far below it is waiting on memory).
//   node bench/onednn-time.mjs [SAMPLES=3] [SEED=0] [--json]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const json = args.includes('--json');
const [samples = '3', seed = '0'] = args.filter((a) => a !== '--json');
if (![samples, seed].every((a) => /^\d+$/.test(a)) || Number(samples) < 1) {
  console.error('usage: node bench/onednn-time.mjs [SAMPLES >= 1] [SEED] [--json]');
  process.exit(2);
}
const script = fileURLToPath(new URL('./trial-phases.mjs', import.meta.url));
const run = spawnSync(process.execPath, [script, 'fmnist', samples, seed], {
  env: { ...process.env, ONEDNN_VERBOSE: '1', DNNL_VERBOSE: '1' },
  encoding: 'utf8',
  maxBuffer: 1 << 30,
  stdio: ['ignore', 'pipe', 'inherit'],
});
if (run.status !== 0) process.exit(run.status ?? 1);
/** Multiply-adds of one convolution from oneDNN's problem descriptor, e.g. g96mb128_ic96oc96_ih28oh28kh5sh1dh0ph2_iw28ow28kw5sw1dw0pw2. */
function multiplyAdds(descriptor) {
  const field = (name) => Number(new RegExp(`${name}(\\d+)`).exec(descriptor)?.[1] ?? NaN);
  const groups = /^g(\d+)/.exec(descriptor)?.[1];
  const g = groups ? Number(groups) : 1;
  const macs = field('mb') * (field('ic') / g) * field('oc') * field('oh') * field('ow') * field('kh') * field('kw');
  return Number.isFinite(macs) ? macs : 0;
}
const lines = run.stdout.split('\n');
const phases = JSON.parse(lines.findLast((l) => l.startsWith('{')));
const byKind = new Map();
for (const line of lines) {
  const f = line.split(',');
  if (f[0] !== 'onednn_verbose' || f[1] !== 'exec') continue;
  const key = `${f[3]} ${f[4]} ${f[5]}`;
  const e = byKind.get(key) ?? { primitive: key, calls: 0, ms: 0, macs: 0 };
  e.calls++;
  e.ms += Number(f.at(-1));
  if (f[3] === 'convolution') e.macs += multiplyAdds(f.at(-2));
  byKind.set(key, e);
}
const rows = [...byKind.values()]
  .sort((a, b) => b.ms - a.ms)
  .map(({ macs, ...e }) => ({ ...e, ms: +e.ms.toFixed(1), ...(macs > 0 ? { gmac_per_s: +(macs / e.ms / 1e6).toFixed(1) } : {}) }));
const onednnSeconds = rows.reduce((s, r) => s + r.ms, 0) / 1000;
if (json) {
  console.log(JSON.stringify({ samples: Number(samples), seed: Number(seed), seconds: phases.seconds, train_s: phases.train_s, rest_s: phases.rest_s, onednn_s: +onednnSeconds.toFixed(2), rows }));
} else {
  console.log(`${samples} trials: ${phases.seconds} s, training ${phases.train_s} s, the rest ${phases.rest_s} s; oneDNN primitives ${onednnSeconds.toFixed(2)} s`);
  for (const r of rows) {
    const rate = r.gmac_per_s !== undefined ? `${r.gmac_per_s.toFixed(1).padStart(6)} GMAC/s` : ' '.repeat(13);
    console.log(`${(r.ms / 1000).toFixed(2).padStart(8)} s ${String(r.calls).padStart(7)} calls ${rate}  ${r.primitive}`);
  }
}
