/**
 * A small, dependency-free SVG scatter plot (latency against MACs): linear axes with "nice"
 * ticks, optional series (markers, or a line through the points in order), optional segments
 * linking points (e.g. misordered pairs), a title and a footnote. Output is a standalone,
 * well-formed SVG 1.1 document.
 */

export interface ScatterPoint {
  x: number;
  y: number;
  /** Tooltip text (<title>). */
  label?: string;
}

export interface ScatterSeries {
  name: string;
  color: string;
  points: readonly ScatterPoint[];
  /** Draw a line through the points in their order instead of markers; `title` is its tooltip. */
  line?: { title: string };
}

export interface ScatterOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly ScatterSeries[];
  /** Segments between two points, drawn under the markers. */
  links?: ReadonlyArray<{ from: ScatterPoint; to: ScatterPoint; color?: string }>;
  footnote?: string;
  width?: number;
  height?: number;
  /** The y axis starts at 0 (default true); false: it spans the values (with 5% room). */
  yFromZero?: boolean;
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** About `count` round tick values covering [lo, hi] (1, 2, 5 x 10^k steps). */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi === lo) {
    const d = Math.abs(lo) || 1;
    lo -= d / 2;
    hi += d / 2;
  }
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Short number text: 1.2M, 350k, 0.125. */
export function shortNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  return `${+v.toPrecision(3)}`;
}

const f = (v: number): string => (Math.round(v * 100) / 100).toString();

/** Words of `text` in lines of at most `width` characters (a longer word gets a line of its own). */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

const FOOTNOTE_LINE_PX = 14;
/** Average width of a character of the 11-px footnote font, generously. */
const FOOTNOTE_CHAR_PX = 6.2;

export function scatterSvg(o: ScatterOptions): string {
  const W = o.width ?? 760;
  const m = { left: 78, right: 24, top: 48, bottom: 64 };
  const footnote = o.footnote ? wrapWords(o.footnote, Math.floor((W - m.left - m.right) / FOOTNOTE_CHAR_PX)) : [];
  m.bottom += footnote.length ? 6 + footnote.length * FOOTNOTE_LINE_PX : 0;
  const H = (o.height ?? 520) + Math.max(0, footnote.length - 1) * FOOTNOTE_LINE_PX;
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const all = o.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const xs = all.map((p) => p.x), ys = all.map((p) => p.y);
  const x0 = all.length ? Math.min(0, ...xs) : 0, x1 = all.length ? Math.max(...xs) : 1;
  const yRoom = o.yFromZero === false && all.length ? (Math.max(...ys) - Math.min(...ys)) * 0.05 || 0.01 : 0;
  const y0 = all.length ? (o.yFromZero === false ? Math.min(...ys) - yRoom : Math.min(0, ...ys)) : 0, y1 = all.length ? Math.max(...ys) + yRoom : 1;
  const xt = niceTicks(x0, x1), yt = niceTicks(y0, y1);
  const xmin = Math.min(x0, xt[0] ?? x0), xmax = Math.max(x1, xt.at(-1) ?? x1);
  const ymin = Math.min(y0, yt[0] ?? y0), ymax = Math.max(y1, yt.at(-1) ?? y1);
  const sx = (v: number): number => m.left + ((v - xmin) / (xmax - xmin || 1)) * pw;
  const sy = (v: number): number => m.top + ph - ((v - ymin) / (ymax - ymin || 1)) * ph;
  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(o.title)}</text>`);
  out.push('<g stroke="#e5e5e5" stroke-width="1">');
  for (const t of xt) out.push(`<line x1="${f(sx(t))}" y1="${m.top}" x2="${f(sx(t))}" y2="${m.top + ph}"/>`);
  for (const t of yt) out.push(`<line x1="${m.left}" y1="${f(sy(t))}" x2="${m.left + pw}" y2="${f(sy(t))}"/>`);
  out.push('</g>');
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push('<g fill="#333">');
  for (const t of xt) out.push(`<text x="${f(sx(t))}" y="${m.top + ph + 16}" text-anchor="middle">${escapeXml(shortNumber(t))}</text>`);
  for (const t of yt) out.push(`<text x="${m.left - 6}" y="${f(sy(t) + 4)}" text-anchor="end">${escapeXml(shortNumber(t))}</text>`);
  out.push('</g>');
  out.push(`<text x="${m.left + pw / 2}" y="${m.top + ph + 40}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`);
  out.push(`<text transform="translate(20 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.yLabel)}</text>`);
  if (o.links?.length) {
    out.push('<g stroke-width="1.2" stroke-dasharray="4 3" fill="none">');
    for (const l of o.links) out.push(`<line x1="${f(sx(l.from.x))}" y1="${f(sy(l.from.y))}" x2="${f(sx(l.to.x))}" y2="${f(sy(l.to.y))}" stroke="${escapeXml(l.color ?? '#d62728')}"/>`);
    out.push('</g>');
  }
  for (const s of o.series) {
    if (s.line) {
      const points = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).map((p) => `${f(sx(p.x))},${f(sy(p.y))}`);
      out.push(`<polyline fill="none" stroke="${escapeXml(s.color)}" stroke-width="2" points="${points.join(' ')}"><title>${escapeXml(s.line.title)}</title></polyline>`);
      continue;
    }
    out.push(`<g fill="${escapeXml(s.color)}" fill-opacity="0.75" stroke="white" stroke-width="0.5">`);
    for (const p of s.points) {
      if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) continue;
      const c = `<circle cx="${f(sx(p.x))}" cy="${f(sy(p.y))}" r="4"`;
      out.push(p.label ? `${c}><title>${escapeXml(p.label)}</title></circle>` : `${c}/>`);
    }
    out.push('</g>');
  }
  if (o.series.length > 1) {
    o.series.forEach((s, i) => {
      const y = m.top + 14 + i * 16;
      out.push(s.line ? `<line x1="${m.left + 6}" y1="${y - 4}" x2="${m.left + 18}" y2="${y - 4}" stroke="${escapeXml(s.color)}" stroke-width="2"/>` : `<circle cx="${m.left + 12}" cy="${y - 4}" r="4" fill="${escapeXml(s.color)}"/>`);
      out.push(`<text x="${m.left + 22}" y="${y}">${escapeXml(s.name)}</text>`);
    });
  }
  footnote.forEach((line, i) => out.push(`<text x="${m.left}" y="${H - 12 - (footnote.length - 1 - i) * FOOTNOTE_LINE_PX}" fill="#555" font-size="11">${escapeXml(line)}</text>`));
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
