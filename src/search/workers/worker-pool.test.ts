import { test } from 'node:test';
import assert from 'node:assert/strict';
import { processCpuSeconds as cpuSeconds, processState } from '../../util/proc-stat.js';
import { WorkerPool } from './worker-pool.js';
import type { ProxySettings } from '../proxy-trainer.js';
import { buildPlan } from '../../model/plan.js';
import { parseArch } from '../../space/arch-string.js';

// the synthetic set loads in milliseconds; 28x28x1, 10 classes
const settings: ProxySettings = { dataset: { name: 'synthetic', validationImages: 256 }, images: 512, epochs: 1, threads: 1, splitSeed: 0 };
const ARCH = buildPlan(parseArch('in28x28x1_cls10_stem8s2_head0:r1_k3_s22_e3_i8_o16,r1_k3_s11_e3_i16_o16'));
/** A few seconds per trial at 4,096 images. */
const SLOW_ARCH = buildPlan(parseArch('in28x28x1_cls10_stem16s1_head0:r1_k3_s22_e3_i16_o24,r2_k3_s11_e6_i24_o24'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function untilTraining(pool: WorkerPool): Promise<number> {
  for (;;) {
    const [pid] = pool.training;
    if (pid !== undefined) return pid;
    await sleep(20);
  }
}


test('WorkerPool: trials run in worker processes, two at once, with the same result for the same seed', async () => {
  const pool = await WorkerPool.start({ workers: 2, settings });
  try {
    assert.equal(pool.pids.length, 2);
    assert.ok(!pool.pids.includes(process.pid));
    const [a, b, c] = await Promise.all([pool.train({ plan: ARCH, seed: 1 }), pool.train({ plan: ARCH, seed: 1 }), pool.train({ plan: ARCH, seed: 2 })]);
    assert.equal(a.status, 'done');
    assert.equal(b.status, 'done');
    assert.equal(c.status, 'done');
    if (a.status !== 'done' || b.status !== 'done') return;
    assert.equal(a.valAccuracy, b.valAccuracy, 'same arch and seed on different workers: same accuracy');
    assert.ok(a.memory!.peakRssBytes === null || a.memory!.peakRssBytes > 0);
    assert.equal(a.memory!.allocator, 'caching');
    assert.ok(a.memory!.cacheHitRate! > 0.5, `cache hit rate ${a.memory!.cacheHitRate}`);
    assert.deepEqual(new Set([a.worker, b.worker]), new Set([0, 1]), 'both workers used');
  } finally {
    await pool.close();
  }
  assert.equal(pool.pids.length, 0, 'all workers exited');
});

test('WorkerPool: a worker killed mid-trial is replaced and the trial retried once; dying twice fails the trial with the reason', async () => {
  const pool = await WorkerPool.start({ workers: 1, settings: { ...settings, images: 4096 } });
  try {
    const trial = pool.train({ plan: SLOW_ARCH, seed: 3 });
    const first = await untilTraining(pool);
    await sleep(300);
    process.kill(first, 'SIGKILL');
    const r = await trial;
    assert.equal(r.status, 'done', JSON.stringify(r));
    assert.equal(r.attempts, 2);
    assert.equal(pool.replacements, 1);
    assert.notEqual(pool.pids[0], first);

    const doomed = pool.train({ plan: SLOW_ARCH, seed: 4 });
    for (let kills = 0; kills < 2; kills++) {
      const pid = await untilTraining(pool);
      await sleep(300);
      process.kill(pid, 'SIGKILL');
      while (pool.pids.includes(pid)) await sleep(20);
    }
    const d = await doomed;
    assert.equal(d.status, 'failed');
    if (d.status === 'failed') assert.match(d.reason, /killed by SIGKILL on 2 attempts/);
    assert.equal((await pool.train({ plan: ARCH, seed: 5 })).status, 'done', 'the pool keeps working');
  } finally {
    await pool.close();
  }
});

test('WorkerPool: holdWhile stops training steps until it returns', async () => {
  const pool = await WorkerPool.start({ workers: 1, settings: { ...settings, images: 4096 } });
  try {
    const trial = pool.train({ plan: SLOW_ARCH, seed: 6 });
    const pid = await untilTraining(pool);
    await sleep(300);
    const running0 = cpuSeconds(pid);
    await sleep(1000);
    const runningCpu = cpuSeconds(pid) - running0;
    const heldCpu = await pool.holdWhile(async () => {
      const c0 = cpuSeconds(pid);
      await sleep(1000);
      return cpuSeconds(pid) - c0;
    });
    assert.equal((await trial).status, 'done');
    assert.ok(runningCpu > 0.5, `a training worker uses CPU (${runningCpu} s in 1 s)`);
    assert.ok(heldCpu < 0.1, `a held worker does not (${heldCpu} s in 1 s)`);
  } finally {
    await pool.close();
  }
});

test('WorkerPool: a worker that cannot load the data fails start() with its reason; MNAS_ALLOCATOR reaches the workers', async () => {
  await assert.rejects(
    WorkerPool.start({ workers: 1, settings: { ...settings, dataset: { name: 'mnist', dataDir: '/nonexistent-mnas', validationImages: 100 } } }),
    /trial worker 0: .*nonexistent-mnas/,
  );
  const pool = await WorkerPool.start({ workers: 1, settings, env: { MNAS_ALLOCATOR: 'system' } });
  try {
    const r = await pool.train({ plan: ARCH, seed: 1 });
    assert.equal(r.status, 'done');
    if (r.status === 'done') assert.equal(r.memory!.allocator, 'system');
  } finally {
    await pool.close();
  }
});

test('WorkerPool: an aborted trial rejects with the reason and the worker takes the next one', async () => {
  const pool = await WorkerPool.start({ workers: 1, settings: { ...settings, images: 4096 } });
  try {
    const ac = new AbortController();
    const trial = pool.train({ plan: SLOW_ARCH, seed: 1 }, ac.signal);
    const queued = pool.train({ plan: ARCH, seed: 1 }, ac.signal);
    await untilTraining(pool);
    ac.abort(new Error('stop now'));
    await Promise.all([assert.rejects(trial, /stop now/), assert.rejects(queued, /stop now/)]);
    assert.equal((await pool.train({ plan: ARCH, seed: 2 })).status, 'done');
  } finally {
    await pool.close();
  }
});

test('WorkerPool: a hold stops the worker processes at once; the trial counts the stop as held, not as training time', async () => {
  const pool = await WorkerPool.start({ workers: 1, settings: { ...settings, images: 4096 } });
  try {
    // the worker's first trial of an architecture pays its warm-up (allocator cache, oneDNN primitives): compare two warm trials
    await pool.train({ plan: SLOW_ARCH, seed: 7 });
    const quiet = await pool.train({ plan: SLOW_ARCH, seed: 7 });
    const trial = pool.train({ plan: SLOW_ARCH, seed: 7 });
    const pid = await untilTraining(pool);
    await sleep(400);
    const asked = performance.now();
    await pool.holdWhile(async () => {
      assert.ok(performance.now() - asked < 100, `stopped within 100 ms of asking (${(performance.now() - asked).toFixed(1)} ms)`);
      assert.equal(processState(pid), 'T', 'the worker process is stopped');
      await sleep(1500);
    });
    const held = await trial;
    assert.equal(quiet.status, 'done');
    assert.equal(held.status, 'done');
    if (quiet.status !== 'done' || held.status !== 'done') return;
    assert.equal(held.valAccuracy, quiet.valAccuracy, 'a stop changes nothing of the training');
    assert.ok(held.heldSeconds! >= 1.4 && held.heldSeconds! < 2.5, `held ${held.heldSeconds} s`);
    assert.ok((quiet.heldSeconds ?? 0) < 0.05, `nothing held without a hold (${quiet.heldSeconds} s)`);
    // the 1.5 s stop fell in a training loop of about 3 s: counted in, it would cut the throughput by a third or more;
    // taken out twice, it would double it
    const ratio = held.trainImagesPerSecond / quiet.trainImagesPerSecond;
    assert.ok(ratio > 0.8 && ratio < 1.25, `training throughput with the stop left out: ${held.trainImagesPerSecond.toFixed(0)} against ${quiet.trainImagesPerSecond.toFixed(0)} images/s`);
  } finally {
    await pool.close();
  }
});

test('WorkerPool: workers stopped for a hold die with the pool process when it is killed', async () => {
  const poolModule = new URL('./worker-pool.js', import.meta.url).href;
  const script = `
    import { WorkerPool } from ${JSON.stringify(poolModule)};
    const pool = await WorkerPool.start({ workers: 2, settings: ${JSON.stringify(settings)} });
    void pool.holdWhile(async () => { console.log(JSON.stringify(pool.pids)); await new Promise(() => {}); });
  `;
  const { spawn } = await import('node:child_process');
  const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pids = await new Promise<number[]>((resolve, reject) => {
    parent.stdout!.setEncoding('utf8');
    parent.stdout!.once('data', (line: string) => resolve(JSON.parse(line) as number[]));
    parent.once('exit', () => reject(new Error('the pool process exited first')));
  });
  assert.equal(pids.length, 2);
  for (const pid of pids) assert.equal(processState(pid), 'T', `worker ${pid} is stopped`);
  parent.kill('SIGKILL');
  const alive = (pid: number): boolean => ![undefined, 'Z'].includes(processState(pid));
  for (let waited = 0; pids.some(alive) && waited < 5000; waited += 50) await sleep(50);
  assert.deepEqual(pids.filter(alive), [], 'no stopped worker outlives the pool process');
});

test('WorkerPool: a hold given a set-up to wait for lets training run until the set-up is done', async () => {
  const pool = await WorkerPool.start({ workers: 1, settings: { ...settings, images: 4096 } });
  try {
    const trial = pool.train({ plan: SLOW_ARCH, seed: 8 });
    const pid = await untilTraining(pool);
    await sleep(300);
    let setUpDone = false;
    const ready = sleep(400).then(() => (setUpDone = true));
    const during: string[] = [];
    const probe = (async () => {
      await sleep(200);
      during.push(processState(pid)!);
    })();
    await pool.holdWhile(async () => {
      assert.ok(setUpDone, 'stopped only after the set-up');
      during.push(processState(pid)!);
    }, ready);
    await probe;
    assert.notEqual(during[0], 'T', 'not stopped while the set-up runs');
    assert.equal(during[1], 'T', 'stopped in the hold');
    assert.equal((await trial).status, 'done');
  } finally {
    await pool.close();
  }
});
