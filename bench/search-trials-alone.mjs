// What a search adds to its trials: proxy-trains trials FROM..TO-1 of a finished fmnist search run
// again, one after the other in this process, alone on the machine, with the run's proxy
// settings (threads included), and prints per trial the CPU and kernel seconds of both (the search's
// from its trial records' extra.memory), then the sums. The difference is what the search's
// other training process (memory bandwidth shared), its latency measurements' holds and its
// allocator trims between trials cost the trial's own work; held time is not CPU time. Each
// trial trains with the search's seed for it, so the two accuracies should agree.
//
//   node bench/search-trials-alone.mjs RUN_DIR [FROM=0] [TO=20]
import { loadDataset } from '../dist/src/data/load.js';
import { readRunRecord } from '../dist/src/search/run-config.js';
import { ExperimentStore } from '../dist/src/search/store.js';
import { parseArch } from '../dist/src/space/arch-string.js';
import { proxySplit, proxyTrain } from '../dist/src/train/run.js';
import { TensorDataset } from '../dist/src/train/tensor-data.js';

const [dir, fromArg = '0', toArg = '20'] = process.argv.slice(2);
const [from, to] = [Number(fromArg), Number(toArg)];
if (!dir || !Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to <= from) {
  console.error('usage: node bench/search-trials-alone.mjs RUN_DIR [FROM >= 0] [TO > FROM]');
  process.exit(2);
}
const { config } = readRunRecord(dir, dir);
if (config.dataset.name !== 'fashion-mnist' || config.evaluator !== 'train') {
  console.error(`search-trials-alone: ${dir} is not a trained search on fashion-mnist`);
  process.exit(2);
}
const store = ExperimentStore.open(dir, { readonly: true });
const trials = store.listTrials({ status: 'done' }).filter((t) => t.id >= from && t.id < to && t.reusedFrom === null && t.extra?.memory?.cpu_s !== undefined);
store.close();
if (trials.length === 0) {
  console.error(`search-trials-alone: no trained trials ${from}..${to - 1} with CPU times in ${dir}`);
  process.exit(2);
}
const split = proxySplit(loadDataset({ name: 'fashion-mnist', seed: 0 }), { subset: config.proxy.images, validationSize: config.dataset.validationImages, splitSeed: config.splitSeed });
const pool = new TensorDataset(split.pool);
const rows = [];
for (const t of trials) {
  const c0 = process.cpuUsage();
  const r = await proxyTrain(parseArch(t.arch), split, {
    threads: config.proxy.threads,
    epochs: config.proxy.epochs,
    poolTensors: pool,
    recipe: { seed: config.initSeed + t.id, ...(config.proxy.batch !== undefined ? { batchSize: config.proxy.batch } : {}), ...(config.proxy.lr !== undefined ? { lr: config.proxy.lr } : {}) },
  });
  const c = process.cpuUsage(c0);
  const m = t.extra.memory;
  const row = { trial: t.id, search_cpu_s: m.cpu_s, alone_cpu_s: (c.user + c.system) / 1e6, search_system_s: m.system_s, alone_system_s: c.system / 1e6, search_accuracy: t.accuracy, alone_accuracy: r.valAccuracy ?? null };
  rows.push(row);
  console.error(`trial ${t.id}: CPU ${row.search_cpu_s.toFixed(2)} s in the search, ${row.alone_cpu_s.toFixed(2)} s alone; kernel ${row.search_system_s.toFixed(2)} s, ${row.alone_system_s.toFixed(2)} s`);
}
pool.dispose();
const sum = (k) => +rows.reduce((s, r) => s + r[k], 0).toFixed(2);
const [search, alone] = [sum('search_cpu_s'), sum('alone_cpu_s')];
console.log(JSON.stringify({ run: dir, trials: rows.length, search_cpu_s: search, alone_cpu_s: alone, search_over_alone: +(search / alone).toFixed(3), search_system_s: sum('search_system_s'), alone_system_s: sum('alone_system_s'), rows }));
