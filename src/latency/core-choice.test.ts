import { test } from 'node:test';
import assert from 'node:assert/strict';
import { currentCore, mainThreadCores, onFastestCore, parseCpuList, pickCoreEnabled, PROBE_SECONDS } from './core-choice.js';
import { resolveModel } from './model.js';
import { PROFILE_PROTOCOL, resolveProtocol } from './protocol.js';
import { OrtCpuDevice } from './ort-cpu.js';

const QUICK = { warmupRuns: 3, warmupSeconds: 0, minRuns: 15, minSeconds: 0.02, maxSeconds: 0.3 };
const cores = mainThreadCores();
const skip = !cores || cores.length < 2 ? 'needs Linux and at least 2 cores for this thread' : false;

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

test('parseCpuList reads kernel CPU lists and refuses anything else', () => {
  assert.deepEqual(parseCpuList('0'), [0]);
  assert.deepEqual(parseCpuList('0-3,5,7-8\n'), [0, 1, 2, 3, 5, 7, 8]);
  for (const bad of ['', '1-', 'a', '3-1', '0,,1']) assert.throws(() => parseCpuList(bad), /not a CPU list/, bad);
  assert.equal(pickCoreEnabled({}), true);
  assert.equal(pickCoreEnabled({ MNAS_PICK_CORE: '0' }), false);
});

test('onFastestCore runs the body on the core where the probe was fastest, then gives the thread its cores back', { skip }, async () => {
  const slow = cores![0]!;
  // the probe is 4x slower on the first core, wherever the scheduler would have put the thread
  const probe = async (): Promise<void> => busyWait(currentCore() === slow ? 0.4 : 0.1);
  let probedSeconds = 0;
  const { value, choice } = await onFastestCore(probe, async (seconds) => {
    probedSeconds = seconds;
    return currentCore();
  });
  assert.ok(choice, 'a core was chosen');
  // every core probed for at least PROBE_SECONDS: the body may count that as warm-up
  assert.ok(probedSeconds >= Math.min(cores!.length, 8) * PROBE_SECONDS, String(probedSeconds));
  assert.notEqual(choice.core, slow);
  assert.equal(value, choice.core, 'the body ran on the chosen core');
  assert.deepEqual(Object.keys(choice.probe_median_ms).map(Number), cores!.slice(0, 8));
  assert.ok(choice.probe_median_ms[String(slow)]! > 2 * choice.probe_median_ms[String(choice.core)]!);
  assert.deepEqual(mainThreadCores(), cores);
});

test('onFastestCore restores the cores when the body throws, and does nothing with MNAS_PICK_CORE=0', { skip }, async () => {
  await assert.rejects(onFastestCore(async () => {}, async () => Promise.reject(new Error('body failed'))), /body failed/);
  assert.deepEqual(mainThreadCores(), cores);
  process.env.MNAS_PICK_CORE = '0';
  try {
    let probed = 0;
    let probedSeconds = -1;
    const r = await onFastestCore(async () => void probed++, async (seconds) => {
      probedSeconds = seconds;
      return mainThreadCores();
    });
    assert.equal(r.choice, undefined);
    assert.equal(probedSeconds, 0);
    assert.equal(probed, 0);
    assert.deepEqual(r.value, cores);
  } finally {
    delete process.env.MNAS_PICK_CORE;
  }
});

test('ort-cpu counts the core probe toward the warm-up; without a core choice the warm-up is whole', { skip }, async () => {
  const model = resolveModel('bench-fmnist');
  const protocol = { ...QUICK, warmupSeconds: 0.3 };
  const picked = (await new OrtCpuDevice({ threads: 1 }).measure(model, protocol)) as { warmup_seconds?: number };
  const whole = (await new OrtCpuDevice({ threads: 1, pickCore: false }).measure(model, protocol)) as { warmup_seconds?: number };
  assert.ok(whole.warmup_seconds! >= 0.3, String(whole.warmup_seconds));
  // each core's probe runs at least PROBE_SECONDS; the warm-up stops within a run of what is left
  const left = 0.3 - Math.min(cores!.length, 8) * PROBE_SECONDS;
  assert.ok(picked.warmup_seconds! < left + 0.02, `${picked.warmup_seconds} s of warm-up after the probes, at most ${left} s were left`);
});

test('ort-cpu with one thread records the core it measured on, alone and interleaved; not with pickCore off or two threads', { skip }, async () => {
  const model = resolveModel('bench-fmnist');
  const reference = resolveModel('fmnist-default');
  const one = new OrtCpuDevice({ threads: 1 });
  const alone = await one.measure(model, QUICK);
  assert.ok(alone.core && cores!.includes(alone.core.core), JSON.stringify(alone.core));
  assert.equal(Object.keys(alone.core.probe_median_ms).length, Math.min(cores!.length, 8));
  const paired = await one.measureAgainst(model, reference, { ...QUICK, maxSeconds: 0.5, sessions: 1 });
  assert.ok(paired.core && cores!.includes(paired.core.core));
  assert.ok(paired.ratio > 0);
  assert.deepEqual(mainThreadCores(), cores);
  assert.equal((await new OrtCpuDevice({ threads: 1, pickCore: false }).measure(model, QUICK)).core, undefined);
  // single layers (PROFILE_PROTOCOL) are measured where the thread is: the probe would cost more than the layer
  assert.equal((await one.measure(model, { ...PROFILE_PROTOCOL, maxRuns: 50 })).core, undefined);
  assert.throws(() => resolveProtocol({ pickCore: 'yes' as unknown as boolean }), /pickCore must be true or false/);
  assert.equal((await new OrtCpuDevice({ threads: 2 }).measure(model, QUICK)).core, undefined);
});
