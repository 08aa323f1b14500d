/**
 * One training of the trained table, run as `mnas train ... --json` in a child process of its
 * own (its own libtorch and thread count, so several run side by side on separate cores), and
 * turned into a table row.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { costOfPlan } from '../model/cost.js';
import { buildPlan } from '../model/plan.js';
import { parseArch } from '../space/arch-string.js';
import { FINAL_RECIPE } from '../train/recipe.js';
import type { TrainReport } from '../train/train.js';
import { trainRow, type TrainRow, type TrainSetting } from './table.js';

export interface TrainJob {
  readonly arch: string;
  readonly setting: TrainSetting;
  readonly seed: number;
}

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/** The `mnas train` arguments of a job. */
export function trainJobArgs(job: TrainJob, threads: number, dataDir?: string, save?: { weights: string; onnx: string }): string[] {
  const s = job.setting;
  const args = ['train', job.arch, '--dataset', s.dataset, '--epochs', String(s.epochs), '--validation', String(s.validation)];
  args.push('--split-seed', String(s.splitSeed), '--seed', String(job.seed), '--threads', String(threads), '--json', '--quiet');
  if (s.task === 'proxy') args.push('--proxy', '--subset', String(s.images), '--no-test');
  if (s.recipe) {
    // recipe tuning: the final recipe changed, scored on the validation split; the test set stays unseen
    const r = s.recipe;
    if (r.lr !== undefined) args.push('--lr', String(r.lr));
    if (r.weightDecay !== undefined) args.push('--weight-decay', String(r.weightDecay));
    if (r.labelSmoothing !== undefined) args.push('--label-smoothing', String(r.labelSmoothing));
    if (r.batchSize !== undefined) args.push('--batch', String(r.batchSize));
    if (s.task === 'final') args.push('--no-test');
  }
  if (dataDir) args.push('--data-dir', dataDir);
  if (save) args.push('--save', save.weights, '--onnx', save.onnx);
  return args;
}

/** Epochs of the final recipe (what a `final` setting trains for unless told otherwise). */
export const FINAL_EPOCHS = FINAL_RECIPE.epochs;

export interface RunTrainJobOptions {
  readonly threads: number;
  readonly dataDir?: string;
  readonly signal?: AbortSignal;
  /** Save the trained weights (safetensors) and the ONNX export here. */
  readonly save?: { weights: string; onnx: string };
}

/** Trains the job in a child process; a failure of the architecture is a row, a failure of the process throws. */
export function runTrainJob(job: TrainJob, o: RunTrainJobOptions): Promise<TrainRow> {
  const args = trainJobArgs(job, o.threads, o.dataDir, o.save);
  return new Promise<TrainRow>((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(o.signal ? { signal: o.signal } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      let report: TrainReport | undefined;
      try {
        report = JSON.parse(last) as TrainReport;
      } catch {
        report = undefined;
      }
      if (!report || typeof report.status !== 'string') {
        reject(new Error(`mnas ${args.slice(0, 2).join(' ')}: exited with ${signal ?? code} and no JSON result: ${stderr.trim().split('\n').at(-1) ?? ''}`));
        return;
      }
      resolve(rowOf(job, report, o.threads));
    });
  });
}

function rowOf(job: TrainJob, r: TrainReport, threads: number): TrainRow {
  const macs = costOfPlan(buildPlan(parseArch(job.arch))).macs;
  const outcome = { status: r.status, ...(r.reason !== undefined ? { reason: r.reason } : {}), valAccuracy: r.val_accuracy, testAccuracy: r.test_accuracy, seconds: r.seconds };
  return trainRow(job.arch, job.setting, job.seed, outcome, { params: r.params, macs }, threads);
}
