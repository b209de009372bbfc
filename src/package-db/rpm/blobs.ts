import type { PackageDbWarning } from '../common.js';

/** Header blobs read out of one rpm database file, whatever its storage format. */
export interface RpmBlobs {
  /** `key` is the package's number in that database (SQLite hnum, BDB record key, NDB pkgidx). */
  blobs: { key: number; blob: Uint8Array }[];
  /** Damage found while reading the storage (not the headers themselves). */
  warnings: PackageDbWarning[];
}
