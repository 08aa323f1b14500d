import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { authorizeUpgrade, normalizeOrigins, originProblem, resolveSecrets, tokenMatches } from './auth.js';

const secrets = { token: 'join-token-123', controlToken: 'control-secret-0123456789' };

function upgrade(url: string, headers: Record<string, string> = {}): IncomingMessage {
  return { url, headers: { host: '127.0.0.1:8765', ...headers } } as unknown as IncomingMessage;
}

test('secrets: given ones are checked, missing ones are random, the two must differ', () => {
  const r = resolveSecrets();
  assert.match(r.token, /^[A-Za-z0-9_-]{24}$/);
  assert.match(r.controlToken, /^[A-Za-z0-9_-]{32}$/);
  assert.deepEqual(resolveSecrets(secrets.token, secrets.controlToken), secrets);
  assert.throws(() => resolveSecrets('short'), /token must be 8-128 characters/);
  assert.throws(() => resolveSecrets(undefined, 'short'), /controlToken must be 16-128 characters/);
  assert.throws(() => resolveSecrets('same-secret-0123456789', 'same-secret-0123456789'), /must differ/);
  assert.equal(tokenMatches(secrets.token, secrets.token), true);
  assert.equal(tokenMatches(`${secrets.token}x`, secrets.token), false);
});

test('upgrades: each secret opens its own endpoint only; unknown paths are 404', () => {
  assert.deepEqual(authorizeUpgrade(upgrade(`/ws?token=${secrets.token}`), secrets, []), { endpoint: 'device' });
  assert.deepEqual(authorizeUpgrade(upgrade(`/control?token=${secrets.controlToken}`), secrets, []), { endpoint: 'control' });
  assert.deepEqual(authorizeUpgrade(upgrade(`/ws?token=${secrets.controlToken}`), secrets, []), { status: '403 Forbidden', why: 'bad or missing token' });
  assert.deepEqual(authorizeUpgrade(upgrade(`/control?token=${secrets.token}`), secrets, []), { status: '403 Forbidden', why: 'bad or missing control secret' });
  assert.deepEqual(authorizeUpgrade(upgrade('/ws'), secrets, []), { status: '403 Forbidden', why: 'bad or missing token' });
  assert.deepEqual(authorizeUpgrade(upgrade(`/other?token=${secrets.token}`), secrets, []), { status: '404 Not Found', why: 'no such endpoint' });
  // the Origin is checked before the secret
  assert.deepEqual(authorizeUpgrade(upgrade(`/ws?token=${secrets.token}`, { origin: 'http://evil.example' }), secrets, []), { status: '403 Forbidden', why: 'foreign Origin http://evil.example' });
});

test('Origin: none (not a browser), the server own origin, or an allowed one', () => {
  const allowed = normalizeOrigins(['https://Proxy.example/']);
  assert.deepEqual(allowed, ['https://proxy.example']);
  assert.equal(originProblem(upgrade('/ws'), allowed), undefined);
  assert.equal(originProblem(upgrade('/ws', { origin: 'http://127.0.0.1:8765' }), allowed), undefined);
  assert.equal(originProblem(upgrade('/ws', { origin: 'http://x.example', host: 'x.example:80' }), allowed), undefined, 'a default port written out');
  assert.equal(originProblem(upgrade('/ws', { origin: 'https://proxy.example' }), allowed), undefined);
  assert.equal(originProblem(upgrade('/ws', { origin: 'http://localhost:8765' }), allowed), 'foreign Origin http://localhost:8765');
  assert.equal(originProblem(upgrade('/ws', { origin: 'null' }), allowed), "bad Origin 'null'");
});
