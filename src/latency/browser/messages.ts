/**
 * The wire protocol between the device server and the device page (WebSocket at /ws?token=...).
 *
 * Device -> server: JSON text frames only, each validated by `deviceMessage` (zod). A frame that is
 * binary, not JSON, over MAX_DEVICE_MESSAGE_BYTES, or not matching the schema closes that device with
 * code 1008 (policy violation) and a reason; the server keeps running.
 *
 *   hello     {type, v, clientId, name?, description}        first message, once
 *   loaded    {type, job, backend, loadMs, warmupMs[], innerRepeats}   session created, warm-up done
 *   runs      {type, job, times[]}                          a batch of timed runs, ms per inference
 *   done      {type, job, reason}                           timed runs ended (stopped / caps)
 *   failed    {type, job, error}                            the job could not run (model rejected...)
 *   cancelled {type, job}                                   acknowledges a cancel
 *
 * Server -> device: JSON text frames, plus one binary frame (the ONNX bytes) right after each `job`.
 *
 *   welcome {type, deviceId}
 *   job     {type, job, name, inputShape, backend, warmupRuns, warmupSeconds, maxRuns, maxSeconds, minSampleMs, bytes}
 *           followed by a binary frame with the model
 *   stop    {type, job}     the median is known to the requested precision: finish and send done
 *   cancel  {type, job}     abandon the job (aborted by the caller, or timed out)
 */
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;
/** Largest message a device may send (a `runs` batch is a few KB); larger ones close it with a reason. */
export const MAX_DEVICE_MESSAGE_BYTES = 256 * 1024;
/** Frames beyond this are cut off by the WebSocket layer itself (close code 1009, no reason). */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;
/** Most run times one `runs` message may carry. */
export const MAX_TIMES_PER_MESSAGE = 4096;

const shortText = (max: number) => z.string().max(max);
const jobId = z.number().int().nonnegative();
const ms = z.number().finite().nonnegative();

export const backendSchema = z.enum(['wasm', 'webgpu']);
export type Backend = z.infer<typeof backendSchema>;

export const pageDescriptionSchema = z
  .object({
    userAgent: shortText(512),
    platform: shortText(128).optional(),
    /** From navigator.userAgentData high-entropy values where available (secure contexts). */
    model: shortText(128).optional(),
    architecture: shortText(64).optional(),
    hardwareConcurrency: z.number().int().nonnegative().max(4096),
    deviceMemoryGb: z.number().finite().nonnegative().max(1e6).optional(),
    ortVersion: shortText(64),
    /** The onnxruntime-web bundle the page loaded (ort.wasm.min.mjs or ort.min.mjs). */
    ortBundle: shortText(64),
    backends: z.array(backendSchema).min(1).max(2),
    simd: z.boolean(),
    threads: z.number().int().min(1).max(256),
    crossOriginIsolated: z.boolean(),
    webgpu: z.boolean(),
    /** Smallest positive step of performance.now() the page observed, ms. */
    timerResolutionMs: ms,
  })
  .strict();
export type PageDescription = z.infer<typeof pageDescriptionSchema>;

export const deviceMessageSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('hello'),
      v: z.literal(PROTOCOL_VERSION),
      clientId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
      name: z.string().regex(/^[A-Za-z0-9 _.:-]{1,64}$/).optional(),
      description: pageDescriptionSchema,
    })
    .strict(),
  z
    .object({
      type: z.literal('loaded'),
      job: jobId,
      backend: backendSchema,
      loadMs: ms,
      warmupMs: z.array(ms).max(10_000),
      innerRepeats: z.number().int().min(1).max(1_000_000),
    })
    .strict(),
  z.object({ type: z.literal('runs'), job: jobId, times: z.array(ms).min(1).max(MAX_TIMES_PER_MESSAGE) }).strict(),
  z.object({ type: z.literal('done'), job: jobId, reason: z.enum(['stopped', 'maxRuns', 'maxSeconds']) }).strict(),
  z.object({ type: z.literal('failed'), job: jobId, error: shortText(2000) }).strict(),
  z.object({ type: z.literal('cancelled'), job: jobId }).strict(),
]);
export type DeviceMessage = z.infer<typeof deviceMessageSchema>;

export type ServerMessage =
  | { type: 'welcome'; deviceId: string; v: number }
  | {
      type: 'job';
      job: number;
      name: string;
      inputShape: number[];
      backend: Backend;
      warmupRuns: number;
      warmupSeconds: number;
      maxRuns: number;
      maxSeconds: number;
      /** A timed sample is at least this long: faster models run several inferences per sample. */
      minSampleMs: number;
      /** Bytes of the binary frame that follows. */
      bytes: number;
    }
  | { type: 'stop'; job: number }
  | { type: 'cancel'; job: number };

/** Parses one frame from a device; returns the message or a short reason for closing it. */
export function parseDeviceMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): { ok: true; msg: DeviceMessage } | { ok: false; reason: string } {
  if (isBinary) return { ok: false, reason: 'binary frames are not accepted' };
  const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  if (buf.length > MAX_DEVICE_MESSAGE_BYTES) return { ok: false, reason: `message over ${MAX_DEVICE_MESSAGE_BYTES} bytes` };
  let json: unknown;
  try {
    json = JSON.parse(buf.toString('utf8'));
  } catch {
    return { ok: false, reason: 'message is not JSON' };
  }
  const r = deviceMessageSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'message';
    return { ok: false, reason: `malformed message: ${where}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, msg: r.data };
}

/** A WebSocket close reason is at most 123 bytes of UTF-8. */
export function closeReason(s: string): string {
  let out = s;
  while (Buffer.byteLength(out, 'utf8') > 123) out = out.slice(0, -1);
  return out;
}

// ---- controllers: another process (e.g. `mnas measure`) submitting jobs to a running `mnas devices serve` ----
//
// WebSocket at /control?token=... (same token). Controller -> server, JSON text frames:
//   measure {type, id, name, inputShape, arch?, protocol?, backend?, selector?, bytes}  + one binary frame (the ONNX bytes)
//   cancel  {type, id}
//   wait    {type, id, selector?, timeoutMs}        resolves when a matching device is connected
// Server -> controller: result {type, id, result} | device {type, id, device} | error {type, id, message}

/** Largest model a controller may send. */
export const MAX_CONTROL_BYTES = 512 * 1024 * 1024;

const selectorSchema = z.object({ id: z.string().max(80).optional(), name: z.string().max(80).optional() }).strict();
const protocolSchema = z
  .object({
    warmupRuns: z.number().optional(),
    warmupSeconds: z.number().optional(),
    minRuns: z.number().optional(),
    minSeconds: z.number().optional(),
    maxRuns: z.number().optional(),
    relPrecision: z.number().optional(),
    maxSeconds: z.number().optional(),
  })
  .strict();

export const controlMessageSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('measure'),
      id: jobId,
      name: shortText(1000),
      inputShape: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]),
      arch: shortText(100_000).optional(),
      protocol: protocolSchema.optional(),
      backend: backendSchema.optional(),
      selector: selectorSchema.optional(),
      bytes: z.number().int().positive().max(MAX_CONTROL_BYTES),
    })
    .strict(),
  z.object({ type: z.literal('cancel'), id: jobId }).strict(),
  z.object({ type: z.literal('wait'), id: jobId, selector: selectorSchema.optional(), timeoutMs: z.number().int().positive().max(86_400_000) }).strict(),
]);
export type ControlMessage = z.infer<typeof controlMessageSchema>;
