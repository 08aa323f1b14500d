/**
 * The experiment store: one run directory holding `mnas.db` (SQLite through better-sqlite3), the
 * RunStore of real runs.
 *
 *   run                 the run config (canonical JSON), written once at creation, and the
 *                       strategy that makes the trials (its description, recorded before them)
 *   trials              one row per proposal: id (= proposal id), dna, arch, status
 *                       (pending -> running -> done | failed), metrics, reward, timings, error,
 *                       and the numbers of the events that proposed it and reported its result
 *   strategy_snapshots  snapshots of strategies that take them (PPO: after each update); only
 *                       the latest few are kept
 *   drift_checks        re-measurements of the run's reference architecture (./drift.ts); added
 *                       after schema version 2 without changing it: runs that predate it have none
 *
 * Every state change that the strategy saw is written in ONE transaction, with its event number
 * and the snapshot that results from it, if any (add proposal; complete or fail). After a crash
 * the database is therefore exactly the state after some event: replaying the stored events
 * rebuilds the strategy precisely, with the trials that are still pending/running as its pending
 * proposals, and resume re-evaluates exactly those - a result is never lost, duplicated, or
 * re-trained once stored.
 *
 * Durability: journal_mode=WAL (readers - e.g. a `status` command - never block the writer, and
 * a commit is one sequential append) with synchronous=FULL: every commit is fsynced before it
 * returns. NORMAL would be safe against process crashes (SIGKILL) but may lose the last commits
 * on power loss or an OS crash; a lost commit here is a lost trial result that took minutes of
 * training, while the fsync costs about a millisecond per trial. FULL it is.
 */
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase, type Database, type Statement } from './sqlite.js';
import { dnaKey, parseDna, type Json } from './space-like.js';
import { canonicalJson, jsonDifferences } from './json.js';
import type { Proposal, StrategyDescription, StrategySnapshot } from './strategy.js';
import { eventsOf, type DriftCheck, type RunEvent, type RunStore, type SnapshotRecord, type TrialBrief, type TrialFailure, type TrialMetrics, type TrialRecord, type TrialStatus } from './run-store.js';
import { InputError } from '../util/input-error.js';

/** For readers of stored trials (outputs.ts). */
export type { TrialBrief, TrialRecord } from './run-store.js';

export const DB_FILE = 'mnas.db';
/** 2: event numbers on trials, the strategy in the run row, snapshots only of strategies that take them. */
const SCHEMA_VERSION = 2;

