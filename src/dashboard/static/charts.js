// @ts-check
/**
 * Scatter charts on uPlot (served by the dashboard itself). Each point is one trial and belongs
 * to one series; a series can show its points, a line through them (e.g. the Pareto front or the
 * best reward so far), or both. Hovering shows the nearest point's trial (described on demand,
 * e.g. with its architecture); clicking opens it. The chart's container carries the number of
 * points drawn per series (data-counts) so tests and scripts can check what is on screen.
 */
import uPlot from './uplot.esm.js';
import { axisNumber, h } from './format.js';
import { orderByXThenSeries } from './point-order.js';

/**
 * @typedef {{ label: string, color: string, line?: boolean, step?: boolean, points?: boolean, dash?: number[] }} SeriesSpec  step: the line holds each point's value until the next point
 * @typedef {{ x: number, y: number, s: number, id: number }} Point
 * @typedef {{ x: ArrayLike<number>, y: ArrayLike<number>, s: ArrayLike<number>, id: ArrayLike<number> }} Columns
 * @typedef {{ x: number, label: string, color?: string }} VLine
 * @typedef {{ title: string, xLabel: string, yLabel: string, xFormat?: (x: number) => string, series: SeriesSpec[], vlines?: VLine[],
 *   describe?: (id: number, seriesLabel: string) => Promise<Node | string>, open?: (id: number, seriesLabel: string) => void }} ChartSpec
 */

const HOVER_PX = 12;

/** Charts made but not drawn yet, each with its width once measured. */
const unmeasured = new Set();

/**
 * @param {HTMLElement} container
 * @param {ChartSpec} spec
 */
