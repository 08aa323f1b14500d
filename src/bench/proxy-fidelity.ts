/**
 * `mnas bench proxy-fidelity`: how well a proxy setting (training images x epochs of the search's
 * proxy recipe) ranks architectures the way the final recipe does, what it costs, and how noisy
 * it is. Random architectures of a space are trained with every proxy setting and with the final
 * recipe; every training is a row of the trained table (src/trained/table.ts), appended as it
 * finishes, so the study stops at any time (a deadline, Ctrl-C) and resumes where it stopped.
 *
 * Order of work: every architecture with every proxy setting first (cheap: the ranking of proxy
 * settings against each other is there early), then the extra seeds of a few architectures (seed
 * noise), then the final trainings, then their extra seeds.
 */
import { availableParallelism } from 'node:os';
import { finalSetting } from '../trained/final-setting.js';
import { PROXY_RECIPE } from '../train/recipe.js';
import { InputError } from '../util/input-error.js';
import type { TrainedTable, TrainSetting } from '../trained/table.js';
import { runStudyJobs, type StudyRunOptions } from '../trained/run-jobs.js';
import type { TrainJob } from '../trained/train-job.js';
import { sampleArchitectures } from './proxy-trials.js';
import { fidelityReport, type FidelityReport } from './fidelity-analysis.js';

export interface ProxySettingSpec {
  readonly images: number;
  readonly epochs: number;
}

export interface FidelityStudyOptions extends StudyRunOptions {
  readonly space: string;
  readonly samples: number;
  readonly seed: number;
  readonly dataset: string;
  readonly proxies: readonly ProxySettingSpec[];
  /** Images held out of the training set; proxy accuracy is measured on them. */
  readonly validation: number;
  readonly splitSeed: number;
  /** Architectures (the first ones sampled) trained with `noiseSeeds` seeds for the seed noise. */
  readonly noiseArchs: number;
  readonly noiseSeeds: number;
  /** Seeds of the final training of every architecture. */
  readonly finalSeeds: number;
  readonly finalEpochs: number;
  /** Seconds per trial by setting ('5000x1') measured on a quiet machine; others: the table's medians. */
  readonly trialSeconds?: ReadonlyMap<string, number>;
}

export const DEFAULT_PROXY_SETTINGS: readonly ProxySettingSpec[] = [
  { images: 2500, epochs: 1 },
  { images: 5000, epochs: 1 },
  { images: 10000, epochs: 1 },
  { images: 5000, epochs: 3 },
  { images: 10000, epochs: 2 },
  { images: 10000, epochs: 3 },
];

export function defaultWorkers(threads: number): number {
  return Math.max(1, Math.floor(availableParallelism() / threads));
}

/** The settings of a study: its proxy settings in the order given, then the final recipe. */
export function studySettings(o: Pick<FidelityStudyOptions, 'dataset' | 'dataDir' | 'proxies' | 'validation' | 'splitSeed' | 'finalEpochs'>): { proxies: TrainSetting[]; final: TrainSetting } {
  const final = finalSetting({ ...o, epochs: o.finalEpochs }, 'proxy-fidelity');
  const base = { dataset: o.dataset, validation: o.validation, splitSeed: o.splitSeed };
  const left = final.images;
  for (const p of o.proxies) {
    if (p.images < PROXY_RECIPE.batchSize) throw new InputError(`proxy-fidelity: a proxy of ${p.images} images is less than one batch of ${PROXY_RECIPE.batchSize}`);
    if (p.images > left) throw new InputError(`proxy-fidelity: a proxy of ${p.images} images needs more than the ${left} training images left after validation`);
  }
  return {
    proxies: o.proxies.map((p) => ({ ...base, task: 'proxy' as const, images: p.images, epochs: p.epochs })),
    final,
  };
}

/** Every job of the study in the order it runs. */
export function studyJobs(archs: readonly string[], settings: { proxies: readonly TrainSetting[]; final: TrainSetting }, o: Pick<FidelityStudyOptions, 'noiseArchs' | 'noiseSeeds' | 'finalSeeds'>): TrainJob[] {
  const jobs: TrainJob[] = [];
  for (const arch of archs) for (const setting of settings.proxies) jobs.push({ arch, setting, seed: 0 });
  for (const arch of archs.slice(0, o.noiseArchs)) for (let seed = 1; seed < o.noiseSeeds; seed++) for (const setting of settings.proxies) jobs.push({ arch, setting, seed });
  for (const arch of archs) jobs.push({ arch, setting: settings.final, seed: 0 });
  for (let seed = 1; seed < o.finalSeeds; seed++) for (const arch of archs) jobs.push({ arch, setting: settings.final, seed });
  return jobs;
}

export interface FidelityStudyResult {
  readonly jobs: number;
  readonly ranNow: number;
  readonly pending: number;
  readonly report: FidelityReport;
}

export async function runFidelityStudy(table: TrainedTable, o: FidelityStudyOptions): Promise<FidelityStudyResult> {
  const archs = sampleArchitectures(o.space, o.samples, o.seed);
  const settings = studySettings(o);
  const all = studyJobs(archs, settings, o);
  const { ran: ranNow, pending } = await runStudyJobs(table, all, o, `${all.length} trainings in the study`, (j) => describeJob(j, archs));
  return { jobs: all.length, ranNow, pending, report: fidelityReport(table, archs, settings, o.space, o.trialSeconds) };
}

function describeJob(job: TrainJob, archs: readonly string[]): string {
  const s = job.setting;
  const what = s.task === 'final' ? `final ${s.epochs} epochs` : `proxy ${s.images}x${s.epochs}`;
  return `arch ${archs.indexOf(job.arch)} ${what} seed ${job.seed}`;
}

