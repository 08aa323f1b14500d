/**
 * Who may see the dashboard: whoever has its token, like the device farm. The token comes in the
 * URL the server prints (?token=...); a page opened with it also gets the token as a cookie
 * (HttpOnly, SameSite=Strict, named after the port), so the scripts and styles it loads by plain
 * URL are let in too. Anything without a matching token gets 401 and nothing else.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { tokenMatches } from '../latency/browser/auth.js';

export function cookieName(port: number): string {
  return `mnas-dashboard-${port}`;
}

/** Middleware refusing requests without the token (in the query or the cookie) with 401. */
export function requireToken(token: string, port: () => number): MiddlewareHandler {
  return async (c, next) => {
    const fromQuery = c.req.query('token');
    const fromCookie = getCookie(c, cookieName(port()));
    if (!tokenMatches(fromQuery, token) && !tokenMatches(fromCookie, token)) {
      return c.text('unauthorized: open the URL with the token that mnas dashboard printed\n', 401);
    }
    await next();
  };
}

/** Hands the token to the browser as a cookie (after a page was opened with it in the URL). */
export function rememberToken(c: Context, token: string, port: number): void {
  setCookie(c, cookieName(port), token, { httpOnly: true, sameSite: 'Strict', path: '/' });
}
