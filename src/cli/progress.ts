/**
 * Progress for long work: a redrawn bar with ETA on a terminal, plain lines (at most one every
 * few seconds, plus the final one) when output is a file or CI log. Writes to stderr so that
 * --json output on stdout stays machine-readable.
 */
export interface ProgressOptions {
  label: string;
  total: number;
  /** Stream to draw on (default process.stderr). */
  stream?: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean; columns?: number };
  /** Minimum seconds between plain lines (non-terminal). */
  plainIntervalS?: number;
  /** Silence everything (e.g. --quiet). */
  silent?: boolean;
}

export class Progress {
  private readonly start = Date.now();
  private lastPlain = 0;
  private done = 0;
  private readonly tty: boolean;
  private readonly stream: NonNullable<ProgressOptions['stream']>;

  constructor(private readonly o: ProgressOptions) {
    this.stream = o.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY) && !process.env['CI'];
  }

  /** Sets completed units and the status text after the bar (e.g. "loss 0.41  912 img/s"). */
  update(done: number, status = ''): void {
    if (this.o.silent) return;
    this.done = Math.min(done, this.o.total);
    const now = Date.now();
    const finished = this.done >= this.o.total;
    if (this.tty) {
      this.stream.write(`\r${this.render(status)}\x1b[K${finished ? '\n' : ''}`);
    } else if (finished || now - this.lastPlain >= (this.o.plainIntervalS ?? 5) * 1000) {
      this.lastPlain = now;
      this.stream.write(`${this.o.label} ${this.done}/${this.o.total} ${status} elapsed ${fmt((now - this.start) / 1000)} eta ${this.eta()}\n`);
    }
  }

  /** Changes the total (work found on the way, e.g. layers to measure again). */
  setTotal(total: number): void {
    this.o.total = total;
  }

  /** A line of its own, above the bar. */
  log(line: string): void {
    if (this.o.silent) return;
    this.stream.write(this.tty ? `\r\x1b[K${line}\n` : `${line}\n`);
  }

  private eta(): string {
    if (this.done === 0) return '?';
    const elapsed = (Date.now() - this.start) / 1000;
    return fmt((elapsed / this.done) * (this.o.total - this.done));
  }

  private render(status: string): string {
    const width = 24;
    const frac = this.o.total > 0 ? this.done / this.o.total : 1;
    const full = Math.round(frac * width);
    const bar = '#'.repeat(full) + '-'.repeat(width - full);
    const line = `${this.o.label} [${bar}] ${this.done}/${this.o.total} ${status} eta ${this.eta()}`;
    const cols = (this.stream as { columns?: number }).columns ?? 120;
    return line.length > cols - 1 ? line.slice(0, cols - 1) : line;
  }
}

export function fmt(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Fewer files than this are never long work: no bar, so a refusal after them stays one line. */
export const DATA_PROGRESS_MIN_FILES = 100;

/** A bar per phase of preparing your own data (reading files for the cache key, decoding images) of at least DATA_PROGRESS_MIN_FILES files. */
export function dataProgress(silent: boolean, stream?: ProgressOptions['stream']): (p: { phase: string; done: number; total: number }) => void {
  let bar: Progress | undefined;
  let phase = '';
  return (p) => {
    if (p.total < DATA_PROGRESS_MIN_FILES) return;
    if (!bar || p.phase !== phase) {
      phase = p.phase;
      bar = new Progress({ label: `data: ${p.phase === 'hashing' ? 'reading files' : 'decoding images'}`, total: p.total, silent, ...(stream ? { stream } : {}) });
    }
    bar.update(p.done);
  };
}
