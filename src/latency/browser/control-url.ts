/**
 * The control URL of a running `mnas devices serve`, checked before anything connects: a
 * malformed one is a BrowserDeviceUrlError (one line, exit 2). Its own file so that commands can
 * check a URL without loading the WebSocket client.
 */
import { InputError } from '../../util/input-error.js';

/**
 * The browser device URL is malformed, or the server behind it cannot be reached or refuses it.
 * The message is one line naming the problem (the secret redacted): a CLI should print it and exit 2.
 */
export class BrowserDeviceUrlError extends InputError {
  constructor(
    message: string,
    readonly reason: 'malformed' | 'unreachable' | 'refused',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BrowserDeviceUrlError';
  }
}

const EXPECTED = 'expected the control URL that `mnas devices serve` prints: http://host:port/control?token=<control secret>';

/** The URL with its token replaced, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/(token=)[^&#\s]*/gi, '$1<secret>').slice(0, 200);
}

/** http://host:port/control?token=SECRET (or ws://...) -> ws://host:port/control?token=SECRET; BrowserDeviceUrlError when malformed. */
export function controlUrl(url: string): string {
  const shown = `'${redactUrl(url)}'`;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BrowserDeviceUrlError(`browser device URL ${shown} is not a URL (${EXPECTED})`, 'malformed');
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol)) throw new BrowserDeviceUrlError(`browser device URL ${shown} has scheme ${u.protocol} (${EXPECTED})`, 'malformed');
  if (!u.hostname) throw new BrowserDeviceUrlError(`browser device URL ${shown} has no host (${EXPECTED})`, 'malformed');
  const token = u.searchParams.get('token');
  if (u.pathname === '/' || u.pathname === '/index.html') {
    throw new BrowserDeviceUrlError(`browser device URL ${shown} is the devices' join URL; controllers need the control URL (${EXPECTED})`, 'malformed');
  }
  if (u.pathname !== '/control') throw new BrowserDeviceUrlError(`browser device URL ${shown} has path ${u.pathname.slice(0, 60)}, not /control (${EXPECTED})`, 'malformed');
  if (!token) throw new BrowserDeviceUrlError(`browser device URL ${shown} has no token (${EXPECTED})`, 'malformed');
  if (!/^[A-Za-z0-9_-]{16,128}$/.test(token)) throw new BrowserDeviceUrlError(`browser device URL ${shown}: the token is not a control secret (16-128 characters of [A-Za-z0-9_-])`, 'malformed');
  const secure = u.protocol === 'https:' || u.protocol === 'wss:';
  return `${secure ? 'wss:' : 'ws:'}//${u.host}/control?token=${token}`;
}
