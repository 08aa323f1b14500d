/**
 * The device farm's scheduler, without sockets: the devices that have joined, the jobs, and what
 * goes between them. A device is reached through a DevicePort (the server's WebSocket connection, a
 * fake in the tests).
 *
 * Jobs: FIFO queue; a job goes to the first idle, unflagged device matching its selector and
 * backend, one job at a time per device. If the device leaves or gives up mid-job, the job's runs are
 * discarded and it goes back to the front of the queue for another device (up to maxAttempts); if no
 * matching device is there within queueTimeoutMs, it fails with a reason. A device that reports
 * implausible timings is flagged (no more jobs while this queue lives, also after reconnecting under
 * the same id) and its job moves to another device or fails with the reason. A job that runs longer
 * than its protocol's maxSeconds plus jobGraceMs fails. A cancelled device stays busy until it
 * acknowledges the cancel, and is disconnected if it does not within cancelAckTimeoutMs.
 *
 * Caps: jobs held (queued or running) and their model bytes, counting reservations (jobs announced
 * by a controller whose model has not arrived yet).
 *
 * Events: device-joined (ConnectedDevice), device-left, device-flagged, job-started, job-requeued,
 * job-done, job-failed.
 */
import { EventEmitter } from 'node:events';
import type { DeviceDescription, MeasureProtocol } from '../device.js';
import { interleavedProtocol, BLOCK_SECONDS } from '../interleaved.js';
import { resolveProtocol } from '../protocol.js';
import {
  JobFailedError,
  NoDeviceError,
  LimitError,
  mebibytes,
  selectorMatches,
  selectorText,
  type ConnectedDevice,
  type DeviceSelector,
  type JobRequest,
  type JobResult,
} from './farm.js';
import { JobMeasurement, type DoneVerdict } from './job-measurement.js';
import { PairMeasurement } from './pair-measurement.js';
import type { Backend, DeviceMessage, PageDescription, ServerMessage } from './messages.js';
import type { TimingBounds } from './plausibility.js';

/** How the queue reaches one device. */
export interface DevicePort {
  send(message: ServerMessage): void;
  /** The model of the job just sent (a binary frame on the wire). */
  sendModel(onnx: Uint8Array): void;
  /** Ends the connection (a protocol violation, or a cancel never acknowledged). */
  disconnect(code: number, reason: string): void;
}

/** A device as it joins: what it said about itself and where it connects from. */
export interface JoiningDevice {
  id: string;
  name?: string;
  remoteAddress: string;
  connectedAt: string;
  page: PageDescription;
  description: DeviceDescription;
}

/** A device message about a job (everything but hello). */
export type JobMessage = Exclude<DeviceMessage, { type: 'hello' }>;

export interface JobQueueOptions {
  /** How long a queued job waits for a matching idle device before it fails. */
  queueTimeoutMs: number;
  /** Time a device gets beyond the protocol's maxSeconds to load the model, warm up and finish. */
  jobGraceMs: number;
  /** Devices a job may be tried on before it fails. */
  maxAttempts: number;
  /** A timed sample is at least this long (ms). */
  minSampleMs: number;
  /** Jobs held at once, queued or running. */
  maxQueuedJobs: number;
  /** Model bytes held at once by queued and running jobs. */
  maxQueuedBytes: number;
  timing: TimingBounds;
  /** Time a device has to acknowledge a cancel before it is disconnected (default 30 s). */
  cancelAckTimeoutMs?: number;
  /** Where devices join, named in "no device" failures. */
  joinUrl: () => string;
  log?: (line: string) => void;
  /** Wall clock in ms (default Date.now), for the page-clock plausibility check. */
  now?: () => number;
}

