/**
 * What `mnas bench fuzz` feeds: each target runs an input through the same functions the command
 * line (or the device server) runs it through, so "refused with an InputError" here is "one
 * line and exit 2" there.
 */
import { FAKE_DESCRIPTION } from '../latency/browser/fakes.js';
import { parseDeviceFrame } from '../latency/browser/messages.js';
import { checkConfig, parseConfigText, resolveSearchConfig } from '../search/run-config.js';
import { costOfPlan } from '../model/cost.js';
import { buildPlan } from '../model/plan.js';
import { parseArch, printArch as printArchOf } from '../space/arch-string.js';
import { builtInPreset, builtInPresetNames } from '../space/presets.js';
import { decodeSafetensors } from '../torch/safetensors.js';
import type { FuzzTarget } from './fuzz.js';

const utf8 = (s: string) => Buffer.from(s, 'utf8');
const text = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');

/** What `mnas inspect` does with an arch string: parse (with the size limits), plan, count. */
export const archTarget: FuzzTarget = {
  name: 'arch',
  seeds: builtInPresetNames().map((n) => utf8(printPresetArch(n))),
  tokens: ['in', 'x', '_', ':', ',', 'cls', 'stem', 's', 'head', 'r', 'k', 'e', 'i', 'o', 'se', '0.25', 'noskip', 'poolskip', 'conv', 'sep', 'ir', 'a1_', '1', '3', '5', '7', '16', '24', '224'],
  run(input) {
    costOfPlan(buildPlan(parseArch(text(input))));
  },
};

function printPresetArch(name: string): string {
  return printArchOf(builtInPreset(name)!.arch);
}

/** A safetensors file: 8-byte little-endian header length, JSON header, data. */
export function safetensorsBytes(header: object, data: Uint8Array): Uint8Array {
  const json = utf8(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, data]);
}

/** What `mnas export --weights` and `mnas train --init` do with a file: header checks, then tensors. */
export const safetensorsTarget: FuzzTarget = {
  name: 'safetensors',
  seeds: [
    safetensorsBytes({ __metadata__: { arch: 'fmnist-default' }, 'stem.conv.weight': { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] } }, Buffer.alloc(24, 1)),
    safetensorsBytes({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'I64', shape: [1], data_offsets: [16, 24] }, c: { dtype: 'U8', shape: [2, 2], data_offsets: [24, 28] } }, Buffer.alloc(28, 2)),
    safetensorsBytes({ scalar: { dtype: 'F64', shape: [], data_offsets: [0, 8] } }, Buffer.alloc(8, 3)),
  ],
  tokens: ['{', '}', '[', ']', ':', ',', '"', 'null', '"__metadata__"', '"dtype"', '"F32"', '"F16"', '"BF16"', '"I64"', '"U8"', '"shape"', '"data_offsets"', '-1', '1e300', '18446744073709551615'],
  run(input) {
    for (const t of decodeSafetensors(input, 'fuzz.safetensors').tensors.values()) t.dispose();
  },
};

const CONFIGS = [
  {},
  { evaluator: 'synthetic', strategy: { kind: 'random' }, budget: 40, seed: 3 },
  { strategy: { kind: 'ppo', options: { batchSize: 10, learningRate: 0.01, hiddenSize: 32 } }, reward: { preset: 'hard', targetMs: 5 }, budget: 10 },
  { strategy: { kind: 'evolution', options: { populationSize: 10, sampleSize: 3 } }, space: 'cifar', dataset: { name: 'synthetic-rgb', validationImages: 500 }, proxy: { images: 300, epochs: 1, batch: 50, threads: 1 }, workers: 1 },
  { reward: { preset: 'custom', alpha: -0.07, beta: -0.07, targetMs: 2 }, device: { kind: 'engine', threads: 2 }, final: { epochs: 3, topK: 2 }, latencySource: 'macs' },
];

export const configTarget: FuzzTarget = {
  name: 'config',
  seeds: CONFIGS.map((c) => utf8(JSON.stringify(c, null, 1))),
  tokens: ['{', '}', '[', ']', ':', ',', '"', 'null', 'true', 'false', '"strategy"', '"kind"', '"ppo"', '"random"', '"evolution"', '"options"', '"budget"', '"reward"', '"preset"', '"hard"', '"custom"',
    '"targetMs"', '"alpha"', '"space"', '"fmnist"', '"dataset"', '"proxy"', '"images"', '"batch"', '"workers"', '"device"', '"threads"', '"final"', '"epochs"', '"hiddenSize"', '"populationSize"', '"__proto__"', '"constructor"'],
  run(input) {
    const config = checkConfig(parseConfigText(text(input), 'fuzz.json'), 'fuzz.json');
    const { strategy } = resolveSearchConfig(config);
    (strategy as { dispose?: () => void }).dispose?.();
  },
};

const FRAMES = [
  { type: 'hello', v: 1, clientId: 'phone-1', name: 'Pixel 7', description: FAKE_DESCRIPTION },
  { type: 'loaded', job: 3, backend: 'wasm', loadMs: 12.5, warmupMs: [3.1, 2.9], innerRepeats: 4 },
  { type: 'runs', job: 3, times: [1.25, 1.31, 1.27, 1.29] },
  { type: 'done', job: 3, reason: 'maxRuns' },
  { type: 'failed', job: 3, error: 'out of memory' },
  { type: 'cancelled', job: 3 },
];

export const frameTarget: FuzzTarget = {
  name: 'device-frame',
  seeds: FRAMES.map((f) => utf8(JSON.stringify(f))),
  tokens: ['{', '}', '[', ']', ':', ',', '"', 'null', 'true', '"type"', '"hello"', '"runs"', '"times"', '"job"', '"loaded"', '"description"', '"clientId"', '1e-300', '1e999', '-0', '"__proto__"'],
  run(input) {
    parseDeviceFrame(input);
  },
};

export const FUZZ_TARGETS: readonly FuzzTarget[] = [archTarget, configTarget, safetensorsTarget, frameTarget];
