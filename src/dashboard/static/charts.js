// @ts-check
/**
 * Scatter charts on uPlot (served by the dashboard itself). Each point is one trial and belongs
 * to one series; a series can show its points, a line through them (e.g. the Pareto front or the
 * best reward so far), or both. Hovering shows the nearest point's trial (described on demand,
 * e.g. with its architecture); clicking opens it. The chart's container carries the number of
 * points drawn per series (data-counts) so tests and scripts can check what is on screen.
 */
import uPlot from './uplot.esm.js';
import { h } from './format.js';

/**
 * @typedef {{ label: string, color: string, line?: boolean, points?: boolean, dash?: number[] }} SeriesSpec
 * @typedef {{ x: number, y: number, s: number, id: number }} Point
 * @typedef {{ title: string, xLabel: string, yLabel: string, xFormat?: (x: number) => string, series: SeriesSpec[], vlines?: { x: number, label: string, color?: string }[],
 *   describe?: (id: number, seriesLabel: string) => Promise<Node | string>, open?: (id: number, seriesLabel: string) => void }} ChartSpec
 */

const HOVER_PX = 12;

/**
 * @param {HTMLElement} container
 * @param {ChartSpec} spec
 */
export function scatterChart(container, spec) {
  const box = h('div', { class: 'chart', dataset: { chart: spec.title } }, h('h3', {}, spec.title));
  container.append(box);
  const tooltip = h('div', { class: 'tooltip', hidden: true });
  box.append(tooltip);
  /** @type {Point[]} */
  let points = [];
  let vlines = spec.vlines ?? [];
  const cache = new Map();

  const opts = {
    width: Math.max(300, box.clientWidth - 12),
    height: 280,
    legend: { live: false },
    cursor: { drag: { x: false, y: false }, points: { show: false } },
    scales: {
      x: { time: false, range: (u, min, max) => padRange(withLines([min, max])) },
      y: { range: (u, min, max) => padRange([min, max]) },
    },
    axes: [{ label: spec.xLabel, ...(spec.xFormat ? { values: (u, splits) => splits.map(spec.xFormat) } : {}) }, { label: spec.yLabel }],
    series: [
      { label: spec.xLabel },
      ...spec.series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: s.line ? 1.5 : 0,
        dash: s.dash,
        spanGaps: true,
        paths: s.line ? undefined : () => null,
        points: { show: s.points !== false, size: 5, fill: s.color, stroke: s.color, width: 0, paths: manyPointsAsSquares },
      })),
    ],
    hooks: { draw: [drawLines], setCursor: [onCursor] },
  };

  /** @param {[number, number]} r */
  function withLines([min, max]) {
    for (const l of vlines) {
      min = Math.min(min ?? l.x, l.x);
      max = Math.max(max ?? l.x, l.x);
    }
    return [min, max];
  }

  function drawLines(u) {
    const ctx = u.ctx;
    for (const l of vlines) {
      const x = Math.round(u.valToPos(l.x, 'x', true));
      ctx.save();
      ctx.strokeStyle = l.color ?? '#6e7781';
      ctx.setLineDash([6, 4]);
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.moveTo(x, u.bbox.top);
      ctx.lineTo(x, u.bbox.top + u.bbox.height);
      ctx.stroke();
      ctx.fillStyle = l.color ?? '#6e7781';
      ctx.font = `${11 * devicePixelRatio}px system-ui`;
      ctx.fillText(l.label, x + 4, u.bbox.top + 12 * devicePixelRatio);
      ctx.restore();
    }
  }

  /** The index (in `points`) of the shown point nearest the cursor, within HOVER_PX; -1 if none. */
  function nearest(u) {
    const { left, top } = u.cursor;
    if (left == null || left < 0) return -1;
    let best = -1;
    let bestD = HOVER_PX * HOVER_PX;
    for (let i = 0; i < points.length; i++) {
      const p = points[i];
      if (spec.series[p.s].points === false) continue;
      const dx = u.valToPos(p.x, 'x') - left;
      const dy = u.valToPos(p.y, 'y') - top;
      const d = dx * dx + dy * dy;
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    }
    return best;
  }

  let hovered = -1;
  function onCursor(u) {
    const i = nearest(u);
    if (i === hovered) return;
    hovered = i;
    if (i < 0) {
      tooltip.hidden = true;
      u.over.style.cursor = '';
      return;
    }
    const p = points[i];
    const label = spec.series[p.s].label;
    u.over.style.cursor = spec.open ? 'pointer' : '';
    tooltip.hidden = false;
    tooltip.replaceChildren(`trial ${p.id} (${label})`);
    const overRect = u.over.getBoundingClientRect();
    const boxRect = box.getBoundingClientRect();
    const x = overRect.left - boxRect.left + u.valToPos(p.x, 'x');
    tooltip.style.left = `${Math.min(x + 10, boxRect.width - 300)}px`;
    tooltip.style.top = `${overRect.top - boxRect.top + u.valToPos(p.y, 'y') + 12}px`;
    if (!spec.describe) return;
    const key = `${p.s}:${p.id}`;
    if (!cache.has(key)) cache.set(key, spec.describe(p.id, label).catch((e) => `trial ${p.id}: ${e.message}`));
    cache.get(key).then((content) => {
      if (hovered === i) tooltip.replaceChildren(content instanceof Node ? content.cloneNode(true) : content);
    });
  }

  const plot = new uPlot(opts, toData([]), box);
  // for scripts and tests that need the chart's scales (e.g. to hover a given point)
  Object.defineProperty(box, 'uplot', { value: plot });
  plot.over.addEventListener('click', () => {
    if (hovered >= 0 && spec.open) spec.open(points[hovered].id, spec.series[points[hovered].s].label);
  });
  plot.over.addEventListener('mouseleave', () => {
    hovered = -1;
    tooltip.hidden = true;
  });
  // (the observer also fires once on observe: redraw only when the width really changed)
  new ResizeObserver(() => {
    const width = Math.max(300, box.clientWidth - 12);
    if (width !== plot.width) plot.setSize({ width, height: 280 });
  }).observe(box);

  /** @param {Point[]} pts */
  function toData(pts) {
    const sorted = [...pts].sort((a, b) => a.x - b.x || a.s - b.s);
    const xs = sorted.map((p) => p.x);
    const ys = spec.series.map((_, s) => sorted.map((p) => (p.s === s ? p.y : null)));
    return [xs, ...ys];
  }

  return {
    /** Replaces the points (and the vertical lines, if given). @param {Point[]} pts */
    setPoints(pts, lines) {
      if (lines) vlines = lines;
      points = [...pts].sort((a, b) => a.x - b.x || a.s - b.s);
      hovered = -1;
      tooltip.hidden = true;
      const data = toData(points);
      plot.setData(data);
      const counts = Object.fromEntries(spec.series.map((s, i) => [s.label, data[i + 1].filter((v) => v != null).length]));
      box.dataset.counts = JSON.stringify(counts);
    },
    element: box,
  };
}

