/**
 * The caching CPU allocator: blocks are reused, the cache respects its limit, memory stays flat
 * over thousands of training steps and across hundreds of trials in one process, and
 * MNAS_ALLOCATOR switches or rejects allocators before anything runs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  allocatorStats, BatchNorm2d, Conv2d, crossEntropy, emptyAllocatorCache, Generator, globalAvgPool, int64Tensor, Layer, Linear,
  randn, relu, residentBytes, Sequential, setAllocatorCacheLimit, setNumThreads, SGD, tidy, Activation, zeros, type Tensor,
} from './index.js';
import { ProxyTrialRunner } from '../search/proxy-trial.js';
import { getSpace } from '../space/space.js';
import { buildPlan } from '../model/plan.js';
import { Rng } from '../util/rng.js';

setNumThreads(1);
const MB = 2 ** 20;

test('caching allocator: a freed block serves the next allocation of its size class; the limit and emptyAllocatorCache release memory', () => {
  const s0 = allocatorStats();
  assert.equal(s0.kind, 'caching');
  assert.ok(s0.limitBytes > 0);
  tidy(() => {
    zeros([10 * MB / 4]);
  });
  const s1 = allocatorStats();
  assert.equal(s1.inUseBytes, s0.inUseBytes, 'nothing left in use');
  assert.ok(s1.cachedBytes >= s0.cachedBytes, 'the block is cached');
  tidy(() => {
    zeros([10 * MB / 4 - 100]); // same size class (classes are 1/4 of a power of two apart)
  });
  const s2 = allocatorStats();
  assert.equal(s2.misses, s1.misses, 'served from the cache');
  assert.equal(s2.hits, s1.hits + 1);
  emptyAllocatorCache();
  assert.equal(allocatorStats().cachedBytes, 0);
  const limit = allocatorStats().limitBytes;
  setAllocatorCacheLimit(0);
  try {
    tidy(() => {
      zeros([MB]);
    });
    assert.equal(allocatorStats().cachedBytes, 0, 'nothing cached above the limit');
  } finally {
    setAllocatorCacheLimit(limit);
  }
  assert.throws(() => setAllocatorCacheLimit(-1), /bytes must be a whole number/);
});

class Pool extends Layer {
  forward(x: Tensor): Tensor {
    return globalAvgPool(x);
  }
}

test('caching allocator: no new memory after warm-up over 2,000 training steps with MB-sized activations', () => {
  const generator = new Generator(1);
  const net = new Sequential([
    new Conv2d({ inChannels: 1, outChannels: 32, kernel: 3, generator }),
    new BatchNorm2d({ channels: 32 }),
    new Activation(relu),
    new Conv2d({ inChannels: 32, outChannels: 32, kernel: 3, groups: 32, generator }),
    new Pool(),
    new Linear({ inFeatures: 32, outFeatures: 10, generator }),
  ]);
  const opt = new SGD(net.parameters(), { momentum: 0.9 });
  const x = randn([32, 1, 28, 28], new Generator(2)).keep(); // 3.2 MB activations per layer
  const y = int64Tensor(Array.from({ length: 32 }, (_, i) => i % 10)).keep();
  let warm = allocatorStats();
  let rssWarm = 0;
  for (let step = 1; step <= 2000; step++) {
    tidy(() => {
      opt.zeroGrad();
      crossEntropy(net.forward(x), y).backward();
      opt.step(0.01);
    });
    if (step === 100) {
      warm = allocatorStats();
      rssWarm = residentBytes() ?? 0;
    }
  }
  const end = allocatorStats();
  assert.equal(end.misses, warm.misses, 'every allocation after warm-up came from the cache');
  assert.equal(end.reservedBytes, warm.reservedBytes, 'the allocator holds exactly as much as after warm-up');
  assert.ok(end.hits - warm.hits > 1900 * 5, 'and it was used');
  const growth = (residentBytes() ?? 0) - rssWarm;
  assert.ok(growth < 8 * MB, `RSS grew by ${(growth / MB).toFixed(1)} MB`);
  opt.dispose();
  net.dispose();
  x.dispose();
  y.dispose();
});

test('caching allocator: memory stays bounded across 150 proxy trials of random architectures in one process', async () => {
  const runner = ProxyTrialRunner.load({ dataset: { name: 'synthetic', validationImages: 64 }, images: 64, epochs: 1, batch: 32, threads: 1, splitSeed: 0 });
  const space = getSpace('fmnist');
  const rng = new Rng(7);
  const reserved: number[] = [];
  const outside: number[] = [];
  let maxTrialPeak = 0;
  try {
    for (let i = 0; i < 150; i++) {
      const r = await runner.run({ plan: buildPlan(space.decode(space.sample(rng))), seed: i });
      maxTrialPeak = Math.max(maxTrialPeak, r.memory?.peakTensorBytes ?? 0);
      const s = allocatorStats();
      reserved.push(s.reservedBytes);
      // what neither the allocator nor V8's heap holds: libtorch's own caches (oneDNN primitives), glibc's heap
      outside.push((residentBytes() ?? 0) - s.reservedBytes - process.memoryUsage().heapTotal);
      // between trials the cache keeps at most the last trial's working set
      assert.ok(s.cachedBytes <= maxTrialPeak, `trial ${i}: ${s.cachedBytes} bytes cached, largest trial peak ${maxTrialPeak}`);
    }
  } finally {
    runner.dispose();
  }
  assert.ok(Math.max(...reserved) <= 2 * maxTrialPeak + 16 * MB, 'the allocator never holds more than two trials worth');
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  // measured: about 0.3 MB per trial with libtorch alone (oneDNN's primitive cache filling, glibc's
  // heap), 0.5-0.8 MB since evaluation opens an onnxruntime session per trial (one run: 70 MB over
  // these 90 trials; onnxruntime alone, 300 sessions: about 0.2 MB each); a leak of a trial's
  // activations (tens of MB each) would exceed this many times over
  const growth = median(outside.slice(130)) - median(outside.slice(40, 60));
  assert.ok(growth < 128 * MB, `memory outside the allocator grew by ${(growth / MB).toFixed(0)} MB from trials 40-60 to 130-150`);
});

test('MNAS_ALLOCATOR: system switches to libtorch\'s allocator; a bad value stops the addon from loading with a message', () => {
  const memoryModule = fileURLToPath(new URL('./memory.js', import.meta.url));
  const script = `import('${memoryModule}').then((m) => console.log(m.allocatorStats().kind))`;
  const run = (value: string) => spawnSync(process.execPath, ['-e', script], { env: { ...process.env, MNAS_ALLOCATOR: value }, encoding: 'utf8' });
  assert.equal(run('system').stdout.trim(), 'system');
  assert.equal(run('caching').stdout.trim(), 'caching');
  const bad = run('tcmalloc');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /MNAS_ALLOCATOR must be 'caching' or 'system', got 'tcmalloc'/);
});
