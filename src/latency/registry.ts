/**
 * Device registry: `createDevice(kind, options)` for every latency device the CLI and the search
 * can use. Devices are imported lazily, so measuring on ort-cpu never loads libtorch and the
 * engine device never loads onnxruntime.
 *
 * HOOK for the browser device (src/latency/browser/**): the 'browser' entry imports
 * `./browser/index.js` and calls its exported
 *     createBrowserDevice(options: DeviceOptions): LatencyDevice | Promise<LatencyDevice>
 * (options.threads, plus whatever browser-specific keys it reads from `options`, e.g.
 * `backend`, `executablePath`). Alternatively, any module may call
 * `registerDevice('browser', factory)` to replace the entry.
 */
import type { LatencyDevice } from './device.js';

export type DeviceKind = 'ort-cpu' | 'engine' | 'browser';

export interface DeviceOptions {
  /** Inference threads (intra-op for ort-cpu, libtorch threads for engine, wasm threads for browser). Default 1. */
  threads?: number;
  /** Device-specific settings, passed through untouched. */
  [key: string]: unknown;
}

export type DeviceFactory = (options: DeviceOptions) => LatencyDevice | Promise<LatencyDevice>;

interface Entry {
  description: string;
  factory: DeviceFactory;
}

const threadsOf = (o: DeviceOptions): number | undefined => (o.threads === undefined ? undefined : Number(o.threads));

const registry = new Map<string, Entry>([
  [
    'ort-cpu',
    {
      description: 'onnxruntime-node on this CPU, batch 1, sequential, 1 intra-op thread by default',
      factory: async (o) => {
        const { OrtCpuDevice } = await import('./ort-cpu.js');
        const t = threadsOf(o);
        return new OrtCpuDevice(t === undefined ? {} : { threads: t });
      },
    },
  ],
  [
    'engine',
    {
      description: "the project's libtorch engine in eval mode, batch 1, 1 thread by default",
      factory: async (o) => {
        const { EngineDevice } = await import('./engine.js');
        const t = threadsOf(o);
        return new EngineDevice(t === undefined ? {} : { threads: t });
      },
    },
  ],
  [
    'browser',
    {
      description: 'onnxruntime-web in a headless browser (src/latency/browser)',
      factory: async (o) => {
        // a variable specifier: the browser module may not exist yet when this file compiles
        const spec = './browser/index.js';
        let mod: { createBrowserDevice?: DeviceFactory };
        try {
          mod = (await import(spec)) as { createBrowserDevice?: DeviceFactory };
        } catch (e) {
          throw new Error(`device 'browser' is not available in this build (${(e as Error).message})`, { cause: e });
        }
        if (typeof mod.createBrowserDevice !== 'function') throw new Error("device 'browser': src/latency/browser/index.ts does not export createBrowserDevice(options)");
        return mod.createBrowserDevice(o);
      },
    },
  ],
]);

/** Adds or replaces a device kind. */
export function registerDevice(kind: string, factory: DeviceFactory, description = kind): void {
  registry.set(kind, { description, factory });
}

export function deviceKinds(): string[] {
  return [...registry.keys()];
}

export function deviceDescriptions(): Array<{ kind: string; description: string }> {
  return [...registry].map(([kind, e]) => ({ kind, description: e.description }));
}

export class UnknownDeviceError extends Error {
  constructor(kind: string) {
    super(`unknown latency device '${kind}' (known: ${deviceKinds().join(', ')})`);
    this.name = 'UnknownDeviceError';
  }
}

export async function createDevice(kind: string, options: DeviceOptions = {}): Promise<LatencyDevice> {
  const entry = registry.get(kind);
  if (!entry) throw new UnknownDeviceError(kind);
  if (options.threads !== undefined && !(Number.isInteger(options.threads) && (options.threads as number) >= 1)) {
    throw new RangeError(`device '${kind}': threads must be a positive integer, got ${String(options.threads)}`);
  }
  return entry.factory(options);
}
