/**
 * The `table` evaluator's trainer: proxy accuracies come from the trained table
 * (./table.ts) when it holds the architecture for the search's proxy setting; otherwise the
 * architecture is trained for real by the search's own trainer and the result is added to the
 * table, so a second run (another strategy, another seed) gets it for free. Without a trainer
 * (missing: 'fail') an architecture not in the table fails with a reason that says so.
 *
 * The table may hold several seeds of an architecture; trial seed s is answered by the row of
 * the (s mod n)-th seed, so a table with seeds carries their noise into the search.
 */
import { costOfPlan } from '../model/cost.js';
import type { ProxyTrainer, ProxyTrial, ProxyTrialResult } from '../search/proxy-trainer.js';
import { printArch } from '../space/arch-string.js';
import { trainRow, type TrainedTable, type TrainRow, type TrainSetting } from './table.js';

export class TableTrainer implements ProxyTrainer {
  readonly slots: number;
  /** Trials answered from the table, and trained (and added to it). */
  answered = 0;
  trained = 0;

  constructor(
    private readonly table: TrainedTable,
    private readonly setting: TrainSetting,
    private readonly inner: ProxyTrainer | undefined,
    private readonly threads = 1,
  ) {
    this.slots = inner?.slots ?? 1;
  }

  async train(trial: ProxyTrial, signal?: AbortSignal): Promise<ProxyTrialResult> {
    const arch = printArch(trial.plan.arch);
    const rows = this.table.seedsOf(arch, this.setting);
    if (rows.length > 0) {
      this.answered++;
      return resultOf(rows[trial.seed % rows.length]!);
    }
    if (!this.inner) {
      return { status: 'failed', reason: `not in the trained table ${this.table.file ?? ''} for proxy ${this.setting.images}x${this.setting.epochs} (missing: 'fail')`, seconds: 0 };
    }
    const r = await this.inner.train(trial, signal);
    this.trained++;
    const outcome = { status: r.status, ...(r.status === 'failed' ? { reason: r.reason } : {}), valAccuracy: r.status === 'done' ? r.valAccuracy : null, testAccuracy: null, seconds: r.seconds };
    this.table.add(trainRow(arch, this.setting, trial.seed, outcome, costOfPlan(trial.plan), this.threads));
    return r;
  }

  holdWhile<T>(fn: () => Promise<T>, ready?: Promise<unknown>): Promise<T> {
    return this.inner ? this.inner.holdWhile(fn, ready) : fn();
  }

  async close(): Promise<void> {
    await this.inner?.close();
  }
}

function resultOf(row: TrainRow): ProxyTrialResult {
  if (row.status === 'failed' || row.valAccuracy === null) return { status: 'failed', reason: `(from the trained table) ${row.reason ?? 'no validation accuracy'}`, seconds: 0 };
  return { status: 'done', valAccuracy: row.valAccuracy, valLoss: Number.NaN, epochLoss: [], trainImagesPerSecond: 0, seconds: 0 };
}
