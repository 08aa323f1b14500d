import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeSyntheticRun } from '../runs/testing.js';
import { tempDir } from '../util/testing.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

test('mnas dashboard --json: serves the runs on loopback with a token until SIGINT', { timeout: 60_000 }, async () => {
  const root = tempDir('mnas-dashboard-cli-');
  try {
    await makeSyntheticRun(path.join(root, 'one'), 5, 1);
    const child = spawn(process.execPath, [MAIN, 'dashboard', root, '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (!out.includes('\n') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    const listening = JSON.parse(out.split('\n')[0]!) as { event: string; url: string; host: string; port: number; token: string; runs: number };
    assert.equal(listening.event, 'listening', err);
    assert.equal(listening.host, '127.0.0.1');
    assert.equal(listening.runs, 1);
    assert.match(listening.token, /^[A-Za-z0-9_-]{24}$/);
    assert.equal(listening.url, `http://127.0.0.1:${listening.port}/?token=${listening.token}`);
    assert.equal((await fetch(`http://127.0.0.1:${listening.port}/api/runs`)).status, 401);
    const runs = (await (await fetch(`http://127.0.0.1:${listening.port}/api/runs?token=${listening.token}`)).json()) as { runs: { id: string; trialsDone: number }[] };
    assert.deepEqual(runs.runs.map((r) => [r.id, r.trialsDone]), [['one', 5]]);
    child.kill('SIGINT');
    assert.equal(await exited, 0, err);
    assert.deepEqual(JSON.parse(out.trim().split('\n').at(-1)!), { event: 'closed' });
    assert.equal(err, '');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
