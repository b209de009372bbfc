import { PortcullisError } from '../../domain/errors.js';
import type { OwnedFiles, PackageRecord } from '../../domain/package.js';
import type { PackageDbResult, PackageDbWarning } from '../common.js';
import { isBerkeleyDb, readBdbBlobs } from './bdb.js';
import type { RpmBlobs } from './blobs.js';
import { isNdb, readNdbBlobs } from './ndb.js';
import { rpmHeaderToPackage } from './rpm-package.js';
import { isSqlite, readSqliteBlobs } from './sqlite.js';

/** The three storage formats rpm has used for its package database. */
export type RpmDbFormat = 'sqlite' | 'bdb' | 'ndb';

/** Recognises the storage format from the file's first bytes (not its name); undefined when none matches. */
export function detectRpmDbFormat(bytes: Uint8Array): RpmDbFormat | undefined {
  if (isSqlite(bytes)) return 'sqlite';
  if (isNdb(bytes)) return 'ndb';
  if (isBerkeleyDb(bytes)) return 'bdb';
  return undefined;
}

/** Header blobs of an rpm database of any supported format. Throws a PortcullisError when the storage is unreadable. */
export function readRpmBlobs(bytes: Uint8Array, path: string): RpmBlobs & { format: RpmDbFormat } {
  const format = detectRpmDbFormat(bytes);
  if (format === 'sqlite') return { format, ...readSqliteBlobs(bytes, path) };
  if (format === 'ndb') return { format, ...readNdbBlobs(bytes, path) };
  if (format === 'bdb') return { format, ...readBdbBlobs(bytes, path) };
  throw new PortcullisError('E_INPUT', `rpm: ${path} is neither an SQLite, Berkeley DB nor ndb rpm database`);
}

/**
 * Reads the installed packages of an rpm database file (SQLite `rpmdb.sqlite`, Berkeley DB
 * `Packages`, or ndb `Packages.db`; the format is recognised from the bytes). Records come in the
 * database's own order (hnum, bucket order, package index). `gpg-pubkey` pseudo packages are left out
 * (see RPM_PSEUDO_PACKAGES). A header that cannot be decoded is skipped with an `rpm-corrupt-header`
 * warning; storage damage gives `rpm-corrupt-database` warnings. `ownedFiles` holds each package's
 * file list (a damaged list: an `rpm-corrupt-file-list` warning, the package kept). Throws a
 * PortcullisError when the file is not an rpm database at all. Returns no packages for an empty database.
 */
export function parseRpmDatabase(bytes: Uint8Array, path: string): PackageDbResult & { ownedFiles: OwnedFiles[] } {
  const { blobs, warnings: storageWarnings } = readRpmBlobs(bytes, path);
  const warnings: PackageDbWarning[] = [...storageWarnings];
  const packages: PackageRecord[] = [];
  const ownedFiles: OwnedFiles[] = [];
  for (const { key, blob } of blobs) {
    try {
      const found = rpmHeaderToPackage(blob, path);
      if (found === undefined) continue;
      const { record, files, filesError } = found;
      packages.push(record);
      if (files.length > 0) ownedFiles.push({ ecosystem: 'rpm', name: record.name, version: record.version, ...(record.arch ? { arch: record.arch } : {}), files });
      if (filesError !== undefined) warnings.push({ code: 'rpm-corrupt-file-list', message: `rpm: ${path}: package ${record.name}: file list unreadable (${filesError}); its files own nothing`, path });
    } catch (err) {
      const reason = err instanceof Error ? err.message.replace(/^rpm: /, '') : String(err);
      warnings.push({ code: 'rpm-corrupt-header', message: `rpm: ${path}: package ${key}: ${reason}; skipped`, path });
    }
  }
  return { packages, warnings, ownedFiles };
}
