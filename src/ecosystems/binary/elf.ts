/**
 * A minimal, bounds-checked ELF reader: just the header, the section table and the program
 * headers, which is all the Go build-info and cargo-auditable detectors need. Written by hand
 * because the npm ELF parsers either read whole files through their own I/O or do not check
 * offsets against the buffer, and a hostile image can hold any bytes in a file with an `x` bit.
 * Every offset read from the file is checked before use; nothing here can read out of bounds or
 * allocate more than the input.
 */
import { PortcullisError } from '../../domain/errors.js';

/** The four bytes every ELF file starts with. */
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/** Section type of sections that occupy no file space (.bss). */
export const SHT_NOBITS = 8;
/** Program header type of loadable segments. */
export const PT_LOAD = 1;
/** Segment permission bits. */
export const PF_X = 1;
export const PF_W = 2;

/** One section header, with its name resolved. Numbers are file offsets and virtual addresses. */
export interface ElfSection {
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
}

/** One program header (segment). */
export interface ElfSegment {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
}

/** The parts of an ELF file the detectors use. `bytes` is the whole file. */
export interface ElfFile {
  class: 32 | 64;
  littleEndian: boolean;
  sections: ElfSection[];
  segments: ElfSegment[];
  bytes: Buffer;
}

/** True when `bytes` starts with the ELF magic. Cheap; says nothing about the rest. */
export function isElf(bytes: Buffer): boolean {
  return bytes.length >= 4 && bytes.subarray(0, 4).equals(ELF_MAGIC);
}

function fail(message: string): never {
  throw new PortcullisError('E_INPUT', `elf: ${message}`);
}

/** Reads unsigned integers of the file's width and byte order, refusing any read past the end. */
class Reader {
  constructor(
    readonly bytes: Buffer,
    readonly littleEndian: boolean,
  ) {}

  private check(offset: number, width: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + width > this.bytes.length) {
      fail(`read of ${width} bytes at ${offset} is outside the ${this.bytes.length}-byte file`);
    }
  }

  u16(offset: number): number {
    this.check(offset, 2);
    return this.littleEndian ? this.bytes.readUInt16LE(offset) : this.bytes.readUInt16BE(offset);
  }

  u32(offset: number): number {
    this.check(offset, 4);
    return this.littleEndian ? this.bytes.readUInt32LE(offset) : this.bytes.readUInt32BE(offset);
  }

  u64(offset: number): number {
    this.check(offset, 8);
    const v = this.littleEndian ? this.bytes.readBigUInt64LE(offset) : this.bytes.readBigUInt64BE(offset);
    // Offsets and sizes beyond 2^53 cannot describe anything in a buffer; addresses that large
    // are clamped so that a lookup simply finds nothing.
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  }

  word(is64: boolean, offset: number): number {
    return is64 ? this.u64(offset) : this.u32(offset);
  }
}

/** Upper bound on table sizes, far above anything a real linker writes. */
const MAX_TABLE_ENTRIES = 65_536;

/**
 * Parses the ELF header, section table and program headers of `bytes`.
 * Throws a PortcullisError (E_INPUT, "elf: ...") when the file is not ELF or a table points
 * outside the file. A file with no section table (stripped of it) yields `sections: []`.
 */
