/**
 * The server's plain HTTP side: the device page (join token), GET /status (control secret), and
 * the static files (page script, onnxruntime-web). The static files are public: they hold nothing
 * secret, and onnxruntime-web loads its .mjs/.wasm by URL, which must work without the token.
 * Anything else gets 403, 404 or 405.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { repoRoot } from '../../util/paths.js';
import { tokenMatches, type Secrets } from './auth.js';
import { onnxruntimeWebDist } from './optional-deps.js';
import type { ServerStatus } from './farm.js';

const STATIC_FILES: Record<string, string> = { '/device.js': 'device.js', '/sample-timing.js': 'sample-timing.js' };
const ORT_FILES = new Set([
  'ort.wasm.min.mjs',
  'ort.min.mjs',
  'ort-wasm-simd-threaded.mjs',
  'ort-wasm-simd-threaded.wasm',
  'ort-wasm-simd-threaded.jsep.mjs',
  'ort-wasm-simd-threaded.jsep.wasm',
]);
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

/** Folder of the page files (src/latency/browser/static, also when running from dist/). */
export function staticDir(): string {
  return path.join(repoRoot(), 'src', 'latency', 'browser', 'static');
}

/** onnxruntime-web's dist folder, through the module resolver (an optional dependency: optional-deps.ts). */
export function ortDistDir(): string {
  return onnxruntimeWebDist();
}

export interface HttpRoutes {
  secrets: Secrets;
  status: () => ServerStatus;
  log: (line: string) => void;
}

export function createRequestHandler(routes: HttpRoutes): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return (req, res) => {
    securityHeaders(res);
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (url.pathname === '/status') {
      if (!tokenMatches(url.searchParams.get('token'), routes.secrets.controlToken)) {
        routes.log(`refused /status from ${req.socket.remoteAddress}: bad or missing control secret`);
        res.writeHead(403, { 'Content-Type': 'text/plain' }).end('forbidden: /status needs the control secret (token of the control URL the server printed)\n');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(JSON.stringify(routes.status()));
      return;
    }
    if (url.pathname === '/' || url.pathname === '/index.html') {
      if (!tokenMatches(url.searchParams.get('token'), routes.secrets.token)) {
        routes.log(`refused ${url.pathname} from ${req.socket.remoteAddress}: bad or missing token`);
        res.writeHead(403, { 'Content-Type': 'text/plain' }).end('forbidden: open the URL with the token the server printed\n');
        return;
      }
      sendFile(req, res, path.join(staticDir(), 'index.html'), 'no-store');
      return;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const staticName = STATIC_FILES[url.pathname];
    if (staticName) {
      sendFile(req, res, path.join(staticDir(), staticName), 'no-store');
      return;
    }
    if (url.pathname.startsWith('/ort/')) {
      const name = url.pathname.slice('/ort/'.length);
      if (ORT_FILES.has(name)) {
        sendFile(req, res, path.join(ortDistDir(), name), 'public, max-age=86400');
        return;
      }
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
  };
}

function securityHeaders(res: http.ServerResponse): void {
  // cross-origin isolation: lets the page use threads (SharedArrayBuffer) where the context is secure
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
}

function sendFile(req: http.IncomingMessage, res: http.ServerResponse, file: string, cache: string): void {
  if (!existsSync(file)) {
    res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`missing file ${path.basename(file)}\n`);
    return;
  }
  const size = statSync(file).size;
  res.writeHead(200, { 'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream', 'Content-Length': size, 'Cache-Control': cache });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
