/**
 * rpm's SQLite backend (`rpmdb.sqlite`, rpm >= 4.16): table `Packages(hnum INTEGER PRIMARY KEY,
 * blob BLOB)`, one header blob per installed package. Read with better-sqlite3 from the bytes, never
 * from a path: this reads a file found in an image, not the project's own database (which only
 * store/ touches).
 */
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import { PortcullisError } from '../../domain/errors.js';
import type { PackageDbWarning } from '../common.js';
import type { RpmBlobs } from './blobs.js';

const SQLITE_MAGIC = 'SQLite format 3\u0000';

// SQLite (a native addon) is loaded on the first rpm SQLite database found, not at start-up with the
// detector registry: most images have none.
let sqlite: typeof Database | undefined;
const loadSqlite = (): typeof Database => (sqlite ??= createRequire(import.meta.url)('better-sqlite3') as typeof Database);

/** True when the bytes start with the SQLite file header. */
export function isSqlite(bytes: Uint8Array): boolean {
  return bytes.length >= 100 && Buffer.from(bytes.subarray(0, 16)).toString('latin1') === SQLITE_MAGIC;
}

/**
 * Returns the header blobs of an rpm SQLite database, in `hnum` order. Throws a PortcullisError
 * (E_INPUT, `rpm: ...`) when the bytes are not a readable SQLite database or have no Packages table;
 * a database that breaks mid-way yields the rows read so far and a warning. Rows whose blob is not a
 * BLOB are skipped with a warning.
 *
 * rpm keeps the database in WAL mode (file-format bytes 18-19 = 2). SQLite cannot open a WAL-mode
 * image deserialized into memory, so a copy is marked as a rollback-journal database (1, 1) first;
 * the page content is identical. Changes still sitting in a `-wal` file beside it are not seen: rpm
 * checkpoints on close, so an image built by rpm has none.
 */
export function readSqliteBlobs(bytes: Uint8Array, path: string): RpmBlobs {
  if (!isSqlite(bytes)) throw new PortcullisError('E_INPUT', `rpm: ${path} is not an SQLite database`);
  const image = Buffer.from(bytes);
  if (image[18] === 2 && image[19] === 2) {
    image[18] = 1;
    image[19] = 1;
  }

  let db: Database.Database;
  try {
    db = new (loadSqlite())(image, { readonly: true });
  } catch (err) {
    throw new PortcullisError('E_INPUT', `rpm: ${path}: cannot open the SQLite database: ${(err as Error).message}`, {}, { cause: err });
  }
  const blobs: RpmBlobs['blobs'] = [];
  const warnings: PackageDbWarning[] = [];
  try {
    let statement: Database.Statement;
    try {
      statement = db.prepare('SELECT hnum, blob FROM Packages ORDER BY hnum');
    } catch (err) {
      throw new PortcullisError('E_INPUT', `rpm: ${path}: no readable Packages table: ${(err as Error).message}`, {}, { cause: err });
    }
    try {
      for (const row of statement.iterate() as Iterable<{ hnum: unknown; blob: unknown }>) {
        const key = typeof row.hnum === 'number' ? row.hnum : Number(row.hnum);
        if (!(row.blob instanceof Uint8Array)) {
          warnings.push({ code: 'rpm-corrupt-header', message: `rpm: ${path}: package ${key} has no header blob; skipped`, path });
          continue;
        }
        blobs.push({ key, blob: row.blob });
      }
    } catch (err) {
      warnings.push({
        code: 'rpm-corrupt-database',
        message: `rpm: ${path}: the SQLite database broke off after ${blobs.length} packages: ${(err as Error).message}`,
        path,
      });
    }
  } finally {
    db.close();
  }
  return { blobs, warnings };
}
