/**
 * The wire protocol between the device server and the device page (WebSocket at /ws?token=...).
 *
 * Device -> server: JSON text frames only, each validated by parseDeviceFrame (zod). A frame that is
 * binary, not JSON, over MAX_DEVICE_MESSAGE_BYTES, or not matching the schema closes that device with
 * code 1008 (policy violation) and a reason; the server keeps running. Whether run times are
 * plausible is checked by the server (./plausibility.ts), which needs the job's context.
 *
 *   hello     {type, v, clientId, name?, description}        first message, once
 *   loaded    {type, job, backend, loadMs, warmupMs[], innerRepeats, reference?: {loadMs, innerRepeats}}
 *                                                           session(s) created, warm-up done
 *   runs      {type, job, times[], innerRepeats?}           a batch of timed runs, ms per inference; innerRepeats:
 *                                                           inferences per sample when it differs from loaded's (the
 *                                                           page grows it when the model gets faster)
 *   pair      {type, job, model[], reference[], innerRepeats?, referenceRepeats?}
 *                                                           interleaved jobs: a block of each in turn, ms per inference
 *   done      {type, job, reason}                           timed runs ended (stopped / caps)
 *   failed    {type, job, error}                            the job could not run (model rejected...)
 *   cancelled {type, job}                                   acknowledges a cancel
 *
 * Server -> device: JSON text frames, plus one binary frame (the ONNX bytes) right after each `job`.
 *
 *   welcome {type, deviceId}
 *   job     {type, job, name, inputShape, backend, warmupRuns, warmupSeconds, maxRuns, maxSeconds, minSampleMs, bytes,
 *            reference?: {name, inputShape, bytes}, blockMs?}
 *           followed by a binary frame with the model (its first `bytes`), then the reference's bytes when
 *           the job times the model interleaved with a reference (blocks of about blockMs of each in turn)
 *   stop    {type, job}     the latency is known to the requested precision: finish and send done
 *   cancel  {type, job}     abandon the job (aborted by the caller, or timed out)
 */
import { z } from 'zod';
import { InputError } from '../../util/input-error.js';
import { MAX_SESSIONS } from '../protocol.js';

export const PROTOCOL_VERSION = 1;
/** Largest message a device may send (a `runs` batch is a few KB); larger ones close it with a reason. */
export const MAX_DEVICE_MESSAGE_BYTES = 256 * 1024;
/** Default WebSocket limit for device frames: beyond it the ws layer itself cuts the device off (1009, no reason). */
export const MAX_FRAME_BYTES = 1024 * 1024;
/** Most run times one `runs` message may carry. */
export const MAX_TIMES_PER_MESSAGE = 4096;
/** Most samples one block of a `pair` message may carry (../interleaved.ts runsPerBlock takes at most 1000). */
export const MAX_RUNS_PER_BLOCK = 1000;

const shortText = (max: number) => z.string().max(max);
const jobId = z.number().int().nonnegative();
const ms = z.number().finite().nonnegative();
/** Inferences per timed sample (the page's ./static/sample-timing.js MAX_REPEATS). */
const repeats = z.number().int().min(1).max(1_000_000);

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
      innerRepeats: repeats,
      reference: z.object({ loadMs: ms, innerRepeats: repeats }).strict().optional(),
    })
    .strict(),
  z.object({ type: z.literal('runs'), job: jobId, times: z.array(ms).min(1).max(MAX_TIMES_PER_MESSAGE), innerRepeats: repeats.optional() }).strict(),
  z
    .object({
      type: z.literal('pair'),
      job: jobId,
      model: z.array(ms).min(1).max(MAX_RUNS_PER_BLOCK),
      reference: z.array(ms).min(1).max(MAX_RUNS_PER_BLOCK),
      innerRepeats: repeats.optional(),
      referenceRepeats: repeats.optional(),
    })
    .strict(),
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
      /** Bytes of the model: the start of the binary frame that follows. */
      bytes: number;
      /** An interleaved job's reference model: the rest of the binary frame. */
      reference?: { name: string; inputShape: number[]; bytes: number };
      /** An interleaved job's block length, ms. */
      blockMs?: number;
    }
  | { type: 'stop'; job: number }
  | { type: 'cancel'; job: number };

/** Why a device frame was refused (the message is short enough for a WebSocket close reason once truncated). */
export class DeviceFrameError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceFrameError';
  }
}

/**
 * Parses and validates one text frame from a device. Pure; throws DeviceFrameError (and nothing
 * else) on anything invalid: not a string/bytes, over MAX_DEVICE_MESSAGE_BYTES, not JSON, or not
 * matching deviceMessageSchema.
 */