interface Job {
  id: number;
  req: JobRequest & { backend: Backend; protocol: MeasureProtocol };
  resolve: (r: JobResult) => void;
  reject: (e: Error) => void;
  attempts: number;
  /** Why earlier attempts ended (reported if the job fails). */
  history: string[];
  device?: Slot;
  queueTimer?: NodeJS.Timeout;
  runTimer?: NodeJS.Timeout;
  /** What the device has sent of this attempt: runs, or pairs of blocks for a job with a reference. */
  measurement?: JobMeasurement | PairMeasurement;
  /** When the job was last sent to a device (now()), for the page-clock check. */
  sentAt: number;
  bytes: number;
  settled: boolean;
  detachSignal?: () => void;
}

/** A joined device and what it is doing. */
interface Slot {
  info: JoiningDevice;
  port: DevicePort;
  state: ConnectedDevice['state'];
  job?: Job;
  /** Job id the device was told to cancel and has not acknowledged yet. */
  cancelling?: number;
  cancelTimer?: NodeJS.Timeout;
  jobsDone: number;
  gone: boolean;
}

export class JobQueue extends EventEmitter {
  private readonly slots = new Map<string, Slot>();
  private readonly queue: Job[] = [];
  /** Jobs queued or running (their model bytes are held). */
  private readonly held = new Set<Job>();
  private heldBytes = 0;
  private readonly reserved = { jobs: 0, bytes: 0 };
  /** Device id -> why it gets no more jobs. */
  private readonly flags = new Map<string, string>();
  private readonly waiters = new Set<() => void>();
  private nextJobId = 1;
  private closing = false;
  private readonly log: (line: string) => void;
  private readonly now: () => number;

  constructor(private readonly o: JobQueueOptions) {
    super();
    this.log = o.log ?? (() => {});
    this.now = o.now ?? Date.now;
  }

  // ---- what is there ----

