import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildProgram, COMMAND_NAMES, reportError } from './main.js';
import { UsageError } from './errors.js';
import { ArchError } from '../space/arch-error.js';
import { JobFailedError, NoDeviceError } from '../latency/browser/farm.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

function report(e: unknown, debug: boolean): { code: number; text: string } {
  let text = '';
  const code = reportError(e, debug, (s) => void (text += s));
  return { code, text };
}

test('an input error is one line and exit 2; its stack only with --debug', () => {
  for (const e of [new UsageError('train: --lr must be a number'), new ArchError('arch: bad token\nsecond line')]) {
    const quiet = report(e, false);
    assert.equal(quiet.code, 2);
    assert.equal(quiet.text.split('\n').length, 2, quiet.text);
    assert.match(quiet.text, /^mnas: /);
    const debug = report(e, true);
    assert.equal(debug.code, 2);
    assert.match(debug.text, /\n\s+at /);
  }
});

test('no browser device in time is the setup to fix: one line and exit 2; a device that failed a job: one line and exit 1', () => {
  const none = report(new NoDeviceError('no browser device joined within 1 s (open http://127.0.0.1:1/?token=t)'), false);
  assert.deepEqual(none, { code: 2, text: 'mnas: no browser device joined within 1 s (open http://127.0.0.1:1/?token=t)\n' });
  const flagged = "device b1 reported implausible timings for 'fc' (run time 0 ms is not positive); device flagged; no other device to retry on";
  assert.deepEqual(report(new JobFailedError(flagged), false), { code: 1, text: `mnas: browser device failed: ${flagged}\n` });
  assert.match(report(new JobFailedError('device d1 could not run it'), true).text, /^mnas: browser device failed: device d1 could not run it\nJobFailedError: .*\n\s+at /);
});

test('an internal error is one line and exit 1, saying how to get the stack; --debug prints it', () => {
  const quiet = report(new TypeError('x is undefined'), false);
  assert.equal(quiet.code, 1);
  assert.equal(quiet.text, 'mnas: internal error: x is undefined (run with --debug or MNAS_DEBUG=1 for the stack trace, and please report it)\n');
  const debug = report(new TypeError('x is undefined'), true);
  assert.match(debug.text, /^mnas: internal error: x is undefined\nTypeError: x is undefined\n\s+at /);
  assert.equal(report('a string', false).code, 1);
});

test('--debug is accepted anywhere on the command line and MNAS_DEBUG=1 works too', () => {
  for (const [args, env] of [[['--debug', 'inspect', 'nope-arch'], {}], [['inspect', 'nope-arch', '--debug'], {}], [['inspect', 'nope-arch'], { MNAS_DEBUG: '1' }]] as const) {
    const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^mnas: .*nope-arch/);
    assert.match(r.stderr, /\n\s+at /, 'the stack follows with --debug');
  }
  const plain = spawnSync(process.execPath, [MAIN, 'inspect', 'nope-arch'], { encoding: 'utf8' });
  assert.equal(plain.status, 2);
  assert.equal(plain.stderr.split('\n').length, 2, plain.stderr);
});

test('the command line loads BullMQ, ioredis and ws only for the commands that connect', () => {
  // a CommonJS package imported from ESM still lands in the CommonJS module cache: list it at exit
  const preload = `import { createRequire } from 'node:module'; const cache = createRequire(process.cwd() + '/').cache; process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify(Object.keys(cache)) + '\\n'));`;
  const loaded = (args: string[]): string[] => {
    const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(preload)}`, MAIN, ...args], { encoding: 'utf8' });
    const line = r.stderr.split('\n').find((l) => l.startsWith('LOADED '));
    assert.ok(line, r.stderr);
    return (JSON.parse(line.slice('LOADED '.length)) as string[]).filter((f) => /node_modules\/(bullmq|ioredis|ws)\//.test(f));
  };
  assert.deepEqual(loaded(['--help']), []);
  assert.deepEqual(loaded(['inspect', 'bench-fmnist']), []);
  // the check sees them when they load: `workers` connects (and fails: nothing listens on port 1)
  assert.ok(loaded(['workers', '--redis', 'redis://127.0.0.1:1']).some((f) => f.includes('/bullmq/')));
});

test('the program registers every command for --help, and only the command it runs otherwise', async () => {
  const names = (p: { commands: readonly { name(): string }[] }) => p.commands.map((c) => c.name());
  assert.deepEqual(names(await buildProgram()), COMMAND_NAMES);
  assert.deepEqual(names(await buildProgram(['--help'])), COMMAND_NAMES);
  assert.deepEqual(names(await buildProgram(['serch'])), COMMAND_NAMES, 'an unknown command gets the suggestions of all');
  assert.deepEqual(names(await buildProgram(['inspect', 'bench-fmnist'])), ['inspect']);
  assert.deepEqual(names(await buildProgram(['--version'])), []);
  assert.deepEqual([...COMMAND_NAMES].sort(), COMMAND_NAMES);
  const version = spawnSync(process.execPath, [MAIN, '--version'], { encoding: 'utf8' });
  assert.equal(version.status, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
});
