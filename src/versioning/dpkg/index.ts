/**
 * Debian package versions, `[epoch:]upstream[-revision]`, ordered as dpkg orders them.
 *
 * Written by hand: no npm package reproduces dpkg's parser (what it rejects, what it only warns
 * about) and its comparison byte for byte. The reference is `dpkg --compare-versions` of dpkg 1.21.
 */
import { InvalidVersionError, type Comparison, type VersionScheme } from '../types.js';
import { memoParse } from '../internal/memo.js';

/** A parsed dpkg version. `upstream` and `revision` are byte strings (one char per UTF-8 byte). */
export interface DpkgVersion {
  epoch: number;
  upstream: string;
  /** '' when the version has no revision (dpkg compares it as if it were '0'). */
  revision: string;
}

/**
 * A part (upstream or revision) cut into verrevcmp's alternating runs, computed once per string
 * so that comparing is a few string comparisons: `runs[2k]` is the k-th non-digit run encoded so
 * that plain string order is dpkg's character order (see `encodeRun`), `runs[2k+1]` the following
 * digit run without leading zeros ('' for none, which equals zero).
 */
type Runs = string[];

interface Prepared {
  epoch: number;
  upstream: Runs;
  revision: Runs;
}

const INT_MAX = 2147483647;

/** dpkg trims and splits on blanks only: space and tab ("\n", "\v" ... are mere bad characters). */
function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

/** C isspace, which strtol skips before the epoch digits. */
function isCSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * Parses the epoch as dpkg does with strtol: optional C white space, optional sign, decimal digits
 * that must reach the colon, not negative, at most INT_MAX. Returns null when dpkg errors out.
 */
function parseEpoch(text: string): number | null {
  let i = 0;
  while (i < text.length && isCSpace(text.charCodeAt(i))) i++;
  let negative = false;
  const s = text.charCodeAt(i);
  if (s === 43 || s === 45) {
    negative = s === 45;
    i++;
  }
  const start = i;
  while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
  if (i === start) return null; // "epoch in version is empty"
  if (i !== text.length) return null; // "epoch in version is not number"
  let j = start;
  while (j < i - 1 && text.charCodeAt(j) === 48) j++;
  const digits = text.slice(j, i);
  if (digits.length > 10) return null; // too big (or too negative)
  const value = Number(digits);
  if (negative && value !== 0) return null; // "epoch in version is negative"
  if (value > INT_MAX) return null; // "epoch in version is too big"
  return value;
}

/** Converts a string to one char per UTF-8 byte, so that comparison sees what dpkg's C code sees. */
function toBytes(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.from(s, 'utf8').toString('latin1');
  }
  return s;
}

/**
 * Parses a version the way dpkg's parseversion does in lax mode (the mode dpkg uses for its status
 * database and for --compare-versions): hard errors make it invalid (null); the syntax *warnings*
 * (upstream not starting with a digit, characters outside the policy set) are accepted, as dpkg
 * accepts and compares such versions. A NUL character is rejected since no C string can hold it.
 */
export function parseDpkgVersion(input: string): DpkgVersion | null {
  if (input.length === 0 || input.includes('\0')) return null;
  let start = 0;
  while (start < input.length && isBlank(input.charCodeAt(start))) start++;
  let end = start;
  while (end < input.length && !isBlank(input.charCodeAt(end))) end++;
  for (let i = end; i < input.length; i++) {
    if (!isBlank(input.charCodeAt(i))) return null; // "version string has embedded spaces"
  }
  let text = input.slice(start, end);
  if (text.length === 0) return null; // "version string is empty"

  let epoch = 0;
  const colon = text.indexOf(':');
  if (colon >= 0) {
    const parsed = parseEpoch(text.slice(0, colon));
    if (parsed === null) return null;
    epoch = parsed;
    text = text.slice(colon + 1);
    if (text.length === 0) return null; // "nothing after colon in version number"
  }
  let upstream = text;
  let revision = '';
  const hyphen = text.lastIndexOf('-');
  if (hyphen >= 0) {
    upstream = text.slice(0, hyphen);
    revision = text.slice(hyphen + 1);
    if (revision.length === 0) return null; // "revision number is empty"
  }
  if (upstream.length === 0) return null; // "version number is empty"
  return { epoch, upstream: toBytes(upstream), revision: toBytes(revision) };
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * dpkg's weight of a non-digit character: '~' lowest (even below the end of the string), then the
 * end, then ASCII letters, then everything else. Bytes >= 0x80 are negative `char`s in dpkg, so
 * their weight is the byte value itself: above letters, below ASCII punctuation.
 */
function order(c: number): number {
  if (Number.isNaN(c)) return 0; // end of string
  if (isDigit(c)) return 0;
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return c;
  if (c === 126) return -1;
  if (c >= 0x80) return c;
  return c + 256;
}

/** dpkg's verrevcmp: alternating non-digit runs (by `order`) and digit runs (numerically). */
export function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  const la = a.length;
  const lb = b.length;
  while (i < la || j < lb) {
    let firstDiff = 0;
    while ((i < la && !isDigit(a.charCodeAt(i))) || (j < lb && !isDigit(b.charCodeAt(j)))) {
      const ac = order(a.charCodeAt(i));
      const bc = order(b.charCodeAt(j));
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a.charCodeAt(i) === 48) i++;
    while (b.charCodeAt(j) === 48) j++;
    while (isDigit(a.charCodeAt(i)) && isDigit(b.charCodeAt(j))) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a.charCodeAt(i))) return 1;
    if (isDigit(b.charCodeAt(j))) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

