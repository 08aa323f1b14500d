// @ts-check
/** Compare: the Pareto fronts (accuracy against latency) of several runs on one plot, each with its target line, and their best reward over trials. */
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
    // one series per run, in both charts: hovering a point describes its trial, clicking opens it
    const perRun = {
      series: labels.map((l, i) => ({ label: l, color: COLORS[i % COLORS.length], line: true })),
      describe: async (id, label) => {
        const t = await getJson(`/api/runs/${encodeURIComponent(byLabel.get(label).id)}/arch/${id}`);
        return h('div', {}, h('b', {}, `${label}: trial ${id}`), ` reward ${t.reward?.toFixed(4) ?? '-'}, acc ${pct(t.accuracy)}, ${ms(t.latencyMs)} ms`, h('br'), h('code', {}, t.arch ?? ''));
      },
      open: (id, label) => (location.href = withToken(`/runs/${encodeURIComponent(byLabel.get(label).id)}/trials/${id}`)),
    };
    const chart = scatterChart(area, { title: 'Pareto fronts: accuracy against latency', xLabel: 'latency (ms)', yLabel: 'accuracy (%)', ...perRun });
    const points = data.runs.flatMap((r, s) => r.front.map((p) => ({ x: p.latencyMs, y: p.accuracy * 100, s, id: p.trial })));
    const lines = data.runs.filter((r) => r.targetMs != null).map((r) => ({ x: r.targetMs, label: `T ${ms(r.targetMs)}`, color: COLORS[data.runs.indexOf(r) % COLORS.length] }));
    chart.setPoints(points, lines);

    // the optimization history: best reward reached over finished trials, as steps
    const history = scatterChart(area, { title: 'Best reward over trials', xLabel: 'finished trials', yLabel: 'best reward so far', ...perRun });
    history.setPoints(data.runs.flatMap((r, s) => stepsOf(r).map((p) => ({ ...p, s }))));
  }

  /** Improvements as a step line: before each rise, the previous best carried to it; the last best carried to the end. */
  function stepsOf(r) {
    const out = [];
    let previous;
    for (const p of r.improvements) {
      if (previous) out.push({ x: p.n, y: previous.reward, id: previous.trial });
      out.push({ x: p.n, y: p.reward, id: p.trial });
      previous = p;
    }
    if (previous && r.finished > previous.n) out.push({ x: r.finished, y: previous.reward, id: previous.trial });
    return out;
  }

  async function reload() {
    const ids = [...picks.querySelectorAll('input:checked')].map((e) => /** @type {HTMLInputElement} */ (e).value);
    history.replaceState(null, '', withToken(`/compare?runs=${ids.map(encodeURIComponent).join(',')}`));
    await draw(ids);
  }

  await draw(chosen);
}
