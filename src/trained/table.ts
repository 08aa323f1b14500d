/**
 * The table of everything trained: one JSON object per line (JSON Lines), appended as each
 * training or measurement finishes, so a long study survives being stopped and the file can be
 * committed, diffed and extended by hand. Two kinds of rows:
 *   train    one training run of an architecture (a proxy setting or the final recipe) and seed
 *   latency  one measurement of an architecture on a device
 * Readers key rows by what was trained (architecture, dataset, task, images, epochs, held-out
 * validation images, split seed) and the seed; a later row for the same key replaces an earlier one.
 */
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, truncateSync } from 'node:fs';
import { hostname, loadavg } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { InputError } from '../util/input-error.js';
import { checkWritable } from '../util/writable.js';

const count = z.number().int().nonnegative();

/**
 * Changes to the final recipe a training was run with (a recipe-tuning study): trained on the
 * training images left after the validation split, scored on validation only, never on the test set.
 */
export const RecipeOverridesSchema = z
  .object({
    lr: z.number().positive().max(10),
    weightDecay: z.number().min(0).max(1),
    labelSmoothing: z.number().min(0).max(0.99),
    batchSize: z.number().int().min(1).max(65536),
  })
  .partial()
  .strict();

export type RecipeOverrides = z.infer<typeof RecipeOverridesSchema>;

export const TrainRowSchema = z
  .object({
    type: z.literal('train'),
    arch: z.string().min(1),
    dataset: z.string().min(1),
    /** proxy: the search's proxy recipe, scored on the validation split; final: the final recipe, scored on the test set too. */
    task: z.enum(['proxy', 'final']),
    /** Training images per epoch. */
    images: count,
    epochs: z.number().int().positive(),
    /** Training images held out for validation. */
    validation: count,
    splitSeed: count,
    recipe: RecipeOverridesSchema.optional(),
    seed: count,
    status: z.enum(['done', 'failed']),
    reason: z.string().optional(),
    valAccuracy: z.number().min(0).max(1).nullable(),
    testAccuracy: z.number().min(0).max(1).nullable(),
    params: count,
    macs: count,
    /** Seconds of the training run in its process (build, train, evaluate), and its libtorch threads. */
    seconds: z.number().nonnegative(),
    threads: z.number().int().positive(),
    /** The machine's 1-minute load average when the run finished: seconds taken under load are not a quiet machine's. */
    load: z.number().nonnegative().optional(),
    host: z.string(),
    finishedAt: z.string(),
  })
  .strict();

export const LatencyRowSchema = z
  .object({
    type: z.literal('latency'),
    arch: z.string().min(1),
    device: z.string().min(1),
    ms: z.number().positive(),
    /** Measured interleaved with this reference architecture: `ratio` is ms / the reference's ms over the same blocks. */
    reference: z.string().min(1).optional(),
    ratio: z.number().positive().optional(),
    stats: z.record(z.string(), z.unknown()).optional(),
    host: z.string(),
    finishedAt: z.string(),
  })
  .strict();

export const TableRowSchema = z
  .discriminatedUnion('type', [TrainRowSchema, LatencyRowSchema])
  .refine((r) => r.type === 'train' || (r.reference === undefined) === (r.ratio === undefined), { message: 'a latency row has both reference and ratio or neither', path: ['ratio'] });

export type TrainRow = z.infer<typeof TrainRowSchema>;
export type LatencyRow = z.infer<typeof LatencyRowSchema>;
export type TableRow = z.infer<typeof TableRowSchema>;

/** What was trained, without the seed: rows of one setting differ only in architecture and seed. */
export interface TrainSetting {
  readonly dataset: string;
  readonly task: 'proxy' | 'final';
  readonly images: number;
  readonly epochs: number;
  readonly validation: number;
  readonly splitSeed: number;
  /** A recipe-tuning setting: the final recipe with these changes, scored on the validation split only. */
  readonly recipe?: RecipeOverrides;
}

export function settingKey(s: TrainSetting): string {
  const base = `${s.dataset}/${s.task}/${s.images}x${s.epochs}/val${s.validation}/split${s.splitSeed}`;
  return s.recipe === undefined ? base : `${base}/recipe${recipeText(s.recipe)}`;
}

/** The overrides as `lr=0.05,weightDecay=0.0001` (keys sorted), the form settings are keyed and printed by. */
export function recipeText(r: RecipeOverrides): string {
  return Object.entries(r)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(',');
}

export function trainKey(arch: string, s: TrainSetting, seed: number): string {
  return `${arch}|${settingKey(s)}|seed${seed}`;
}

/** How one training came out. */
export interface TrainOutcome {
  readonly status: 'done' | 'failed';
  readonly reason?: string;
  readonly valAccuracy: number | null;
  readonly testAccuracy: number | null;
  readonly seconds: number;
}

