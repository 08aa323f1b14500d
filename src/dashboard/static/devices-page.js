// @ts-check
/** Devices: the browser device farm's connected devices (--farm) and the workers of distributed searches (--redis). */
import { getJson } from './api.js';
import { h, int } from './format.js';

export async function render(main) {
  document.title = 'devices - mnas dashboard';
  const d = await getJson('/api/devices');
  main.append(h('h1', {}, 'Devices'));

  main.append(h('h2', {}, 'Browser device farm'));
  if (d.farm === null) main.append(h('p', { class: 'muted', id: 'farm' }, 'none connected: start the dashboard with --farm <control URL of mnas devices serve> to see its devices'));
  else if (d.farm.error) main.append(h('p', { class: 'error', id: 'farm' }, `${d.farm.url}: ${d.farm.error}`));
  else {
    const s = d.farm.status;
    main.append(h('p', { id: 'farm' }, `${d.farm.url}: ${s.devices.length} device(s), ${s.queued} job(s) queued`));
    if (s.devices.length > 0)
      main.append(
        table(
          ['device', 'name', 'state', 'jobs done', 'connected', 'address', 'flagged'],
          s.devices.map((v) => [v.id, v.name ?? '', v.state, int(v.jobsDone), v.connectedAt, v.remoteAddress, v.flagged ?? '']),
        ),
      );
  }

  main.append(h('h2', {}, 'Distributed search workers'), ...workersSection(d.workers));
}

/** The workers of distributed searches (or why they are not shown), as elements. */
export function workersSection(workers) {
  if (workers === null) return [h('p', { class: 'muted', id: 'workers' }, 'not shown: start the dashboard with --redis <URL of the search> to see its workers')];
  if (workers.error) return [h('p', { class: 'error', id: 'workers' }, `${workers.redis}: ${workers.error}`)];
  return [
    h('p', { id: 'workers' }, `${workers.redis}: ${workers.workers.length} worker(s)`),
    table(
      ['worker', 'host', 'jobs', 'device', 'processes', 'running', 'done train', 'done measure', 'failed', 'seen'],
      workers.workers.map((w) => [
        w.id,
        w.host,
        w.jobs.join(', '),
        w.device ?? '\u2013',
        String(w.processes),
        w.running.map((r) => `${r.kind} ${r.job}`).join(', ') || 'idle',
        int(w.done.train),
        int(w.done.measure),
        int(w.failed.train + w.failed.measure),
        w.seenAt,
      ]),
    ),
    h('h3', {}, 'Queues'),
    table(['queue', 'counts'], Object.entries(workers.queues).map(([q, c]) => [q, Object.entries(c).map(([k, v]) => `${k} ${v}`).join(', ')])),
  ];
}

function table(cols, rows) {
  return h('table', {}, h('thead', {}, h('tr', {}, cols.map((c) => h('th', { class: 'text' }, c)))), h('tbody', {}, rows.map((r) => h('tr', {}, r.map((v) => h('td', { class: 'text' }, v))))));
}
