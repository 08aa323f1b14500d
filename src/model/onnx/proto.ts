/**
 * Loads the vendored ONNX protobuf schema (onnx.proto, proto2, from the onnx repository) with
 * protobufjs and encodes/decodes ModelProto messages. No hand-written protobuf encoding.
 *
 * The .proto file is not copied to dist/ by tsc, so it is resolved from the source tree: walk up
 * from this module to the directory holding package.json (the repo root), then
 * src/model/onnx/onnx.proto. This works from both src/ (ts runners) and dist/src/ (tsc output).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

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

/** Directory containing package.json, found by walking up from `start` (a directory). */
export function findRepoRoot(start: string = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = path.resolve(start);
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`onnx: no package.json found above ${start}; cannot locate onnx.proto`);
    dir = parent;
  }
}

/** Absolute path of the vendored onnx.proto in the source tree. */
export function onnxProtoPath(): string {
  return path.join(findRepoRoot(), 'src', 'model', 'onnx', 'onnx.proto');
}

let cachedRoot: protobuf.Root | undefined;

/** The parsed ONNX schema (loaded once per process). */
export function onnxRoot(): protobuf.Root {
  if (!cachedRoot) {
    const file = onnxProtoPath();
    if (!fs.existsSync(file)) throw new Error(`onnx: schema file missing at ${file}`);
    cachedRoot = protobuf.loadSync(file);
  }
  return cachedRoot;
}

/** The protobufjs type for onnx.ModelProto. */
export function modelProtoType(): protobuf.Type {
  return onnxRoot().lookupType('onnx.ModelProto');
}

/**
 * Encodes a plain ModelProto object (protobufjs camelCase field names, e.g. `irVersion`,
 * `opsetImport`, `rawData`) to bytes, after protobufjs verification.
 */
export function encodeModelObject(model: Record<string, unknown>): Uint8Array {
  const T = modelProtoType();
  const message = T.fromObject(model);
  const problem = T.verify(message);
  if (problem) throw new Error(`onnx: invalid ModelProto: ${problem}`);
  return T.encode(message).finish();
}

/** Decodes ModelProto bytes to a plain object (camelCase fields, int64 as JS numbers, bytes as Buffer). */
export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  const T = modelProtoType();
  return T.toObject(T.decode(bytes), { longs: Number, enums: Number, defaults: false, arrays: true, oneofs: true }) as Record<string, unknown>;
}
