/**
 * Named architectures. The MnasNet family and MobileNetV2 come from the tensorflow/tpu block
 * strings (reference section 4) at 224x224x3, 1000 classes, head 1280; bench-fmnist is the
 * training-speed benchmark net; `<space>-default` is each shipped space's default arch. Trained
 * models shipped in models/ (shipped-models.ts) are presets too, with their weights.
 */
import { makeArch, type Arch, type GlobalParamsInput } from './arch.js';
import { getSpace, spaceNames } from './space.js';
import { ModelCardError, sameArch, shippedModels, type ShippedModel } from './shipped-models.js';
import { parseTfBlocks } from './tf-block-string.js';

export interface Preset {
  readonly name: string;
  readonly description: string;
  readonly arch: Arch;
  /** Trained weights shipped with mnas (models/<name>/), for the presets that have them. */
  readonly trained?: ShippedModel;
}

const IMAGENET = (stem: number): GlobalParamsInput => ({
  input: { height: 224, width: 224, channels: 3 },
  classes: 1000,
  stem: { filters: stem, stride: 2 },
  head: 1280,
});

const FMNIST_HEAD1280: GlobalParamsInput = { input: { height: 28, width: 28, channels: 1 }, classes: 10, stem: { filters: 16, stride: 1 }, head: 1280 };

function fromTf(name: string, description: string, global: GlobalParamsInput, blocks: readonly string[]): Preset {
  try {
    return { name, description, arch: makeArch({ global, blocks: parseTfBlocks(blocks) }) };
  } catch (e) {
    throw new Error(`preset '${name}': ${(e as Error).message}`);
  }
}

const PRESET_LIST: readonly Preset[] = [
  fromTf('mnasnet-a1', 'MnasNet-A1 (tensorflow/tpu), 3.89M params, 312M MACs', IMAGENET(32), [
    'r1_k3_s11_e1_i32_o16_noskip',
    'r2_k3_s22_e6_i16_o24',
    'r3_k5_s22_e3_i24_o40_se0.25',
    'r4_k3_s22_e6_i40_o80',
    'r2_k3_s11_e6_i80_o112_se0.25',
    'r3_k5_s22_e6_i112_o160_se0.25',
    'r1_k3_s11_e6_i160_o320',
  ]),
  fromTf('mnasnet-b1', 'MnasNet-B1 (tensorflow/tpu, torchvision mnasnet1_0), 4.38M params, 314M MACs', IMAGENET(32), [
    'r1_k3_s11_e1_i32_o16_noskip',
    'r3_k3_s22_e3_i16_o24',
    'r3_k5_s22_e3_i24_o40',
    'r3_k5_s22_e6_i40_o80',
    'r2_k3_s11_e6_i80_o96',
    'r4_k5_s22_e6_i96_o192',
    'r1_k3_s11_e6_i192_o320_noskip',
  ]),
  fromTf('mnasnet-small', 'MnasNet-small (tensorflow/tpu; stem 8 wins over the first block\'s i16), 2.03M params, 68M MACs', IMAGENET(8), [
    'r1_k3_s11_e1_i16_o8',
    'r1_k3_s22_e3_i8_o16',
    'r2_k3_s22_e6_i16_o16',
    'r4_k5_s22_e6_i16_o32_se0.25',
    'r3_k3_s11_e6_i32_o32_se0.25',
    'r3_k5_s22_e6_i32_o88_se0.25',
    'r1_k3_s11_e6_i88_o144',
  ]),
  fromTf('mobilenet-v2', 'MobileNetV2 1.0 (torchvision), 3.50M params, 301M MACs', IMAGENET(32), [
    'r1_k3_s11_e1_i32_o16',
    'r2_k3_s22_e6_i16_o24',
    'r3_k3_s22_e6_i24_o32',
    'r4_k3_s22_e6_i32_o64',
    'r3_k3_s11_e6_i64_o96',
    'r3_k3_s22_e6_i96_o160',
    'r1_k3_s11_e6_i160_o320',
  ]),
  fromTf(
    'bench-fmnist',
    'training-speed benchmark net (shared/bench/pytorch_reference.py), 28x28x1, 154,106 params',
    { input: { height: 28, width: 28, channels: 1 }, classes: 10, stem: { filters: 16, stride: 1 }, head: 0 },
    ['r1_k3_s11_e1_i16_o16', 'r2_k3_s22_e6_i16_o24', 'r2_k5_s22_e3_i24_o40_se0.25', 'r2_k3_s22_e6_i40_o80'],
  ),
  // hand-designed baselines for 28x28x1 images (issue 15): width 0.35, the stem and ImageNet's
  // 5th stride-2 stage at stride 1 (28 -> 14 -> 7 -> 4), head 1280 as in the originals
  fromTf('mobilenet-v2-fmnist', 'MobileNetV2 0.35 for 28x28x1 (stem stride 1, 28->14->7->4), head 1280: 409K params, 7.5M MACs', FMNIST_HEAD1280, [
    'r1_k3_s11_e1_i16_o8',
    'r2_k3_s22_e6_i8_o8',
    'r3_k3_s22_e6_i8_o16',
    'r4_k3_s22_e6_i16_o24',
    'r3_k3_s11_e6_i24_o32',
    'r3_k3_s11_e6_i32_o56',
    'r1_k3_s11_e6_i56_o112',
  ]),
  fromTf('mnasnet-a1-fmnist', 'MnasNet-A1 0.35 for 28x28x1 (stem stride 1, 28->14->7->4), head 1280: 479K params, 8.0M MACs', FMNIST_HEAD1280, [
    'r1_k3_s11_e1_i16_o8_noskip',
    'r2_k3_s22_e6_i8_o8',
    'r3_k5_s22_e3_i8_o16_se0.25',
    'r4_k3_s22_e6_i16_o32',
    'r2_k3_s11_e6_i32_o40_se0.25',
    'r3_k5_s11_e6_i40_o56_se0.25',
    'r1_k3_s11_e6_i56_o112',
  ]),
  ...spaceNames().map((name) => {
    const space = getSpace(name);
    return { name: `${name}-default`, description: `default arch of the '${name}' space (${space.skeleton.description})`, arch: space.decode(space.defaultDna()) };
  }),
];

