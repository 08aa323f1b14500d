import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { processCpuSeconds as cpuSeconds } from '../../util/proc-stat.js';
import { continueProcesses, isStopped, stopProcesses } from './process-stop.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


test('stopProcesses stops every thread of a busy process at once; continueProcesses lets it run again', async () => {
  // a busy main thread and busy threads of the libuv pool (crypto work), as a trainer's onnxruntime calls would be
  const child = spawn(process.execPath, ['-e', "const c=require('crypto');for(let i=0;i<4;i++)(function f(){c.pbkdf2('x','y',2e5,32,'sha256',f)})();setImmediate(function s(){const t=Date.now();while(Date.now()-t<5);setImmediate(s)})"], { stdio: 'ignore' });
  try {
    await sleep(300);
    const pid = child.pid!;
    assert.equal(isStopped(pid), false);
    const t = performance.now();
    await stopProcesses([pid]);
    assert.ok(performance.now() - t < 100, `stopped within 100 ms (${(performance.now() - t).toFixed(1)} ms)`);
    assert.ok(isStopped(pid));
    const c0 = cpuSeconds(pid);
    await sleep(500);
    assert.ok(cpuSeconds(pid) - c0 <= 0.01, `a stopped process uses no CPU (${cpuSeconds(pid) - c0} s in 0.5 s)`);
    continueProcesses([pid]);
    const c1 = cpuSeconds(pid);
    await sleep(500);
    assert.equal(isStopped(pid), false);
    assert.ok(cpuSeconds(pid) - c1 > 0.2, `it runs again (${cpuSeconds(pid) - c1} s in 0.5 s)`);
  } finally {
    child.kill('SIGKILL');
  }
});

test('stopProcesses and continueProcesses pass over processes that have exited', async () => {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  await stopProcesses([child.pid!]);
  continueProcesses([child.pid!]);
  assert.ok(isStopped(child.pid!), 'a process that is gone runs nothing');
});
