/**
 * Proxy training on `mnas worker` processes anywhere, through the `train` queue: a ProxyTrainer
 * like the local worker pool, so the evaluator, the loop and the store are the same as in a
 * local search (the coordinator alone writes results, once). A trial's job id is derived from
 * the run id and the trial id, so a restarted coordinator re-attaches to it.
 *
 * Nothing trains on the coordinator's machine, so `holdWhile` has nothing to hold: workers hold
 * their own training while they measure (src/distributed/worker.ts).
 */
import type { ProxySettings, ProxyTrainer, ProxyTrial, ProxyTrialResult } from '../search/proxy-trainer.js';
import { printArch } from '../space/arch-string.js';
import type { JobClient } from './job-client.js';
import { DistributedJobError } from './job-client.js';
import { either } from './remote-device.js';
import { describeIssues, trainJobId, TrainOutcomeSchema, type TrainJob, type TrainOutcome } from './jobs.js';

export interface RemoteTrainerOptions {
  readonly client: JobClient;
  readonly runId: string;
  readonly settings: ProxySettings;
  /** The dataset's checksum on the coordinator (src/distributed/dataset-checksum.ts). */
  readonly datasetChecksum: string;
  /** Trials queued for the workers at once (the search's executor keeps to it; see `setSlots`). */
  readonly inFlight: number;
  readonly onFatal: (e: Error) => void;
  /** Aborts every job wait when the session stops (a call without a signal of its own would otherwise wait forever). */
  readonly stopped?: AbortSignal;
}

export class RemoteTrainer implements ProxyTrainer {
  private width: number;

  constructor(private readonly o: RemoteTrainerOptions) {
    this.width = checkedWidth(o.inFlight);
  }

  get slots(): number {
    return this.width;
  }

  /** Sets the trials queued at once, once the session knows its workers (DistributedSession.queueWidth); before the search starts. */
  setSlots(inFlight: number): void {
    this.width = checkedWidth(inFlight);
  }

  async train(trial: ProxyTrial, signal?: AbortSignal): Promise<ProxyTrialResult> {
    if (trial.trialId === undefined) throw new Error('RemoteTrainer: a trial without a trial id cannot be named as a job');
    const trialId = trial.trialId;
    // the plan travels as its architecture string; the worker plans it again with the same code
    const job: TrainJob = { runId: this.o.runId, trialId, arch: printArch(trial.plan.arch), seed: trial.seed, settings: { ...this.o.settings, dataset: { ...this.o.settings.dataset } }, datasetChecksum: this.o.datasetChecksum };
    const value = await this.o.client.run((n) => trainJobId(this.o.runId, trialId, n), 'train', job, either(signal, this.o.stopped));
    const parsed = TrainOutcomeSchema.safeParse(value);
    if (!parsed.success) {
      const e = new DistributedJobError(`trial ${trialId}: a worker returned a malformed result (${describeIssues(parsed.error)}); are the workers running the same mnas version?`);
      this.o.onFatal(e);
      throw e;
    }
    const { worker: _worker, ...result } = parsed.data as TrainOutcome;
    return result;
  }

  /** BullMQ timestamps of this queue's finished jobs (benchmarks). */
  async jobs(): Promise<Array<{ timestamp: number; processedOn: number; finishedOn: number }>> {
    const jobs = await this.o.client.queue.getJobs(['completed'], 0, -1);
    return jobs.map((j) => ({ timestamp: j.timestamp, processedOn: j.processedOn ?? NaN, finishedOn: j.finishedOn ?? NaN }));
  }

  holdWhile<T>(fn: () => Promise<T>): Promise<T> {
    return fn();
  }

  async close(): Promise<void> {
    await this.o.client.close();
  }
}

function checkedWidth(inFlight: number): number {
  if (!Number.isInteger(inFlight) || inFlight < 1) throw new Error(`RemoteTrainer: inFlight must be an integer >= 1, got ${inFlight}`);
  return inFlight;
}
