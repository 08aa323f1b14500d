// mnas browser latency device: the page a phone (or any browser) opens to become a measurement device.
// Protocol: see src/latency/browser/messages.ts. Plain ES module, no build step, served by server.ts.
//
// URL parameters: token (required), name (label shown by the server, e.g. name=pixel7),
// threads (onnxruntime-web WASM threads, default 1; >1 needs a cross-origin isolated secure context).

import { calibrateRepeats, Sampler, sampleTargetMs } from './sample-timing.js';

const params = new URLSearchParams(location.search);
const token = params.get('token') || '';
const deviceName = (params.get('name') || '').replace(/[^A-Za-z0-9 _.:-]/g, '').slice(0, 64) || undefined;
const threadsWanted = Math.min(256, Math.max(1, parseInt(params.get('threads') || '1', 10) || 1));

const $ = (id) => document.getElementById(id);
const setStatus = (s) => ($('status').textContent = s);
const logLines = [];
function log(s) {
  logLines.unshift(`${new Date().toLocaleTimeString()} ${s}`);
  logLines.length = Math.min(logLines.length, 60);
  $('log').textContent = logLines.join('\n');
}

function clientId() {
  let id = null;
  try {
    id = localStorage.getItem('mnas-device-id');
    if (!id || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
      const b = crypto.getRandomValues(new Uint8Array(6));
      id = 'b' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
      localStorage.setItem('mnas-device-id', id);
    }
  } catch {
    const b = crypto.getRandomValues(new Uint8Array(6));
    id = 'b' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }
  return id;
}

function simdSupported() {
  // (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)), from wasm-feature-detect
  const bytes = Uint8Array.from(atob('AGFzbQEAAAABBQFgAAF7AwIBAAoKAQgAQQD9D/1iCw'), (c) => c.charCodeAt(0));
  try {
    return WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

async function webgpuAvailable() {
  if (!('gpu' in navigator) || !navigator.gpu) return false;
  try {
    const adapter = await Promise.race([navigator.gpu.requestAdapter(), new Promise((r) => setTimeout(() => r(null), 3000))]);
    return !!adapter;
  } catch {
    return false;
  }
}

function timerResolution() {
  let best = Infinity;
  const end = performance.now() + 20;
  let prev = performance.now();
  while (prev < end) {
    const t = performance.now();
    if (t > prev) {
      best = Math.min(best, t - prev);
      prev = t;
    }
  }
  return Number.isFinite(best) ? best : 0;
}

// a macrotask boundary without setTimeout's clamping, so WebSocket messages (stop, cancel) get handled
const channel = new MessageChannel();
const yieldQueue = [];
channel.port1.onmessage = () => yieldQueue.shift()?.();
const yieldToEventLoop = () => new Promise((r) => { yieldQueue.push(r); channel.port2.postMessage(0); });

let ort = null;
let description = null;
let ws = null;
let deviceId = null;
let reconnectMs = 1000;
let pendingJob = null; // job header waiting for its binary frame
const jobQueue = [];
let current = null;
let wakeLock = null;

function send(msg) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
}

async function init() {
  if (!token) {
    setStatus('missing ?token= in the URL: open the exact URL the server printed');
    return;
  }
  setStatus('loading onnxruntime-web…');
  const simd = simdSupported();
  const webgpu = await webgpuAvailable();
  // ort.min.mjs carries the WebGPU backend too but is a larger download: only where WebGPU works
  const bundle = webgpu ? 'ort.min.mjs' : 'ort.wasm.min.mjs';
  ort = await import(`/ort/${bundle}`);
  const threads = self.crossOriginIsolated ? threadsWanted : 1;
  if (threads !== threadsWanted) log(`threads=${threadsWanted} needs cross-origin isolation (https or localhost); using 1`);
  ort.env.wasm.wasmPaths = new URL('/ort/', location.href).href;
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
  let hi = {};
  try {
    if (navigator.userAgentData?.getHighEntropyValues) hi = await navigator.userAgentData.getHighEntropyValues(['architecture', 'model', 'platform', 'platformVersion']);
  } catch {
    hi = {};
  }
  const platform = [hi.platform || navigator.userAgentData?.platform || navigator.platform || '', hi.platformVersion || ''].join(' ').trim();
  description = {
    userAgent: navigator.userAgent.slice(0, 512),
    platform: platform ? platform.slice(0, 128) : undefined,
    model: hi.model ? String(hi.model).slice(0, 128) : undefined,
    architecture: hi.architecture ? String(hi.architecture).slice(0, 64) : undefined,
    hardwareConcurrency: navigator.hardwareConcurrency || 0,
    deviceMemoryGb: typeof navigator.deviceMemory === 'number' ? navigator.deviceMemory : undefined,
    ortVersion: String(ort.env.versions?.web ?? ort.env.versions?.common ?? 'unknown').slice(0, 64),
    ortBundle: bundle,
    backends: webgpu ? ['wasm', 'webgpu'] : ['wasm'],
    simd,
    threads,
    crossOriginIsolated: !!self.crossOriginIsolated,
    webgpu,
    timerResolutionMs: timerResolution(),
  };
  $('info').textContent = Object.entries(description).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${v}`).join('\n');
  if (!simd) log('this browser lacks WebAssembly SIMD: onnxruntime-web 1.30 needs it, jobs will fail');
  connect();
}

function connect() {
  setStatus('connecting…');
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  ws = new WebSocket(`${proto}//${location.host}/ws?token=${encodeURIComponent(token)}`);
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => {
    reconnectMs = 1000;
    const hello = { type: 'hello', v: 1, clientId: clientId(), description };
    if (deviceName) hello.name = deviceName;
    send(hello);
  };
  ws.onmessage = (ev) => onMessage(ev.data);
  ws.onclose = (ev) => {
    if (current) current.cancel = true;
    jobQueue.length = 0;
    pendingJob = null;
    if (ev.code === 1008) {
      setStatus(`disconnected by the server: ${ev.reason || 'policy violation'} (reload to retry)`);
      return;
    }
    setStatus(`disconnected (${ev.code}${ev.reason ? ' ' + ev.reason : ''}); retrying in ${Math.round(reconnectMs / 1000)} s`);
    setTimeout(connect, reconnectMs);
    reconnectMs = Math.min(reconnectMs * 2, 30000);
  };
}

function onMessage(data) {
  if (typeof data !== 'string') {
    if (!pendingJob) return;
    const job = { ...pendingJob, model: new Uint8Array(data), stop: false, cancel: false };
    pendingJob = null;
    jobQueue.push(job);
    pump();
    return;
  }
  const m = JSON.parse(data);
  switch (m.type) {
    case 'welcome':
      deviceId = m.deviceId;
      setStatus(`connected as ${deviceId}${deviceName ? ` (${deviceName})` : ''}: waiting for jobs`);
      log(`joined as ${deviceId}`);
      break;
    case 'job':
      pendingJob = m;
      break;
    case 'stop':
      if (current && current.job === m.job) current.stop = true;
      break;
    case 'cancel': {
      if (current && current.job === m.job) current.cancel = true;
      const i = jobQueue.findIndex((j) => j.job === m.job);
      if (i >= 0) {
        jobQueue.splice(i, 1);
        send({ type: 'cancelled', job: m.job });
      }
      break;
    }
  }
}

let pumping = false;
async function pump() {
  if (pumping) return;
  pumping = true;
  try {
    while (jobQueue.length) {
      current = jobQueue.shift();
      await runJob(current);
      current = null;
      if (ws && ws.readyState === WebSocket.OPEN) setStatus(`connected as ${deviceId}: waiting for jobs`);
    }
  } finally {
    pumping = false;
  }
}

function inputData(n) {
  // deterministic pseudo-random input in [-1, 1)
  const a = new Float32Array(n);
  let s = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    a[i] = ((s >>> 0) / 4294967296) * 2 - 1;
  }
  return a;
}

