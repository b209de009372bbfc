import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { posix } from 'node:path';
import { type Readable, addAbortSignal } from 'node:stream';
import { PortcullisError } from '../domain/errors.js';
import { emptyStream, type LayoutFiles } from './layout-files.js';

/** Where one regular member's bytes sit in an uncompressed tar file. */
export interface TarMember {
  name: string;
  /** Byte offset of the member's data in the file. */
  offset: number;
  size: number;
}

/** One member the index keeps: a regular file, a hard link or a symbolic link, as the archive stores it. */
export interface TarIndexEntry {
  /** Normalised member name (see {@link normalizeName}). */
  name: string;
  type: 'file' | 'link' | 'symlink';
  /** Byte offset of a regular file's data in the archive; 0 for links. */
  offset: number;
  /** A regular file's size in bytes; 0 for links. */
  size: number;
  /** The link target exactly as stored; '' for regular files. */
  linkname: string;
}

/** Size of a tar block: headers are one block, member data is padded to a whole number of blocks. */
const BLOCK = 512;
/** Cap on the data of one GNU long name/link or PAX header: real ones are a few KiB; a bigger one is a broken archive. */
const MAX_META_BYTES = 4 * 1024 * 1024;
/** Bytes read at once around a header, so the headers of small neighbouring members cost one read. */
const READ_WINDOW = 64 * 1024;
const ZERO_BLOCK = Buffer.alloc(BLOCK);

/**
 * The members of an uncompressed tar file, found by reading only its headers, then read by byte range.
 * Random access matters here: layers of a multi-gigabyte `docker save` are read one at a time, and a
 * second sequential pass per layer would read the archive once per layer.
 */
export class TarIndex {
  private constructor(
    readonly file: string,
    /** How messages name the archive: the user's path, also when `file` is a decompressed temporary copy. */
    readonly label: string,
    /** The transport messages are prefixed with (`docker-archive`, `oci-archive`). */
    readonly transport: string,
    private readonly byName: Map<string, TarIndexEntry>,
  ) {}

  /**
   * Indexes `file` (which must be an uncompressed tar) by reading its 512-byte headers at their
   * offsets and skipping every member's data. Throws E_INPUT when it is not a readable tar: a header
   * whose checksum does not match, an unknown header format, a malformed number or PAX record, or
   * an archive truncated inside a header or a member. An empty file is an archive with no members.
   * Messages name `naming.label` (default `file`) and start with `naming.transport` (default `docker-archive`).
   */
  static async build(file: string, signal?: AbortSignal, naming: { label?: string; transport?: string } = {}): Promise<TarIndex> {
    const label = naming.label ?? file;
    const transport = naming.transport ?? 'docker-archive';
    const where: ArchiveName = { label, transport };
    let fh: FileHandle;
    try {
      fh = await open(file, 'r');
    } catch (err) {
      throw new PortcullisError('E_INPUT', `${transport}: cannot open ${label}: ${(err as Error).message}`, { path: label }, { cause: err });
    }
    try {
      const size = (await fh.stat()).size;
      return new TarIndex(file, label, transport, await scanHeaders(new WindowReader(fh, where, size), where, size, signal));
    } finally {
      await fh.close();
    }
  }

  /** The regular member at `name` (following hard and symbolic links inside the archive), if any. */
  member(name: string): TarMember | undefined {
    let current = normalizeName(name);
    for (let hops = 0; hops < 16; hops++) {
      const e = this.byName.get(current);
      if (!e) return undefined;
      if (e.type === 'file') return { name: current, offset: e.offset, size: e.size };
      // Hard links name an archive path; symbolic links are relative to the member's directory
      // (`docker save` links duplicate layers as `../<id>/layer.tar`).
      current = e.type === 'link' ? normalizeName(e.linkname) : normalizeName(posix.join(posix.dirname(current), e.linkname));
    }
    return undefined;
  }

  /** Names of all members (regular files and links), in archive order; [] for an empty archive. */
  names(): string[] {
    return [...this.byName.keys()];
  }

  /**
   * Every regular file and link as stored (links not followed), in archive order of first
   * appearance; a name stored twice keeps its last entry, as extracting the archive would. [] for an
   * empty archive.
   */
  entries(): TarIndexEntry[] {
    return [...this.byName.values()].map((e) => ({ ...e }));
  }

