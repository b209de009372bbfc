/**
 * rpm header blobs, as the rpm database stores them (no lead, no 8-byte header magic): a big-endian
 * count of index entries `il`, the data size `dl`, `il` entries of {tag, type, offset, count}, then
 * `dl` bytes of data. Layout: rpm's docs/manual/format_header.md.
 *
 * Written by hand because no JavaScript library reads rpm headers (the npm packages that exist parse
 * .rpm files through the rpm CLI or not at all). Every offset is checked against the blob before it is
 * read, so a corrupt header fails with a typed error instead of reading out of bounds or looping.
 */
import { PortcullisError } from '../../domain/errors.js';

/** Header tags this project reads (values from rpm's rpmtag.h). */
export const RPMTAG = {
  HEADERIMMUTABLE: 63,
  SHA1HEADER: 269,
  SHA256HEADER: 273,
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  SUMMARY: 1004,
  LICENSE: 1014,
  ARCH: 1022,
  OLDFILENAMES: 1027,
  SOURCERPM: 1044,
  DIRINDEXES: 1116,
  BASENAMES: 1117,
  DIRNAMES: 1118,
  MODULARITYLABEL: 5096,
} as const;

/** rpm data types (rpmtag.h `rpmTagType`). */
export const RPM_TYPE = {
  NULL: 0,
  CHAR: 1,
  INT8: 2,
  INT16: 3,
  INT32: 4,
  INT64: 5,
  STRING: 6,
  BIN: 7,
  STRING_ARRAY: 8,
  I18NSTRING: 9,
} as const;

/** rpm's own sanity limits (header.cc): at most 0xffff tags and 256 MiB of data. */
const MAX_TAGS = 0xffff;
const MAX_DATA = 0x0fffffff;
const ENTRY_SIZE = 16;

export interface RpmIndexEntry {
  tag: number;
  type: number;
  offset: number;
  count: number;
}

/** A header whose index has been read and bounds-checked; values are decoded on demand. */
export interface RpmHeader {
  /** Index entries in blob order. */
  entries: RpmIndexEntry[];
  /** The data section. */
  data: Uint8Array;
  /** The whole blob as given. */
  blob: Uint8Array;
}

function fail(message: string): never {
  throw new PortcullisError('E_INPUT', `rpm: ${message}`);
}

function u32(b: Uint8Array, off: number): number {
  return (((b[off] ?? 0) << 24) | ((b[off + 1] ?? 0) << 16) | ((b[off + 2] ?? 0) << 8) | (b[off + 3] ?? 0)) >>> 0;
}

/**
 * Reads the index of a header blob. Throws a PortcullisError (E_INPUT, message prefixed `rpm:`) when
 * the blob is shorter than its own declared sizes, declares absurd sizes, or has an entry with an
 * unknown type or an offset outside the data section. Trailing bytes after the data are ignored.
 */
export function parseRpmHeader(blob: Uint8Array): RpmHeader {
  if (blob.length < 8) fail(`header blob of ${blob.length} bytes is too short`);
  const il = u32(blob, 0);
  const dl = u32(blob, 4);
  if (il < 1 || il > MAX_TAGS) fail(`header declares ${il} tags`);
  if (dl > MAX_DATA) fail(`header declares ${dl} data bytes`);
  const dataStart = 8 + il * ENTRY_SIZE;
  if (dataStart + dl > blob.length) fail(`header needs ${dataStart + dl} bytes but the blob has ${blob.length}`);

  const entries: RpmIndexEntry[] = [];
  for (let i = 0; i < il; i++) {
    const at = 8 + i * ENTRY_SIZE;
    const entry = { tag: u32(blob, at), type: u32(blob, at + 4), offset: u32(blob, at + 8) | 0, count: u32(blob, at + 12) };
    if (entry.type > RPM_TYPE.I18NSTRING) fail(`tag ${entry.tag} has unknown type ${entry.type}`);
    if (entry.offset < 0 || entry.offset > dl) fail(`tag ${entry.tag} points outside the data (offset ${entry.offset}, ${dl} bytes)`);
    entries.push(entry);
  }
  return { entries, data: blob.subarray(dataStart, dataStart + dl), blob };
}

