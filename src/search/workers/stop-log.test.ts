import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StopLog } from './stop-log.js';

test('StopLog: the total of the stops, and the part of them within an interval', () => {
  const log = new StopLog();
  assert.equal(log.totalMs(), 0);
  log.add({ start: 100, end: 150 });
  log.add({ start: 200, end: 260 });
  assert.equal(log.totalMs(), 110);
  assert.equal(log.within(0, 1000), 110);
  assert.equal(log.within(120, 230), 30 + 30, 'the parts of both that overlap');
  assert.equal(log.within(150, 200), 0, 'between them');
  assert.equal(log.within(300, 400), 0, 'after them');
  assert.throws(() => log.add({ start: 10, end: 5 }), /ends before it starts/);
  assert.equal(log.totalMs(), 110, 'a refused stop adds nothing');
});

test('StopLog: keeps the latest stops for `within` and counts every one in the total', () => {
  const log = new StopLog();
  for (let i = 0; i < 1000; i++) log.add({ start: i * 10, end: i * 10 + 1 });
  assert.equal(log.totalMs(), 1000);
  assert.equal(log.within(9990, 10_000), 1, 'the latest');
});
