/** The flags every benchmark that trains into a trained table takes (proxy-fidelity, models, recipe), and the options they make. */
import type { Command } from 'commander';
import { defaultWorkers } from '../../bench/proxy-fidelity.js';
import type { StudyRunOptions } from '../../trained/run-jobs.js';
import { floatOption, intOption } from '../options.js';

export interface StudyFlags {
  dataDir?: string;
  workers?: number;
  threads: number;
  train: boolean;
  maxMinutes?: number;
}

/** --data-dir, --workers, --threads, --no-train (described by `noTrain`) and --max-minutes. */
export function addStudyFlags(command: Command, noTrain: string): Command {
  return command
    .option('--data-dir <dir>', 'directory of the dataset files')
    .option('--workers <n>', 'training processes at once (default: cores / threads)', intOption('--workers', 1, 256))
    .option('--threads <n>', 'libtorch threads of each training process', intOption('--threads', 1, 256), 1)
    .option('--no-train', noTrain)
    .option('--max-minutes <m>', 'start no training after this many minutes (running ones finish); run again to go on', floatOption('--max-minutes', 0));
}

/** The run options of a study from its flags; progress lines go to stderr. */
export function studyRunOptions(f: StudyFlags, signal: AbortSignal): StudyRunOptions {
  return {
    ...(f.dataDir ? { dataDir: f.dataDir } : {}),
    workers: f.workers ?? defaultWorkers(f.threads),
    threads: f.threads,
    train: f.train,
    ...(f.maxMinutes !== undefined ? { deadline: Date.now() + f.maxMinutes * 60_000 } : {}),
    signal,
    onLine: (line) => process.stderr.write(`${line}\n`),
  };
}
