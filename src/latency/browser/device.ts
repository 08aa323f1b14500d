/**
 * `BrowserDevice`: the LatencyDevice whose measurements run in a browser (a phone opening the join
 * URL, or a local headless Chromium). measure() queues a job on a DeviceServer and resolves with the
 * statistics computed from the page's raw run times.
 *
 * Two ways to get a server: pass `server` (shared; close() leaves it running), or let the device
 * start its own in-process one on first use (close() stops it). With its own server and no matching
 * device connected, it prints the join URL through `announce` (stderr by default) and waits up to
 * `waitSeconds` for a device to join; `launch` opens the page in a local headless Chromium instead.
 * Or pass `url` (the control URL a running `mnas devices serve` printed, with the control secret):
 * jobs then go to that server over its /control socket (./remote.ts), and its devices stay
 * connected between runs.
 */
import type { DeviceDescription, LatencyDevice, LatencyModel, LatencyResult, MeasureProtocol, RelativeLatencyResult } from '../device.js';
import type { ProtocolOutcome } from '../protocol.js';
import { launchDevicePage, DEFAULT_CHROMIUM, type LaunchedBrowser } from './launch.js';
import type { Backend } from './messages.js';
import { RemoteDeviceServer } from './remote.js';
import type { JobResult } from './farm.js';
import { DeviceServer, type DeviceSelector, type DeviceServerOptions } from './server.js';

export interface BrowserDeviceOptions {
  /** A running server to use (not closed by close()); otherwise one is started on first use. */
  server?: DeviceServer;
  /** The control URL of a running `mnas devices serve` (http://host:port/control?token=<control secret>) to send jobs to. */
  url?: string;
  /** Options for the server this device starts (host, port, token...). */
  serverOptions?: DeviceServerOptions;
  /** Which connected device to use (default: the first idle one). */
  selector?: DeviceSelector;
  /** onnxruntime-web backend (default wasm; webgpu only on devices that report it). */
  backend?: Backend;
  /** How long to wait for a matching device to join / become free (default 120 s). */
  waitSeconds?: number;
  /** Open the page in a local headless Chromium (true: /usr/bin/chromium, or a path). */
  launch?: boolean | string;
  /** WASM threads for a launched page (the URL's threads=; default 1, as the paper: one core). */
  threads?: number;
  /** Where the join URL is announced (default: stderr). */
  announce?: (line: string) => void;
}

/** A LatencyResult plus what the browser device knows about the run. */
export interface BrowserLatencyResult extends LatencyResult, Pick<ProtocolOutcome, 'stop' | 'rel_half_width'> {
  browser: { backend: Backend; innerRepeats: number; loadMs: number; attempts: number };
}

export class BrowserDevice implements LatencyDevice {
  private serverP?: Promise<DeviceServer | RemoteDeviceServer>;
  private readonly ownsServer: boolean;
  private launched?: Promise<LaunchedBrowser>;
  private announced = false;
  private closed = false;

  constructor(private readonly o: BrowserDeviceOptions = {}) {
    this.ownsServer = !o.server;
    if (o.server && o.url) throw new RangeError('browser: pass either server or url, not both');
    if (o.server) this.serverP = Promise.resolve(o.server);
    if (o.threads !== undefined && !(Number.isInteger(o.threads) && o.threads >= 1)) throw new RangeError(`browser: threads must be a positive integer, got ${o.threads}`);
  }

  /** The server jobs go through (started on first call when this device owns it). */
  async server(): Promise<DeviceServer | RemoteDeviceServer> {
    if (this.closed) throw new Error('browser device is closed');
    this.serverP ??= this.o.url ? RemoteDeviceServer.connect(this.o.url) : DeviceServer.start({ queueTimeoutMs: this.waitMs, ...this.o.serverOptions });
    const s = await this.serverP;
    if (s instanceof DeviceServer) await this.ensureDevice(s);
    return s;
  }