  /** A stream of one member's bytes. Throws E_NOT_FOUND when the archive has no such member. */
  open(name: string, signal?: AbortSignal): Readable {
    const m = this.mustFind(name);
    if (m.size === 0) return emptyStream();
    const stream = createReadStream(this.file, { start: m.offset, end: m.offset + m.size - 1 });
    return signal ? addAbortSignal(signal, stream) : stream;
  }

  /** A member's bytes; E_NOT_FOUND when absent, E_TOO_LARGE when longer than `maxBytes`. */
  async readAll(name: string, maxBytes: number): Promise<Buffer> {
    const m = this.mustFind(name);
    if (m.size > maxBytes) throw new PortcullisError('E_TOO_LARGE', `${this.transport}: ${name} in ${this.label} is ${m.size} bytes, more than ${maxBytes}`, { member: name });
    return this.readRange(m, m.size);
  }

  /** The first `n` bytes of a member (fewer when it is shorter; empty for an empty member); E_NOT_FOUND when absent. */
  async readHead(name: string, n: number): Promise<Buffer> {
    const m = this.mustFind(name);
    return this.readRange(m, Math.min(n, m.size));
  }

  /** The archive's members seen as OCI layout files. */
  asLayoutFiles(): LayoutFiles {
    return {
      location: this.label,
      has: (rel) => this.member(rel) !== undefined,
      size: (rel) => this.member(rel)?.size,
      readAll: (rel, max) => this.readAll(rel, max),
      open: async (rel, signal) => this.open(rel, signal),
    };
  }

  private mustFind(name: string): TarMember {
    const m = this.member(name);
    if (!m) throw new PortcullisError('E_NOT_FOUND', `${this.transport}: ${name} is missing from ${this.label}`, { member: name });
    return m;
  }

  private async readRange(m: TarMember, length: number): Promise<Buffer> {
    if (length === 0) return Buffer.alloc(0);
    const fh = await open(this.file, 'r');
    try {
      const buf = Buffer.allocUnsafe(length);
      const got = await readFully(fh, buf, m.offset);
      if (got < length) throw notATar(this, `${m.name} ends at byte ${m.offset + m.size}, past the end of the file`);
      return buf;
    } finally {
      await fh.close();
    }
  }
}

/** `./a//b/` -> `a/b`; member names are compared in this form. */
export function normalizeName(name: string): string {
  const n = posix.normalize(name.replace(/^(\.\/)+/, '')).replace(/^\/+/, '').replace(/\/+$/, '');
  return n === '.' ? '' : n;
}

// ---------------------------------------------------------------- header scan
//
// Written by hand on purpose: tar-stream (the project's tar library) only parses a stream, so
// indexing with it pushes every byte of a multi-gigabyte archive through JavaScript just to learn
// where each member starts. Here each header is read at its offset and each member's data is
// skipped (its size rounded up to 512), so the cost is one small read per member. The format rules
// follow POSIX pax/ustar and GNU tar: ustar name prefix, GNU long names (`L`) and long link
// targets (`K`), PAX extended (`x`) and global (`g`) headers with `path`, `linkpath` and `size`,
// base-256 numbers, and a checksum on every header (a header that fails it is an error, not a guess).

/** What one 512-byte header says, before long names and PAX records are applied. */
interface RawHeader {
  typeflag: string;
  name: string;
  linkname: string;
  /** undefined when the size field is not a valid number (only an error if no PAX size replaces it). */
  size: number | undefined;
  gnu: boolean;
}

/** How an archive is named in messages. */
interface ArchiveName {
  label: string;
  transport: string;
}

/** E_INPUT for a broken tar; `details.reason` carries the reason alone, for callers that rephrase it. */
function notATar(file: ArchiveName, reason: string, offset?: number): PortcullisError {
  const details = offset === undefined ? { path: file.label, reason } : { path: file.label, reason, offset };
  return new PortcullisError('E_INPUT', `${file.transport}: ${file.label} is not a readable tar archive: ${reason}`, details);
}

async function readFully(fh: FileHandle, buf: Buffer, position: number): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/** Positioned reads through a small window, so consecutive headers of small members share one read. */
class WindowReader {
  private window = Buffer.alloc(0);
  private windowStart = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly file: ArchiveName,
    private readonly fileSize: number,
  ) {}

  /** Exactly `length` bytes at `at`; the caller has checked that they lie inside the file. */
  async read(at: number, length: number): Promise<Buffer> {
    const rel = at - this.windowStart;
    if (rel >= 0 && rel + length <= this.window.length) return this.window.subarray(rel, rel + length);
    // A fresh buffer each time: slices handed out earlier stay valid.
    const buf = Buffer.allocUnsafe(Math.min(Math.max(length, READ_WINDOW), this.fileSize - at));
    const got = await readFully(this.fh, buf, at);
    if (got < length) throw notATar(this.file, `the file ended at byte ${at + got} while reading it (did it shrink?)`, at);
    this.window = buf.subarray(0, got);
    this.windowStart = at;
    return this.window.subarray(0, length);
  }
}