/** The row of a training that just ended: what was trained, how it came out, where, when and under what load. */
export function trainRow(arch: string, setting: TrainSetting, seed: number, outcome: TrainOutcome, size: { params: number; macs: number }, threads: number): TrainRow {
  return {
    type: 'train',
    arch,
    ...setting,
    seed,
    status: outcome.status,
    ...(outcome.status === 'failed' ? { reason: outcome.reason ?? 'failed' } : {}),
    valAccuracy: outcome.valAccuracy,
    testAccuracy: outcome.testAccuracy,
    params: size.params,
    macs: size.macs,
    seconds: outcome.seconds,
    threads,
    load: Number(loadavg()[0]!.toFixed(2)),
    host: hostname(),
    finishedAt: new Date().toISOString(),
  };
}

/** The row of a latency measurement that just ended. */
export function latencyRow(arch: string, device: string, ms: number, stats: Record<string, unknown>, against?: { reference: string; ratio: number }): LatencyRow {
  return { type: 'latency', arch, device, ms, ...(against ? { reference: against.reference, ratio: against.ratio } : {}), stats, host: hostname(), finishedAt: new Date().toISOString() };
}

function latencyKey(arch: string, device: string, reference?: string): string {
  return reference === undefined ? `${arch}|${device}` : `${arch}|${device}|against|${reference}`;
}

export class TrainedTable {
  private readonly trains = new Map<string, TrainRow>();
  private readonly latencies = new Map<string, LatencyRow>();
  /** Training rows by architecture and setting, then by seed. */
  private readonly bySetting = new Map<string, Map<number, TrainRow>>();

  constructor(
    /** The file rows are appended to; undefined: in memory only. */
    readonly file?: string,
    rows: readonly TableRow[] = [],
  ) {
    for (const r of rows) this.remember(r);
  }

  /** Reads a table; a missing file is an empty table. Bad lines are errors naming file and line. */
  static open(file: string): TrainedTable {
    if (!existsSync(file)) return new TrainedTable(file);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new InputError(`${file}: cannot read the trained table (${(e as Error).message})`);
    }
    // a kill while appending can leave the last line cut short: drop it (its job is run again)
    const end = text.endsWith('\n') ? text.length : text.lastIndexOf('\n') + 1;
    if (end < text.length) {
      truncateSync(file, Buffer.byteLength(text.slice(0, end)));
      text = text.slice(0, end);
    }
    return new TrainedTable(file, parseTableText(text, file));
  }

  /** Appends a row (to the file too, at once, so a stopped study keeps it). */
  /** Throws an InputError naming the file unless rows can be appended to it: checked before a study trains for hours. */
  checkWritable(): void {
    if (!this.file) return;
    checkWritable(path.dirname(path.resolve(this.file)));
    if (!existsSync(this.file)) return;
    try {
      closeSync(openSync(this.file, 'a'));
    } catch (e) {
      throw new InputError(`${this.file}: cannot append to the trained table (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }

  add(row: TableRow): void {
    const checked = TableRowSchema.parse(row);
    if (this.file) {
      mkdirSync(path.dirname(path.resolve(this.file)), { recursive: true });
      appendFileSync(this.file, `${JSON.stringify(checked)}\n`);
    }
    this.remember(checked);
  }

  train(arch: string, setting: TrainSetting, seed: number): TrainRow | undefined {
    return this.trains.get(trainKey(arch, setting, seed));
  }

  /** The rows of an architecture in one setting (done or failed), by seed. */
  seedsOf(arch: string, setting: TrainSetting): TrainRow[] {
    const bySeed = this.bySetting.get(`${arch}|${settingKey(setting)}`);
    return bySeed ? [...bySeed.values()].sort((a, b) => a.seed - b.seed) : [];
  }

  /** Every training row, in the order first added. */
  trainRows(): TrainRow[] {
    return [...this.trains.values()];
  }

  /** Training rows of one setting that finished, by architecture, each a list over seeds. */
  doneBySetting(setting: TrainSetting): Map<string, TrainRow[]> {
    const key = settingKey(setting);
    const out = new Map<string, TrainRow[]>();
    for (const r of this.trains.values()) {
      if (r.status !== 'done' || settingKey(r) !== key) continue;
      const list = out.get(r.arch) ?? [];
      list.push(r);
      out.set(r.arch, list);
    }
    return out;
  }

  /** The model's own latency on a device, or (with `reference`) its measurement interleaved with that architecture. */
  latency(arch: string, device: string, reference?: string): LatencyRow | undefined {
    return this.latencies.get(latencyKey(arch, device, reference));
  }

  latencyRows(): LatencyRow[] {
    return [...this.latencies.values()];
  }

  private remember(r: TableRow): void {
    if (r.type === 'train') {
      this.trains.set(trainKey(r.arch, r, r.seed), r);
      const key = `${r.arch}|${settingKey(r)}`;
      const bySeed = this.bySetting.get(key) ?? new Map<number, TrainRow>();
      bySeed.set(r.seed, r);
      this.bySetting.set(key, bySeed);
    } else this.latencies.set(latencyKey(r.arch, r.device, r.reference), r);
  }
}

export function parseTableText(text: string, file: string): TableRow[] {
  const rows: TableRow[] = [];
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new InputError(`${file}:${i + 1}: not JSON`);
    }
    const parsed = TableRowSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InputError(`${file}:${i + 1}: ${issue.path.join('.') || 'row'}: ${issue.message}`);
    }
    rows.push(parsed.data);
  }
  return rows;
}
