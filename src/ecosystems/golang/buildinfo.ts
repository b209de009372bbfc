/**
 * Reads the build information the Go linker embeds in every binary since Go 1.13 (module info
 * since modules; the self-contained "inline" layout since Go 1.18). No npm library reads it, so
 * the format is implemented here from its description in Go's `debug/buildinfo`:
 *
 * A 32-byte header, 16-byte aligned, starts with the 14-byte magic `\xff Go buildinf:`, then one
 * byte of pointer size and one byte of flags. Flag bit 2 ("inline", Go >= 1.18): after the header
 * come two strings, each a uvarint length followed by its bytes: the toolchain version and the
 * module info. Without it (Go < 1.18), the header holds two pointers (of the given size and the
 * byte order of flag bit 1) to Go string headers `{data pointer, length}` in the data segment,
 * which are resolved through the ELF program headers. The module info is wrapped in two 16-byte
 * sentinels, which are stripped.
 */
import { PortcullisError } from '../../domain/errors.js';
import { findSection, isElf, parseElf, PF_W, PF_X, PT_LOAD, readAtAddress, sectionData, slice, type ElfFile } from '../binary/elf.js';

/** The magic that starts the build-info header. */
export const GO_BUILDINFO_MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const HEADER_SIZE = 32;
const ALIGN = 16;
const FLAG_BIG_ENDIAN = 1;
const FLAG_INLINE = 2;
/** Go's reader looks at the first 64 KiB of the data section; so do we. */
const SEARCH_WINDOW = 64 * 1024;
/** Longest version or module-info string accepted (real ones are a few KiB). */
const MAX_STRING = 16 * 1024 * 1024;

/** What the binary says about how it was built. */
export interface GoBuildInfo {
  /** Toolchain version as embedded, e.g. `go1.19.8` (may carry suffixes such as ` X:boringcrypto`). */
  goVersion: string;
  /** The module info text with its sentinels removed; '' for binaries built outside module mode. */
  modinfo: string;
  /** Which header layout the binary used. */
  format: 'inline' | 'pointer';
  /** Container format in which the header was found. */
  container: 'elf' | 'macho' | 'pe';
}

function fail(message: string): never {
  throw new PortcullisError('E_INPUT', `go buildinfo: ${message}`);
}

/** The executable container of `bytes`, judged by its first bytes, or undefined for anything else. */
export function executableKind(bytes: Buffer): GoBuildInfo['container'] | undefined {
  if (isElf(bytes)) return 'elf';
  if (bytes.length < 4) return undefined;
  const be = bytes.readUInt32BE(0);
  // Mach-O 32/64 in either byte order; universal (fat) binaries share 0xcafebabe with Java classes,
  // which simply hold no build info.
  if (be === 0xfeedface || be === 0xfeedfacf || be === 0xcefaedfe || be === 0xcffaedfe || be === 0xcafebabe) return 'macho';
  if (bytes[0] === 0x4d && bytes[1] === 0x5a) return 'pe';
  return undefined;
}

/**
 * Reads the Go build info of an executable. Returns undefined when `bytes` is not an executable
 * or holds no build-info header (not a Go binary). Throws a PortcullisError ("go buildinfo: ...")
 * when a header is found but what it points to is truncated or malformed.
 *
 * ELF files are read the way Go does (the `.go.buildinfo` section, else the first writable data
 * segment), which avoids false hits on the magic string in binaries that merely contain it (the
 * `go` command itself). Mach-O and PE files are searched whole, and only the inline (>= 1.18)
 * layout is read there, since the pointer layout needs their address maps.
 */
export function readGoBuildInfo(bytes: Buffer): GoBuildInfo | undefined {
  const container = executableKind(bytes);
  if (container === undefined) return undefined;
  // Cheap rejection of the vast majority of executables before any structure is parsed.
  if (bytes.indexOf(GO_BUILDINFO_MAGIC) === -1) return undefined;

  if (container === 'elf') {
    const elf = parseElf(bytes);
    const region = elfDataRegion(elf);
    if (region === undefined) return undefined;
    // The header must sit near the start of the region; the strings after it may run further.
    const at = findHeader(region.subarray(0, SEARCH_WINDOW), 0);
    if (at === undefined) return undefined;
    return decodeHeader(region, at, container, elf);
  }
  // Mach-O and PE: no address map is read, so every aligned candidate in the file is tried and a
  // candidate that does not decode (the magic as a constant in some other program) is passed over.
  for (let at = findHeader(bytes, 0); at !== undefined; at = findHeader(bytes, at + 1)) {
    const flags = bytes[at + 15] ?? 0;
    if ((flags & FLAG_INLINE) === 0) {
      if ((flags & ~FLAG_BIG_ENDIAN) === 0 && (bytes[at + 14] === 4 || bytes[at + 14] === 8)) {
        fail(`pre-1.18 pointer layout in a ${container} binary is not supported`);
      }
      continue;
    }
    try {
      return decodeHeader(bytes, at, container, undefined);
    } catch {
      continue;
    }
  }
  return undefined;
}

