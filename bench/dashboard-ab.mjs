// Opens the same run page from two checkouts of mnas, alternating, and compares how fast it
// opens (as the page measures it: navigation start to ready). For before/after comparisons of
// dashboard work; the figures of one version come from `mnas bench dashboard`.
//
//   node bench/dashboard-ab.mjs BEFORE_CHECKOUT AFTER_CHECKOUT RUN_DIR [ROUNDS]
//
// Each checkout must be built (dist/). One dashboard process per side serves the run's folder;
// each open is a fresh browser context, closed before the next; the first pair is not counted.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
// the bench's own Chromium and way of opening and timing the page (this checkout's build)
import { openTimed } from '../dist/src/bench/dashboard-open.js';
import { launchChromium } from '../dist/src/latency/browser/launch.js';

const [before, after, runDir, roundsArg] = process.argv.slice(2);
if (!before || !after || !runDir) {
  console.error('usage: node bench/dashboard-ab.mjs BEFORE_CHECKOUT AFTER_CHECKOUT RUN_DIR [ROUNDS]');
  process.exit(2);
}
const rounds = Number(roundsArg ?? 20);
const servers = {};
for (const [side, checkout] of Object.entries({ before, after })) {
  const child = spawn(process.execPath, [path.join(checkout, 'dist/src/cli/main.js'), 'dashboard', path.dirname(path.resolve(runDir)), '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const { url } = JSON.parse(await new Promise((resolve) => createInterface({ input: child.stdout }).once('line', resolve)));
  const u = new URL(url);
  servers[side] = { child, url: `${u.origin}/runs/${encodeURIComponent(path.basename(runDir))}?token=${u.searchParams.get('token')}` };
}
await new Promise((resolve) => setTimeout(resolve, 5000)); // both servers done reading ahead
const { browser } = await launchChromium();
const ms = { before: [], after: [] };
try {
  for (let round = 0; round <= rounds; round++) {
    for (const side of round % 2 ? ['after', 'before'] : ['before', 'after']) {
      const { page, pageMs } = await openTimed(browser, servers[side].url);
      if (round > 0) ms[side].push(pageMs);
      await page.context().close();
    }
  }
} finally {
  await browser.close();
  for (const s of Object.values(servers)) s.child.kill();
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(JSON.stringify(ms));
console.log(`median of ${rounds} opens each: before ${median(ms.before)} ms, after ${median(ms.after)} ms, after/before ${(median(ms.after) / median(ms.before)).toFixed(3)}`);
