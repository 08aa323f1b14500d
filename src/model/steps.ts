/**
 * The order of a layer's operations, written once. The plan's parameter list (plan.ts), the
 * engine builder (blocks.ts), the cost model (cost.ts) and the ONNX exporter with its random
 * weights (export.ts) all walk these steps, so none of them spells the order out again.
 *
 *   stem, head:  conv+BN+ReLU
 *   block:       expand conv (mbconv) | depthwise conv (mbconv, dsconv) | regular conv (conv),
 *                squeeze-excite (if any), project conv (mbconv, dsconv), shortcut (if any)
 *   pool:        global average pool (keeps the 1x1 spatial dims)
 *   classifier:  dropout (training only), flatten, fully connected
 */
import type { BlockLayerPlan, ClassifierLayerPlan, ConvBnPlan, LayerPlan, ShortcutPlan, SqueezeExcitePlan } from './plan.js';

/** Where a conv sits in its layer: also the conv's module name and the middle of its parameter names. */
export type ConvStage = 'stem' | 'head' | 'expand' | 'depthwise' | 'regular' | 'project';

export interface ConvBnStep {
  readonly kind: 'conv_bn';
  readonly stage: ConvStage;
  readonly conv: ConvBnPlan;
}

export interface SqueezeExciteStep {
  readonly kind: 'squeeze_excite';
  readonly se: SqueezeExcitePlan;
}

/** Output of the steps before plus the layer's input, through the shortcut. */
export interface ShortcutStep {
  readonly kind: 'shortcut';
  /** The layer's name (`blocks.<b>.<l>`). */
  readonly layer: string;
  readonly shortcut: ShortcutPlan;
}

export interface GlobalPoolStep {
  readonly kind: 'global_pool';
  readonly channels: number;
}

export interface ClassifierStep {
  readonly kind: 'classifier';
  readonly classifier: ClassifierLayerPlan;
}

export type BlockStep = ConvBnStep | SqueezeExciteStep | ShortcutStep;
export type LayerStep = BlockStep | GlobalPoolStep | ClassifierStep;

/** What of a searched layer decides its steps (the plan builder asks before the layer is complete). */
export type BlockStages = Pick<BlockLayerPlan, 'name' | 'expandConv' | 'depthwiseConv' | 'regularConv' | 'se' | 'projectConv' | 'shortcut'>;

/** The steps of a searched layer, in forward order. */
export function blockSteps(layer: BlockStages): BlockStep[] {
  const steps: BlockStep[] = [];
  const conv = (stage: ConvStage, plan: ConvBnPlan | null): void => {
    if (plan) steps.push({ kind: 'conv_bn', stage, conv: plan });
  };
  conv('expand', layer.expandConv);
  conv('depthwise', layer.depthwiseConv);
  conv('regular', layer.regularConv);
  if (layer.se) steps.push({ kind: 'squeeze_excite', se: layer.se });
  conv('project', layer.projectConv);
  if (layer.shortcut) steps.push({ kind: 'shortcut', layer: layer.name, shortcut: layer.shortcut });
  return steps;
}

/** The steps of any layer, in forward order. */
export function layerSteps(layer: LayerPlan): LayerStep[] {
  switch (layer.kind) {
    case 'stem':
    case 'head':
      return [{ kind: 'conv_bn', stage: layer.kind, conv: layer.conv }];
    case 'block':
      return blockSteps(layer);
    case 'pool':
      return [{ kind: 'global_pool', channels: layer.inChannels }];
    case 'classifier':
      return [{ kind: 'classifier', classifier: layer }];
  }
}