/** A session for `bytes` with its input, ready to time: run() is one inference. */
async function openModel(bytes, inputShape, backend) {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: [backend], graphOptimizationLevel: 'all' });
  try {
    if (session.inputNames.length !== 1) throw new Error(`model has ${session.inputNames.length} inputs; one expected`);
    const n = inputShape.reduce((a, b) => a * b, 1);
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', inputData(n), inputShape) };
    // the first run tells the output shapes; later runs write into preallocated outputs where the backend allows
    const first = await session.run(feeds);
    let run = () => session.run(feeds);
    if (backend === 'wasm') {
      const fetches = {};
      for (const name of session.outputNames) fetches[name] = new ort.Tensor(first[name].type, new first[name].data.constructor(first[name].size), first[name].dims);
      try {
        await session.run(feeds, fetches);
        run = () => session.run(feeds, fetches);
      } catch {
        // keep plain runs
      }
    }
    return { session, run };
  } catch (e) {
    await session.release().catch(() => {});
    throw e;
  }
}

async function runJob(job) {
  const sessions = [];
  const id = job.job;
  if (!wakeLock || wakeLock.released) wakeLock = (await navigator.wakeLock?.request('screen').catch(() => null)) || null;
  try {
    setStatus(`job ${id}: loading '${job.name}' (${(job.bytes / 1024).toFixed(0)} KiB, ${job.backend})`);
    const t0 = performance.now();
    const model = await openModel(job.model.subarray(0, job.bytes), job.inputShape, job.backend);
    sessions.push(model.session);
    const loadMs = performance.now() - t0;
    let reference = null;
    let referenceLoadMs = 0;
    if (job.reference) {
      const r0 = performance.now();
      reference = await openModel(job.model.subarray(job.bytes), job.reference.inputShape, job.backend);
      sessions.push(reference.session);
      referenceLoadMs = performance.now() - r0;
    }
    const warmupMs = [];
    const w0 = performance.now();
    for (let i = 0; i < job.warmupRuns || performance.now() - w0 < job.warmupSeconds * 1000; i++) {
      if (job.cancel) return cancelled(id);
      const a = performance.now();
      await model.run();
      warmupMs.push(performance.now() - a);
      if (reference) await reference.run();
      if (i % 8 === 7) await yieldToEventLoop();
      if (performance.now() - w0 > job.maxSeconds * 1000 || warmupMs.length >= 10000) break;
    }
    const targetMs = sampleTargetMs(job.minSampleMs, description.timerResolutionMs);
    const now = () => performance.now();
    const sampler = new Sampler(model.run, await calibrateRepeats(model.run, targetMs, now), targetMs, now);
    const referenceSampler = reference ? new Sampler(reference.run, await calibrateRepeats(reference.run, targetMs, now), targetMs, now) : null;
    await yieldToEventLoop();
    send({ type: 'loaded', job: id, backend: job.backend, loadMs, warmupMs, innerRepeats: sampler.repeats, ...(referenceSampler ? { reference: { loadMs: referenceLoadMs, innerRepeats: referenceSampler.repeats } } : {}) });
    setStatus(`job ${id}: timing '${job.name}'${reference ? ` in turn with '${job.reference.name}'` : ''}`);
    const reason = referenceSampler ? await timePairs(job, sampler, referenceSampler) : await timeRuns(job, sampler);
    if (job.cancel) return cancelled(id);
    send({ type: 'done', job: id, reason });
    log(`job ${id} '${job.name}': ${reason}`);
  } catch (e) {
    const msg = String(e?.message ?? e).slice(0, 1900);
    log(`job ${id} failed: ${msg}`);
    send({ type: 'failed', job: id, error: msg || 'unknown error' });
  } finally {
    for (const s of sessions) await s.release().catch(() => {});
  }
}

