// @ts-check
/**
 * A run: its progress, the Pareto front of accuracy against latency with the target line, the
 * reward and best reward so far over trials, latency against MACs, and every trial in a table
 * paged by the server. New and changed trials arrive over server-sent events and are drawn
 * without a reload.
 */
import { getJson, liveEvents, preloaded, withToken } from './api.js';
import { scatterChart } from './charts.js';
import { duration, h, int, mega, ms, num, pct } from './format.js';
import { firstPageQuery, trialTable } from './trial-table.js';
import { workersSection } from './devices-page.js';

export async function render(main, { run }) {
  const base = `/api/runs/${encodeURIComponent(run)}`;
  // (the server preloads these with the page; asked for here too if it did not)
  const firstPage = preloaded('trials') ?? { query: firstPageQuery(), data: getJson(`${base}/trials?${firstPageQuery()}`) };
  firstPage.data.catch(() => {}); // the table shows the error when it awaits it
  const [info, plot] = await Promise.all([preloaded('run')?.data ?? getJson(base), preloaded('plot')?.data ?? getJson(`${base}/plot`)]);
  document.title = `${info.summary.name} - mnas dashboard`;
  const trialUrl = (id) => withToken(`/runs/${encodeURIComponent(run)}/trials/${id}`);
  const open = (id) => (location.href = trialUrl(id));

  /** Finished trials drawn in the charts: id -> [accuracy, latency ms, reward, MACs]. */
  const done = new Map();
  plot.trial.forEach((id, i) => done.set(id, [plot.accuracy[i], plot.latencyMs[i], plot.reward[i], plot.macs[i]]));
  let front = new Set(plot.front);
  const targetMs = plot.targetMs;

  const facts = h('div', { class: 'facts', id: 'run-facts' });
  const progress = h('div', { class: 'progress', title: 'trials finished of the budget' }, h('div'));
  main.append(h('h1', {}, 'Run ', h('code', {}, info.summary.name)), facts, progress);
  if (info.distributed) {
    const workers = h('div', { id: 'run-workers' }, h('p', { class: 'muted' }, 'asking for the workers\u2026'));
    main.append(h('h2', {}, 'Workers (distributed search)'), workers);
    getJson('/api/devices').then(
      (d) => workers.replaceChildren(...workersSection(d.workers)),
      (e) => workers.replaceChildren(h('p', { class: 'error' }, e.message)),
    );
  }

  const describe = async (id) => {
    const t = await getJson(`${base}/arch/${id}`);
    return h('div', {}, h('b', {}, `trial ${t.id}`), ` acc ${pct(t.accuracy)}, ${ms(t.latencyMs)} ms, reward ${num(t.reward)}, MACs ${mega(t.macs)}`, h('br'), h('code', {}, t.arch ?? ''));
  };
  const charts = h('div', { class: 'charts' });
  main.append(h('h2', {}, 'Search'), charts);
  const pareto = scatterChart(charts, {
    title: 'Accuracy against latency (Pareto front)',
    xLabel: 'latency (ms)',
    yLabel: 'accuracy (%)',
    series: [
      { label: 'trials', color: '#8aa4c8' },
      { label: 'Pareto front', color: '#d9480f', line: true },
    ],
    describe,
    open,
  });
  const rewards = scatterChart(charts, {
    title: 'Reward over trials',
    xLabel: 'trial',
    yLabel: 'reward',
    series: [
      { label: 'reward', color: '#8aa4c8' },
      { label: 'best so far', color: '#1a7f37', line: true, points: false },
    ],
    describe,
    open,
  });
  const macs = scatterChart(charts, {
    title: 'Latency against MACs',
    xLabel: 'MACs',
    xFormat: mega,
    yLabel: 'latency (ms)',
    series: [{ label: 'trials', color: '#8250df' }],
    describe,
    open,
  });

  function drawCharts() {
    const ps = [];
    const rs = [];
    const mp = [];
    let best = -Infinity;
    for (const id of [...done.keys()].sort((a, b) => a - b)) {
      const [acc, lat, reward, m] = done.get(id);
      ps.push({ x: lat, y: acc * 100, s: front.has(id) ? 1 : 0, id });
      rs.push({ x: id, y: reward, s: 0, id });
      best = Math.max(best, reward);
      rs.push({ x: id, y: best, s: 1, id });
      if (m != null) mp.push({ x: m, y: lat, s: 0, id });
    }
    pareto.setPoints(ps, targetMs == null ? [] : [{ x: targetMs, label: `T = ${ms(targetMs)} ms`, color: '#cf222e' }]);
    rewards.setPoints(rs);
    macs.setPoints(mp);
  }

  function drawFacts(s) {
    if (s.problem) {
      facts.replaceChildren(h('div', { class: 'error' }, s.problem));
      return;
    }
    const finished = s.trialsDone + s.trialsFailed;
    const fact = (k, v) => h('div', {}, h('span', {}, k), v);
    facts.replaceChildren(
      fact('state', h('span', { class: `state ${s.state}`, id: 'run-state' }, s.state)),
      fact('space', s.space),
      fact('strategy', s.strategy),
      fact('device', s.device),
      fact('T', `${ms(s.targetMs)} ms`),
      fact('trials', h('span', { id: 'run-trials' }, `${int(finished)}${s.budget ? ` of ${int(s.budget)}` : ''}`)),
      fact('failed', int(s.trialsFailed - (s.trialsSkipped ?? 0))),
      ...(s.trialsSkipped > 0 ? [fact('not trained (over T)', int(s.trialsSkipped))] : []),
      fact('pending', int(s.trialsPending)),
      fact('best reward', s.bestTrialId == null ? '\u2013' : h('a', { href: trialUrl(s.bestTrialId) }, `${num(s.bestReward)} (trial ${s.bestTrialId})`)),
      fact('elapsed', duration(s.elapsedSec)),
      fact('ETA', duration(s.etaSec)),
      ...(s.holder ? [fact('process', `${s.holder.pid} on ${s.holder.host}`)] : []),
    );
    /** @type {HTMLElement} */ (progress.firstChild).style.width = `${s.budget ? Math.min(100, (100 * finished) / s.budget) : 0}%`;
  }

  main.append(h('h2', {}, 'Trials'));
  const table = trialTable(main, { base, trialUrl, isFront: (id) => front.has(id), firstPage });

  drawFacts(info.summary);
  drawCharts();
  await table.load();

  liveEvents(
    { run, since: String(Math.min(info.version, plot.version)) },
    {
      trials: (d) => {
        for (const t of d.trials) {
          if (t.status === 'done' && t.accuracy != null && t.latencyMs != null && t.reward != null) done.set(t.id, [t.accuracy, t.latencyMs, t.reward, t.macs]);
          else done.delete(t.id);
        }
        front = new Set(d.front);
        drawFacts(d.summary);
        drawCharts();
        table.changed();
      },
      summary: drawFacts,
      problem: (d) => facts.append(h('div', { class: 'error' }, d.message)),
    },
  );
}