export interface OpenOptions {
  /**
   * The run config. Required to create a run. When the run exists it must be equal (canonical
   * JSON) or open() throws ConfigMismatchError; omit it to open an existing run as is (--resume)
   * and read `store.config`.
   */
  readonly config?: Json;
  /** Keep this many latest strategy snapshots (default 1: a resume needs only the latest; older ones are pruned). */
  readonly snapshotHistory?: number;
  /** Open read-only (status / report commands while a search runs). */
  readonly readonly?: boolean;
  /**
   * SQLite synchronous level (default 'FULL', see the header). 'NORMAL' skips the per-commit
   * fsync: still crash-safe for process kills, not for power loss; meant for fast tests/benchmarks.
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
}

export class ConfigMismatchError extends Error {
  constructor(
    readonly differences: readonly string[],
    readonly stored: Json,
  ) {
    super(`run config differs from the stored one at: ${differences.join(', ')} (resume with the stored config or use a new run directory)`);
    this.name = 'ConfigMismatchError';
  }
}

/** The run database is missing, unreadable, not an mnas run, damaged or of another schema version. */
export class RunStoreError extends InputError {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file} ${problem}`);
    this.name = 'RunStoreError';
  }
}

const SQLITE_MAGIC = 'SQLite format 3\0';
const TABLES = ['run', 'strategy_snapshots', 'trials'];

/** Refuses files that are not SQLite databases before SQLite sees them. */
function checkHeader(file: string): void {
  const bytes = readPrefix(file, SQLITE_MAGIC.length);
  if (bytes.length === 0) throw new RunStoreError(file, 'is empty: not an mnas run database');
  if (bytes.toString('latin1') !== SQLITE_MAGIC) throw new RunStoreError(file, 'is not an SQLite database (not an mnas run)');
}

function readPrefix(file: string, n: number): Buffer {
  let fd: number | undefined;
  try {
    if (!statSync(file).isFile()) throw new RunStoreError(file, 'is not a file');
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(n);
    return buf.subarray(0, readSync(fd, buf, 0, n, 0));
  } catch (e) {
    if (e instanceof RunStoreError) throw e;
    throw new RunStoreError(file, `cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** An existing database must be this schema version, hold the run tables, and pass SQLite's quick check. */
function checkSchema(db: Database, file: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
  if (version > SCHEMA_VERSION) throw new RunStoreError(file, `has schema version ${version}; this mnas reads version ${SCHEMA_VERSION} (use a newer mnas)`);
  if (version >= 1 && version < SCHEMA_VERSION && TABLES.every((t) => tables.includes(t)))
    throw new RunStoreError(file, `was written by an older mnas (schema version ${version}); this mnas reads version ${SCHEMA_VERSION} (read or finish it with the mnas that started it)`);
  if (version !== SCHEMA_VERSION && tables.length > 0) throw new RunStoreError(file, `is an SQLite database but not an mnas run (tables: ${tables.slice(0, 5).join(', ')})`);
  const missing = version === SCHEMA_VERSION ? TABLES.filter((t) => !tables.includes(t)) : [];
  if (missing.length) throw new RunStoreError(file, `is damaged: missing table(s) ${missing.join(', ')}`);
  const check = db.pragma('quick_check', { simple: true }) as string;
  if (check !== 'ok') throw new RunStoreError(file, `is damaged: ${check}`);
}

/** SQLite's own errors (corrupt, truncated, read-only, not a database) as RunStoreError. */
function asStoreError<T>(file: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if ((e as Error).name === 'SqliteError' && typeof code === 'string') {
      const why = code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM' ? 'cannot be written (read-only file or directory?)' : 'is not a readable mnas run database';
      throw new RunStoreError(file, `${why}: ${(e as Error).message} (${code})`);
    }
    throw e;
  }
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS run (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  config TEXT NOT NULL,
  strategy TEXT,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
  id INTEGER PRIMARY KEY,
  dna TEXT NOT NULL,
  arch TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
  accuracy REAL,
  latency_ms REAL,
  latency_stats TEXT,
  macs INTEGER,
  params INTEGER,
  reward REAL,
  reused_from INTEGER REFERENCES trials(id),
  extra TEXT,
  timings TEXT,
  error TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  propose_event INTEGER NOT NULL UNIQUE,
  result_event INTEGER UNIQUE,
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  CHECK (status <> 'done' OR (accuracy IS NOT NULL AND latency_ms IS NOT NULL AND reward IS NOT NULL AND finished_at IS NOT NULL)),
  CHECK (status <> 'failed' OR (error IS NOT NULL AND reward IS NOT NULL AND finished_at IS NOT NULL)),
  CHECK ((status IN ('done', 'failed')) = (result_event IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS trials_status ON trials(status);
CREATE TABLE IF NOT EXISTS drift_checks (
  seq INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  trial_id INTEGER,
  ms REAL NOT NULL CHECK (ms > 0),
  ratio REAL NOT NULL,
  corrects INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS strategy_snapshots (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  after_event INTEGER NOT NULL,
  trial_id INTEGER NOT NULL REFERENCES trials(id),
  state TEXT NOT NULL,
  created_at TEXT NOT NULL
);
`;

interface TrialRow {
  id: number;
  dna: string;
  arch: string | null;
  status: TrialStatus;
  accuracy: number | null;
  latency_ms: number | null;
  latency_stats: string | null;
  macs: number | null;
  params: number | null;
  reward: number | null;
  reused_from: number | null;
  extra: string | null;
  timings: string | null;
  error: string | null;
  attempts: number;
  propose_event: number;
  result_event: number | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

const json = (s: string | null): Json | null => (s === null ? null : (JSON.parse(s) as Json));
const optJson = (v: Json | undefined): string | null => (v === undefined ? null : JSON.stringify(v));
const now = (): string => new Date().toISOString();

/** ms by device of a trial's latency_stats.devices ({kind: {ms, ...statistics}}). */
export function deviceLatencies(devices: Json | undefined): { [device: string]: number } | undefined {
  if (typeof devices !== 'object' || devices === null || Array.isArray(devices)) return undefined;
  const out: { [device: string]: number } = {};
  for (const [kind, v] of Object.entries(devices)) {
    const ms = typeof v === 'object' && v !== null && !Array.isArray(v) ? v['ms'] : undefined;
    if (typeof ms === 'number') out[kind] = ms;
  }
  return out;
}

function toRecord(r: TrialRow): TrialRecord {
  return {
    id: r.id,
    dna: parseDna(r.dna),
    arch: r.arch,
    status: r.status,
    accuracy: r.accuracy,
    latencyMs: r.latency_ms,
    latencyStats: json(r.latency_stats),
    macs: r.macs,
    params: r.params,
    reward: r.reward,
    reusedFrom: r.reused_from,
    extra: json(r.extra),
    timings: json(r.timings),
    error: r.error,
    attempts: r.attempts,
    proposeEvent: r.propose_event,
    resultEvent: r.result_event,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

export class ExperimentStore implements RunStore {
  readonly path: string;
  readonly config: Json;
  private readonly db: Database;
  private readonly keep: number;
  private readonly st: { [name: string]: Statement };

  private constructor(
    readonly dir: string,
    options: OpenOptions,
  ) {
    this.path = join(dir, DB_FILE);
    this.keep = options.snapshotHistory ?? 1;
    if (!Number.isInteger(this.keep) || this.keep < 1) throw new Error(`ExperimentStore: snapshotHistory must be an integer >= 1, got ${this.keep}`);
    const exists = existsSync(this.path);
    if (!exists && options.readonly) throw new RunStoreError(this.path, `no run at ${dir} (missing ${DB_FILE})`);
    if (!exists && options.config === undefined) throw new RunStoreError(this.path, `no run at ${dir}; a config is needed to create one`);
    if (exists) checkHeader(this.path);
    if (!exists) mkdirSync(dir, { recursive: true });
    this.db = asStoreError(this.path, () => openDatabase(this.path, { readonly: options.readonly ?? false, timeout: 10_000 }));
    try {
      this.config = asStoreError(this.path, () => {
        if (exists) checkSchema(this.db, this.path);
        if (!options.readonly) {
          this.db.pragma('journal_mode = WAL');
          const sync = options.synchronous ?? 'FULL';
          if (sync !== 'FULL' && sync !== 'NORMAL') throw new Error(`ExperimentStore: synchronous must be FULL or NORMAL, got ${String(sync)}`);
          this.db.pragma(`synchronous = ${sync}`);
          this.db.pragma('foreign_keys = ON');
          this.db
            .transaction(() => {
              this.db.exec(SCHEMA);
              this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
              if (options.config !== undefined)
                this.db.prepare('INSERT OR IGNORE INTO run (id, config, created_at) VALUES (1, ?, ?)').run(canonicalJson(options.config), now());
            })
            .immediate();
        }
        const row = this.db.prepare('SELECT config FROM run WHERE id = 1').get() as { config: string } | undefined;
        if (!row) throw new RunStoreError(this.path, 'has no run config');
        try {
          return JSON.parse(row.config) as Json;
        } catch {
          throw new RunStoreError(this.path, 'holds a run config that is not JSON');
        }
      });
      if (options.config !== undefined) {
        const diff = jsonDifferences(this.config, JSON.parse(canonicalJson(options.config)) as Json);
        if (diff.length > 0) throw new ConfigMismatchError(diff, this.config);
      }
    } catch (e) {
      this.db.close();
      throw e;
    }
    const p = (sql: string) => this.db.prepare(sql);
    this.st = {
      insertTrial: p('INSERT INTO trials (id, dna, arch, status, propose_event, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      insertSnapshot: p('INSERT INTO strategy_snapshots (after_event, trial_id, state, created_at) VALUES (?, ?, ?, ?)'),
      prune: p('DELETE FROM strategy_snapshots WHERE seq <= (SELECT MAX(seq) FROM strategy_snapshots) - ?'),
      lastEvent: p('SELECT MAX(n) AS n FROM (SELECT MAX(propose_event) AS n FROM trials UNION ALL SELECT MAX(result_event) FROM trials)'),
      markRunning: p(`UPDATE trials SET status = 'running', attempts = attempts + 1, started_at = ? WHERE id = ? AND status IN ('pending', 'running')`),
      complete: p(`UPDATE trials SET status = 'done', accuracy = ?, latency_ms = ?, latency_stats = ?, macs = ?, params = ?, reward = ?,
        reused_from = ?, extra = ?, timings = ?, error = NULL, result_event = ?, finished_at = ? WHERE id = ? AND status IN ('pending', 'running')`),
      fail: p(`UPDATE trials SET status = 'failed', reward = ?, error = ?, timings = ?, result_event = ?, finished_at = ? WHERE id = ? AND status IN ('pending', 'running')`),
      get: p('SELECT * FROM trials WHERE id = ?'),
      all: p('SELECT * FROM trials ORDER BY id'),
      briefs: p(`SELECT id, arch, status, accuracy, latency_ms AS latencyMs, macs, params, reward, reused_from AS reusedFrom, error, attempts,
        created_at AS createdAt, started_at AS startedAt, finished_at AS finishedAt,
        json_extract(latency_stats, '$.measured') AS measured, json_extract(latency_stats, '$.drift_ratio') AS driftRatio,
        json_extract(latency_stats, '$.speed_retry.kept') AS speedRetry, json_extract(latency_stats, '$.devices') AS devices,
        CASE WHEN json_extract(latency_stats, '$.interleaved') = 1 THEN json_extract(latency_stats, '$.reference_ms') END AS referenceMs FROM trials ORDER BY id`),
      byStatus: p('SELECT * FROM trials WHERE status = ? ORDER BY id'),
      inFlight: p(`SELECT * FROM trials WHERE status IN ('pending', 'running') ORDER BY id`),
      eventsAfter: p('SELECT * FROM trials WHERE propose_event > ? OR result_event > ? ORDER BY id'),
      count: p('SELECT COUNT(*) AS n FROM trials'),
      countStatus: p('SELECT COUNT(*) AS n FROM trials WHERE status = ?'),
      latest: p('SELECT * FROM strategy_snapshots ORDER BY seq DESC LIMIT 1'),
      strategy: p('SELECT strategy FROM run WHERE id = 1'),
      setStrategy: p('UPDATE run SET strategy = ? WHERE id = 1'),
    };
  }

  /** Creates the run directory and database, or opens an existing run (see OpenOptions.config). */
  static open(dir: string, options: OpenOptions = {}): ExperimentStore {
    return new ExperimentStore(dir, options);
  }

  /** True if `dir` holds a run. */
  static exists(dir: string): boolean {
    return existsSync(join(dir, DB_FILE));
  }

  strategy(): StrategyDescription | undefined {
    const r = this.st['strategy']!.get() as { strategy: string | null } | undefined;
    return r?.strategy ? (JSON.parse(r.strategy) as StrategyDescription) : undefined;
  }

  recordStrategy(description: StrategyDescription): void {
    const stored = this.strategy();
    const text = canonicalJson(description as unknown as Json);
    if (stored !== undefined && canonicalJson(stored as unknown as Json) !== text)
      throw new Error(`ExperimentStore.recordStrategy: the run already records another strategy (${canonicalJson(stored as unknown as Json)})`);
    if (stored === undefined) this.st['setStrategy']!.run(text);
  }

  addTrial(proposal: Proposal, arch: string | undefined, snapshot?: StrategySnapshot): void {
    this.db.transaction(() => {
      const t = now();
      const event = this.nextEvent();
      this.st['insertTrial']!.run(proposal.id, dnaKey(proposal.dna), arch ?? null, 'pending', event, t);
      if (snapshot) this.snapshot(event, proposal.id, snapshot, t);
    })();
  }

  markRunning(id: number): number {
    const r = this.st['markRunning']!.run(now(), id);
    if (r.changes !== 1) throw new Error(`ExperimentStore.markRunning: trial ${id} is not pending or running`);
    return (this.st['get']!.get(id) as TrialRow).attempts;
  }

  complete(id: number, m: TrialMetrics, snapshot?: StrategySnapshot): void {
    this.db.transaction(() => {
      const t = now();
      const event = this.nextEvent();
      const r = this.st['complete']!.run(
        m.accuracy,
        m.latencyMs,
        optJson(m.latencyStats),
        m.macs ?? null,
        m.params ?? null,
        m.reward,
        m.reusedFrom ?? null,
        optJson(m.extra),
        optJson(m.timings),
        event,
        t,
        id,
      );
      if (r.changes !== 1) throw new Error(`ExperimentStore.complete: trial ${id} is not pending or running`);
      if (snapshot) this.snapshot(event, id, snapshot, t);
    })();
  }

  fail(id: number, failure: TrialFailure, snapshot?: StrategySnapshot): void {
    this.db.transaction(() => {
      const t = now();
      const event = this.nextEvent();
      const r = this.st['fail']!.run(failure.reward, failure.reason, optJson(failure.timings), event, t, id);
      if (r.changes !== 1) throw new Error(`ExperimentStore.fail: trial ${id} is not pending or running`);
      if (snapshot) this.snapshot(event, id, snapshot, t);
    })();
  }

  private nextEvent(): number {
    const r = this.st['lastEvent']!.get() as { n: number | null };
    return (r.n ?? -1) + 1;
  }

  private snapshot(event: number, trialId: number, state: StrategySnapshot, t: string): void {
    this.st['insertSnapshot']!.run(event, trialId, JSON.stringify(state), t);
    this.st['prune']!.run(this.keep);
  }

  trial(id: number): TrialRecord | undefined {
    const r = this.st['get']!.get(id) as TrialRow | undefined;
    return r && toRecord(r);
  }

  listTrials(filter: { status?: TrialStatus } = {}): TrialRecord[] {
    const rows = (filter.status ? this.st['byStatus']!.all(filter.status) : this.st['all']!.all()) as TrialRow[];
    return rows.map(toRecord);
  }

  /** Every trial without its DNA, statistics, timings and extras, in id order: several times quicker than listTrials on a big run. */
  listTrialBriefs(): TrialBrief[] {
    return (this.st['briefs']!.all() as (TrialBrief & { measured: number | null; driftRatio: number | null; speedRetry: string | null; devices: string | null; referenceMs: number | null })[]).map(({ measured, driftRatio, speedRetry, devices, referenceMs, ...t }) => ({
      ...t,
      ...(measured === 0 ? { latencyMeasured: false } : {}),
      ...(driftRatio !== null ? { driftCorrected: true } : {}),
      ...(speedRetry !== null ? { speedRetried: true } : {}),
      ...(devices !== null ? { deviceLatencyMs: deviceLatencies(JSON.parse(devices) as Json) } : {}),
      ...(typeof referenceMs === 'number' ? { interleavedReferenceMs: referenceMs } : {}),
    }));
  }

  /** Records a drift check (./drift.ts). */
  addDriftCheck(c: DriftCheck): void {
    this.db.prepare('INSERT INTO drift_checks (seq, at, trial_id, ms, ratio, corrects) VALUES (?, ?, ?, ?, ?, ?)').run(c.seq, c.at, c.trialId, c.ms, c.ratio, c.corrects ? 1 : 0);
  }

  /** The run's drift checks in order (none for a run that predates them). */
  driftChecks(): DriftCheck[] {
    const has = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'drift_checks'").get();
    if (!has) return [];
    const rows = this.db.prepare('SELECT seq, at, trial_id, ms, ratio, corrects FROM drift_checks ORDER BY seq').all() as { seq: number; at: string; trial_id: number | null; ms: number; ratio: number; corrects: number }[];
    return rows.map((r) => ({ seq: r.seq, at: r.at, trialId: r.trial_id, ms: r.ms, ratio: r.ratio, corrects: r.corrects === 1 }));
  }

  count(status?: TrialStatus): number {
    const r = (status ? this.st['countStatus']!.get(status) : this.st['count']!.get()) as { n: number };
    return r.n;
  }

  inFlight(): TrialRecord[] {
    return (this.st['inFlight']!.all() as TrialRow[]).map(toRecord);
  }

  latestSnapshot(): SnapshotRecord | undefined {
    const r = this.st['latest']!.get() as { after_event: number; trial_id: number; state: string; created_at: string } | undefined;
    return r && { afterEvent: r.after_event, trialId: r.trial_id, state: JSON.parse(r.state) as StrategySnapshot, createdAt: r.created_at };
  }

  events(afterEvent = -1): RunEvent[] {
    return eventsOf((this.st['eventsAfter']!.all(afterEvent, afterEvent) as TrialRow[]).map(toRecord), afterEvent);
  }

  /** PRAGMA integrity_check result ('ok' when healthy). */
  integrityCheck(): string {
    return this.db.pragma('integrity_check', { simple: true }) as string;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