  private get waitMs(): number {
    return (this.o.waitSeconds ?? 120) * 1000;
  }

  private joinUrl(s: DeviceServer, base = s.url): string {
    const t = this.o.threads ?? 1;
    return t > 1 ? `${base}&threads=${t}` : base;
  }

  /** With no matching device connected: launch a local one, or tell the user where to point a phone. */
  private async ensureDevice(s: DeviceServer): Promise<void> {
    if (s.devices().some((d) => (this.o.selector?.id === undefined || d.id === this.o.selector.id) && (this.o.selector?.name === undefined || d.name === this.o.selector.name))) return;
    if (this.o.launch) {
      const exe = typeof this.o.launch === 'string' ? this.o.launch : DEFAULT_CHROMIUM;
      this.launched ??= launchDevicePage(this.joinUrl(s), exe);
      await this.launched;
      return;
    }
    if (!this.announced && this.ownsServer) {
      this.announced = true;
      const say = this.o.announce ?? ((line: string) => void process.stderr.write(`${line}\n`));
      const urls = s.urls().map((u) => this.joinUrl(s, u));
      say(`browser device: open ${urls.length > 1 ? 'one of these URLs' : 'this URL'} on the device to measure on (waiting up to ${Math.round(this.waitMs / 1000)} s):`);
      for (const u of urls) say(`  ${u}`);
      if (s.host === '127.0.0.1' || s.host === 'localhost') {
        say('  (only this machine can open it: for a phone set MNAS_BROWSER_HOST=0.0.0.0, or keep `mnas devices serve --host 0.0.0.0` running and set MNAS_BROWSER_URL to its URL)');
      }
    }
  }

  async describe(): Promise<DeviceDescription> {
    const s = await this.server();
    const d = await s.waitForDevice(this.o.selector ?? {}, this.waitMs);
    return d.description;
  }

  async measure(model: LatencyModel, protocol: Partial<MeasureProtocol> = {}, signal?: AbortSignal): Promise<BrowserLatencyResult> {
    return (await this.run(model, undefined, protocol, signal)).result;
  }

  /** The model timed in turn with `reference` on the page (../interleaved.ts): its ratio to it holds while the device changes speed. */
  async measureAgainst(model: LatencyModel, reference: LatencyModel, protocol: Partial<MeasureProtocol> = {}, signal?: AbortSignal): Promise<BrowserLatencyResult & RelativeLatencyResult> {
    const { result, job } = await this.run(model, reference, protocol, signal);
    const pair = job.pair;
    if (!pair) throw new Error(`browser device ${job.device.id} answered an interleaved job without the ratio`);
    return {
      ...result,
      ratio: pair.ratio,
      ratio_rel_half_width: pair.ratio_rel_half_width,
      reference_ms: pair.reference.latency_ms,
      pairs: pair.pairs,
      runs_per_block: pair.runs_per_block,
    };
  }

  /** One job on the server's devices: the device's statistics of the model, and the whole job result. */
  private async run(model: LatencyModel, reference: LatencyModel | undefined, protocol: Partial<MeasureProtocol>, signal?: AbortSignal): Promise<{ result: BrowserLatencyResult; job: JobResult }> {
    const s = await this.server();
    // wait for the device first, so the queue timeout below only covers a busy device
    await s.waitForDevice(this.o.selector ?? {}, this.waitMs, signal);
    const job = await s.submit({ model, ...(reference ? { reference } : {}), protocol, backend: this.o.backend ?? 'wasm', ...(this.o.selector ? { selector: this.o.selector } : {}) }, signal);
    return { result: { ...job.stats, device: job.device, browser: { backend: job.backend, innerRepeats: job.innerRepeats, loadMs: job.loadMs, attempts: job.attempts } }, job };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.launched) await (await this.launched.catch(() => undefined))?.close();
    if (this.ownsServer && this.serverP) await (await this.serverP.catch(() => undefined))?.close();
  }
}