const SQUARES_FROM = 2000;
const NOTHING_TO_DRAW = { stroke: null, fill: null, clip: null, band: null, gaps: null, flags: 0 };
const defaultPoints = uPlot.paths.points();

/**
 * uPlot's points are circles gathered in one path; with thousands of points, filling that path
 * costs about 100 ms per chart in Chromium's software canvas. A series of many points is drawn
 * here instead, as opaque squares of the same size written straight into pixels (about a tenth
 * of that), and hands uPlot nothing left to draw.
 */
function manyPointsAsSquares(u, seriesIdx, idx0, idx1, filtIdxs) {
  const points = u.series[seriesIdx].points;
  // (uPlot keeps the resolved style in _fill; fill itself may have become a function)
  const rgba = hexColor(points._fill ?? points.fill);
  if (idx1 - idx0 < SQUARES_FROM || rgba === null) return defaultPoints(u, seriesIdx, idx0, idx1, filtIdxs);
  const size = Math.round(points.size * devicePixelRatio);
  const half = size / 2;
  const { left, top, width, height } = u.bbox;
  const w = Math.ceil(width);
  const h = Math.ceil(height);
  if (w <= 0 || h <= 0) return NOTHING_TO_DRAW;
  const image = new ImageData(w, h);
  const pixels = new Uint32Array(image.data.buffer);
  const xs = u.data[0];
  const ys = u.data[seriesIdx];
  for (let i = idx0; i <= idx1; i++) {
    const y = ys[i];
    if (y == null) continue;
    const x0 = Math.max(0, Math.round(u.valToPos(xs[i], 'x', true) - left - half));
    const y0 = Math.max(0, Math.round(u.valToPos(y, 'y', true) - top - half));
    const x1 = Math.min(w, x0 + size);
    const y1 = Math.min(h, y0 + size);
    for (let py = y0; py < y1; py++) pixels.fill(rgba, py * w + x0, py * w + x1);
  }
  const layer = new OffscreenCanvas(w, h);
  /** @type {OffscreenCanvasRenderingContext2D} */ (layer.getContext('2d')).putImageData(image, 0, 0);
  u.ctx.drawImage(layer, left, top);
  return NOTHING_TO_DRAW;
}

/** '#rrggbb' as one little-endian RGBA pixel (opaque); null for any other color syntax. */
function hexColor(color) {
  const m = typeof color === 'string' ? /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color) : null;
  if (!m) return null;
  const [r, g, b] = m.slice(1).map((x) => parseInt(x, 16));
  return ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

/** A range with 5% room on each side (a single value gets a unit of room). */
function padRange([min, max]) {
  if (min == null || max == null) return [0, 1];
  if (min === max) return [min - 1, max + 1];
  const pad = (max - min) * 0.05;
  return [min - pad, max + pad];
}
