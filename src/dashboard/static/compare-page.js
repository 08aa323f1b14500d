// @ts-check
/** Compare: the Pareto fronts (accuracy against latency) of several runs on one plot, each with its target line. */
import { getJson, withToken } from './api.js';
import { scatterChart } from './charts.js';
import { h, ms, pct } from './format.js';

const COLORS = ['#d9480f', '#0969da', '#1a7f37', '#8250df', '#bf8700', '#cf222e', '#1b7c83', '#6e7781', '#e85aad', '#4d2d00', '#0550ae', '#116329'];

export async function render(main) {
  document.title = 'compare - mnas dashboard';
  const params = new URLSearchParams(location.search);
  const chosen = (params.get('runs') ?? '').split(',').filter((s) => s !== '');
  const { runs } = await getJson('/api/runs');
  main.append(h('h1', {}, 'Compare Pareto fronts'));
  const picks = h(
    'div',
    { class: 'toolbar', id: 'run-picks' },
    runs.map((r) =>
      h('label', {}, h('input', { type: 'checkbox', value: r.id, checked: chosen.includes(r.id), onchange: () => reload() }), ` ${r.name}`),
    ),
  );
  main.append(picks);
  const area = h('div', { id: 'compare-area' });
  main.append(area);

  async function draw(ids) {
    area.replaceChildren();
    if (ids.length === 0) {
      area.append(h('p', { class: 'muted' }, 'pick runs to compare'));
      return;
    }
    const data = await getJson(`/api/compare?runs=${ids.map(encodeURIComponent).join(',')}`);
    const byLabel = new Map(data.runs.map((r) => [r.name === r.id ? r.id : `${r.name} (${r.id})`, r]));
    const labels = [...byLabel.keys()];
    const chart = scatterChart(area, {
      title: 'Pareto fronts: accuracy against latency',
      xLabel: 'latency (ms)',
      yLabel: 'accuracy (%)',
      series: labels.map((l, i) => ({ label: l, color: COLORS[i % COLORS.length], line: true })),
      describe: async (id, label) => {
        const r = byLabel.get(label);
        const t = await getJson(`/api/runs/${encodeURIComponent(r.id)}/arch/${id}`);
        return h('div', {}, h('b', {}, `${label}: trial ${id}`), ` acc ${pct(t.accuracy)}, ${ms(t.latencyMs)} ms`, h('br'), h('code', {}, t.arch ?? ''));
      },
      open: (id, label) => (location.href = withToken(`/runs/${encodeURIComponent(byLabel.get(label).id)}/trials/${id}`)),
    });
    const points = data.runs.flatMap((r, s) => r.front.map((p) => ({ x: p.latencyMs, y: p.accuracy * 100, s, id: p.trial })));
    const lines = data.runs.filter((r) => r.targetMs != null).map((r) => ({ x: r.targetMs, label: `T ${ms(r.targetMs)}`, color: COLORS[data.runs.indexOf(r) % COLORS.length] }));
    chart.setPoints(points, lines);
  }

  async function reload() {
    const ids = [...picks.querySelectorAll('input:checked')].map((e) => /** @type {HTMLInputElement} */ (e).value);
    history.replaceState(null, '', withToken(`/compare?runs=${ids.map(encodeURIComponent).join(',')}`));
    await draw(ids);
  }

  await draw(chosen);
}