const padded = (size: number): number => Math.ceil(size / BLOCK) * BLOCK;

async function scanHeaders(reader: WindowReader, file: ArchiveName, fileSize: number, signal: AbortSignal | undefined): Promise<Map<string, TarIndexEntry>> {
  const byName = new Map<string, TarIndexEntry>();
  // POSIX: global records apply to every later member until replaced; per-member records
  // (`x`, GNU `L`/`K`) apply to the next member only.
  const globalPax = new Map<string, string>();
  let pax: Map<string, string> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  let zeroBlocks = 0;
  let pos = 0;
  for (;;) {
    signal?.throwIfAborted();
    // Ending at a member boundary without the two zero blocks is accepted, as tar-stream and GNU tar do.
    if (pos === fileSize) break;
    if (pos + BLOCK > fileSize) throw notATar(file, `truncated: ${fileSize - pos} bytes left at byte ${pos}, less than a header`, pos);
    const block = await reader.read(pos, BLOCK);
    if (block.equals(ZERO_BLOCK)) {
      pos += BLOCK;
      // Two zero blocks end the archive (what follows is record padding or junk); a lone one is skipped.
      if (++zeroBlocks === 2) break;
      continue;
    }
    zeroBlocks = 0;
    const h = parseHeader(block, file, pos);
    let dataStart = pos + BLOCK;

    if (h.typeflag === 'L' || h.typeflag === 'K' || h.typeflag === 'x' || h.typeflag === 'g') {
      const size = h.size;
      if (size === undefined) throw notATar(file, `malformed size field in the header at byte ${pos}`, pos);
      if (size > MAX_META_BYTES) throw notATar(file, `extended header at byte ${pos} claims ${size} bytes (more than ${MAX_META_BYTES})`, pos);
      const end = dataStart + padded(size);
      if (end > fileSize) throw notATar(file, `truncated: the extended header at byte ${pos} needs ${size} bytes, the file ends at byte ${fileSize}`, pos);
      const data = await reader.read(dataStart, size);
      if (h.typeflag === 'L') longName = cString(data, 0, data.length);
      else if (h.typeflag === 'K') longLink = cString(data, 0, data.length);
      else if (h.typeflag === 'g') for (const [k, v] of parsePax(data, file, pos)) globalPax.set(k, v);
      else pax = new Map([...(pax ?? []), ...parsePax(data, file, pos)]);
      pos = end;
      continue;
    }

    // An empty PAX value deletes the keyword for this member, so the header's own field applies.
    const paxValue = (key: string): string | undefined => (pax?.get(key) ?? globalPax.get(key)) || undefined;
    const name = paxValue('path') ?? longName ?? h.name;
    const linkname = paxValue('linkpath') ?? longLink ?? h.linkname;
    const paxSize = paxValue('size');
    let size = h.size;
    if (paxSize !== undefined) {
      if (!/^\d+$/.test(paxSize) || !Number.isSafeInteger(Number(paxSize))) throw notATar(file, `malformed PAX size ${JSON.stringify(paxSize)} for ${name}`, pos);
      size = Number(paxSize);
    }
    if (size === undefined) throw notATar(file, `malformed size field in the header of ${name} at byte ${pos}`, pos);
    pax = undefined;
    longName = undefined;
    longLink = undefined;

    // Old-style GNU sparse members carry extra sparse-map blocks between header and data.
    if (h.typeflag === 'S' && h.gnu && block[482] !== 0) {
      for (let more = true; more; dataStart += BLOCK) {
        if (dataStart + BLOCK > fileSize) throw notATar(file, `truncated sparse map of ${name}`, pos);
        more = (await reader.read(dataStart, BLOCK))[504] !== 0;
      }
    }
    // Directories have no data blocks whatever their size field says (POSIX; GNU tar skips likewise).
    const end = h.typeflag === '5' ? dataStart : dataStart + padded(size);
    if (end > fileSize) throw notATar(file, `truncated: ${name} needs ${size} bytes from byte ${dataStart}, the file ends at byte ${fileSize}`, pos);

    const key = normalizeName(name);
    const regular = h.typeflag === '0' || h.typeflag === '\0' || h.typeflag === '7';
    if (regular && !name.endsWith('/')) {
      byName.set(key, { name: key, type: 'file', offset: dataStart, size, linkname: '' });
    } else if (h.typeflag === '1' || h.typeflag === '2') {
      byName.set(key, { name: key, type: h.typeflag === '1' ? 'link' : 'symlink', offset: 0, size: 0, linkname });
    }
    pos = end;
  }
  if (pax !== undefined || longName !== undefined || longLink !== undefined) {
    throw notATar(file, 'an extended header (PAX or GNU long name) is not followed by a member', pos);
  }
  return byName;
}