  /** Joined devices, in the order they joined. */
  devices(): ConnectedDevice[] {
    return [...this.slots.values()].map((s) => this.listed(s));
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Jobs held (waiting or running) and their model bytes. */
  get heldJobs(): { jobs: number; bytes: number } {
    return { jobs: this.held.size, bytes: this.heldBytes };
  }

  /** Flagged device ids (connected or not) and why. */
  flagged(): Record<string, string> {
    return Object.fromEntries(this.flags);
  }

  /** The client id if no joined device has it, else the id with the first free -2, -3... suffix. */
  uniqueDeviceId(clientId: string): string {
    if (!this.slots.has(clientId)) return clientId;
    for (let i = 2; ; i++) if (!this.slots.has(`${clientId}-${i}`)) return `${clientId}-${i}`;
  }

  // ---- devices ----

  addDevice(info: JoiningDevice, port: DevicePort): void {
    if (this.slots.has(info.id)) throw new Error(`device id ${info.id} is taken`);
    const slot: Slot = { info, port, state: 'idle', jobsDone: 0, gone: false };
    this.slots.set(info.id, slot);
    const p = info.page;
    this.log(`device ${info.id}${info.name ? ` (${info.name})` : ''} joined from ${info.remoteAddress}: ${p.userAgent}; backends ${p.backends.join(',')}, ${p.threads} thread(s)`);
    this.emit('device-joined', this.listed(slot));
    for (const w of [...this.waiters]) w();
    this.dispatch();
  }

  /** The device left: a job it was running goes back to the queue. */
  removeDevice(id: string, why: string): void {
    const slot = this.slots.get(id);
    if (!slot) return;
    this.slots.delete(id);
    slot.gone = true;
    clearTimeout(slot.cancelTimer);
    this.log(`device ${id} left: ${why}`);
    this.emit('device-left', { id, reason: why });
    const job = slot.job;
    slot.job = undefined;
    if (job && !job.settled) this.requeueFrom(slot, job, `device ${id} disconnected mid-measurement (${why})`);
  }

  /** No more jobs for this device id while the queue lives. */
  flag(id: string, reason: string): void {
    if (this.flags.has(id)) return;
    this.flags.set(id, reason);
    this.log(`device ${id} flagged (no more jobs while this server runs): ${reason}`);
    this.emit('device-flagged', { id, reason });
  }

  /** A message from a joined device about a job. */
  onDeviceMessage(id: string, msg: JobMessage): void {
    const slot = this.slots.get(id);
    if (!slot) return;
    if (slot.state === 'cancelling' && msg.job === slot.cancelling) {
      if (msg.type === 'cancelled' || msg.type === 'done' || msg.type === 'failed') this.setIdle(slot);
      return;
    }
    const job = slot.job;
    // messages about a job this device no longer runs (e.g. racing a cancel) are ignored
    if (!job || msg.job !== job.id) return;
    switch (msg.type) {
      case 'loaded':
        if (job.measurement) return slot.port.disconnect(1008, 'loaded sent twice');
        if (job.req.reference && !msg.reference) return slot.port.disconnect(1008, 'loaded without the reference of an interleaved job');
        job.measurement = msg.reference
          ? new PairMeasurement(job.req.protocol, this.o.timing, msg.loadMs, msg.innerRepeats, msg.reference, job.sentAt)
          : new JobMeasurement(job.req.protocol, this.o.timing, msg.loadMs, msg.innerRepeats, job.sentAt);
        return;
      case 'runs':
      case 'pair': {
        const m = job.measurement;
        if (!m) return slot.port.disconnect(1008, `${msg.type} before loaded`);
        const verdict =
          msg.type === 'runs' && m instanceof JobMeasurement ? m.addRuns(msg.times, this.now(), msg.innerRepeats)
          : msg.type === 'pair' && m instanceof PairMeasurement ? m.addPair(msg.model, msg.reference, this.now(), { model: msg.innerRepeats, reference: msg.referenceRepeats })
          : undefined;
        if (!verdict) return slot.port.disconnect(1008, `${msg.type} in ${m instanceof PairMeasurement ? 'an interleaved' : 'a plain'} job`);
        if (verdict.stopNow) slot.port.send({ type: 'stop', job: job.id });
        if (verdict.implausible) this.rejectTimings(slot, job, verdict.implausible);
        return;
      }
      case 'done': {
        const m = job.measurement;
        const verdict: DoneVerdict | undefined = m?.finish(msg.reason);
        if (!m || !verdict || verdict.kind === 'no-runs') {
          this.finishOnDevice(slot, job, new JobFailedError(`device ${id} ended job ${job.id} without timed runs`));
          return;
        }
        if (verdict.kind === 'implausible') return this.rejectTimings(slot, job, verdict.reason, true);
        slot.jobsDone++;
        this.finishOnDevice(slot, job, {
          stats: verdict.stats,
          device: slot.info.description,
          times: verdict.times,
          backend: job.req.backend,
          innerRepeats: m.innerRepeats,
          loadMs: m.loadMs,
          attempts: job.attempts,
          ...(verdict.pair ? { pair: verdict.pair } : {}),
        });
        return;
      }
      case 'failed':
        this.finishOnDevice(slot, job, new JobFailedError(`device ${id} could not run '${job.req.model.name}': ${msg.error}`));
        return;
      case 'cancelled':
        // the device gave up on its own (e.g. page hidden); try elsewhere
        this.requeueFrom(slot, job, `device ${id} cancelled it`);
        this.setIdle(slot);
        return;
    }
  }

  /** Resolves with the first joined, unflagged device matching the selector, waiting up to timeoutMs. */
  waitForDevice(selector: DeviceSelector = {}, timeoutMs = this.o.queueTimeoutMs, signal?: AbortSignal): Promise<ConnectedDevice> {
    const find = () => this.devices().find((d) => d.flagged === undefined && selectorMatches(selector, d.id, d.name));
    const found = find();
    if (found) return Promise.resolve(found);
    return new Promise<ConnectedDevice>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
        signal?.removeEventListener('abort', onAbort);
      };
      const check = () => {
        const d = find();
        if (d) {
          cleanup();
          resolve(d);
        } else if (this.closing) {
          cleanup();
          reject(new JobFailedError('device server closed'));
        }
      };
      const onAbort = () => {
        cleanup();
        reject(abortReason(signal));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new NoDeviceError(`no browser device${selectorText(selector)} joined within ${Math.round(timeoutMs / 1000)} s (open ${this.o.joinUrl()})${this.flaggedText(selector)}`));
      }, timeoutMs);
      this.waiters.add(check);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  // ---- jobs ----

  /** Queues a measurement; resolves with the statistics from the device that ran it. */
  submit(req: JobRequest, signal?: AbortSignal): Promise<JobResult> {
    if (this.closing) return Promise.reject(new JobFailedError('device server closed'));
    for (const shape of [req.model.inputShape, ...(req.reference ? [req.reference.inputShape] : [])]) {
      if (shape.length !== 4 || !shape.every((d) => Number.isSafeInteger(d) && d > 0)) {
        return Promise.reject(new RangeError(`inputShape must be 4 positive integers, got ${JSON.stringify(shape)}`));
      }
    }
    let protocol: MeasureProtocol;
    try {
      protocol = req.reference ? interleavedProtocol(req.protocol ?? {}) : resolveProtocol(req.protocol ?? {});
    } catch (e) {
      return Promise.reject(e as Error);
    }
    const bytes = req.model.onnx.byteLength + (req.reference?.onnx.byteLength ?? 0);
    const over = this.overLimit(bytes);
    if (over) return Promise.reject(new LimitError(`'${req.model.name}' refused: ${over}`));
    return new Promise<JobResult>((resolve, reject) => {
      const job: Job = {
        id: this.nextJobId++,
        req: { ...req, backend: req.backend ?? 'wasm', protocol },
        resolve,
        reject,
        attempts: 0,
        history: [],
        sentAt: 0,
        bytes,
        settled: false,
      };
      if (signal) {
        if (signal.aborted) {
          reject(abortReason(signal));
          return;
        }
        const onAbort = () => this.abortJob(job, abortReason(signal));
        signal.addEventListener('abort', onAbort, { once: true });
        job.detachSignal = () => signal.removeEventListener('abort', onAbort);
      }
      this.held.add(job);
      this.heldBytes += bytes;
      this.enqueue(job, false);
      this.dispatch();
    });
  }

  /** Why one more job of `bytes` would exceed a cap (counting held jobs and reservations), or undefined. */
  overLimit(bytes: number): string | undefined {
    const jobs = this.held.size + this.reserved.jobs;
    const held = this.heldBytes + this.reserved.bytes;
    if (jobs + 1 > this.o.maxQueuedJobs) return `${jobs} jobs already queued or running (maxQueuedJobs ${this.o.maxQueuedJobs})`;
    if (held + bytes > this.o.maxQueuedBytes) return `model of ${mebibytes(bytes)} on top of ${mebibytes(held)} held exceeds maxQueuedBytes ${mebibytes(this.o.maxQueuedBytes)}`;
    return undefined;
  }

  /**
   * Counts one announced job of `bytes` against the caps until the returned release is called (once
   * its model arrives and it is submitted, or it never will be), so that controllers sending at once
   * cannot overshoot the caps together.
   */
  reserve(bytes: number): () => void {
    this.reserved.jobs += 1;
    this.reserved.bytes += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.reserved.jobs -= 1;
      this.reserved.bytes -= bytes;
    };
  }

  /** Fails every held job with `reason` and takes no more. */
  close(reason: Error): void {
    if (this.closing) return;
    this.closing = true;
    for (const job of [...this.queue]) this.settle(job, reason);
    for (const slot of this.slots.values()) if (slot.job) this.settle(slot.job, reason);
    for (const job of [...this.held]) this.settle(job, reason);
    for (const slot of this.slots.values()) clearTimeout(slot.cancelTimer);
    for (const w of [...this.waiters]) w();
  }

  private listed(s: Slot): ConnectedDevice {
    const { id, name, remoteAddress, connectedAt, page, description } = s.info;
    const d: ConnectedDevice = { id, remoteAddress, connectedAt, state: s.state, jobsDone: s.jobsDone, page, description };
    if (name) d.name = name;
    const flag = this.flags.get(id);
    if (flag !== undefined) d.flagged = flag;
    return d;
  }

  private flaggedText(selector: DeviceSelector | undefined): string {
    const f = this.devices().filter((d) => d.flagged !== undefined && selectorMatches(selector, d.id, d.name));
    return f.length ? `; flagged, no jobs: ${f.map((d) => `${d.id} (${d.flagged})`).join(', ')}` : '';
  }

  /** Whether a joined, unflagged device could take the job (selector and backend), busy or not. */
  private hasDeviceFor(job: Job): boolean {
    return [...this.slots.values()].some((s) => this.canRun(s, job));
  }

  private canRun(s: Slot, job: Job): boolean {
    return !this.flags.has(s.info.id) && selectorMatches(job.req.selector, s.info.id, s.info.name) && s.info.page.backends.includes(job.req.backend);
  }

  private enqueue(job: Job, front: boolean): void {
    if (front) this.queue.unshift(job);
    else this.queue.push(job);
    this.armQueueTimer(job);
  }

  /** Fails a queued job once no matching device has been there for queueTimeoutMs. */
  private armQueueTimer(job: Job): void {
    clearTimeout(job.queueTimer);
    job.queueTimer = setTimeout(() => {
      if (job.settled || !this.queue.includes(job)) return;
      // a matching device that is busy (e.g. with earlier jobs) will take it: keep waiting
      if (this.hasDeviceFor(job)) {
        this.armQueueTimer(job);
        return;
      }
      const where = job.history.length ? `${job.history.join('; ')}; ` : '';
      const backend = job.req.backend === 'wasm' ? '' : ` supporting ${job.req.backend}`;
      this.settle(
        job,
        new NoDeviceError(
          `${where}no browser device${selectorText(job.req.selector)}${backend} available within ${Math.round(this.o.queueTimeoutMs / 1000)} s to measure '${job.req.model.name}' (open ${this.o.joinUrl()})${this.flaggedText(job.req.selector)}`,
        ),
      );
    }, this.o.queueTimeoutMs);
  }

  private dispatch(): void {
    if (this.closing) return;
    for (const job of [...this.queue]) {
      const slot = [...this.slots.values()].find((s) => !s.gone && s.state === 'idle' && this.canRun(s, job));
      if (!slot) continue;
      this.queue.splice(this.queue.indexOf(job), 1);
      clearTimeout(job.queueTimer);
      this.start(slot, job);
    }
  }

  private start(slot: Slot, job: Job): void {
    const p = job.req.protocol;
    slot.state = 'busy';
    slot.job = job;
    job.device = slot;
    job.attempts++;
    job.measurement = undefined;
    const onnx = job.req.model.onnx;
    const reference = job.req.reference;
    slot.port.send({
      type: 'job',
      job: job.id,
      name: job.req.model.name,
      inputShape: [...job.req.model.inputShape],
      backend: job.req.backend,
      warmupRuns: p.warmupRuns,
      warmupSeconds: p.warmupSeconds ?? 0,
      maxRuns: p.maxRuns,
      maxSeconds: p.maxSeconds,
      minSampleMs: this.o.minSampleMs,
      bytes: onnx.byteLength,
      ...(reference ? { reference: { name: reference.name, inputShape: [...reference.inputShape], bytes: reference.onnx.byteLength }, blockMs: (p.blockSeconds ?? BLOCK_SECONDS) * 1000 } : {}),
    });
    slot.port.sendModel(reference ? concatBytes(onnx, reference.onnx) : onnx);
    job.sentAt = this.now();
    this.emit('job-started', { job: job.id, device: slot.info.id, attempt: job.attempts });
    const limitMs = p.maxSeconds * 1000 + this.o.jobGraceMs;
    job.runTimer = setTimeout(() => {
      if (slot.job !== job) return;
      this.settle(job, new JobFailedError(`device ${slot.info.id} did not finish '${job.req.model.name}' within ${Math.round(limitMs / 1000)} s`));
      this.cancelOnDevice(slot, job.id);
    }, limitMs);
  }

  /**
   * The device reported implausible timings for `job`: flag it, stop the job there, and retry the job
   * on another device (if one that could take it is joined) or fail it with the reason.
   */
  private rejectTimings(slot: Slot, job: Job, reason: string, deviceDone = false): void {
    const id = slot.info.id;
    this.flag(id, `implausible timings: ${reason}`);
    clearTimeout(job.runTimer);
    if (deviceDone) this.setIdle(slot);
    else this.cancelOnDevice(slot, job.id);
    this.requeueFrom(slot, job, `device ${id} reported implausible timings for '${job.req.model.name}' (${reason}); device flagged`, { onlyToAnotherDevice: true });
  }

  /**
   * Takes the job back from the device and queues it again, or fails it once it has had its
   * attempts (or, with onlyToAnotherDevice, when no other device could take it now).
   */
  private requeueFrom(slot: Slot, job: Job, why: string, o: { onlyToAnotherDevice?: boolean } = {}): void {
    clearTimeout(job.runTimer);
    if (job.device === slot) job.device = undefined;
    job.history.push(why);
    job.measurement = undefined;
    if (job.settled) return;
    const noOther = o.onlyToAnotherDevice === true && !this.hasDeviceFor(job);
    if (noOther || job.attempts >= this.o.maxAttempts) {
      this.settle(job, new JobFailedError(`${job.history.join('; ')}${noOther ? '; no other device to retry on' : `; gave up after ${job.attempts} attempts`}`));
      return;
    }
    this.log(`job ${job.id} ('${job.req.model.name}'): ${why}; queued for another device`);
    this.emit('job-requeued', { job: job.id, reason: why });
    this.enqueue(job, true);
    this.dispatch();
  }

  private abortJob(job: Job, reason: Error): void {
    if (job.settled) return;
    const slot = job.device;
    this.settle(job, reason);
    if (slot && !slot.gone && slot.job === job) this.cancelOnDevice(slot, job.id);
  }

  private cancelOnDevice(slot: Slot, jobId: number): void {
    slot.job = undefined;
    slot.state = 'cancelling';
    slot.cancelling = jobId;
    slot.port.send({ type: 'cancel', job: jobId });
    clearTimeout(slot.cancelTimer);
    slot.cancelTimer = setTimeout(() => slot.port.disconnect(1008, 'cancel not acknowledged'), this.o.cancelAckTimeoutMs ?? 30_000);
  }

  private finishOnDevice(slot: Slot, job: Job, outcome: JobResult | Error): void {
    this.settle(job, outcome);
    this.setIdle(slot);
  }

  private setIdle(slot: Slot): void {
    slot.job = undefined;
    slot.cancelling = undefined;
    clearTimeout(slot.cancelTimer);
    slot.state = 'idle';
    this.dispatch();
  }

  private settle(job: Job, outcome: JobResult | Error): void {
    if (job.settled) return;
    job.settled = true;
    clearTimeout(job.queueTimer);
    clearTimeout(job.runTimer);
    job.detachSignal?.();
    const i = this.queue.indexOf(job);
    if (i >= 0) this.queue.splice(i, 1);
    if (this.held.delete(job)) this.heldBytes -= job.bytes;
    // the model bytes are what is big; the job object may outlive this (e.g. referenced by a device's state)
    job.req = { ...job.req, model: { ...job.req.model, onnx: new Uint8Array(0) }, ...(job.req.reference ? { reference: { ...job.req.reference, onnx: new Uint8Array(0) } } : {}) };
    if (outcome instanceof Error) {
      this.emit('job-failed', { job: job.id, reason: outcome.message });
      job.reject(outcome);
    } else {
      this.emit('job-done', { job: job.id, device: outcome.device.id, latency_ms: outcome.stats.latency_ms });
      job.resolve(outcome);
    }
  }
}

function abortReason(signal: AbortSignal | undefined): Error {
  return signal?.reason instanceof Error ? signal.reason : new Error('aborted');
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}
