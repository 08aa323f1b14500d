/**
 * The files the dashboard's pages load: its own page scripts (src/dashboard/static, shipped in
 * the package) and uPlot, the charting library, found through Node's module resolver so it is
 * served from wherever the package manager installed it. Only the files listed here are served.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { repoRoot } from '../util/paths.js';

const require = createRequire(import.meta.url);

/** Folder of the page files (src/dashboard/static, also when running from dist/). */
export function dashboardStaticDir(): string {
  return path.join(repoRoot(), 'src', 'dashboard', 'static');
}

const PAGE_FILES = [
  'index.html',
  'style.css',
  'app.js',
  'api.js',
  'format.js',
  'charts.js',
  'runs-page.js',
  'run-page.js',
  'trial-table.js',
  'trial-page.js',
  'arch-drawing.js',
  'compare-page.js',
  'devices-page.js',
];

/** URL name (under /static/) -> file on disk. */
export function staticFiles(): Map<string, string> {
  const files = new Map(PAGE_FILES.map((f) => [f, path.join(dashboardStaticDir(), f)]));
  files.set('uplot.esm.js', require.resolve('uplot/dist/uPlot.esm.js'));
  files.set('uplot.min.css', require.resolve('uplot/dist/uPlot.min.css'));
  return files;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export function contentType(file: string): string {
  return CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
}

/** The files' contents, read once (they are small and do not change while the server runs). */
export class StaticCache {
  private readonly cache = new Map<string, { body: Buffer; type: string; etag: string }>();
  private readonly files = staticFiles();

  get(name: string): { body: Buffer; type: string; etag: string } | undefined {
    const file = this.files.get(name);
    if (file === undefined) return undefined;
    let entry = this.cache.get(name);
    if (!entry) {
      const body = readFileSync(file);
      entry = { body, type: contentType(file), etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
      this.cache.set(name, entry);
    }
    return entry;
  }
}
