/**
 * rpm's own "ndb" backend (`Packages.db`, SUSE since SLE 15 / openSUSE), format of rpm's
 * lib/backend/ndb/rpmpkg.c. All integers are little-endian.
 *
 * - A 32-byte file header: magic `RpmP`, version 0, generation, number of slot pages, next package index.
 * - Slot pages (4096 bytes each) right after, 16-byte slots: magic `Slot`, package index, block
 *   offset, block count (blocks are 16 bytes; offset 0 marks a free slot). The header occupies the
 *   first two slots of page 0.
 * - Each blob: head (magic `BlbS`, package index, generation, length), the header blob, zero padding
 *   to a block boundary, tail (Adler-32 of head+blob+padding, length, magic `BlbE`).
 *
 * Hand-written because nothing outside rpm reads this format. Each blob is checked the way rpm checks
 * it (magics, index, length, block count, Adler-32); a bad slot or blob is skipped with a warning.
 */
import { PortcullisError } from '../../domain/errors.js';
import type { PackageDbWarning } from '../common.js';
import type { RpmBlobs } from './blobs.js';

const PKGDB_MAGIC = 0x506d7052; // 'RpmP'
const SLOT_MAGIC = 0x746f6c53; // 'Slot'
const BLOBHEAD_MAGIC = 0x53626c42; // 'BlbS'
const BLOBTAIL_MAGIC = 0x45626c42; // 'BlbE'
const PAGE_SIZE = 4096;
const SLOT_SIZE = 16;
const BLK_SIZE = 16;
const HEADER_SIZE = 32;
const BLOBHEAD_SIZE = 16;
const BLOBTAIL_SIZE = 12;

/** True when the bytes start with the ndb package database magic. */
export function isNdb(bytes: Uint8Array): boolean {
  return bytes.length >= HEADER_SIZE && new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true) === PKGDB_MAGIC;
}

/** Adler-32 as RFC 1950 defines it (what rpmpkg.c stores in each blob tail). */
export function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < data.length; ) {
    // 5552 is the largest run for which the sums cannot overflow before the modulo (zlib's NMAX).
    const end = Math.min(i + 5552, data.length);
    for (; i < end; i++) {
      a += data[i] ?? 0;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** What the slot table says about one package. */
export interface NdbSlot {
  pkgIdx: number;
  blkOff: number;
  blkCnt: number;
}

/**
 * Reads the file header and the used slots of an ndb package database. Throws a PortcullisError
 * (E_INPUT; E_UNSUPPORTED for another format version) when the header is not ndb's or the slot pages
 * do not fit in the file. Slots with a bad magic are reported as warnings and left out.
 */
export function readNdbSlots(bytes: Uint8Array, path: string): { slots: NdbSlot[]; warnings: PackageDbWarning[] } {
  if (!isNdb(bytes)) throw new PortcullisError('E_INPUT', `rpm: ${path} is not an ndb package database`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== 0) throw new PortcullisError('E_UNSUPPORTED', `rpm: ${path}: ndb format version ${version} is not supported`);
  const slotPages = view.getUint32(12, true);
  if (slotPages < 1 || slotPages * PAGE_SIZE > bytes.length) {
    throw new PortcullisError('E_INPUT', `rpm: ${path}: ${slotPages} slot pages do not fit in a ${bytes.length}-byte file`);
  }
  const warnings: PackageDbWarning[] = [];
  const slots: NdbSlot[] = [];
  let badSlots = 0;
  for (let off = HEADER_SIZE; off < slotPages * PAGE_SIZE; off += SLOT_SIZE) {
    if (view.getUint32(off, true) !== SLOT_MAGIC) {
      badSlots += 1;
      continue;
    }
    const blkOff = view.getUint32(off + 8, true);
    if (blkOff === 0) continue; // free slot
    slots.push({ pkgIdx: view.getUint32(off + 4, true), blkOff, blkCnt: view.getUint32(off + 12, true) });
  }
  if (badSlots > 0) {
    warnings.push({ code: 'rpm-corrupt-database', message: `rpm: ${path}: ${badSlots} slots without the slot magic were ignored`, path });
  }
  return { slots, warnings };
}

/**
 * Returns the header blobs of an ndb package database ordered by package index. A slot whose blob
 * fails rpm's own checks is skipped with a warning; the rest is kept. Throws as readNdbSlots does.
 */
export function readNdbBlobs(bytes: Uint8Array, path: string): RpmBlobs {
  const { slots, warnings } = readNdbSlots(bytes, path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const blobs: RpmBlobs['blobs'] = [];
  const firstBlobBlock = (view.getUint32(12, true) * PAGE_SIZE) / BLK_SIZE;
  const seen = new Set<number>();

  for (const slot of [...slots].sort((a, b) => a.pkgIdx - b.pkgIdx)) {
    const bad = (why: string): void => {
      warnings.push({ code: 'rpm-corrupt-database', message: `rpm: ${path}: package ${slot.pkgIdx}: ${why}; skipped`, path });
    };
    if (seen.has(slot.pkgIdx)) {
      bad('a second slot claims this package index');
      continue;
    }
    seen.add(slot.pkgIdx);
    const start = slot.blkOff * BLK_SIZE;
    const end = (slot.blkOff + slot.blkCnt) * BLK_SIZE;
    if (slot.pkgIdx === 0 || slot.blkOff < firstBlobBlock || slot.blkCnt * BLK_SIZE < BLOBHEAD_SIZE + BLOBTAIL_SIZE || end > bytes.length) {
      bad(`slot points at blocks ${slot.blkOff}+${slot.blkCnt} outside the blob area`);
      continue;
    }
    if (view.getUint32(start, true) !== BLOBHEAD_MAGIC || view.getUint32(start + 4, true) !== slot.pkgIdx) {
      bad('blob head does not match the slot');
      continue;
    }
    const length = view.getUint32(start + 12, true);
    if (Math.ceil((BLOBHEAD_SIZE + length + BLOBTAIL_SIZE) / BLK_SIZE) !== slot.blkCnt) {
      bad(`blob length ${length} does not match ${slot.blkCnt} blocks`);
      continue;
    }
    const tail = end - BLOBTAIL_SIZE;
    if (view.getUint32(tail + 8, true) !== BLOBTAIL_MAGIC || view.getUint32(tail + 4, true) !== length) {
      bad('blob tail does not match its head');
      continue;
    }
    if (adler32(bytes.subarray(start, tail)) !== view.getUint32(tail, true)) {
      bad('blob checksum (Adler-32) mismatch');
      continue;
    }
    blobs.push({ key: slot.pkgIdx, blob: bytes.subarray(start + BLOBHEAD_SIZE, start + BLOBHEAD_SIZE + length) });
  }
  return { blobs, warnings };
}