let presetMap: ReadonlyMap<string, Preset> | undefined;

/** The built-in presets and the shipped trained models (read on first use). */
function presets(): ReadonlyMap<string, Preset> {
  if (presetMap) return presetMap;
  const map = new Map(PRESET_LIST.map((p) => [p.name, p]));
  for (const m of shippedModels().values()) {
    const builtIn = map.get(m.name);
    if (builtIn && !sameArch(m, builtIn.arch)) throw new ModelCardError(`${m.dir}: the trained model '${m.name}' is not the arch of the built-in preset of that name`);
    map.set(m.name, { name: m.name, description: `${builtIn?.description ?? m.card.description}; ${trainedSummary(m)}`, arch: builtIn?.arch ?? m.arch, trained: m });
  }
  return (presetMap = map);
}

/** E.g. "trained on fashion-mnist: test accuracy 93.12% +- 0.21 (3 seeds)". */
export function trainedSummary(m: ShippedModel): string {
  const t = m.card.testAccuracy;
  return `trained on ${m.card.dataset}: test accuracy ${(100 * t.mean).toFixed(2)}%${t.std !== null ? ` +- ${(100 * t.std).toFixed(2)}` : ''} (${t.seeds} seed${t.seeds === 1 ? '' : 's'})`;
}

/** The presets defined in code, without the trained models (the same on every install). */
export function builtInPresetNames(): string[] {
  return PRESET_LIST.map((p) => p.name);
}

export function builtInPreset(name: string): Preset | undefined {
  return PRESET_LIST.find((p) => p.name === name);
}

export function presetNames(): string[] {
  return [...presets().keys()];
}

export function hasPreset(name: string): boolean {
  return presets().has(name);
}

export function getPreset(name: string): Preset {
  const preset = presets().get(name);
  if (!preset) throw new Error(`unknown preset '${name}' (known: ${presetNames().join(', ')})`);
  return preset;
}

export function presetArch(name: string): Arch {
  return getPreset(name).arch;
}
