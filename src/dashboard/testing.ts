/** Test helpers for the dashboard: trials written into a run as a search writes them, and raw HTTP requests. */
import http from 'node:http';
import { layerKey, saveTable, TABLE_FORMAT, type LatencyTable, type TableEntry } from '../latency/table.js';
import { costOfLayer } from '../model/cost.js';
import { buildPlan } from '../model/plan.js';
import { parseArch } from '../space/arch-string.js';
import { printArch } from '../space/arch-string.js';
import { getSpace } from '../space/space.js';
import type { TrialMetrics } from '../search/run-store.js';
import { ExperimentStore } from '../search/store.js';
import { Rng } from '../util/rng.js';

/**
 * Adds one trial to the run in `dir` and completes it with `metrics`, through the store's writer
 * API (as the search loop does: a proposal event, then a result event). A random architecture of
 * the space `space` (seeded). Returns the new trial's id.
 */
export function addFinishedTrial(dir: string, metrics: TrialMetrics, o: { space?: string; seed?: number } = {}): number {
  const store = ExperimentStore.open(dir, { synchronous: 'NORMAL' });
  try {
    const space = getSpace(o.space ?? 'fmnist');
    const dna = space.sample(new Rng(o.seed ?? 1));
    const id = store.count();
    store.addTrial({ id, dna }, printArch(space.decode(dna)));
    store.markRunning(id);
    store.complete(id, metrics);
    return id;
  } finally {
    store.close();
  }
}

/** A GET with the path exactly as given (no URL normalisation: `..` and %2e stay as they are). */
export function rawGet(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'GET', headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Writes a latency table file for space `space` holding an entry for every layer of `archs`
 * (median = 0.01 ms + 1 ms per 100 MMACs, calibrated: intercept 0.2 ms, scale 1.1): a table as
 * `mnas latency profile` writes it, with made-up timings, for tests of what reads tables.
 */
export function writeLatencyTableFor(file: string, space: string, archs: readonly string[]): void {
  const entries: Record<string, TableEntry> = {};
  for (const a of archs) {
    for (const l of buildPlan(parseArch(a)).layers) {
      const macs = costOfLayer(l).macs;
      const median = 0.01 + macs / 1e8;
      entries[layerKey(l)] = { kind: l.kind, macs, median_ms: median, p10_ms: median * 0.95, p90_ms: median * 1.05, runs: 50, converged: true };
    }
  }
  const table: LatencyTable = {
    format: TABLE_FORMAT,
    space,
    device: { id: 'ort-cpu', kind: 'ort-cpu', cpu: 'test', runtime: 'test', runtimeVersion: '0', threads: 1 },
    created: new Date(0).toISOString(),
    protocol: {},
    overhead_ms: 0.005,
    entries,
    calibration: { intercept_ms: 0.2, scale: 1.1, models: 2, fit_mape: 1, points: [] },
  };
  saveTable(file, table);
}
