import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isInputError } from '../util/input-error.js';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CA_ENV, parseRedisUrl, PASSWORD_ENV, redactText, RedisUrlError } from './redis-url.js';
import { tempDir } from '../util/testing.js';

test('parseRedisUrl: host, port, database, ACL user and password, TLS', () => {
  assert.deepEqual(parseRedisUrl('redis://10.0.0.5', {}).options, { host: '10.0.0.5', port: 6379, db: 0 });
  const acl = parseRedisUrl('redis://search:p%40ss@redis.lan:6380/2', {});
  assert.deepEqual(acl.options, { host: 'redis.lan', port: 6380, db: 2, username: 'search', password: 'p@ss' });
  assert.equal(acl.display, 'redis://search@redis.lan:6380/2', 'shown without the password');
  const tls = parseRedisUrl('rediss://:secret@redis.example.org', {});
  assert.deepEqual(tls.options, { host: 'redis.example.org', port: 6379, db: 0, password: 'secret', tls: {} });
  assert.equal(parseRedisUrl('redis://[::1]:7000', {}).options.host, '::1');
});

test('parseRedisUrl: the password comes from MNAS_REDIS_PASSWORD when the URL has none', () => {
  assert.equal(parseRedisUrl('redis://127.0.0.1', { [PASSWORD_ENV]: 'from-env' }).options.password, 'from-env');
  assert.equal(parseRedisUrl('redis://:in-url@127.0.0.1', { [PASSWORD_ENV]: 'from-env' }).options.password, 'in-url');
});

test('parseRedisUrl: bad URLs are InputErrors naming the problem, without the password', () => {
  const cases: Array<[string, RegExp]> = [
    ['localhost:6379', /unsupported scheme 'localhost'/],
    ['http://127.0.0.1', /unsupported scheme 'http'/],
    ['redis://', /not a URL|no host/],
    ['redis://127.0.0.1:99999', /not a URL|out of range/],
    ['redis://127.0.0.1/x', /database 'x' is not a number/],
    ['redis://127.0.0.1?tls=1', /query strings/],
    ['not a url :secret@', /not a URL/],
  ];
  for (const [url, why] of cases) {
    assert.throws(
      () => parseRedisUrl(url, {}),
      (e: unknown) => e instanceof RedisUrlError && isInputError(e) && why.test(e.message) && !/secret/.test(e.message),
      url,
    );
  }
});

test('redactText hides URL passwords', () => {
  assert.equal(redactText('redis://u:pw@h:1 and rediss://:x@h'), 'redis://u:***@h:1 and rediss://:***@h');
});

test('parseRedisUrl: MNAS_REDIS_CA gives rediss:// its CA; a missing file, a non-PEM file or a plain redis:// URL is an InputError', () => {
  const dir = tempDir('mnas-redis-ca-');
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  writeFileSync(path.join(dir, 'ca.pem'), pem);
  writeFileSync(path.join(dir, 'not.pem'), 'hello');
  assert.deepEqual(parseRedisUrl('rediss://127.0.0.1:6380', { [CA_ENV]: path.join(dir, 'ca.pem') }).options.tls, { ca: pem });
  const cases: Array<[string, string, RegExp]> = [
    ['rediss://127.0.0.1', path.join(dir, 'missing.pem'), /MNAS_REDIS_CA: cannot read .*missing\.pem: ENOENT/],
    ['rediss://127.0.0.1', path.join(dir, 'not.pem'), /holds no PEM certificate/],
    ['redis://:secret@127.0.0.1', path.join(dir, 'ca.pem'), /MNAS_REDIS_CA is set but 'redis:\/\/:\*\*\*@127\.0\.0\.1' is not a TLS URL/],
  ];
  for (const [url, ca, why] of cases) {
    assert.throws(() => parseRedisUrl(url, { [CA_ENV]: ca }), (e: unknown) => e instanceof RedisUrlError && why.test(e.message), url);
  }
});
