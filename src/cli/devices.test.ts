import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { FakeDevice } from '../latency/browser/fakes.js';
import { repoRoot } from '../util/paths.js';
import { UsageError } from './errors.js';
import { registerDevices, serveDevices } from './devices.js';

test('devices serve --json: listening line with the URL, device events, clean stop', async () => {
  const lines: string[] = [];
  const ac = new AbortController();
  let url = '';
  const done = serveDevices(
    { host: '127.0.0.1', port: 0, queueTimeout: 5, json: true },
    { out: (t) => lines.push(...t.trimEnd().split('\n')), err: () => {}, signal: ac.signal, onListening: (u) => (url = u) },
  );
  while (!url) await new Promise((r) => setTimeout(r, 10));
  const listening = JSON.parse(lines[0] as string) as { event: string; url: string; port: number; token: string; urls: string[] };
  assert.equal(listening.event, 'listening');
  assert.equal(listening.url, url);
  assert.match(url, new RegExp(`^http://127\\.0\\.0\\.1:${listening.port}/\\?token=${listening.token}$`));
  assert.equal((await fetch(url)).status, 200);
  assert.equal((await fetch(url.replace(/token=.*/, 'token=wrong-token-0000'))).status, 403);
  const d = await FakeDevice.connect(`ws://127.0.0.1:${listening.port}/ws?token=${listening.token}`);
  await d.hello('cli-fake', 'bench-phone');
  await d.close();
  await new Promise((r) => setTimeout(r, 50));
  ac.abort();
  await done;
  const events = lines.map((l) => JSON.parse(l) as { event: string; device?: { id: string; name: string }; id?: string });
  assert.deepEqual(
    events.map((e) => e.event),
    ['listening', 'device-joined', 'device-left', 'closed'],
  );
  assert.equal(events[1]?.device?.id, 'cli-fake');
  assert.equal(events[1]?.device?.name, 'bench-phone');
  assert.equal(events[2]?.id, 'cli-fake');
});

test('devices serve: human output on stderr names the URL; bad options are usage errors', async () => {
  let err = '';
  const ac = new AbortController();
  const done = serveDevices({ host: '127.0.0.1', port: 0, queueTimeout: 5 }, { out: () => assert.fail('stdout'), err: (t) => (err += t), signal: ac.signal, onListening: () => ac.abort() });
  await done;
  assert.match(err, /open on the device:\n {2}http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{24}\n/);
  assert.match(err, /adb reverse/);
  await assert.rejects(serveDevices({ host: '127.0.0.1', port: 0, queueTimeout: 5, token: 'short' }), UsageError);
  const program = new Command('mnas').exitOverride();
  registerDevices(program);
  await assert.rejects(program.parseAsync(['devices', 'serve', '--port', '70000'], { from: 'user' }), (e: Error) => e instanceof UsageError && /--port must be an integer in \[0, 65535\]/.test(e.message));
});

test('mnas devices serve: a port in use exits 2; SIGTERM stops the server with exit 0', async () => {
  const main = path.join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
  const child = spawn(process.execPath, [main, 'devices', 'serve', '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 20_000;
  while (!out.includes('\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const { port } = JSON.parse(out.split('\n')[0] as string) as { port: number };
  // a second server on the same port
  const second = spawn(process.execPath, [main, 'devices', 'serve', '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let secondErr = '';
  second.stderr.on('data', (b: Buffer) => (secondErr += b.toString()));
  const secondCode = await new Promise<number | null>((resolve) => second.on('exit', (code) => resolve(code)));
  assert.equal(secondCode, 2);
  assert.match(secondErr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use`));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.match(out, /"event":"closed"/);
});
