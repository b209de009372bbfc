/**
 * Opens the app database named by the configuration (SQLite file or PostgreSQL URL), brings its
 * schema up to date, and hands out one Kysely instance; nothing but src/store knows the SQL library.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { PortcullisError } from '../domain/errors.js';
import { migrationProvider, type StoreDialect } from './migrations.js';
import type { AppDatabase } from './schema.js';

/** Where the app database is (see `resolveDatabase` in src/config). */
export type StoreLocation = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

/** An open app database. */
export interface Store {
  readonly db: Kysely<AppDatabase>;
  readonly dialect: StoreDialect;
  /** Closes the connection(s); the store is unusable afterwards. */
  close(): Promise<void>;
}

/** PostgreSQL `bigint` (OID 20) as a JS number: sizes and counts here stay far below 2^53. */
const PG_INT8_OID = 20;

/**
 * Opens the store and runs pending migrations. An unreachable or unusable database is E_CONFIG
 * naming `database.url` (with any password hidden), so a service fails at start, not at its first scan.
 */
export async function openStore(location: StoreLocation, options: { poolSize?: number } = {}): Promise<Store> {
  const { db, dialect } = location.kind === 'sqlite' ? openSqlite(location.file) : openPostgres(location.url, options.poolSize ?? 10);
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    await db.destroy().catch(() => undefined);
    const where = location.kind === 'sqlite' ? location.file : redactUrl(location.url);
    throw new PortcullisError('E_CONFIG', `config: database.url: cannot use the database at ${where}: ${errorText(err)}`, { key: 'database.url' }, { cause: err });
  }
  const migrator = new Migrator({ db, provider: migrationProvider(dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    await db.destroy().catch(() => undefined);
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new PortcullisError('E_DB', `store: migration ${failed ?? '(before any migration)'} failed: ${errorText(error)}`, { migration: failed }, { cause: error });
  }
  return { db, dialect, close: () => db.destroy() };
}

function openSqlite(file: string): { db: Kysely<AppDatabase>; dialect: StoreDialect } {
  let handle: Database.Database;
  try {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    handle = new Database(file);
    // WAL: readers (the API) do not wait for the writer (the workers); busy_timeout: several
    // processes on one file wait for the lock instead of failing at once.
    handle.pragma('journal_mode = WAL');
    handle.pragma('busy_timeout = 5000');
    handle.pragma('foreign_keys = ON');
  } catch (err) {
    throw new PortcullisError('E_CONFIG', `config: database.url: cannot open the SQLite database ${file}: ${errorText(err)}`, { key: 'database.url', file }, { cause: err });
  }
  return { db: new Kysely<AppDatabase>({ dialect: new SqliteDialect({ database: handle }) }), dialect: 'sqlite' };
}

function openPostgres(url: string, poolSize: number): { db: Kysely<AppDatabase>; dialect: StoreDialect } {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 10_000,
    types: { getTypeParser: (oid: number, format?: string) => (oid === PG_INT8_OID ? Number : pg.types.getTypeParser(oid, format as 'text')) } as pg.CustomTypesConfig,
  });
  // A connection that dies while idle in the pool (server restart) must not crash the process.
  pool.on('error', () => undefined);
  return { db: new Kysely<AppDatabase>({ dialect: new PostgresDialect({ pool }) }), dialect: 'postgres' };
}

/** The URL with its password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

function errorText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return errorText(err.errors[0]);
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code !== undefined && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}
