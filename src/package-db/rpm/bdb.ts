/**
 * rpm's Berkeley DB backend (`Packages`, rpm < 4.16 and RHEL/CentOS <= 8): a BDB *hash* database
 * whose keys are package numbers and whose values are header blobs.
 *
 * Hand-written because no JavaScript library reads Berkeley DB files (the npm bindings link the C
 * library and open paths, not bytes). Only what rpm's read-only reader (lib/backend/bdb_ro.cc) needs
 * is implemented: the hash metadata page, bucket pages reached through the `spares` table, their
 * chains of overflow hash pages, and big values stored on overflow pages. Every page number is
 * checked against the file and every page is visited at most once, so a corrupt file ends in a
 * warning or a typed error, never in a loop.
 */
import { PortcullisError } from '../../domain/errors.js';
import type { PackageDbWarning } from '../common.js';
import type { RpmBlobs } from './blobs.js';

const HASH_MAGIC = 0x00061561;
const BTREE_MAGIC = 0x00053162;
/** Page types (db_page.h). */
const P_HASH_UNSORTED = 2;
const P_OVERFLOW = 7;
const P_HASH = 13;
/** Hash item types (db_page.h). */
const H_KEYDATA = 1;
const H_OFFPAGE = 3;
/** Size of the generic page header: lsn(8) pgno(4) prev(4) next(4) entries(2) hf_offset(2) level(1) type(1). */
const PAGE_HEADER = 26;

interface Reader {
  u16(off: number): number;
  u32(off: number): number;
}

function reader(bytes: Uint8Array, littleEndian: boolean): Reader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    u16: (off) => (off + 2 <= bytes.length ? view.getUint16(off, littleEndian) : 0),
    u32: (off) => (off + 4 <= bytes.length ? view.getUint32(off, littleEndian) : 0),
  };
}

/** True when the bytes start with a Berkeley DB hash or btree metadata page (either byte order). */
export function isBerkeleyDb(bytes: Uint8Array): boolean {
  if (bytes.length < 512) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = view.getUint32(12, true);
  const be = view.getUint32(12, false);
  return le === HASH_MAGIC || be === HASH_MAGIC || le === BTREE_MAGIC || be === BTREE_MAGIC;
}

function fail(path: string, message: string, code: 'E_INPUT' | 'E_UNSUPPORTED' = 'E_INPUT'): never {
  throw new PortcullisError(code, `rpm: ${path}: ${message}`);
}

/**
 * Returns the header blobs (values) of an rpm Berkeley DB hash database, in bucket order as rpm
 * walks them. Record 0, where rpm keeps its next-instance counter, is not a package and is left out.
 * Throws a PortcullisError when the metadata page is not a supported hash database (E_UNSUPPORTED
 * for a btree or an old hash version, E_INPUT for garbage); damaged buckets or values are skipped
 * with a warning and the rest is kept.
 */