export function parseDeviceFrame(frame: string | Uint8Array | ArrayBuffer): DeviceMessage {
  let text: string;
  if (typeof frame === 'string') {
    if (frame.length > MAX_DEVICE_MESSAGE_BYTES || Buffer.byteLength(frame, 'utf8') > MAX_DEVICE_MESSAGE_BYTES) throw new DeviceFrameError(`message over ${MAX_DEVICE_MESSAGE_BYTES} bytes`);
    text = frame;
  } else if (frame instanceof Uint8Array || frame instanceof ArrayBuffer) {
    if (frame.byteLength > MAX_DEVICE_MESSAGE_BYTES) throw new DeviceFrameError(`message over ${MAX_DEVICE_MESSAGE_BYTES} bytes`);
    const bytes = frame instanceof ArrayBuffer ? new Uint8Array(frame) : frame;
    text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  } else {
    throw new DeviceFrameError('message is not text');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DeviceFrameError('message is not JSON');
  }
  let r;
  try {
    r = deviceMessageSchema.safeParse(json);
  } catch (e) {
    // zod does not throw on data; this guards the fuzz contract (only DeviceFrameError escapes)
    throw new DeviceFrameError(`malformed message: ${(e as Error)?.message ?? 'invalid'}`);
  }
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue?.path.length ? issue.path.map(String).join('.') : 'message';
    throw new DeviceFrameError(`malformed message: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return r.data;
}

/** Parses one WebSocket frame from a device; returns the message or a short reason for closing it. */
export function parseDeviceMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): { ok: true; msg: DeviceMessage } | { ok: false; reason: string } {
  if (isBinary) return { ok: false, reason: 'binary frames are not accepted' };
  try {
    return { ok: true, msg: parseDeviceFrame(Array.isArray(data) ? Buffer.concat(data) : data) };
  } catch (e) {
    return { ok: false, reason: e instanceof DeviceFrameError ? e.message : 'malformed message' };
  }
}

/** A WebSocket close reason is at most 123 bytes of UTF-8. */
export function closeReason(s: string): string {
  let out = s;
  while (Buffer.byteLength(out, 'utf8') > 123) out = out.slice(0, -1);
  return out;
}

// ---- controllers: another process (e.g. `mnas measure`) submitting jobs to a running `mnas devices serve` ----
//
// WebSocket at /control?token=<control secret> (not the devices' join token). Controller -> server, JSON text frames:
//   measure {type, id, name, inputShape, arch?, protocol?, backend?, selector?, bytes, reference?: {name, inputShape, bytes}}
//           + one binary frame: the ONNX bytes, then the reference's (timed interleaved with it) when given
//   cancel  {type, id}
//   wait    {type, id, selector?, timeoutMs}        resolves when a matching (unflagged) device is connected
//   status  {type, id}                              the same JSON as GET /status
// Server -> controller: ready {type, v, limits} (first, on connect) | result {type, id, result} | device {type, id, device}
//   | status {type, id, status} | error {type, id, message, code?}
// A measure over a cap (model size, queued jobs, queued bytes) gets an error with code 'limit'; its binary frame,
// if sent anyway, is discarded. Binary frames over maxModelBytes are cut off by the ws layer (1009).

/** Default largest model a controller may send (and WebSocket limit of control frames). */
export const DEFAULT_MAX_MODEL_BYTES = 64 * 1024 * 1024;
/** Upper bound of what a measure message may announce at all, whatever the server's cap. */
export const MAX_ANNOUNCED_BYTES = 2 ** 31 - 1;

export interface ControlLimits {
  maxModelBytes: number;
  maxQueuedJobs: number;
  maxQueuedBytes: number;
}

const inputShapeSchema = z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]);
const selectorSchema = z.object({ id: z.string().max(80).optional(), name: z.string().max(80).optional() }).strict();
// bounded so a controller cannot make the server allocate run buffers (ConvergenceTracker: 16 bytes per maxRuns) or arm timers beyond reason
const protocolSchema = z
  .object({
    warmupRuns: z.number().int().nonnegative().max(100_000).optional(),
    warmupSeconds: z.number().nonnegative().max(3600).optional(),
    minRuns: z.number().int().positive().max(100_000).optional(),
    minSeconds: z.number().nonnegative().max(3600).optional(),
    maxRuns: z.number().int().positive().max(100_000).optional(),
    relPrecision: z.number().optional(),
    maxSeconds: z.number().positive().max(3600).optional(),
    blockSeconds: z.number().positive().max(60).optional(),
    blockQuantile: z.number().gt(0).lt(1).optional(),
    quantile: z.number().gt(0).lt(1).optional(),
    // accepted for the shared protocol type; a page keeps one instance of each model
    sessions: z.number().int().min(1).max(MAX_SESSIONS).optional(),
  })
  .strict();

export const controlMessageSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('measure'),
      id: jobId,
      name: shortText(1000),
      inputShape: inputShapeSchema,
      arch: shortText(100_000).optional(),
      protocol: protocolSchema.optional(),
      backend: backendSchema.optional(),
      selector: selectorSchema.optional(),
      bytes: z.number().int().positive().max(MAX_ANNOUNCED_BYTES),
      reference: z.object({ name: shortText(1000), inputShape: inputShapeSchema, bytes: z.number().int().positive().max(MAX_ANNOUNCED_BYTES) }).strict().optional(),
    })
    .strict(),
  z.object({ type: z.literal('cancel'), id: jobId }).strict(),
  z.object({ type: z.literal('wait'), id: jobId, selector: selectorSchema.optional(), timeoutMs: z.number().int().positive().max(86_400_000) }).strict(),
  z.object({ type: z.literal('status'), id: jobId }).strict(),
]);
export type ControlMessage = z.infer<typeof controlMessageSchema>;
