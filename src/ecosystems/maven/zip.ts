/**
 * A bounded zip reader for Java archives. fflate (installed) can unzip, but its `unzipSync`
 * allocates each entry's *declared* size up front and grows past it when the data inflates to
 * more, so a hostile jar can make it allocate gigabytes. Here the central directory is read with
 * every offset checked, and each entry is inflated with node:zlib's `maxOutputLength`, a hard cap
 * on the bytes produced whatever the headers claim. Only the entries asked for are inflated.
 */
import { inflateRawSync } from 'node:zlib';
import { PortcullisError } from '../../domain/errors.js';

/** One central-directory entry. Offsets are relative to the start of `bytes`. */
export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  /** As declared by the archive; not trusted for allocation. */
  uncompressedSize: number;
  localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const EOCD64_LOCATOR_SIG = 0x07064b50;
const EOCD64_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;

function fail(message: string, code: 'E_INPUT' | 'E_TOO_LARGE' = 'E_INPUT'): never {
  throw new PortcullisError(code, `zip: ${message}`);
}

function u16(b: Buffer, o: number): number {
  if (o < 0 || o + 2 > b.length) fail(`read at ${o} past the end`);
  return b.readUInt16LE(o);
}

function u32(b: Buffer, o: number): number {
  if (o < 0 || o + 4 > b.length) fail(`read at ${o} past the end`);
  return b.readUInt32LE(o);
}

function u64(b: Buffer, o: number): number {
  if (o < 0 || o + 8 > b.length) fail(`read at ${o} past the end`);
  const v = b.readBigUInt64LE(o);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('64-bit field too large');
  return Number(v);
}

/** True when `bytes` looks like a zip (local header at 0, or an end record near the end). */
export function looksLikeZip(bytes: Buffer): boolean {
  return bytes.length >= 22 && (bytes.readUInt32LE(0) === LOCAL_SIG || findEocd(bytes) !== -1);
}

function findEocd(bytes: Buffer): number {
  // The end record is 22 bytes plus a comment of at most 65535 bytes.
  const stop = Math.max(0, bytes.length - 22 - 0xffff);
  for (let i = bytes.length - 22; i >= stop; i--) {
    if (bytes[i] === 0x50 && bytes.readUInt32LE(i) === EOCD_SIG) return i;
  }
  return -1;
}

/**
 * Lists the entries of a zip archive from its central directory (zip64 included). Data prepended
 * to the archive (self-executing jars start with a shell script) is allowed for.
 * Throws a PortcullisError (E_INPUT, "zip: ...") when there is no readable central directory.
 */
export function listZipEntries(bytes: Buffer): ZipEntry[] {
  const eocd = findEocd(bytes);
  if (eocd === -1) fail('no end-of-central-directory record (not a zip, or truncated)');
  let count = u16(bytes, eocd + 10);
  let cdSize = u32(bytes, eocd + 12);
  let cdOffset = u32(bytes, eocd + 16);
  let cdEnd = eocd;
  const locator = eocd - 20;
  if (locator >= 0 && u32(bytes, locator) === EOCD64_LOCATOR_SIG) {
    const rec = u64(bytes, locator + 8);
    // Like the 32-bit record, the zip64 record may be shifted by prepended data; find it.
    const at = u32(bytes, rec) === EOCD64_SIG ? rec : locator - 56;
    if (at >= 0 && u32(bytes, at) === EOCD64_SIG) {
      count = u64(bytes, at + 32);
      cdSize = u64(bytes, at + 40);
      cdOffset = u64(bytes, at + 48);
      cdEnd = at;
    }
  }
  // Where the directory really starts tells how many bytes precede the archive proper.
  const shift = cdEnd - cdSize - cdOffset;
  if (shift < 0) fail('central directory lies outside the file');
  const entries: ZipEntry[] = [];
  let p = cdOffset + shift;
  for (let i = 0; i < count; i++) {
    if (u32(bytes, p) !== CENTRAL_SIG) fail(`central directory entry ${i} is corrupt`);
    const flags = u16(bytes, p + 8);
    const method = u16(bytes, p + 10);
    let compressedSize = u32(bytes, p + 20);
    let uncompressedSize = u32(bytes, p + 24);
    const nameLen = u16(bytes, p + 28);
    const extraLen = u16(bytes, p + 30);
    const commentLen = u16(bytes, p + 32);
    let localHeaderOffset = u32(bytes, p + 42);
    const nameEnd = p + 46 + nameLen;
    if (nameEnd + extraLen + commentLen > bytes.length) fail(`central directory entry ${i} runs past the end`);
    const name = bytes.toString((flags & 0x800) !== 0 ? 'utf8' : 'latin1', p + 46, nameEnd);
    // Zip64 extended information: present fields replace the 0xffffffff placeholders, in order.
    let e = nameEnd;
    while (e + 4 <= nameEnd + extraLen) {
      const id = u16(bytes, e);
      const size = u16(bytes, e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        const fieldEnd = e + 4 + size;
        if (uncompressedSize === 0xffffffff && q + 8 <= fieldEnd) {
          uncompressedSize = u64(bytes, q);
          q += 8;
        }
        if (compressedSize === 0xffffffff && q + 8 <= fieldEnd) {
          compressedSize = u64(bytes, q);
          q += 8;
        }
        if (localHeaderOffset === 0xffffffff && q + 8 <= fieldEnd) localHeaderOffset = u64(bytes, q);
      }
      e += 4 + size;
    }
    entries.push({ name, method, flags, compressedSize, uncompressedSize, localHeaderOffset: localHeaderOffset + shift });
    p = nameEnd + extraLen + commentLen;
  }
  return entries;
}

/**
 * The uncompressed bytes of one entry, at most `maxBytes` of them. Stored entries are returned as
 * a view of `bytes` (no copy). Throws a PortcullisError: E_TOO_LARGE when the entry would exceed
 * `maxBytes` (or inflates beyond its declared size), E_INPUT when it is encrypted, uses an
 * unsupported method or is corrupt.
 */
export function readZipEntry(bytes: Buffer, entry: ZipEntry, maxBytes: number): Buffer {
  if ((entry.flags & 1) !== 0) fail(`${entry.name} is encrypted`);
  const h = entry.localHeaderOffset;
  if (u32(bytes, h) !== LOCAL_SIG) fail(`${entry.name}: local header missing`);
  const start = h + 30 + u16(bytes, h + 26) + u16(bytes, h + 28);
  const end = start + entry.compressedSize;
  if (end > bytes.length) fail(`${entry.name}: data runs past the end of the archive`);
  const raw = bytes.subarray(start, end);
  if (entry.method === 0) {
    if (raw.length > maxBytes) fail(`${entry.name}: ${raw.length} bytes is over the ${maxBytes}-byte limit`, 'E_TOO_LARGE');
    return raw;
  }
  if (entry.method !== 8) fail(`${entry.name}: compression method ${entry.method} is not supported`);
  // The declared size is a tighter bound when it is honest; a liar is caught by the cap either way.
  const limit = Math.min(maxBytes, entry.uncompressedSize);
  try {
    return inflateRawSync(raw, { maxOutputLength: Math.max(1, limit) });
  } catch (err) {
    if (err instanceof RangeError || (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      if (limit < maxBytes) fail(`${entry.name}: inflates beyond its declared ${entry.uncompressedSize} bytes`, 'E_TOO_LARGE');
      fail(`${entry.name}: inflates beyond the ${maxBytes}-byte limit`, 'E_TOO_LARGE');
    }
    fail(`${entry.name}: corrupt deflate data (${err instanceof Error ? err.message : String(err)})`);
  }
}
