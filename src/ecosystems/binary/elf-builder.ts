/**
 * Builds small ELF files byte by byte, for tests of the binary detectors (Go build info in the
 * pre-1.18 pointer format, cargo-auditable `.dep-v0` sections) where no toolchain can be relied on.
 * Not used by the product. The layout is what a linker writes, reduced: header, program headers,
 * section contents, section-name table, section headers.
 */

/** A section to place in the built file. With `addr`, a PT_LOAD segment maps it at that address. */
export interface ElfBuildSection {
  name: string;
  data: Buffer;
  addr?: number;
  /** Segment permission bits (PF_X=1, PF_W=2, PF_R=4) for the PT_LOAD of this section. */
  segmentFlags?: number;
  /** Section header type; PROGBITS (1) by default. */
  type?: number;
}

/** Word size and byte order of the built file. */
export interface ElfBuildOptions {
  class?: 32 | 64;
  littleEndian?: boolean;
}

/**
 * Returns an ELF executable holding `sections`, or an empty-section file when none is given.
 * Offsets are 16-aligned like a linker's, which the Go build-info reader relies on.
 */
export function buildElf(sections: readonly ElfBuildSection[], options: ElfBuildOptions = {}): Buffer {
  const is64 = (options.class ?? 64) === 64;
  const le = options.littleEndian ?? true;
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  const shentsize = is64 ? 64 : 40;
  const loaded = sections.filter((s) => s.addr !== undefined);

  const align = (n: number): number => (n + 15) & ~15;
  let offset = align(ehsize + phentsize * loaded.length);
  const placed = sections.map((s) => {
    const at = offset;
    offset = align(offset + s.data.length);
    return { ...s, offset: at };
  });
  const names = ['', ...sections.map((s) => s.name), '.shstrtab'];
  const nameOffsets: number[] = [];
  let strtab = Buffer.alloc(0);
  for (const n of names) {
    nameOffsets.push(strtab.length);
    strtab = Buffer.concat([strtab, Buffer.from(n, 'latin1'), Buffer.from([0])]);
  }
  const strtabOffset = offset;
  offset = align(offset + strtab.length);
  const shoff = offset;
  const shnum = sections.length + 2;
  const out = Buffer.alloc(shoff + shnum * shentsize);

  const u16 = (v: number, o: number): void => void (le ? out.writeUInt16LE(v, o) : out.writeUInt16BE(v, o));
  const u32 = (v: number, o: number): void => void (le ? out.writeUInt32LE(v, o) : out.writeUInt32BE(v, o));
  const u64 = (v: number, o: number): void => void (le ? out.writeBigUInt64LE(BigInt(v), o) : out.writeBigUInt64BE(BigInt(v), o));
  const word = (v: number, o: number): void => (is64 ? u64(v, o) : u32(v, o));

  out.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, le ? 1 : 2, 1], 0);
  u16(2, 16); // ET_EXEC
  u16(is64 ? 62 : 3, 18); // x86-64 / i386
  u32(1, 20);
  word(loaded.length > 0 ? ehsize : 0, is64 ? 32 : 28);
  word(shoff, is64 ? 40 : 32);
  u16(ehsize, is64 ? 52 : 40);
  u16(phentsize, is64 ? 54 : 42);
  u16(loaded.length, is64 ? 56 : 44);
  u16(shentsize, is64 ? 58 : 46);
  u16(shnum, is64 ? 60 : 48);
  u16(shnum - 1, is64 ? 62 : 50);

  let ph = ehsize;
  for (const s of placed) {
    out.set(s.data, s.offset);
    if (s.addr === undefined) continue;
    const flags = s.segmentFlags ?? 4;
    u32(1, ph); // PT_LOAD
    if (is64) {
      u32(flags, ph + 4);
      u64(s.offset, ph + 8);
      u64(s.addr, ph + 16);
      u64(s.addr, ph + 24);
      u64(s.data.length, ph + 32);
      u64(s.data.length, ph + 40);
      u64(16, ph + 48);
    } else {
      u32(s.offset, ph + 4);
      u32(s.addr, ph + 8);
      u32(s.addr, ph + 12);
      u32(s.data.length, ph + 16);
      u32(s.data.length, ph + 20);
      u32(flags, ph + 24);
      u32(16, ph + 28);
    }
    ph += phentsize;
  }
  out.set(strtab, strtabOffset);

  const header = (index: number, nameOffset: number, type: number, addr: number, off: number, size: number): void => {
    const o = shoff + index * shentsize;
    u32(nameOffset, o);
    u32(type, o + 4);
    if (is64) {
      u64(addr, o + 16);
      u64(off, o + 24);
      u64(size, o + 32);
      u64(1, o + 48);
    } else {
      u32(addr, o + 12);
      u32(off, o + 16);
      u32(size, o + 20);
      u32(1, o + 32);
    }
  };
  placed.forEach((s, i) => header(i + 1, nameOffsets[i + 1] ?? 0, s.type ?? 1, s.addr ?? 0, s.offset, s.data.length));
  header(shnum - 1, nameOffsets[names.length - 1] ?? 0, 3, 0, strtabOffset, strtab.length);
  return out;
}
