import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DATA_PROGRESS_MIN_FILES, dataProgress } from './progress.js';

function collect(): { stream: { write(s: string): boolean; isTTY: boolean }; text: () => string } {
  let out = '';
  return { stream: { write: (s: string) => ((out += s), true), isTTY: false }, text: () => out };
}

test('data progress: a bar per phase for many files, ending in its final count; nothing for a few files or when silent', () => {
  const many = collect();
  const report = dataProgress(false, many.stream);
  const n = DATA_PROGRESS_MIN_FILES + 20;
  for (let i = 1; i <= n; i++) report({ phase: 'hashing', done: i, total: n });
  for (let i = 1; i <= n; i++) report({ phase: 'decoding', done: i, total: n });
  assert.match(many.text(), new RegExp(`^data: reading files 1/${n} `, 'm'));
  assert.match(many.text(), new RegExp(`^data: reading files ${n}/${n} `, 'm'));
  assert.match(many.text(), new RegExp(`^data: decoding images ${n}/${n} `, 'm'));

  const few = collect();
  const small = dataProgress(false, few.stream);
  for (let i = 1; i < DATA_PROGRESS_MIN_FILES; i++) small({ phase: 'decoding', done: i, total: DATA_PROGRESS_MIN_FILES - 1 });
  assert.equal(few.text(), '');

  const quiet = collect();
  const silent = dataProgress(true, quiet.stream);
  for (let i = 1; i <= n; i++) silent({ phase: 'decoding', done: i, total: n });
  assert.equal(quiet.text(), '');
});
