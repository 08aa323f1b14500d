/**
 * Asking a running browser device farm what it has (devices, flags, the job queue) over its
 * control URL's /status endpoint. What cannot be asked is a BrowserDeviceUrlError (an
 * InputError): a malformed URL, a server that does not answer, or one that refuses.
 */
import { BrowserDeviceUrlError, controlUrl, redactUrl } from './remote.js';
import type { ServerStatus } from './server.js';

const MIB = 1024 * 1024;

export async function fetchFarmStatus(url: string, o: { timeoutMs?: number } = {}): Promise<ServerStatus> {
  const ws = new URL(controlUrl(url));
  const statusUrl = `${ws.protocol === 'wss:' ? 'https:' : 'http:'}//${ws.host}/status${ws.search}`;
  const where = ws.host;
  let res: { status: number; body: string };
  try {
    res = await getText(statusUrl, o.timeoutMs ?? 10_000);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new BrowserDeviceUrlError(`browser device server at ${where} is unreachable (${err.code ?? err.message})`, 'unreachable', { cause: e });
  }
  if (res.status !== 200) {
    const body = res.body.trim().split('\n')[0];
    throw new BrowserDeviceUrlError(`${redactUrl(url)} refused (HTTP ${res.status}${body ? `: ${body}` : ''})`, 'refused');
  }
  try {
    return JSON.parse(res.body) as ServerStatus;
  } catch {
    throw new BrowserDeviceUrlError(`${where} did not answer with a device server status`, 'refused');
  }
}

/** One GET on a fresh connection (no keep-alive pool: one request per call). */
async function getText(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  const mod = url.startsWith('https:') ? await import('node:https') : await import('node:http');
  return new Promise((resolve, reject) => {
    const req = mod.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
        if (body.length > 16 * MIB) req.destroy(new Error('status larger than 16 MiB'));
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
  });
}
