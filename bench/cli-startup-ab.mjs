// How long `mnas` takes to start and answer, from two checkouts of mnas, alternating: for
// before/after comparisons of start-up work. Prints the median wall time per command and side.
//
//   node bench/cli-startup-ab.mjs BEFORE_CHECKOUT AFTER_CHECKOUT [ROUNDS]
//
// Each checkout must be built (dist/). Every run is a fresh Node process; output is discarded.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { median } from '../dist/src/util/stats.js';

const [before, after, roundsArg] = process.argv.slice(2);
if (!before || !after) {
  console.error('usage: node bench/cli-startup-ab.mjs BEFORE_CHECKOUT AFTER_CHECKOUT [ROUNDS]');
  process.exit(2);
}
const rounds = Number(roundsArg ?? 9);
const commands = [['--help'], ['--version'], ['inspect', 'bench-fmnist'], ['search', '--help']];
const sides = { before, after };
const rows = [];
for (const args of commands) {
  const times = { before: [], after: [] };
  for (let i = 0; i < rounds; i++) {
    for (const [side, checkout] of Object.entries(sides)) {
      const start = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [path.join(checkout, 'dist/src/cli/main.js'), ...args], { stdio: 'ignore' });
      if (r.status !== 0) throw new Error(`${side}: mnas ${args.join(' ')} exited ${r.status}`);
      times[side].push(Number(process.hrtime.bigint() - start) / 1e9);
    }
  }
  const b = median(times.before);
  const a = median(times.after);
  rows.push({ command: `mnas ${args.join(' ')}`, before_s: b, after_s: a, ratio: a / b });
  console.log(`${`mnas ${args.join(' ')}`.padEnd(26)} before ${b.toFixed(3)} s  after ${a.toFixed(3)} s  ratio ${(a / b).toFixed(2)}  (median of ${rounds})`);
}
console.log(JSON.stringify({ rounds, rows }));
