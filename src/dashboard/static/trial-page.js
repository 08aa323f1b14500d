// @ts-check
/**
 * A trial: its result, the architecture drawn block by block with its decisions, the cost
 * model's per-layer table with each layer's predicted latency (when a latency table is known),
 * the measured latency statistics, the timings, and the files final training exported.
 */
import { getJson, withToken } from './api.js';
import { archDrawing } from './arch-drawing.js';
import { h, int, kvTable, mega, ms, num, pct } from './format.js';

export async function render(main, { run, trial }) {
  const d = await getJson(`/api/runs/${encodeURIComponent(run)}/trials/${trial}`);
  const t = d.trial;
  document.title = `trial ${t.id} - mnas dashboard`;
  const fact = (k, v) => h('div', {}, h('span', {}, k), v);
  main.append(
    h('p', {}, h('a', { href: withToken(`/runs/${encodeURIComponent(run)}`) }, `\u2190 run ${run}`)),
    h('h1', {}, `Trial ${t.id}`),
    h(
      'div',
      { class: 'facts' },
      fact('status', h('span', { class: `state ${t.status}` }, t.status)),
      fact('accuracy', pct(t.accuracy)),
      fact('latency', `${ms(t.latencyMs)} ms`),
      fact('reward', num(t.reward)),
      fact('MACs', mega(t.macs)),
      fact('params', int(t.params)),
      fact('attempts', String(t.attempts)),
      t.reusedFrom != null ? fact('result reused from', h('a', { href: withToken(`/runs/${encodeURIComponent(run)}/trials/${t.reusedFrom}`) }, `trial ${t.reusedFrom}`)) : null,
    ),
    ...(t.error ? [h('p', { class: 'error', id: 'trial-error' }, `error: ${t.error}`)] : []),
    h('p', {}, h('code', { id: 'arch-string' }, t.arch ?? '')),
  );

  main.append(h('h2', {}, 'Architecture'));
  const a = d.architecture;
  if (a.error) main.append(h('p', { class: 'error' }, a.error));
  else {
    main.append(h('div', { class: 'arch-drawing', id: 'arch-drawing' }, archDrawing(a.blocks)));
    main.append(h('p', { class: 'muted' }, `params ${int(a.params)}, MACs ${int(a.macs)}, activations ${int(a.activations)} elements`));
    main.append(h('h2', {}, 'Layers (cost model)'), tableNote(d.latencyTable), layerTable(a.layers, d.latencyTable));
  }

  main.append(h('h2', {}, 'Measured latency'), kvTable(t.latencyStats));
  main.append(h('h2', {}, 'Timings'), kvTable(t.timings));
  main.append(h('p', { class: 'muted' }, `proposed ${t.createdAt}, started ${t.startedAt ?? '\u2013'}, finished ${t.finishedAt ?? '\u2013'}`));
  main.append(h('h2', {}, 'Exported files'));
  if (d.files.length === 0) main.append(h('p', { class: 'muted' }, 'none: final training did not train this trial (or has not yet)'));
  else
    main.append(
      h('ul', { id: 'files' }, d.files.map((f) => h('li', {}, h('a', { href: withToken(`/files/${encodeURIComponent(run)}/${f.path}`) }, f.path), ` (${int(f.bytes)} bytes)`))),
    );
}

function tableNote(lt) {
  if (lt.unavailable !== undefined) return h('p', { class: 'note', id: 'latency-table-note' }, `No predicted latencies: ${lt.unavailable}`);
  const total = lt.predictedMs == null ? `${lt.missing} layer(s) not in the table, no total` : `predicted ${ms(lt.predictedMs)} ms in all (fixed cost ${ms(lt.fixedMs)} ms + the layers)`;
  return h('p', { class: 'note', id: 'latency-table-note' }, `Latency table ${lt.file} (device ${lt.device}, space ${lt.space}${lt.calibrated ? ', calibrated' : ''}): ${total}`);
}

function layerTable(layers, lt) {
  const withTable = lt.unavailable === undefined;
  const cols = ['layer', 'op', 'in', 'out', 'params', 'MACs', 'activations', ...(withTable ? ['table ms', 'predicted ms'] : [])];
  return h(
    'table',
    { id: 'layers' },
    h('thead', {}, h('tr', {}, cols.map((c, i) => h('th', { class: i < 4 ? 'text' : '' }, c)))),
    h(
      'tbody',
      {},
      layers.map((l) =>
        h(
          'tr',
          {},
          h('td', { class: 'text' }, l.name),
          h('td', { class: 'text' }, l.description),
          h('td', { class: 'text' }, `${l.inChannels}@${l.inSize}`),
          h('td', { class: 'text' }, `${l.outChannels}@${l.outSize}`),
          h('td', {}, int(l.params)),
          h('td', {}, int(l.macs)),
          h('td', {}, int(l.activations)),
          withTable ? h('td', {}, ms(l.tableMs)) : null,
          withTable ? h('td', {}, ms(l.predictedMs)) : null,
        ),
      ),
    ),
  );
}
