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

  /** Finished trials drawn in the charts, as the server sends them: columns in trial id order. */
  let finished = inIdOrder({ trial: plot.trial, accuracy: plot.accuracy, latencyMs: plot.latencyMs, reward: plot.reward, macs: plot.macs });
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
  const paretoChart = scatterChart(charts, {
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
  const rewardChart = scatterChart(charts, {
    title: 'Reward over trials',
    xLabel: 'trial',
    yLabel: 'reward',
    series: [
      { label: 'reward', color: '#8aa4c8' },
      { label: 'best so far', color: '#1a7f37', line: true, step: true, points: false },
    ],
    describe,
    open,
  });
  const macsChart = scatterChart(charts, {
    title: 'Latency against MACs',
    xLabel: 'MACs',
    xFormat: mega,
    yLabel: 'latency (ms)',
    series: [{ label: 'trials', color: '#8250df' }],
    describe,
    open,
  });

  function drawCharts() {
    const { trial, accuracy, latencyMs, reward, macs } = finished;
    const n = trial.length;
    const percent = new Float64Array(n);
    const onFront = new Uint8Array(n);
    // every trial's reward (series 0), and the best reward so far (series 1) where it rises and
    // at the last trial, drawn as steps
    const rewards = { x: new Float64Array(n + n), y: new Float64Array(n + n), s: new Uint8Array(n + n), id: new Float64Array(n + n) };
    let rewardPoints = 0;
    const withMacs = { x: new Float64Array(n), y: new Float64Array(n), s: new Uint8Array(n), id: new Float64Array(n) };
    let macsPoints = 0;
    let best = -Infinity;
    for (let i = 0; i < n; i++) {
      const id = trial[i];
      percent[i] = accuracy[i] * 100;
      onFront[i] = front.has(id) ? 1 : 0;
      rewards.x[rewardPoints] = id;
      rewards.y[rewardPoints] = reward[i];
      rewards.id[rewardPoints] = id;
      rewardPoints++;
      if (reward[i] > best || i === n - 1) {
        best = Math.max(best, reward[i]);
        rewards.x[rewardPoints] = id;
        rewards.y[rewardPoints] = best;
        rewards.s[rewardPoints] = 1;
        rewards.id[rewardPoints] = id;
        rewardPoints++;
      }
      if (macs[i] != null) {
        withMacs.x[macsPoints] = macs[i];
        withMacs.y[macsPoints] = latencyMs[i];
        withMacs.id[macsPoints] = id;
        macsPoints++;
      }
    }
    paretoChart.setColumns({ x: latencyMs, y: percent, s: onFront, id: trial }, targetMs == null ? [] : [{ x: targetMs, label: `T = ${ms(targetMs)} ms`, color: '#cf222e' }]);
    rewardChart.setColumns(firstRows(rewards, rewardPoints));
    macsChart.setColumns(firstRows(withMacs, macsPoints));
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
        finished = withChanges(finished, d.trials);
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

/**
 * @typedef {{ trial: number[], accuracy: number[], latencyMs: number[], reward: number[], macs: (number | null)[] }} TrialColumns
 *   finished trials, one array per quantity (as the server's plot data)
 */
const QUANTITIES = /** @type {const} */ (['trial', 'accuracy', 'latencyMs', 'reward', 'macs']);

/** The columns in ascending trial id (as given if they already are). @param {TrialColumns} c */
function inIdOrder(c) {
  const n = c.trial.length;
  let ordered = true;
  for (let i = 1; i < n && ordered; i++) ordered = c.trial[i - 1] < c.trial[i];
  if (ordered) return c;
  const rowOf = new Map(c.trial.map((id, i) => [id, i]));
  const rows = [...rowOf.keys()].sort((a, b) => a - b).map((id) => /** @type {number} */ (rowOf.get(id)));
  return /** @type {TrialColumns} */ (Object.fromEntries(QUANTITIES.map((q) => [q, rows.map((i) => c[q][i])])));
}

/**
 * The columns with a live update's trials applied: a finished trial (done, with accuracy, latency
 * and reward) is added or replaced, any other one is removed.
 * @param {TrialColumns} c
 */
function withChanges(c, trials) {
  const out = /** @type {TrialColumns} */ (Object.fromEntries(QUANTITIES.map((q) => [q, c[q].slice()])));
  const rowOf = new Map(c.trial.map((id, i) => [id, i]));
  const removed = new Set();
  for (const t of trials) {
    const row = rowOf.get(t.id);
    if (t.status === 'done' && t.accuracy != null && t.latencyMs != null && t.reward != null) {
      const values = { trial: t.id, accuracy: t.accuracy, latencyMs: t.latencyMs, reward: t.reward, macs: t.macs ?? null };
      if (row === undefined) {
        rowOf.set(t.id, out.trial.length);
        for (const q of QUANTITIES) out[q].push(values[q]);
      } else {
        for (const q of QUANTITIES) out[q][row] = values[q];
        removed.delete(row);
      }
    } else if (row !== undefined) removed.add(row);
  }
  const kept = removed.size === 0 ? out : /** @type {TrialColumns} */ (Object.fromEntries(QUANTITIES.map((q) => [q, out[q].filter((_, i) => !removed.has(i))])));
  return inIdOrder(kept);
}

/** The first `rows` rows of each column. @param {Record<string, Float64Array | Uint8Array>} columns */
function firstRows(columns, rows) {
  return Object.fromEntries(Object.entries(columns).map(([k, col]) => [k, col.subarray(0, rows)]));
}
