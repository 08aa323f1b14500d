import { getPreset, presetArch, presetNames, type Preset } from './presets.js';

/** The named architectures (MnasNet family, MobileNetV2, each space's default, bench-fmnist), as one object for the library API. */
export const presets: {
  /** Every preset name. */
  readonly names: () => string[];
  /** The preset (name, description, arch); throws for an unknown name. */
  readonly get: (name: string) => Preset;
  readonly arch: typeof presetArch;
} = Object.freeze({ names: presetNames, get: getPreset, arch: presetArch });
