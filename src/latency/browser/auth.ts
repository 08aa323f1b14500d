/**
 * Who may do what. Two secrets, compared in constant time: the join token (devices: the page / and
 * the /ws upgrade) and the control secret (controllers: the /control upgrade and /status); neither
 * opens the other's endpoints, and the page never sees the control secret. WebSocket upgrades
 * carrying an Origin header (browsers) must come from the server's own origin (or allowedOrigins).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { closeReason } from './messages.js';

export interface Secrets {
  /** Join token: what devices need (it is in the join URL and on the page). */
  token: string;
  /** Control secret: what controllers need (/control, /status); never shown to devices. */
  controlToken: string;
}

/** The given secrets, checked, or random ones (24 and 32 base64url characters); RangeError on bad ones. */
export function resolveSecrets(token?: string, controlToken?: string): Secrets {
  const t = token ?? randomBytes(18).toString('base64url');
  if (!/^[A-Za-z0-9_-]{8,128}$/.test(t)) throw new RangeError('token must be 8-128 characters of [A-Za-z0-9_-]');
  const c = controlToken ?? randomBytes(24).toString('base64url');
  if (!/^[A-Za-z0-9_-]{16,128}$/.test(c)) throw new RangeError('controlToken must be 16-128 characters of [A-Za-z0-9_-]');
  if (c === t) throw new RangeError('controlToken must differ from the join token');
  return { token: t, controlToken: c };
}

function tokenDigest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Constant-time token check (hashing first makes the lengths equal). */
export function tokenMatches(given: string | null | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  return timingSafeEqual(tokenDigest(given), tokenDigest(expected)) && given.length === expected.length;
}

/** Origins as compared: no trailing slash, lower case. */
export function normalizeOrigins(origins: readonly string[]): string[] {
  return origins.map((o) => o.replace(/\/+$/, '').toLowerCase());
}

export type UpgradeDecision = { endpoint: 'device' | 'control' } | { status: '403 Forbidden' | '404 Not Found'; why: string };

/** Which WebSocket endpoint an upgrade request may open, or why it is refused (path, Origin, secret). */
export function authorizeUpgrade(req: IncomingMessage, secrets: Secrets, allowedOrigins: readonly string[]): UpgradeDecision {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname !== '/ws' && url.pathname !== '/control') return { status: '404 Not Found', why: 'no such endpoint' };
  const control = url.pathname === '/control';
  const problem = originProblem(req, allowedOrigins);
  if (problem) return { status: '403 Forbidden', why: problem };
  if (!tokenMatches(url.searchParams.get('token'), control ? secrets.controlToken : secrets.token)) {
    return { status: '403 Forbidden', why: control ? 'bad or missing control secret' : 'bad or missing token' };
  }
  return { endpoint: control ? 'control' : 'device' };
}

/**
 * Browsers send Origin on WebSocket upgrades and let any page open any ws:// URL: a foreign page
 * must not drive this server through a visitor's browser. Non-browser clients send no Origin.
 * `allowedOrigins` must be normalized (normalizeOrigins).
 */
export function originProblem(req: IncomingMessage, allowedOrigins: readonly string[]): string | undefined {
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return `bad Origin '${closeReason(origin).slice(0, 60)}'`;
  }
  const normalized = u.origin.toLowerCase();
  if (allowedOrigins.includes(normalized)) return undefined;
  if ((u.protocol === 'http:' || u.protocol === 'https:') && req.headers.host !== undefined) {
    let host: string | undefined;
    try {
      // parsed with the origin's scheme so a default port written out (Host: x:80) compares equal
      host = new URL(`${u.protocol}//${req.headers.host}`).host;
    } catch {
      host = undefined;
    }
    if (host !== undefined && host === u.host) return undefined;
  }
  return `foreign Origin ${normalized.slice(0, 60)}`;
}