/** The bytes Go's own reader searches: `.go.buildinfo`, else the first writable non-exec PT_LOAD. */
function elfDataRegion(elf: ElfFile): Buffer | undefined {
  const section = findSection(elf, '.go.buildinfo');
  if (section !== undefined) {
    const data = sectionData(elf, section);
    if (data === undefined) fail('.go.buildinfo section lies outside the file');
    return data;
  }
  for (const seg of elf.segments) {
    if (seg.type === PT_LOAD && (seg.flags & (PF_X | PF_W)) === PF_W) {
      // A segment cut short by truncation is read as far as the file goes.
      return slice(elf.bytes, seg.offset, seg.filesz) ?? elf.bytes.subarray(Math.min(seg.offset, elf.bytes.length));
    }
  }
  return undefined;
}

/** Offset of the first 16-aligned header at or after `from` that has room for a full header. */
function findHeader(data: Buffer, from: number): number | undefined {
  for (;;) {
    const i = data.indexOf(GO_BUILDINFO_MAGIC, from);
    if (i < 0 || data.length - i < HEADER_SIZE) return undefined;
    if (i % ALIGN === 0) return i;
    from = i + 1;
  }
}

function decodeHeader(data: Buffer, at: number, container: GoBuildInfo['container'], elf: ElfFile | undefined): GoBuildInfo {
  const ptrSize = data[at + 14] ?? 0;
  const flags = data[at + 15] ?? 0;
  if ((flags & FLAG_INLINE) !== 0) {
    let pos = at + HEADER_SIZE;
    const version = readVarBytes(data, pos);
    pos = version.next;
    const mod = readVarBytes(data, pos);
    return { goVersion: version.bytes.toString('utf8'), modinfo: stripSentinels(mod.bytes), format: 'inline', container };
  }
  if (elf === undefined) fail(`pre-1.18 pointer layout in a ${container} binary is not supported`);
  if (ptrSize !== 4 && ptrSize !== 8) fail(`pointer size ${ptrSize} is invalid`);
  const bigEndian = (flags & FLAG_BIG_ENDIAN) !== 0;
  const versionAddr = readPointer(data, at + 16, ptrSize, bigEndian);
  const modAddr = readPointer(data, at + 16 + ptrSize, ptrSize, bigEndian);
  const goVersion = readGoString(elf, versionAddr, ptrSize, bigEndian, 'version').toString('utf8');
  const modinfo = readGoString(elf, modAddr, ptrSize, bigEndian, 'module info');
  return { goVersion, modinfo: stripSentinels(modinfo), format: 'pointer', container };
}

function readPointer(data: Buffer, offset: number, size: 4 | 8, bigEndian: boolean): number {
  const raw = slice(data, offset, size);
  if (raw === undefined) fail('truncated header');
  if (size === 4) return bigEndian ? raw.readUInt32BE(0) : raw.readUInt32LE(0);
  const v = bigEndian ? raw.readBigUInt64BE(0) : raw.readBigUInt64LE(0);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** Follows a Go string header at `addr` to its bytes, through the ELF load segments. */
function readGoString(elf: ElfFile, addr: number, ptrSize: 4 | 8, bigEndian: boolean, what: string): Buffer {
  const header = readAtAddress(elf, addr, ptrSize * 2);
  if (header === undefined) fail(`${what} string header at 0x${addr.toString(16)} is not in the file`);
  const dataAddr = readPointer(header, 0, ptrSize, bigEndian);
  const length = readPointer(header, ptrSize, ptrSize, bigEndian);
  if (length > MAX_STRING) fail(`${what} string of ${length} bytes is implausible`);
  if (length === 0) return Buffer.alloc(0);
  const bytes = readAtAddress(elf, dataAddr, length);
  if (bytes === undefined) fail(`${what} string at 0x${dataAddr.toString(16)} is not in the file`);
  return bytes;
}

/** Reads a uvarint-length-prefixed byte string (inline layout). */
function readVarBytes(data: Buffer, pos: number): { bytes: Buffer; next: number } {
  let length = 0;
  let shift = 0;
  for (;;) {
    const b = data[pos];
    if (b === undefined) fail('truncated length varint');
    pos += 1;
    length += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
    if (shift > 49) fail('length varint too long');
  }
  if (length > MAX_STRING) fail(`string of ${length} bytes is implausible`);
  const bytes = slice(data, pos, length);
  if (bytes === undefined) fail(`string of ${length} bytes runs past the end of the data`);
  return { bytes, next: pos + length };
}

/**
 * Removes the 16-byte sentinels around the module info. Like Go, anything that is not framed as
 * expected (too short, no newline before the closing sentinel) counts as no module info.
 */
function stripSentinels(bytes: Buffer): string {
  // The sentinels are arbitrary bytes, not UTF-8: strip them before decoding.
  if (bytes.length >= 33 && bytes[bytes.length - 17] === 0x0a) return bytes.subarray(16, bytes.length - 16).toString('utf8');
  return '';
}
