/**
 * Device registry: `createDevice(kind, options)` for every latency device the CLI and the search
 * can use. Devices are imported lazily, so measuring on ort-cpu never loads libtorch and the
 * engine device never loads onnxruntime.
 *
 * The 'browser' entry passes every option to createBrowserDevice (src/latency/browser/index.ts),
 * which reads its own keys (backend, url, launch, ...). `registerDevice(kind, factory)` adds or
 * replaces an entry.
 */
import type { LatencyDevice } from './device.js';

/** The device kinds this build ships (registerDevice may add others, e.g. in tests). */
export const DEVICE_KINDS = ['ort-cpu', 'engine', 'browser'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export interface DeviceOptions {
  /** Inference threads (intra-op for ort-cpu, libtorch threads for engine, wasm threads for browser). Default 1. */
  threads?: number;
  /** Device-specific settings, passed through untouched. */
  [key: string]: unknown;
}

export type DeviceFactory = (options: DeviceOptions) => LatencyDevice | Promise<LatencyDevice>;

const threadsOf = (o: DeviceOptions): number | undefined => (o.threads === undefined ? undefined : Number(o.threads));

const shipped: Record<DeviceKind, DeviceFactory> = {
  /** onnxruntime-node on this CPU, batch 1, sequential, 1 intra-op thread by default */
  'ort-cpu': async (o) => {
    const { OrtCpuDevice } = await import('./ort-cpu.js');
    const t = threadsOf(o);
    return new OrtCpuDevice(t === undefined ? {} : { threads: t });
  },
  /** the project's libtorch engine in eval mode, batch 1, 1 thread by default */
  engine: async (o) => {
    const { EngineDevice } = await import('./engine.js');
    const t = threadsOf(o);
    return new EngineDevice(t === undefined ? {} : { threads: t });
  },
  /** onnxruntime-web in a browser: a phone, or a local headless Chromium (src/latency/browser) */
  browser: async (o) => {
    const { createBrowserDevice } = await import('./browser/index.js');
    return createBrowserDevice(o);
  },
};

const registry = new Map<string, DeviceFactory>(DEVICE_KINDS.map((kind) => [kind, shipped[kind]]));

/** Adds or replaces a device kind. */
export function registerDevice(kind: string, factory: DeviceFactory): void {
  registry.set(kind, factory);
}

export function deviceKinds(): string[] {
  return [...registry.keys()];
}

export class UnknownDeviceError extends Error {
  constructor(kind: string) {
    super(`unknown latency device '${kind}' (known: ${deviceKinds().join(', ')})`);
    this.name = 'UnknownDeviceError';
  }
}

export async function createDevice(kind: string, options: DeviceOptions = {}): Promise<LatencyDevice> {
  const factory = registry.get(kind);
  if (!factory) throw new UnknownDeviceError(kind);
  if (options.threads !== undefined && !(Number.isInteger(options.threads) && (options.threads as number) >= 1)) {
    throw new RangeError(`device '${kind}': threads must be a positive integer, got ${String(options.threads)}`);
  }
  return factory(options);
}