export function scatterChart(container, spec) {
  const box = h('div', { class: 'chart', dataset: { chart: spec.title } }, h('h3', {}, spec.title));
  container.append(box);
  const tooltip = h('div', { class: 'tooltip', hidden: true });
  box.append(tooltip);
  const size = { box, width: 0 };
  unmeasured.add(size);
  /** The points drawn, in uPlot's order (by x, then series). @type {Columns} */
  let shown = { x: [], y: [], s: [], id: [] };
  let vlines = spec.vlines ?? [];
  const cache = new Map();

  const opts = {
    height: 280,
    legend: { live: false },
    cursor: { drag: { x: false, y: false }, points: { show: false } },
    scales: {
      x: { time: false, range: (u, min, max) => padRange(withLines([min, max])) },
      y: { range: (u, min, max) => padRange([min, max]) },
    },
    axes: [
      { label: spec.xLabel, values: (u, splits) => splits.map(spec.xFormat ?? axisNumber) },
      { label: spec.yLabel, values: (u, splits) => splits.map(axisNumber) },
    ],
    series: [
      { label: spec.xLabel },
      ...spec.series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: s.line ? 1.5 : 0,
        dash: s.dash,
        spanGaps: true,
        paths: s.step ? steppedAfter : s.line ? undefined : () => null,
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

  /** The index (in `shown`) of the shown point nearest the cursor, within HOVER_PX; -1 if none. */
  function nearest(u) {
    const { left, top } = u.cursor;
    if (left == null || left < 0) return -1;
    let best = -1;
    let bestD = HOVER_PX * HOVER_PX;
    for (let i = 0; i < shown.x.length; i++) {
      if (spec.series[shown.s[i]].points === false) continue;
      const dx = u.valToPos(shown.x[i], 'x') - left;
      const dy = u.valToPos(shown.y[i], 'y') - top;
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
    const id = shown.id[i];
    const label = spec.series[shown.s[i]].label;
    u.over.style.cursor = spec.open ? 'pointer' : '';
    tooltip.hidden = false;
    tooltip.replaceChildren(`trial ${id} (${label})`);
    const overRect = u.over.getBoundingClientRect();
    const boxRect = box.getBoundingClientRect();
    const x = overRect.left - boxRect.left + u.valToPos(shown.x[i], 'x');
    tooltip.style.left = `${Math.min(x + 10, boxRect.width - 300)}px`;
    tooltip.style.top = `${overRect.top - boxRect.top + u.valToPos(shown.y[i], 'y') + 12}px`;
    if (!spec.describe) return;
    const key = `${shown.s[i]}:${id}`;
    if (!cache.has(key)) cache.set(key, spec.describe(id, label).catch((e) => `trial ${id}: ${e.message}`));
    cache.get(key).then((content) => {
      if (hovered === i) tooltip.replaceChildren(content instanceof Node ? content.cloneNode(true) : content);
    });
  }

  /** @type {any} */
  let plot;
  /**
   * The plot is made with its first data, not before: a page makes its charts one after another,
   * and only once they are all in the page does each one's width settle (made earlier, the first
   * chart would be drawn at the full width, then again at its own).
   */
  function show(data) {
    if (plot) {
      plot.setData(data);
      return;
    }
    // (every chart not drawn yet is measured now, together: one layout of the page, not one per chart)
    if (unmeasured.has(size)) for (const c of unmeasured) {
      c.width = Math.max(300, c.box.clientWidth - 12);
      unmeasured.delete(c);
    }
    plot = new uPlot({ ...opts, width: size.width }, data, box);
    // for scripts and tests that need the chart's scales (e.g. to hover a given point)
    Object.defineProperty(box, 'uplot', { value: plot });
    plot.over.addEventListener('click', () => {
      if (hovered >= 0 && spec.open) spec.open(shown.id[hovered], spec.series[shown.s[hovered]].label);
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
  }

  const chart = {
    /**
     * Replaces the points (and the vertical lines, if given), given as columns: point i is
     * (x[i], y[i]) of series s[i], trial id[i].
     * @param {Columns} columns
     * @param {VLine[]} [lines]
     */
    setColumns(columns, lines) {
      if (lines) vlines = lines;
      // one pass puts the points in order and makes uPlot's data: the x values, then per series
      // its y values (null where the point is of another series)
      const n = columns.x.length;
      const order = inXOrder(columns) ? null : orderByXThenSeries(columns.x, columns.s);
      const xs = [];
      const ys = spec.series.map(() => new Array(n).fill(null));
      shown = { x: xs, y: new Float64Array(n), s: new Uint8Array(n), id: new Float64Array(n) };
      const counts = spec.series.map(() => 0);
      for (let k = 0; k < n; k++) {
        const i = order === null ? k : order[k];
        const s = columns.s[i];
        const y = columns.y[i];
        xs.push(columns.x[i]);
        ys[s][k] = y;
        shown.y[k] = y;
        shown.s[k] = s;
        shown.id[k] = columns.id[i];
        counts[s]++;
      }
      hovered = -1;
      tooltip.hidden = true;
      show([xs, ...ys]);
      box.dataset.counts = JSON.stringify(Object.fromEntries(spec.series.map((s, i) => [s.label, counts[i]])));
    },
    /**
     * Replaces the points (and the vertical lines, if given).
     * @param {Point[]} pts
     * @param {VLine[]} [lines]
     */
    setPoints(pts, lines) {
      chart.setColumns({ x: pts.map((p) => p.x), y: pts.map((p) => p.y), s: pts.map((p) => p.s), id: pts.map((p) => p.id) }, lines);
    },
    element: box,
  };
  return chart;
}

/** Whether the points are in order of x, then series (as uPlot wants them). @param {Columns} c */
function inXOrder(c) {
  for (let i = 1; i < c.x.length; i++) if (!(c.x[i - 1] < c.x[i] || (c.x[i - 1] === c.x[i] && c.s[i - 1] <= c.s[i]))) return false;
  return true;
}

const SQUARES_FROM = 2000;
const NOTHING_TO_DRAW = { stroke: null, fill: null, clip: null, band: null, gaps: null, flags: 0 };
const defaultPoints = uPlot.paths.points();
const steppedAfter = uPlot.paths.stepped({ align: 1 });

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
  const { left, top, width, height } = u.bbox;
  const w = Math.ceil(width);
  const h = Math.ceil(height);
  if (w <= 0 || h <= 0) return NOTHING_TO_DRAW;
  // (a linear scale maps values to pixels by one multiply-add: much cheaper per point than
  // valToPos, which matters most the first time, before the page's code is optimized)
  const toX = linearMap(u, 'x', left + size / 2);
  const toY = linearMap(u, u.series[seriesIdx].scale ?? 'y', top + size / 2);
  if (!toX || !toY) return defaultPoints(u, seriesIdx, idx0, idx1, filtIdxs);
  const image = new ImageData(w, h);
  const pixels = new Uint32Array(image.data.buffer);
  const xs = u.data[0];
  const ys = u.data[seriesIdx];
  for (let i = idx0; i <= idx1; i++) {
    const y = ys[i];
    if (y == null) continue;
    const x0 = Math.max(0, Math.round(toX.offset + toX.scale * xs[i]));
    const y0 = Math.max(0, Math.round(toY.offset + toY.scale * y));
    const x1 = Math.min(w, x0 + size);
    const y1 = Math.min(h, y0 + size);
    for (let row = y0 * w; row < y1 * w; row += w) pixels.fill(rgba, row + x0, row + x1);
  }
  const layer = new OffscreenCanvas(w, h);
  /** @type {OffscreenCanvasRenderingContext2D} */ (layer.getContext('2d')).putImageData(image, 0, 0);
  u.ctx.drawImage(layer, left, top);
  return NOTHING_TO_DRAW;
}

/**
 * The canvas position of a value of a linear scale as offset + scale * value, relative to the
 * plot area's corner at `origin` canvas pixels; null for any other kind of scale.
 */
function linearMap(u, key, origin) {
  const sc = u.scales[key];
  if (!sc || sc.distr !== 1 || sc.min == null || sc.max == null || sc.min === sc.max) return null;
  const p0 = u.valToPos(sc.min, key, true);
  const p1 = u.valToPos(sc.max, key, true);
  const scale = (p1 - p0) / (sc.max - sc.min);
  return { offset: p0 - origin - scale * sc.min, scale };
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
