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
import { chromium } from 'playwright-core';

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
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const ms = { before: [], after: [] };
try {
  for (let round = 0; round <= rounds; round++) {
    for (const side of round % 2 ? ['after', 'before'] : ['before', 'after']) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const devtools = await context.newCDPSession(page);
      await page.goto(servers[side].url, { waitUntil: 'commit' });
      let ready = null;
      while (ready === null) {
        const { result } = await devtools.send('Runtime.evaluate', { expression: 'document.body?.dataset.ready ? [document.body.dataset.ready, Number(document.body.dataset.readyMs)] : null', returnByValue: true });
        ready = result.value ?? null;
        if (ready === null) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      if (ready[0] !== 'true') throw new Error(`${side}: the page did not open`);
      if (round > 0) ms[side].push(ready[1]);
      await context.close();
    }
  }
} finally {
  await browser.close();
  for (const s of Object.values(servers)) s.child.kill();
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(JSON.stringify(ms));
console.log(`median of ${rounds} opens each: before ${median(ms.before)} ms, after ${median(ms.after)} ms, after/before ${(median(ms.after) / median(ms.before)).toFixed(3)}`);