export function parseElf(bytes: Buffer): ElfFile {
  if (!isElf(bytes)) fail('not an ELF file');
  if (bytes.length < 52) fail('truncated header');
  const cls = bytes[4];
  const data = bytes[5];
  if (cls !== 1 && cls !== 2) fail(`unknown class ${String(cls)}`);
  if (data !== 1 && data !== 2) fail(`unknown data encoding ${String(data)}`);
  const is64 = cls === 2;
  if (is64 && bytes.length < 64) fail('truncated header');
  const r = new Reader(bytes, data === 1);

  const phoff = r.word(is64, is64 ? 32 : 28);
  const shoff = r.word(is64, is64 ? 40 : 32);
  const phentsize = r.u16(is64 ? 54 : 42);
  const phnumRaw = r.u16(is64 ? 56 : 44);
  const shentsize = r.u16(is64 ? 58 : 46);
  let shnum = r.u16(is64 ? 60 : 48);
  let shstrndx = r.u16(is64 ? 62 : 50);

  const segments: ElfSegment[] = [];
  const minPh = is64 ? 56 : 32;
  if (phoff !== 0 && phnumRaw > 0) {
    if (phentsize < minPh) fail(`program header entry size ${phentsize} is too small`);
    for (let i = 0; i < phnumRaw; i++) {
      const o = phoff + i * phentsize;
      segments.push(
        is64
          ? { type: r.u32(o), flags: r.u32(o + 4), offset: r.u64(o + 8), vaddr: r.u64(o + 16), filesz: r.u64(o + 32), memsz: r.u64(o + 40) }
          : { type: r.u32(o), offset: r.u32(o + 4), vaddr: r.u32(o + 8), filesz: r.u32(o + 16), memsz: r.u32(o + 20), flags: r.u32(o + 24) },
      );
    }
  }

  const sections: ElfSection[] = [];
  const minSh = is64 ? 64 : 40;
  if (shoff !== 0) {
    if (shentsize < minSh) fail(`section header entry size ${shentsize} is too small`);
    // Extended numbering: with 0 / SHN_XINDEX in the header, the real values live in section 0.
    if (shnum === 0) shnum = is64 ? r.u64(shoff + 32) : r.u32(shoff + 20);
    if (shstrndx === 0xffff) shstrndx = r.u32(shoff + (is64 ? 40 : 24));
    if (shnum > MAX_TABLE_ENTRIES) fail(`${shnum} sections is implausible`);
    const raw: (Omit<ElfSection, 'name'> & { nameOffset: number })[] = [];
    for (let i = 0; i < shnum; i++) {
      const o = shoff + i * shentsize;
      raw.push(
        is64
          ? { nameOffset: r.u32(o), type: r.u32(o + 4), flags: r.u64(o + 8), addr: r.u64(o + 16), offset: r.u64(o + 24), size: r.u64(o + 32) }
          : { nameOffset: r.u32(o), type: r.u32(o + 4), flags: r.u32(o + 8), addr: r.u32(o + 12), offset: r.u32(o + 16), size: r.u32(o + 20) },
      );
    }
    const strtab = raw[shstrndx];
    const names = strtab !== undefined && strtab.type !== SHT_NOBITS ? slice(bytes, strtab.offset, strtab.size) : undefined;
    for (const s of raw) {
      const { nameOffset, ...rest } = s;
      sections.push({ name: names === undefined ? '' : cString(names, nameOffset), ...rest });
    }
  }

  return { class: is64 ? 64 : 32, littleEndian: data === 1, sections, segments, bytes };
}

/** `bytes[offset, offset+length)` or undefined when any part of it is outside the buffer. */
export function slice(bytes: Buffer, offset: number, length: number): Buffer | undefined {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) return undefined;
  if (offset + length > bytes.length) return undefined;
  return bytes.subarray(offset, offset + length);
}

function cString(bytes: Buffer, offset: number): string {
  if (offset >= bytes.length) return '';
  const end = bytes.indexOf(0, offset);
  return bytes.toString('latin1', offset, end === -1 ? bytes.length : end);
}

/** The first section called `name`, or undefined. */
export function findSection(elf: ElfFile, name: string): ElfSection | undefined {
  return elf.sections.find((s) => s.name === name);
}

/**
 * The file bytes of a section, or undefined when it has none (NOBITS) or its range lies outside the
 * file (a truncated or hostile binary).
 */
export function sectionData(elf: ElfFile, section: ElfSection): Buffer | undefined {
  if (section.type === SHT_NOBITS) return undefined;
  return slice(elf.bytes, section.offset, section.size);
}

/**
 * Reads `length` bytes at virtual address `vaddr` through the loadable segments, or returns
 * undefined when no segment holds the whole range in the file.
 */
export function readAtAddress(elf: ElfFile, vaddr: number, length: number): Buffer | undefined {
  for (const seg of elf.segments) {
    if (seg.type !== PT_LOAD) continue;
    if (vaddr < seg.vaddr || vaddr + length > seg.vaddr + seg.filesz) continue;
    return slice(elf.bytes, seg.offset + (vaddr - seg.vaddr), length);
  }
  return undefined;
}
