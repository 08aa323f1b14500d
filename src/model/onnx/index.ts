/** ONNX export toolkit: graph builder, BN folding, model saving. See graph.ts for the builder API. */
export { BATCH, GraphBuilder, OnnxGraphError } from './graph.js';
export type { AveragePoolOptions, ConvOptions, Dim, DType, Float32Tensor, GemmOptions, GraphBuilderOptions, SliceOptions, Value } from './graph.js';
export { foldConvBn, foldLinearBn } from './fold.js';
export type { BatchNormParams, FoldedLayer } from './fold.js';
export { saveModel } from './save.js';
export { decodeModel, DEFAULT_OPSET, IR_VERSION, PRODUCER_NAME, SUPPORTED_OPSETS } from './proto.js';
export type { Opset } from './proto.js';
