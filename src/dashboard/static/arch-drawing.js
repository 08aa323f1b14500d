// @ts-check
/**
 * An architecture drawn block by block (SVG): a box per block, its height growing with the
 * block's output channels, labelled with its op, repeats and stride, and the block's search
 * decisions listed under it.
 */

const NS = 'http://www.w3.org/2000/svg';
const BOX_W = 150;
const GAP = 22;

function svg(tag, attrs, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text != null) e.textContent = text;
  return e;
}

/** @param {{ name: string, description: string, outChannels: number, layers: number, stride: number, decisions: { label: string, kind: string, value: string | number }[] }[]} blocks */
export function archDrawing(blocks) {
  const maxC = Math.max(...blocks.map((b) => b.outChannels), 1);
  const boxH = (c) => 52 + 70 * Math.sqrt(c / maxC);
  const top = 12;
  const mid = top + 60;
  const rows = Math.max(0, ...blocks.map((b) => b.decisions.length));
  const height = top + 130 + 14 * rows + 8;
  const width = blocks.length * (BOX_W + GAP);
  const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'architecture, block by block' });
  blocks.forEach((b, i) => {
    const x = i * (BOX_W + GAP);
    const hgt = boxH(b.outChannels);
    const y = mid - hgt / 2;
    const g = svg('g', { 'data-block': b.name });
    const color = b.name.startsWith('block') ? '#ddf4ff' : '#f6f8fa';
    g.append(svg('rect', { x, y, width: BOX_W, height: hgt, rx: 6, fill: color, stroke: '#54aeff' }));
    g.append(svg('text', { x: x + 6, y: y + 14, 'font-weight': 600 }, b.name));
    const [op, skip] = b.description.split(' skip ');
    g.append(svg('text', { x: x + 6, y: y + 28 }, op));
    g.append(svg('text', { x: x + 6, y: y + 42 }, `${b.outChannels} ch \u00d7${b.layers} s${b.stride}${skip ? `, skip ${skip}` : ''}`));
    const title = svg('title', {}, `${b.name}: ${b.description}, ${b.outChannels} channels, ${b.layers} layer(s), stride ${b.stride}`);
    g.append(title);
    b.decisions.forEach((d, j) => g.append(svg('text', { x: x + 2, y: top + 140 + 14 * j, fill: '#656d76' }, `${d.kind}: ${d.value}`)));
    if (i > 0) root.append(svg('line', { x1: x - GAP + 2, y1: mid, x2: x - 3, y2: mid, stroke: '#8c959f', 'marker-end': 'url(#arrow)' }));
    root.append(g);
  });
  const defs = svg('defs', {});
  const marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto' });
  marker.append(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#8c959f' }));
  defs.append(marker);
  root.prepend(defs);
  return root;
}