/** The end of a non-digit run: weighs like a digit or the end of the string in dpkg (order 0). */
const RUN_END = String.fromCharCode(2);

/**
 * Encodes a non-digit run as chars whose code is dpkg's `order` + 2 ('~' -> 1, the end -> 2,
 * letters, high bytes, other ASCII above), ending with the end marker. Comparing two encoded runs
 * as strings is then exactly verrevcmp's character loop, where the shorter run continues with
 * weight 0.
 */
function encodeRun(s: string, from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) out += String.fromCharCode(order(s.charCodeAt(i)) + 2);
  return out + RUN_END;
}

function toRuns(s: string): Runs {
  const runs: Runs = [];
  let i = 0;
  while (i < s.length) {
    const start = i;
    while (i < s.length && !isDigit(s.charCodeAt(i))) i++;
    runs.push(encodeRun(s, start, i));
    while (i < s.length && s.charCodeAt(i) === 48) i++;
    const digits = i;
    while (i < s.length && isDigit(s.charCodeAt(i))) i++;
    runs.push(s.slice(digits, i));
  }
  return runs;
}

/** verrevcmp on prepared runs; an exhausted side continues with empty runs. */
function compareRuns(a: Runs, b: Runs): Comparison {
  const n = Math.max(a.length, b.length);
  for (let k = 0; k < n; k += 2) {
    const x = a[k] ?? RUN_END;
    const y = b[k] ?? RUN_END;
    if (x !== y) return x < y ? -1 : 1;
    const p = a[k + 1] ?? '';
    const q = b[k + 1] ?? '';
    if (p !== q) {
      if (p.length !== q.length) return p.length < q.length ? -1 : 1;
      return p < q ? -1 : 1;
    }
  }
  return 0;
}

const parse = memoParse((version: string): Prepared | null => {
  const v = parseDpkgVersion(version);
  return v === null ? null : { epoch: v.epoch, upstream: toRuns(v.upstream), revision: toRuns(v.revision) };
});

function parsed(version: string): Prepared {
  const p = parse(version);
  if (p === null) throw new InvalidVersionError('dpkg', version);
  return p;
}

/** Orders two parsed dpkg versions: epoch, then upstream, then revision (dpkg's verrevcmp on each). */
export function compareDpkgVersions(a: DpkgVersion, b: DpkgVersion): Comparison {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  const r = verrevcmp(a.upstream, b.upstream) || verrevcmp(a.revision, b.revision);
  return r < 0 ? -1 : r > 0 ? 1 : 0;
}

/** The scheme's fast path: compareDpkgVersions on runs cut once per string (the tests check they agree). */
function comparePrepared(a: Prepared, b: Prepared): Comparison {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  return compareRuns(a.upstream, b.upstream) || compareRuns(a.revision, b.revision);
}

/**
 * The dpkg scheme. `isValid` is true exactly when `dpkg --compare-versions` accepts the string
 * (possibly with a "bad syntax" warning); the empty string is invalid (dpkg's CLI reads it as "no
 * version", parseversion rejects it). No `satisfies`: Debian feeds give fixed versions, not ranges.
 */
export const dpkgScheme: VersionScheme = {
  id: 'dpkg',
  isValid: (version) => parse(version) !== null,
  compare: (a, b) => comparePrepared(parsed(a), parsed(b)),
};
