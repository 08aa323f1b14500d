import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { FakeDevice } from '../latency/browser/fakes.js';
import { repoRoot } from '../util/paths.js';
import { UsageError } from './errors.js';
import { DeviceServer } from '../latency/browser/server.js';
import { RemoteDeviceServer } from '../latency/browser/remote.js';
import { devicesStatus, registerDevices, serveDevices } from './devices.js';

test('devices serve --json: listening line with the URL, device events, clean stop', async () => {
  const lines: string[] = [];
  const ac = new AbortController();
  let url = '';
  const done = serveDevices(
    { host: '127.0.0.1', port: 0, queueTimeout: 5, json: true },
    { out: (t) => lines.push(...t.trimEnd().split('\n')), err: () => {}, signal: ac.signal, onListening: (u) => (url = u) },
  );
  while (!url) await new Promise((r) => setTimeout(r, 10));
  const listening = JSON.parse(lines[0] as string) as { event: string; url: string; port: number; token: string; urls: string[]; controlUrl: string; controlToken: string };
  assert.equal(listening.event, 'listening');
  assert.equal(listening.url, url);
  assert.match(url, new RegExp(`^http://127\\.0\\.0\\.1:${listening.port}/\\?token=${listening.token}$`));
  assert.notEqual(listening.controlToken, listening.token);
  assert.equal(listening.controlUrl, `http://127.0.0.1:${listening.port}/control?token=${listening.controlToken}`);
  assert.equal((await fetch(url)).status, 200);
  assert.equal((await fetch(url.replace(/token=.*/, 'token=wrong-token-0000'))).status, 403);
  const d = await FakeDevice.connect(`ws://127.0.0.1:${listening.port}/ws?token=${listening.token}`);
  await d.hello('cli-fake', 'bench-phone');
  const remote = await RemoteDeviceServer.connect(listening.controlUrl);
  assert.equal((await remote.status()).devices[0]?.id, 'cli-fake');
  await remote.close();
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
  assert.match(err, /controllers .*keep this secret.*\n {2}MNAS_BROWSER_URL='http:\/\/127\.0\.0\.1:\d+\/control\?token=[A-Za-z0-9_-]{32}'\n/);
  await assert.rejects(serveDevices({ host: '127.0.0.1', port: 0, queueTimeout: 5, token: 'short' }), UsageError);
  await assert.rejects(
    serveDevices({ host: '127.0.0.1', port: 0, queueTimeout: 5, token: 'same-secret-0123456789', controlToken: 'same-secret-0123456789' }),
    (e: Error) => e instanceof UsageError && /--control-token must differ from --token/.test(e.message),
  );
  await assert.rejects(serveDevices({ host: '127.0.0.1', port: 0, queueTimeout: 5, controlToken: 'bad secret!' }), /--control-token must be 16-128/);
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

test('devices serve: cap options reach the server', async () => {
  const lines: string[] = [];
  const ac = new AbortController();
  await serveDevices(
    { host: '127.0.0.1', port: 0, queueTimeout: 5, json: true, maxDevices: 3, maxControllers: 2, maxModelMb: 16, maxQueuedJobs: 5, maxQueuedMb: 32 },
    { out: (t) => lines.push(...t.trimEnd().split('\n')), err: () => {}, signal: ac.signal, onListening: () => ac.abort() },
  );
  const listening = JSON.parse(lines[0] as string) as { limits: Record<string, number> };
  assert.deepEqual(listening.limits, { maxModelBytes: 16 * 1024 * 1024, maxQueuedJobs: 5, maxQueuedBytes: 32 * 1024 * 1024, maxDevices: 3, maxControllers: 2 });
});

test('devices status: lists devices and flags; a malformed or unreachable URL is a one-line usage error', async () => {
  const s = await DeviceServer.start({ queueTimeoutMs: 2000 });
  const controlUrl = s.controlUrl;
  try {
    const d = await FakeDevice.connect(`ws://127.0.0.1:${s.port}/ws?token=${s.token}`);
    await d.hello('status-fake', 'lab');
    const text = await devicesStatus(s.controlUrl);
    assert.match(text, /^1 device\(s\), 0 job\(s\) held \(0 waiting, 0\.0 MiB\), 0 controller\(s\)\n {2}status-fake \(lab\) idle, 0 job\(s\) done, 127\.0\.0\.1: FakeDevice\/1\.0\n$/);
    const json = JSON.parse(await devicesStatus(s.controlUrl, { json: true })) as { devices: unknown[] };
    assert.equal(json.devices.length, 1);
    await assert.rejects(devicesStatus(s.url), (e: Error) => e instanceof UsageError && /devices' join URL/.test(e.message) && !e.message.includes(s.token));
    await assert.rejects(devicesStatus(s.controlUrl.replace(/token=.*/, 'token=wrong-secret-0000000')), (e: Error) => e instanceof UsageError && /refused \(HTTP 403: forbidden: \/status needs the control secret/.test(e.message));
    await d.close();
  } finally {
    await s.close();
  }
  await assert.rejects(devicesStatus('ftp://x/control?token=abcdefghijklmnop'), (e: Error) => e instanceof UsageError && /scheme ftp:/.test(e.message));
  await assert.rejects(devicesStatus(controlUrl), (e: Error) => e instanceof UsageError && /is unreachable \(ECONNREFUSED\)/.test(e.message));
});

test('mnas devices status with a malformed or unreachable URL: one line on stderr, exit 2', async () => {
  const main = path.join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
  const run = (url: string) =>
    new Promise<{ code: number | null; err: string }>((resolve) => {
      const child = spawn(process.execPath, [main, 'devices', 'status', url], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      child.on('exit', (code) => resolve({ code, err }));
    });
  const bad = await run('not a url');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /^mnas: devices status: browser device URL 'not a url' is not a URL \(expected the control URL[^\n]*\n$/);
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const gone = await run(`http://127.0.0.1:${port}/control?token=abcdefghijklmnop`);
  assert.equal(gone.code, 2);
  assert.equal(gone.err, `mnas: devices status: browser device server at 127.0.0.1:${port} is unreachable (ECONNREFUSED)\n`);
});
