/**
 * The browser device's packages are optional dependencies of mnas (peerDependencies marked
 * optional): most users measure on onnxruntime-node and need neither. Without them the browser
 * device stops with one line naming what to install, before any server or browser starts.
 * onnxruntime-web's files are found through Node's module resolver, so they are served from
 * wherever the package manager put them (hoisted into the user's node_modules or not).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { InputError } from '../../util/input-error.js';

export class MissingOptionalDependencyError extends InputError {
  constructor(
    readonly packageName: string,
    why: string,
  ) {
    super(`${why} needs the optional package ${packageName}, which is not installed: run npm install ${packageName} (in the project that installed mnas)`);
    this.name = 'MissingOptionalDependencyError';
  }
}

const require = createRequire(import.meta.url);

/** onnxruntime-web's dist folder (its .mjs and .wasm files), resolved like an import of it. */
export function onnxruntimeWebDist(): string {
  let entry: string;
  try {
    entry = require.resolve('onnxruntime-web');
  } catch {
    throw new MissingOptionalDependencyError('onnxruntime-web', 'the browser device (its page runs models with onnxruntime-web)');
  }
  return path.dirname(entry);
}

/** playwright-core, which launches the local headless Chromium of the browser device. */
export async function importPlaywright(): Promise<typeof import('playwright-core')> {
  try {
    return await import('playwright-core');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new MissingOptionalDependencyError('playwright-core', 'the browser device with a local headless Chromium');
    }
    throw e;
  }
}
