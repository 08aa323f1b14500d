/**
 * Learning-rate schedules as pure functions of the step: linear warm-up, then cosine or
 * exponential decay (the MnasNet recipe: 0.97 every 2.4 epochs, staircase).
 */
export type Schedule = (step: number) => number;

export interface ScheduleOptions {
  baseLr: number;
  totalSteps: number;
  warmupSteps?: number;
  /** Learning rate at the start of warm-up (default 0). */
  warmupStartLr?: number;
}

function checked(o: ScheduleOptions): Required<ScheduleOptions> {
  if (!(o.baseLr >= 0) || !Number.isFinite(o.baseLr)) throw new Error(`schedule: baseLr must be a finite number >= 0, got ${o.baseLr}`);
  if (!Number.isInteger(o.totalSteps) || o.totalSteps < 1) throw new Error(`schedule: totalSteps must be a positive integer, got ${o.totalSteps}`);
  const warmupSteps = o.warmupSteps ?? 0;
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) throw new Error(`schedule: warmupSteps must be an integer >= 0, got ${warmupSteps}`);
  return { baseLr: o.baseLr, totalSteps: o.totalSteps, warmupSteps, warmupStartLr: o.warmupStartLr ?? 0 };
}

function withWarmup(o: Required<ScheduleOptions>, after: Schedule): Schedule {
  return (step) => {
    if (step < o.warmupSteps) return o.warmupStartLr + ((o.baseLr - o.warmupStartLr) * (step + 1)) / o.warmupSteps;
    return after(step - o.warmupSteps);
  };
}

export function constantSchedule(options: ScheduleOptions): Schedule {
  const o = checked(options);
  return withWarmup(o, () => o.baseLr);
}

/** Half-cosine from baseLr to finalLr over the steps after warm-up. */
export function cosineSchedule(options: ScheduleOptions & { finalLr?: number }): Schedule {
  const o = checked(options);
  const finalLr = options.finalLr ?? 0;
  const span = Math.max(1, o.totalSteps - o.warmupSteps);
  return withWarmup(o, (s) => finalLr + 0.5 * (o.baseLr - finalLr) * (1 + Math.cos((Math.PI * Math.min(s, span)) / span)));
}

/** baseLr * rate^(step / decaySteps), floored to whole periods when staircase. */
export function exponentialSchedule(options: ScheduleOptions & { rate: number; decaySteps: number; staircase?: boolean }): Schedule {
  const o = checked(options);
  if (!(options.rate > 0 && options.rate <= 1)) throw new Error(`schedule: rate must be in (0, 1], got ${options.rate}`);
  if (!(options.decaySteps > 0)) throw new Error(`schedule: decaySteps must be > 0, got ${options.decaySteps}`);
  return withWarmup(o, (s) => {
    const p = s / options.decaySteps;
    return o.baseLr * Math.pow(options.rate, options.staircase ?? true ? Math.floor(p) : p);
  });
}
