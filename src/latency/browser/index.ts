/**
 * The browser latency device: a browser (a phone, or a local headless Chromium) becomes a
 * measurement device by opening a URL. See server.ts (HTTP + WebSocket server, composed of
 * auth.ts, http-routes.ts, device-connection.ts, control-channel.ts), job-queue.ts (scheduling,
 * no sockets), job-measurement.ts (run times -> statistics), messages.ts (wire protocol),
 * static/device.js (the page), device.ts (BrowserDevice).
 */
import type { DeviceOptions } from '../registry.js';
import { BrowserDevice, type BrowserDeviceOptions } from './device.js';
import { controlUrl } from './remote.js';
import type { DeviceServerOptions } from './server.js';

export { BrowserDevice } from './device.js';
export type { BrowserDeviceOptions, BrowserLatencyResult } from './device.js';
export { DeviceServer, JobFailedError, LimitError, NoDeviceError, tokenMatches } from './server.js';
export type { ConnectedDevice, DeviceSelector, DeviceServerOptions, JobRequest, JobResult, ServerStatus } from './server.js';
export { BrowserDeviceUrlError, RemoteDeviceServer, controlUrl, redactUrl } from './remote.js';
export { launchChromium, launchDevicePage, DEFAULT_CHROMIUM } from './launch.js';
export { PROTOCOL_VERSION, DeviceFrameError, deviceMessageSchema, parseDeviceFrame, parseDeviceMessage } from './messages.js';
export type { Backend, ControlLimits, DeviceMessage, PageDescription, ServerMessage } from './messages.js';
export { DEFAULT_TIMING_BOUNDS, type TimingBounds } from './plausibility.js';

function pick(o: DeviceOptions, key: string, env: string): string | undefined {
  const v = o[key] ?? process.env[env];
  return v === undefined || v === '' ? undefined : String(v);
}

function num(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new RangeError(`browser device: ${name} must be a number in [${min}, ${max}], got '${v}'`);
  return n;
}

/**
 * The registry's factory (src/latency/registry.ts). Reads these options, each also from an
 * environment variable since `mnas measure` only passes `threads`:
 *   host (MNAS_BROWSER_HOST, default 127.0.0.1), port (MNAS_BROWSER_PORT, default 0 = any),
 *   token (MNAS_BROWSER_TOKEN, default random), waitSeconds (MNAS_BROWSER_WAIT, default 120),
 *   deviceId / deviceName (MNAS_BROWSER_DEVICE / MNAS_BROWSER_NAME: selector),
 *   backend (MNAS_BROWSER_BACKEND: wasm | webgpu), launch (MNAS_BROWSER_LAUNCH: 1 for
 *   /usr/bin/chromium headless, or a Chromium path),
 *   url (MNAS_BROWSER_URL: the control URL a running `mnas devices serve` printed,
 *   http://host:port/control?token=<control secret>; jobs go there and host/port/token/launch are
 *   ignored). A malformed URL throws BrowserDeviceUrlError here; an unreachable server or a refused
 *   secret rejects the first describe()/measure() with one too.
 */
export function createBrowserDevice(o: DeviceOptions = {}): BrowserDevice {
  const serverOptions: DeviceServerOptions = {};
  const host = pick(o, 'host', 'MNAS_BROWSER_HOST');
  if (host) serverOptions.host = host;
  const port = num('port', pick(o, 'port', 'MNAS_BROWSER_PORT'), 0, 65535);
  if (port !== undefined) serverOptions.port = port;
  const token = pick(o, 'token', 'MNAS_BROWSER_TOKEN');
  if (token) serverOptions.token = token;
  const opts: BrowserDeviceOptions = { serverOptions };
  const url = pick(o, 'url', 'MNAS_BROWSER_URL');
  if (url !== undefined) {
    controlUrl(url); // fails early on a malformed URL (BrowserDeviceUrlError)
    opts.url = url;
  }
  const wait = num('waitSeconds', pick(o, 'waitSeconds', 'MNAS_BROWSER_WAIT'), 0.001, 86400);
  if (wait !== undefined) opts.waitSeconds = wait;
  const id = pick(o, 'deviceId', 'MNAS_BROWSER_DEVICE');
  const name = pick(o, 'deviceName', 'MNAS_BROWSER_NAME');
  if (id !== undefined || name !== undefined) opts.selector = { ...(id !== undefined ? { id } : {}), ...(name !== undefined ? { name } : {}) };
  const backend = pick(o, 'backend', 'MNAS_BROWSER_BACKEND');
  if (backend !== undefined) {
    if (backend !== 'wasm' && backend !== 'webgpu') throw new RangeError(`browser device: backend must be wasm or webgpu, got '${backend}'`);
    opts.backend = backend;
  }
  const launch = pick(o, 'launch', 'MNAS_BROWSER_LAUNCH') ?? pick(o, 'executablePath', 'MNAS_BROWSER_EXECUTABLE');
  if (url === undefined && launch !== undefined && launch !== '0' && launch !== 'false') opts.launch = launch === '1' || launch === 'true' ? true : launch;
  if (o.threads !== undefined) opts.threads = Number(o.threads);
  return new BrowserDevice(opts);
}