function findEntry(header: RpmHeader, tag: number): RpmIndexEntry | undefined {
  // Entries appended after the immutable region ("dribbles") override region entries of the same tag,
  // and rpm keeps them after the region in the index, so the last one wins.
  for (let i = header.entries.length - 1; i >= 0; i--) {
    const e = header.entries[i];
    if (e?.tag === tag) return e;
  }
  return undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Reads `count` NUL-terminated strings from `offset`; throws when one runs past the data. */
function readStrings(header: RpmHeader, entry: RpmIndexEntry, count: number): string[] {
  const { data } = header;
  const out: string[] = [];
  let pos = entry.offset;
  for (let i = 0; i < count; i++) {
    const end = data.indexOf(0, pos);
    if (end < 0) fail(`string of tag ${entry.tag} is not terminated inside the data`);
    out.push(utf8.decode(data.subarray(pos, end)));
    pos = end + 1;
  }
  return out;
}

/**
 * The string value of `tag` (STRING, the first I18NSTRING translation, or the first STRING_ARRAY
 * element), or undefined when the header has no such tag. Throws on a tag of a non-string type or
 * a string running out of the data.
 */
export function headerString(header: RpmHeader, tag: number): string | undefined {
  const entry = findEntry(header, tag);
  if (entry === undefined) return undefined;
  if (entry.type !== RPM_TYPE.STRING && entry.type !== RPM_TYPE.I18NSTRING && entry.type !== RPM_TYPE.STRING_ARRAY) {
    fail(`tag ${tag} has type ${entry.type}, not a string`);
  }
  if (entry.count < 1) fail(`tag ${tag} has no value`);
  return readStrings(header, entry, 1)[0];
}

/**
 * Every string of a STRING_ARRAY `tag` (a file list, ...), or undefined when absent. Throws on another
 * type or a string running out of the data.
 */
export function headerStringArray(header: RpmHeader, tag: number): string[] | undefined {
  const entry = findEntry(header, tag);
  if (entry === undefined) return undefined;
  if (entry.type !== RPM_TYPE.STRING_ARRAY) fail(`tag ${tag} has type ${entry.type}, not STRING_ARRAY`);
  // Each string takes at least its NUL: a count the data cannot hold is damage, not a long loop.
  if (entry.count > header.data.length - entry.offset) fail(`tag ${tag} declares ${entry.count} strings, more than the data holds`);
  return readStrings(header, entry, entry.count);
}

/** Every value of an INT32 `tag`, or undefined when absent. Throws on another type or values running past the data. */
export function headerInt32Array(header: RpmHeader, tag: number): number[] | undefined {
  const entry = findEntry(header, tag);
  if (entry === undefined) return undefined;
  if (entry.type !== RPM_TYPE.INT32) fail(`tag ${tag} has type ${entry.type}, not INT32`);
  if (entry.offset + 4 * entry.count > header.data.length) fail(`tag ${tag} runs past the data`);
  const out: number[] = [];
  for (let i = 0; i < entry.count; i++) out.push(u32(header.data, entry.offset + 4 * i));
  return out;
}

/** The first INT32 value of `tag`, or undefined when absent. Throws on another type or an out-of-bounds value. */
export function headerInt32(header: RpmHeader, tag: number): number | undefined {
  const entry = findEntry(header, tag);
  if (entry === undefined) return undefined;
  if (entry.type !== RPM_TYPE.INT32) fail(`tag ${tag} has type ${entry.type}, not INT32`);
  if (entry.count < 1 || entry.offset + 4 > header.data.length) fail(`tag ${tag} runs past the data`);
  return u32(header.data, entry.offset);
}

/**
 * The immutable region of a header: how many index entries (`ril`) and data bytes (`rdl`) it
 * covers, read from the region trailer as rpm does (header.cc hdrblobVerifyRegion). Undefined when
 * the first entry is not a region tag or the trailer is inconsistent. This is the part of the header
 * that SHA1HEADER/SHA256HEADER digest.
 */
export function headerRegion(header: RpmHeader): { tag: number; ril: number; rdl: number } | undefined {
  const first = header.entries[0];
  if (first === undefined || first.tag < 61 || first.tag > 63) return undefined;
  if (first.type !== RPM_TYPE.BIN || first.count !== ENTRY_SIZE) return undefined;
  if (first.offset + ENTRY_SIZE > header.data.length) return undefined;
  const t = header.data.subarray(first.offset, first.offset + ENTRY_SIZE);
  const trailerTag = u32(t, 0);
  const trailerType = u32(t, 4);
  const negOffset = u32(t, 8) | 0;
  const trailerCount = u32(t, 12);
  if (trailerTag !== first.tag || trailerType !== RPM_TYPE.BIN || trailerCount !== ENTRY_SIZE) return undefined;
  const regionBytes = -negOffset;
  if (regionBytes <= 0 || regionBytes % ENTRY_SIZE !== 0) return undefined;
  const ril = regionBytes / ENTRY_SIZE;
  const rdl = first.offset + ENTRY_SIZE;
  if (ril > header.entries.length || rdl > header.data.length) return undefined;
  return { tag: first.tag, ril, rdl };
}