export function readBdbBlobs(bytes: Uint8Array, path: string): RpmBlobs {
  if (bytes.length < 512) fail(path, 'too short for a Berkeley DB file');
  const probe = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let littleEndian: boolean;
  if (probe.getUint32(12, true) === HASH_MAGIC) littleEndian = true;
  else if (probe.getUint32(12, false) === HASH_MAGIC) littleEndian = false;
  else if (probe.getUint32(12, true) === BTREE_MAGIC || probe.getUint32(12, false) === BTREE_MAGIC) {
    fail(path, 'a Berkeley DB btree, not the hash database rpm writes', 'E_UNSUPPORTED');
  } else fail(path, 'not a Berkeley DB file');

  const r = reader(bytes, littleEndian);
  const version = r.u32(16);
  if (version < 8 || version > 10) fail(path, `unsupported Berkeley DB hash version ${version}`, 'E_UNSUPPORTED');
  const pageSize = r.u32(20);
  // BDB page sizes are powers of two from 512 bytes to 64 KiB.
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) fail(path, `invalid page size ${pageSize}`);
  const pagesInFile = Math.floor(bytes.length / pageSize);
  const lastPage = Math.min(r.u32(32), pagesInFile - 1);
  const maxBucket = r.u32(72);
  const spares: number[] = [];
  for (let i = 0; i < 32; i++) spares.push(r.u32(96 + i * 4));
  if (maxBucket > lastPage) fail(path, `metadata claims ${maxBucket + 1} buckets in a file of ${lastPage + 1} pages`);

  const blobs: RpmBlobs['blobs'] = [];
  const warnings: PackageDbWarning[] = [];
  const warn = (message: string): void => {
    warnings.push({ code: 'rpm-corrupt-database', message: `rpm: ${path}: ${message}`, path });
  };
  const visited = new Set<number>();

  /** A page's bytes, or undefined (with a warning) when the number is out of range, reused, or mislabelled. */
  const page = (pgno: number, expectTypes: readonly number[]): Uint8Array | undefined => {
    if (pgno < 1 || pgno > lastPage) {
      warn(`page ${pgno} is outside the file`);
      return undefined;
    }
    if (visited.has(pgno)) {
      warn(`page ${pgno} is reached twice (loop or shared page)`);
      return undefined;
    }
    visited.add(pgno);
    const start = pgno * pageSize;
    const p = bytes.subarray(start, start + pageSize);
    const pr = reader(p, littleEndian);
    if (pr.u32(8) !== pgno) {
      warn(`page ${pgno} says it is page ${pr.u32(8)}`);
      return undefined;
    }
    if (!expectTypes.includes(p[25] ?? -1)) {
      warn(`page ${pgno} has type ${p[25] ?? -1}, expected ${expectTypes.join(' or ')}`);
      return undefined;
    }
    return p;
  };

  /** Reads a value stored on a chain of overflow pages. */
  const overflow = (firstPage: number, length: number): Uint8Array | undefined => {
    if (length === 0 || length > bytes.length) {
      warn(`overflow value of ${length} bytes is impossible in this file`);
      return undefined;
    }
    const out = new Uint8Array(length);
    let filled = 0;
    let pgno = firstPage;
    while (filled < length) {
      const p = page(pgno, [P_OVERFLOW]);
      if (p === undefined) return undefined;
      const pr = reader(p, littleEndian);
      const used = pr.u16(22);
      if (used === 0 || PAGE_HEADER + used > pageSize || used > length - filled) {
        warn(`overflow page ${pgno} holds ${used} bytes, which does not fit the value`);
        return undefined;
      }
      out.set(p.subarray(PAGE_HEADER, PAGE_HEADER + used), filled);
      filled += used;
      pgno = pr.u32(16);
      if (filled < length && pgno === 0) {
        warn(`overflow chain ends after ${filled} of ${length} bytes`);
        return undefined;
      }
    }
    return out;
  };

  /** An item (key or value) on a hash page: inline data or a reference to overflow pages. */
  const item = (p: Uint8Array, off: number, len: number): Uint8Array | undefined => {
    if (len <= 0 || off + len > pageSize) return undefined;
    const type = p[off];
    if (type === H_KEYDATA) return p.subarray(off + 1, off + len);
    if (type === H_OFFPAGE && len >= 12) {
      const pr = reader(p, littleEndian);
      return overflow(pr.u32(off + 4), pr.u32(off + 8));
    }
    warn(`hash item of type ${type ?? -1} is not supported (duplicates are not used by rpm)`);
    return undefined;
  };

  for (let bucket = 0; bucket <= maxBucket; bucket++) {
    const bits = bucket === 0 ? 0 : 32 - Math.clz32(bucket);
    let pgno = bucket + (spares[bits] ?? 0);
    while (pgno !== 0) {
      const p = page(pgno, [P_HASH, P_HASH_UNSORTED]);
      if (p === undefined) break;
      const pr = reader(p, littleEndian);
      const entries = Math.min(pr.u16(20), Math.floor((pageSize - PAGE_HEADER) / 2));
      const offsetAt = (i: number): number => pr.u16(PAGE_HEADER + 2 * i);
      for (let i = 0; i + 1 < entries; i += 2) {
        const keyOff = offsetAt(i);
        const valueOff = offsetAt(i + 1);
        // Items are packed from the end of the page downwards: each ends where the previous one begins.
        const keyEnd = i === 0 ? pageSize : offsetAt(i - 1);
        if (keyOff >= pageSize || valueOff >= keyOff || keyEnd > pageSize || keyOff >= keyEnd) {
          warn(`page ${pgno} item ${i} has inconsistent offsets`);
          break;
        }
        const key = item(p, keyOff, keyEnd - keyOff);
        if (key === undefined) continue;
        const keyNumber = key.length === 4 ? reader(key, littleEndian).u32(0) : -1;
        if (keyNumber === 0) continue; // rpm's counter record, not a package
        const value = item(p, valueOff, keyOff - valueOff);
        if (value === undefined) {
          warn(`package record ${keyNumber} on page ${pgno} could not be read; skipped`);
          continue;
        }
        blobs.push({ key: keyNumber, blob: value });
      }
      pgno = pr.u32(16);
    }
  }
  return { blobs, warnings };
}