/**
 * Timed samples streamed in batches until the server says stop or a cap is reached; the reason.
 * Each batch says how many inferences its samples hold (the sampler may grow it: ./sample-timing.js).
 */
async function timeRuns(job, sampler) {
  const id = job.job;
  const start = performance.now();
  let batch = [];
  let batchRepeats = sampler.repeats;
  let lastFlush = start;
  let count = 0;
  let reason;
  const flush = () => {
    if (batch.length) send({ type: 'runs', job: id, times: batch, innerRepeats: batchRepeats });
    batch = [];
  };
  for (;;) {
    if (job.cancel) break;
    if (job.stop) { reason = 'stopped'; break; }
    if (count >= job.maxRuns) { reason = 'maxRuns'; break; }
    if (performance.now() - start >= job.maxSeconds * 1000) { reason = 'maxSeconds'; break; }
    const repeats = sampler.repeats;
    const t = await sampler.sample();
    if (t !== null) {
      if (repeats !== batchRepeats) {
        flush();
        batchRepeats = repeats;
      }
      batch.push(t);
      count++;
    }
    const now = performance.now();
    if (now - lastFlush >= 100 || batch.length >= 512) {
      flush();
      await yieldToEventLoop(); // lets 'stop' / 'cancel' arrive; outside the timed region
      lastFlush = performance.now();
    }
  }
  if (!job.cancel) flush();
  return reason;
}

/** `n` samples of one sampler, all holding the same number of inferences (restarted if it grows). */
async function block(sampler, n) {
  let times = [];
  let repeats = sampler.repeats;
  while (times.length < n) {
    const t = await sampler.sample();
    if (t === null) {
      times = [];
      repeats = sampler.repeats;
    } else times.push(t);
  }
  return { times, repeats };
}

/**
 * Interleaved with a reference (src/latency/interleaved.ts): blocks of the model's and of the
 * reference's samples in turn, each pair sent as it ends, until the server says stop or a cap.
 */
async function timePairs(job, sampler, referenceSampler) {
  const id = job.job;
  const probe = async (s) => { const b = await block(s, 1); return b.times[0] * b.repeats; };
  const longest = Math.max(await probe(sampler), await probe(referenceSampler));
  const perBlock = Math.max(3, Math.min(1000, Math.round(job.blockMs / Math.max(longest, 1e-3))));
  const start = performance.now();
  let count = 0; // pairs
  for (;;) {
    if (job.cancel) return undefined;
    if (job.stop) return 'stopped';
    if (count * perBlock >= job.maxRuns) return 'maxRuns';
    if (performance.now() - start >= job.maxSeconds * 1000) return 'maxSeconds';
    // which goes first alternates: the block right after the yield below would otherwise always be the model's
    let model;
    let reference;
    if (count % 2 === 0) {
      model = await block(sampler, perBlock);
      reference = await block(referenceSampler, perBlock);
    } else {
      reference = await block(referenceSampler, perBlock);
      model = await block(sampler, perBlock);
    }
    count++;
    send({ type: 'pair', job: id, model: model.times, reference: reference.times, innerRepeats: model.repeats, referenceRepeats: reference.repeats });
    await yieldToEventLoop(); // lets 'stop' / 'cancel' arrive; outside the timed region
  }
}

function cancelled(id) {
  log(`job ${id} cancelled`);
  send({ type: 'cancelled', job: id });
}

document.addEventListener('visibilitychange', () => {
  // a hidden tab is throttled: its timings would be wrong, so give the job back
  if (document.hidden && current) {
    current.cancel = true;
    log('tab hidden: job handed back');
  }
});

init().catch((e) => {
  setStatus(`failed to start: ${e?.message ?? e}`);
  console.error(e);
});
