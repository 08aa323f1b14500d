/**
 * A distributed search on a Redis that is not open to anyone: an ACL user given in the URL, and
 * TLS (rediss://) with a private CA given in MNAS_REDIS_CA. Each test starts its own
 * redis-server on a free loopback port and runs a worker and a short search through it; wrong
 * credentials or a certificate that cannot be verified are one line and exit 2, never a stack
 * trace or a wait, and nothing is created.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { startLocalRedis } from '../src/distributed/local-redis.js';
import { CA_ENV } from '../src/distributed/redis-url.js';
import { assertEveryTrialOnce, inspect, MAIN, makeTestCertificates, startSearch, startWorker, stopWorkers, tinyConfig, tmp } from '../src/distributed/testing.js';

/** A command that must fail at once: exit 2, one line on stderr, no secret in it. */
function assertRefused(args: readonly string[], env: Record<string, string>, why: RegExp, secrets: readonly string[]): void {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } });
  assert.equal(r.error, undefined, `${args[0]}: did not end within 30 s`);
  assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
  assert.match(r.stderr, /^mnas: [^\n]+\n$/, `${args[0]}: one line: ${r.stderr}`);
  assert.match(r.stderr, why);
  for (const s of secrets) assert.ok(!r.stderr.includes(s), `${args[0]}: the secret is not printed`);
}

async function workerAndSearch(url: string, env: Record<string, string>): Promise<void> {
  const workers = [startWorker(url, [], env)];
  try {
    await workers[0]!.id;
    const dir = tmp();
    const out = path.join(dir, 'run');
    const r = await startSearch(['--redis', url, '--config', tinyConfig(dir), '--budget', '2', '--target-ms', '1', '--out', out], env).done;
    assert.equal(r.code, 0, r.stderr);
    assertEveryTrialOnce(out, 2);
  } finally {
    await stopWorkers(workers);
  }
}

test('Redis with an ACL user (redis://user:password@host): a worker and a search run through it; wrong credentials are one line, exit 2', { timeout: 150_000 }, async () => {
  const user = { name: 'search', password: 'acl-pw-0123456789' };
  const redis = await startLocalRedis({ user });
  try {
    await workerAndSearch(redis.url, {});
    await inspect(redis, async ({ train }) => assert.equal((await train.getJobCounts('completed'))['completed'], 2, 'the jobs went through the ACL user'));

    const dir = tmp();
    const config = tinyConfig(dir);
    const base = `127.0.0.1:${redis.port}`;
    for (const [url, why] of [
      [`redis://search:wrong-pw@${base}`, /WRONGPASS|invalid username-password/i],
      [`redis://nobody:${user.password}@${base}`, /WRONGPASS|invalid username-password/i],
      [`redis://${base}`, /NOAUTH|auth/i],
    ] as const) {
      const out = path.join(dir, `refused-${Math.random().toString(36).slice(2)}`);
      for (const args of [
        ['worker', '--redis', url],
        ['workers', '--redis', url],
        ['search', '--redis', url, '--config', config, '--budget', '1', '--out', out],
      ]) {
        assertRefused(args, {}, new RegExp(`cannot use Redis at redis://[^ ]*127\\.0\\.0\\.1:${redis.port}: .*(${why.source})`, 'i'), ['wrong-pw', user.password]);
      }
      assert.equal(existsSync(out), false, 'a refused search creates no run directory');
    }
  } finally {
    await redis.stop();
  }
});

test('Redis over TLS (rediss://, private CA in MNAS_REDIS_CA): a worker and a search run through it; an unverifiable certificate is one line, exit 2', { timeout: 150_000 }, async () => {
  const certs = makeTestCertificates(tmp());
  const redis = await startLocalRedis({ tls: certs, password: 'tls-pw-0123456789' });
  try {
    assert.match(redis.url, /^rediss:\/\//);
    await workerAndSearch(redis.url, { [CA_ENV]: certs.caFile });

    const dir = tmp();
    const config = tinyConfig(dir);
    const url = redis.url;
    // no CA (the system's CAs do not know the test CA) and another CA: the certificate cannot be verified
    for (const env of [{ [CA_ENV]: '' }, { [CA_ENV]: certs.otherCaFile }]) {
      for (const args of [
        ['worker', '--redis', url],
        ['workers', '--redis', url],
        ['search', '--redis', url, '--config', config, '--budget', '1', '--out', path.join(dir, 'refused')],
      ]) {
        assertRefused(args, env, /cannot use Redis at rediss:\/\/[^ ]*127\.0\.0\.1:\d+: .*(self[- ]signed|unable to (get|verify)|certificate)/i, ['tls-pw-0123456789']);
      }
    }
    assert.equal(existsSync(path.join(dir, 'refused')), false);
    // plain redis:// to a TLS-only port: refused with the connection's error, still one line
    assertRefused(['workers', '--redis', url.replace('rediss://', 'redis://')], { [CA_ENV]: '' }, /cannot use Redis at redis:\/\//, ['tls-pw-0123456789']);
  } finally {
    await redis.stop();
  }
});
