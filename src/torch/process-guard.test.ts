import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { processState } from '../util/proc-stat.js';
import { exitWithParent } from './process-guard.js';

test('exitWithParent arms for the real parent, says false for any other, and refuses a bad process id by name', () => {
  assert.equal(exitWithParent(process.ppid), true);
  assert.equal(exitWithParent(process.ppid === 1 ? 2 : 1), false, 'not this process\'s parent');
  assert.throws(() => exitWithParent(0), /parentPid.*>= 1, got 0/);
  assert.throws(() => exitWithParent(1.5), /parentPid/);
});

test('a process that armed exitWithParent is killed when its parent dies', () => {
  const guard = new URL('./process-guard.js', import.meta.url).href;
  // a shell starts the guarded child in the background, prints its pid and exits at once
  const child = `import(${JSON.stringify(guard)}).then((g) => { if (!g.exitWithParent(process.ppid)) process.exit(3); setTimeout(() => {}, 30000); })`;
  const r = spawnSync('sh', ['-c', `${JSON.stringify(process.execPath)} -e '${child}' & echo $!; sleep 2`], { encoding: 'utf8' });
  const pid = Number(r.stdout.trim());
  assert.ok(Number.isInteger(pid) && pid > 0, r.stdout + r.stderr);
  // gone, or a zombie no one has reaped yet
  const isAlive = (): boolean => ![undefined, 'Z'].includes(processState(pid));
  const deadline = Date.now() + 5000;
  let alive = isAlive();
  while (alive && Date.now() < deadline) {
    spawnSync('sleep', ['0.05']);
    alive = isAlive();
  }
  assert.equal(alive, false, `the child ${pid} outlived its parent`);
});
