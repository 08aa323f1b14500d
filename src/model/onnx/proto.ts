/**
 * Encodes and decodes ONNX ModelProto messages with the npm package onnx-proto (protobufjs code
 * generated from the official onnx.proto). No hand-written protobuf encoding.
 */
import { createRequire } from 'node:module';
import type { onnx as OnnxNamespace } from 'onnx-proto';

// onnx-proto is CommonJS and assigns its namespace at run time, which ESM named imports miss.
const { onnx } = createRequire(import.meta.url)('onnx-proto') as { onnx: typeof OnnxNamespace };

/** ONNX IR version written into every model (IR 8 = ONNX 1.10+, read by all current runtimes). */
export const IR_VERSION = 8;
/** Default-domain opset used unless the builder is asked for another supported one. */
export const DEFAULT_OPSET = 13;
/** Opsets whose operator signatures the builder emits correctly (Clip/Pad/Slice inputs, ReduceMean axes attribute). */
export const SUPPORTED_OPSETS = [13, 17] as const;
export type Opset = (typeof SUPPORTED_OPSETS)[number];
export const PRODUCER_NAME = 'mnas';

/** TensorProto.DataType values used by mnas. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;
/** AttributeProto.AttributeType values used by mnas. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

/**
 * Encodes a plain ModelProto object (protobufjs camelCase field names, e.g. `irVersion`,
 * `opsetImport`, `rawData`) to bytes, after protobufjs verification.
 */
export function encodeModelObject(model: Record<string, unknown>): Uint8Array {
  const T = onnx.ModelProto;
  const message = T.fromObject(model);
  const problem = T.verify(message);
  if (problem) throw new Error(`onnx: invalid ModelProto: ${problem}`);
  // protobufjs returns a Node Buffer that may be a view into a shared pool; hand back an owned
  // plain Uint8Array (byteOffset 0) so callers can use .buffer safely.
  return new Uint8Array(T.encode(message).finish());
}

/** Decodes ModelProto bytes to a plain object (camelCase fields, int64 as JS numbers, bytes as Buffer). */
export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  const T = onnx.ModelProto;
  return T.toObject(T.decode(bytes), { longs: Number, enums: Number, defaults: false, arrays: true }) as Record<string, unknown>;
}
