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
  'point-order.js',
  'runs-page.js',
  'run-page.js',
  'trial-table.js',
  'trial-page.js',
  'arch-drawing.js',
  'compare-page.js',
  'devices-page.js',
];

/** Where a served file comes from: a file on disk, served after `prelude` if one is given. */
export interface StaticSource {
  readonly file: string;
  readonly prelude?: string;
}

/**
 * Served before uPlot's own code: within uPlot's module, `Intl` is this stand-in. uPlot makes an
 * Intl.NumberFormat and asks Intl for the local time zone as it loads, and the first use of Intl
 * costs a freshly opened page 35-65 ms (ICU's set-up). The number format is made when first used
 * (the dashboard formats its axes itself, so not while a page opens); the time zone is left
 * unknown, which only turns off a shortcut in uPlot.tzDate (it then converts every zone the
 * general way). These are the only uses of Intl in uPlot (checked by a test).
 */
export const UPLOT_INTL_PRELUDE = `const Intl = {
  NumberFormat: class {
    constructor(...args) { this.args = args; }
    format(v) { return (this.real ??= new globalThis.Intl.NumberFormat(...this.args)).format(v); }
  },
  DateTimeFormat: class {
    resolvedOptions() { return { timeZone: undefined }; }
  },
};
`;

/** URL name (under /static/) -> its source. */
export function staticFiles(): Map<string, StaticSource> {
  const files = new Map<string, StaticSource>(PAGE_FILES.map((f) => [f, { file: path.join(dashboardStaticDir(), f) }]));
  files.set('uplot.esm.js', { file: require.resolve('uplot/dist/uPlot.esm.js'), prelude: UPLOT_INTL_PRELUDE });
  files.set('uplot.min.css', { file: require.resolve('uplot/dist/uPlot.min.css') });
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
    const source = this.files.get(name);
    if (source === undefined) return undefined;
    let entry = this.cache.get(name);
    if (!entry) {
      const file = readFileSync(source.file);
      const body = source.prelude === undefined ? file : Buffer.concat([Buffer.from(source.prelude), file]);
      entry = { body, type: contentType(source.file), etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
      this.cache.set(name, entry);
    }
    return entry;
  }
}
