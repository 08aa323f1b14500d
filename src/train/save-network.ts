/**
 * Saving a trained network: its weights as safetensors (with the arch string, so `mnas export`
 * and `mnas train --save` files are self-describing) and its eval-mode ONNX graph (BN folded).
 * Both are written atomically: a crash never leaves a half-written model behind.
 */
import path from 'node:path';
import { exportOnnx, NORMALIZATION_METADATA, weightsFromNetwork, type InputNormalization } from '../model/export.js';
import type { Network } from '../model/network.js';
import type { Dataset } from '../data/dataset.js';
import { saveModel } from '../model/onnx/save.js';
import { printArch } from '../space/arch-string.js';
import { saveSafetensors } from '../torch/safetensors.js';

export interface SaveNetworkFiles {
  /** Safetensors file for the weights. */
  readonly weights?: string;
  /** ONNX file for the eval-mode graph. */
  readonly onnx?: string;
  /** The training data's normalization, put into the ONNX graph so that it takes pixel / 255, and into the weights' metadata. */
  readonly inputNormalization?: InputNormalization;
}

export interface SavedNetwork {
  /** Absolute paths of the files written. */
  readonly weights?: string;
  readonly onnx?: string;
  readonly onnxBytes?: number;
}

export function saveNetwork(net: Network, files: SaveNetworkFiles): SavedNetwork {
  const saved: { weights?: string; onnx?: string; onnxBytes?: number } = {};
  if (files.weights !== undefined) {
    saveSafetensors(files.weights, net.stateDict(), {
      arch: printArch(net.plan.arch),
      format: 'mnas',
      ...(files.inputNormalization ? { [NORMALIZATION_METADATA]: JSON.stringify(files.inputNormalization) } : {}),
    });
    saved.weights = path.resolve(files.weights);
  }
  if (files.onnx !== undefined) {
    const bytes = exportOnnx(net.plan, weightsFromNetwork(net), files.inputNormalization ? { inputNormalization: files.inputNormalization } : {});
    saved.onnx = saveModel(files.onnx, bytes);
    saved.onnxBytes = bytes.byteLength;
  }
  return saved;
}

/** What a dataset's images go through before the network (for an ONNX graph that takes pixel / 255). */
export function inputNormalizationOf(data: Pick<Dataset, 'mean' | 'std' | 'classNames'>): InputNormalization {
  return { mean: [...data.mean], std: [...data.std], ...(data.classNames ? { classNames: [...data.classNames] } : {}) };
}
