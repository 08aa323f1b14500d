// @ts-check
/** The runs page: every run served, with its state and progress, updated live; pick some to compare. */
import { getJson, liveEvents, withToken } from './api.js';
import { duration, h, int, ms, num } from './format.js';

export async function render(main) {
  document.title = 'runs - mnas dashboard';
  const { runs } = await getJson('/api/runs');
  const selected = new Set();
  const compare = h('button', { disabled: true, onclick: () => (location.href = withToken(`/compare?runs=${[...selected].map(encodeURIComponent).join(',')}`)) }, 'compare selected');
  const body = h('tbody');
  main.append(h('h1', {}, 'Runs'), h('div', { class: 'toolbar' }, compare, h('span', { class: 'muted', id: 'run-count' })), h('table', { id: 'runs' }, header(), body));

  function draw(list) {
    document.getElementById('run-count').textContent = `${list.length} run${list.length === 1 ? '' : 's'}`;
    if (list.length === 0) {
      body.replaceChildren(h('tr', {}, h('td', { colspan: 14, class: 'text muted' }, 'no runs yet: start one with mnas search --out DIR under a folder this dashboard serves')));
      return;
    }
    body.replaceChildren(...list.map((r) => row(r)));
  }

  function row(r) {
    const box = h('input', { type: 'checkbox', checked: selected.has(r.id), onchange: (e) => {
      if (e.target.checked) selected.add(r.id);
      else selected.delete(r.id);
      compare.toggleAttribute('disabled', selected.size === 0);
    } });
    const link = (text) => h('a', { href: withToken(`/runs/${encodeURIComponent(r.id)}`) }, text);
    if (r.problem) return h('tr', { dataset: { run: r.id } }, h('td', {}, ''), h('td', { class: 'text' }, link(r.name)), h('td', { class: 'text error', colspan: 12 }, r.problem));
    const finished = r.trialsDone + r.trialsFailed;
    return h(
      'tr',
      { dataset: { run: r.id } },
      h('td', {}, box),
      h('td', { class: 'text' }, link(r.name)),
      h('td', { class: 'text' }, h('span', { class: `state ${r.state}` }, r.state)),
      h('td', { class: 'text' }, r.space),
      h('td', { class: 'text' }, r.strategy),
      h('td', { class: 'text' }, r.device),
      h('td', {}, ms(r.targetMs)),
      h('td', {}, r.budget == null ? '\u2013' : int(r.budget)),
      h('td', {}, `${int(finished)}${r.budget ? ` (${Math.floor((100 * finished) / r.budget)}%)` : ''}`),
      h('td', {}, int(r.trialsFailed - (r.trialsSkipped ?? 0))),
      h('td', {}, int(r.trialsPending)),
      h('td', {}, r.bestTrialId == null ? '\u2013' : h('a', { href: withToken(`/runs/${encodeURIComponent(r.id)}/trials/${r.bestTrialId}`) }, num(r.bestReward))),
      h('td', {}, duration(r.elapsedSec)),
      h('td', {}, duration(r.etaSec)),
    );
  }

  draw(runs);
  liveEvents({}, { runs: (d) => draw(d.runs) });
}

function header() {
  const cols = ['', 'run', 'state', 'space', 'strategy', 'device', 'T ms', 'budget', 'trials done', 'failed', 'pending', 'best reward', 'elapsed', 'ETA'];
  return h('thead', {}, h('tr', {}, cols.map((c, i) => h('th', { class: i >= 1 && i <= 5 ? 'text' : '' }, c))));
}
