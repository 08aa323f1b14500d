/**
 * Test helpers for the benchmarks that run processes: a fake `mnas` (or peer) script that prints
 * the next JSON object of a list on each run and logs its arguments, in a temporary folder.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface FakeProcess {
  /** The script to run with node. */
  script: string;
  /** The arguments of each run so far. */
  calls(): string[][];
}

export interface FakeFolder {
  /** The folder the fakes live in (removed with them). */
  readonly dir: string;
  /** A script printing `outputs[i]` (as the last of two stdout lines) on its i-th run. */
  fake(name: string, outputs: readonly object[]): FakeProcess;
  /** Names of the fakes in the order they ran. */
  order(): string[];
  remove(): void;
}

export function fakeFolder(): FakeFolder {
  const dir = mkdtempSync(path.join(tmpdir(), 'mnas-bench-fake-'));
  const orderFile = path.join(dir, 'order.log');
  writeFileSync(orderFile, '');
  return {
    dir,
    fake(name, outputs) {
      const script = path.join(dir, `${name}.mjs`);
      const log = path.join(dir, `${name}.calls.json`);
      writeFileSync(log, '[]');
      writeFileSync(
        script,
        `import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
const outputs = ${JSON.stringify(outputs)};
const calls = JSON.parse(readFileSync(${JSON.stringify(log)}, 'utf8'));
calls.push(process.argv.slice(2));
writeFileSync(${JSON.stringify(log)}, JSON.stringify(calls));
appendFileSync(${JSON.stringify(orderFile)}, ${JSON.stringify(name)} + '\\n');
console.log('working');
console.log(JSON.stringify(outputs[calls.length - 1]));
`,
      );
      return { script, calls: () => JSON.parse(readFileSync(log, 'utf8')) as string[][] };
    },
    order: () => readFileSync(orderFile, 'utf8').split('\n').filter(Boolean),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