/** Decodes one header block; throws E_INPUT on a checksum mismatch or an unknown format. */
function parseHeader(block: Buffer, file: ArchiveName, at: number): RawHeader {
  const stored = parseNumber(block, 148, 8);
  // The checksum is the sum of the header's bytes with its own field read as spaces. Historic
  // writers summed signed bytes; GNU tar accepts either, and so do we.
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  if (stored === undefined || (stored !== unsigned && stored !== signed)) {
    throw notATar(file, `header checksum mismatch at byte ${at} (stored ${stored ?? 'unreadable'}, computed ${unsigned})`, at);
  }
  const magic = block.toString('latin1', 257, 265);
  const posixUstar = magic.startsWith('ustar\0');
  const gnu = magic === 'ustar  \0';
  if (!posixUstar && !gnu) throw notATar(file, `unknown tar header format at byte ${at} (no ustar magic)`, at);
  let name = cString(block, 0, 100);
  // Only POSIX ustar has the name prefix; GNU headers keep other fields (atime, ctime) there.
  if (posixUstar && block[345] !== 0) name = `${cString(block, 345, 155)}/${name}`;
  return { typeflag: String.fromCharCode(block[156] ?? 0), name, linkname: cString(block, 157, 100), size: parseNumber(block, 124, 12), gnu };
}

/** A NUL-terminated (or field-filling) UTF-8 string. */
function cString(buf: Buffer, start: number, length: number): string {
  const nul = buf.indexOf(0, start);
  const end = nul === -1 || nul > start + length ? start + length : nul;
  return buf.toString('utf8', start, end);
}

/**
 * A numeric header field: octal digits (after optional leading spaces, ended by spaces or NULs),
 * or GNU base-256 (first byte's high bit set; its 0x40 bit is the sign). undefined when malformed,
 * negative, or beyond 2^53.
 */
function parseNumber(buf: Buffer, start: number, length: number): number | undefined {
  const end = start + length;
  const first = buf[start] ?? 0;
  if (first & 0x80) {
    if (first & 0x40) return undefined;
    let v = BigInt(first & 0x3f);
    for (let i = start + 1; i < end; i++) v = v * 256n + BigInt(buf[i] ?? 0);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined;
  }
  let i = start;
  while (i < end && buf[i] === 0x20) i++;
  let v = 0;
  for (; i < end && (buf[i] ?? 0) >= 0x30 && (buf[i] ?? 0) <= 0x37; i++) v = v * 8 + (buf[i] ?? 0) - 0x30;
  for (; i < end; i++) if (buf[i] !== 0x20 && buf[i] !== 0) return undefined;
  return v;
}

/** PAX records, `<length> <key>=<value>\n` each, length counting the whole record in bytes. */
function parsePax(data: Buffer, file: ArchiveName, at: number): Map<string, string> {
  const out = new Map<string, string>();
  const bad = (why: string): PortcullisError => notATar(file, `malformed PAX header at byte ${at}: ${why}`, at);
  let i = 0;
  while (i < data.length) {
    // NUL padding after the last record is tolerated.
    if (data[i] === 0) break;
    const space = data.indexOf(0x20, i);
    if (space === -1) throw bad('record without a length');
    const lengthText = data.toString('latin1', i, space);
    if (!/^[1-9]\d*$/.test(lengthText)) throw bad(`record length ${JSON.stringify(lengthText)}`);
    const end = i + Number(lengthText);
    if (end > data.length || end <= space + 1 || data[end - 1] !== 0x0a) throw bad(`record at ${i} overruns or lacks its newline`);
    const record = data.subarray(space + 1, end - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw bad(`record at ${i} has no key`);
    out.set(record.toString('utf8', 0, eq), record.toString('utf8', eq + 1));
    i = end;
  }
  return out;
}
