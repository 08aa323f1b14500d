/**
 * One controller's WebSocket (/control, control secret): another process (`mnas measure` with
 * MNAS_BROWSER_URL, see RemoteDeviceServer in ./remote.ts) submits jobs, waits for devices, asks
 * for the status and cancels. The wire protocol is in ./messages.ts (controlMessageSchema). A
 * controller's queued and running jobs, and its waits, end when it disconnects.
 */
import { WebSocket, type RawData } from 'ws';
import type { LatencyModel } from '../device.js';
import { JobFailedError, LimitError, NoDeviceError, mebibytes, type ConnectedDevice, type DeviceSelector, type JobRequest, type JobResult, type ServerStatus } from './farm.js';
import { closeReason, controlMessageSchema, PROTOCOL_VERSION, type ControlLimits, type ControlMessage } from './messages.js';

/** What a controller can ask of the server. */
export interface ControlledFarm {
  readonly limits: ControlLimits;
  status(): ServerStatus;
  submit(req: JobRequest, signal?: AbortSignal): Promise<JobResult>;
  waitForDevice(selector: DeviceSelector, timeoutMs: number, signal?: AbortSignal): Promise<ConnectedDevice>;
  /** Why one more job of `bytes` would exceed a cap, or undefined. */
  overLimit(bytes: number): string | undefined;
  /** Counts an announced job against the caps until released. */
  reserve(bytes: number): () => void;
}

export function serveController(ws: WebSocket, farm: ControlledFarm, onClosed: () => void): void {
  const jobs = new Map<number, AbortController>();
  const waits = new Map<number, AbortController>();
  let pending: Extract<ControlMessage, { type: 'measure' }> | undefined;
  /** The announced model frame of a refused measure: dropped when it arrives. */
  let discard: number | undefined;
  let release: (() => void) | undefined;
  const unreserve = () => {
    release?.();
    release = undefined;
  };
  const reply = (msg: unknown) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  };
  const fail = (reason: string) => {
    ws.close(1008, closeReason(reason));
    setTimeout(() => ws.terminate(), 2000).unref();
  };
  const replyError = (id: number, e: Error) => reply({ type: 'error', id, message: e.message, ...(e instanceof LimitError || e instanceof NoDeviceError ? { code: e.code } : {}) });

  const onModelFrame = (buf: Buffer) => {
    if (discard !== undefined && !pending) {
      if (buf.length !== discard) return fail(`model frame of ${buf.length} bytes, ${discard} announced`);
      discard = undefined;
      return;
    }
    if (!pending || buf.length !== frameBytes(pending)) return fail(pending ? `model frame of ${buf.length} bytes, ${frameBytes(pending)} announced` : 'binary frame without a measure message');
    const m = pending;
    pending = undefined;
    unreserve();
    if (jobs.has(m.id)) return reply({ type: 'error', id: m.id, message: `job id ${m.id} in use` });
    const ac = new AbortController();
    jobs.set(m.id, ac);
    const model: LatencyModel = { name: m.name, onnx: new Uint8Array(buf.buffer, buf.byteOffset, m.bytes), inputShape: m.inputShape, ...(m.arch !== undefined ? { arch: m.arch } : {}) };
    const reference: LatencyModel | undefined = m.reference && { name: m.reference.name, onnx: new Uint8Array(buf.buffer, buf.byteOffset + m.bytes, m.reference.bytes), inputShape: m.reference.inputShape };
    farm
      .submit({ model, ...(reference ? { reference } : {}), ...(m.protocol ? { protocol: m.protocol } : {}), ...(m.backend ? { backend: m.backend } : {}), ...(m.selector ? { selector: m.selector } : {}) }, ac.signal)
      .then(
        (result) => reply({ type: 'result', id: m.id, result }),
        (e: Error) => replyError(m.id, e),
      )
      .finally(() => jobs.delete(m.id));
  };

  const onRequest = (m: ControlMessage) => {
    if (m.type === 'measure') {
      const max = farm.limits.maxModelBytes;
      const bytes = frameBytes(m);
      const what = m.reference ? 'model and reference' : 'model';
      const over = bytes > max ? `${what} of ${mebibytes(bytes)} exceed${m.reference ? '' : 's'} maxModelBytes ${mebibytes(max)}` : farm.overLimit(bytes);
      if (over) {
        discard = bytes;
        replyError(m.id, new LimitError(`'${m.name}' refused: ${over}`));
        return;
      }
      pending = m;
      // held from now on, so controllers sending at once cannot overshoot the caps together
      release = farm.reserve(bytes);
    } else if (m.type === 'cancel') (jobs.get(m.id) ?? waits.get(m.id))?.abort(new JobFailedError('cancelled by the controller'));
    else if (m.type === 'status') reply({ type: 'status', id: m.id, status: farm.status() });
    else {
      if (waits.has(m.id)) return reply({ type: 'error', id: m.id, message: `wait id ${m.id} in use` });
      const ac = new AbortController();
      waits.set(m.id, ac);
      farm
        .waitForDevice(m.selector ?? {}, m.timeoutMs, ac.signal)
        .then(
          (device) => reply({ type: 'device', id: m.id, device }),
          (e: Error) => replyError(m.id, e),
        )
        .finally(() => waits.delete(m.id));
    }
  };

  reply({ type: 'ready', v: PROTOCOL_VERSION, limits: farm.limits });
  ws.on('message', (data: RawData, isBinary: boolean) => {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (isBinary) return onModelFrame(buf);
    if (pending) return fail('expected the model bytes after measure');
    if (discard !== undefined) return fail('expected the (refused) model bytes after measure');
    let parsed;
    try {
      parsed = controlMessageSchema.safeParse(JSON.parse(buf.toString('utf8')));
    } catch {
      return fail('message is not JSON');
    }
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return fail(`malformed message: ${issue?.path.map(String).join('.') || 'message'}: ${issue?.message ?? 'invalid'}`);
    }
    onRequest(parsed.data);
  });
  ws.on('close', () => {
    onClosed();
    unreserve();
    pending = undefined;
    for (const ac of jobs.values()) ac.abort(new JobFailedError('controller disconnected'));
    for (const ac of waits.values()) ac.abort(new JobFailedError('controller disconnected'));
  });
  ws.on('error', () => {});
}

/** Bytes of a measure's binary frame: the model, then the reference's when it has one. */
function frameBytes(m: Extract<ControlMessage, { type: 'measure' }>): number {
  return m.bytes + (m.reference?.bytes ?? 0);
}
