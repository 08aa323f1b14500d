/**
 * The few better-sqlite3 (v12) calls the store uses, typed here because @types/better-sqlite3
 * is not installed. Loaded through createRequire since better-sqlite3 is CommonJS.
 */
import { createRequire } from 'node:module';

export interface RunResult {
  readonly changes: number;
  readonly lastInsertRowid: number | bigint;
}

export interface Statement {
  run(...params: unknown[]): RunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

export interface Database {
  prepare(sql: string): Statement;
  exec(sql: string): Database;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  /** Wraps fn in BEGIN/COMMIT (ROLLBACK on throw); `.immediate` uses BEGIN IMMEDIATE. */
  transaction<A extends unknown[], R>(fn: (...args: A) => R): ((...args: A) => R) & { immediate: (...args: A) => R };
  close(): void;
  readonly open: boolean;
  readonly inTransaction: boolean;
}

export interface DatabaseOptions {
  readonly readonly?: boolean;
  readonly fileMustExist?: boolean;
  readonly timeout?: number;
}

type DatabaseCtor = new (filename: string, options?: DatabaseOptions) => Database;

let ctor: DatabaseCtor | undefined;

export function openDatabase(filename: string, options?: DatabaseOptions): Database {
  ctor ??= createRequire(import.meta.url)('better-sqlite3') as DatabaseCtor;
  return new ctor(filename, options);
}
