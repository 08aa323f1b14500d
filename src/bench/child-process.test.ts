import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isInputError } from '../util/input-error.js';
import { runForLastJsonLine } from './child-process.js';

const node = (code: string) => ['-e', code];

test('runForLastJsonLine: the JSON object on the last line of stdout', () => {
  assert.deepEqual(runForLastJsonLine(process.execPath, node('console.log("progress"); console.log(JSON.stringify({ a: 1 }))'), 'child'), { a: 1 });
});

test('runForLastJsonLine: exit 2 is the child refusing its input (InputError, one line, without the child\'s prefix)', () => {
  assert.throws(
    () => runForLastJsonLine(process.execPath, node('process.stderr.write("mnas: measure: unknown preset \'x\'\\nmore\\n"); process.exit(2)'), 'mnas measure'),
    (e: Error) => isInputError(e) && e.message === "mnas measure refused its input: measure: unknown preset 'x'",
  );
});

test('runForLastJsonLine: other failures name the child and carry its stderr', () => {
  assert.throws(() => runForLastJsonLine(process.execPath, node('process.stderr.write("boom"); process.exit(1)'), 'peer'), (e: Error) => /^peer failed \(exit 1\): boom$/.test(e.message) && !isInputError(e));
  assert.throws(() => runForLastJsonLine(process.execPath, node('console.log("not json")'), 'peer'), /peer did not print JSON on its last line/);
  assert.throws(() => runForLastJsonLine('/nonexistent/python3', [], 'peer'), /peer could not run: .*ENOENT/);
});
