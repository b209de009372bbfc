/**
 * RPM versions, `[epoch:]version[-release]`, ordered as librpm 4.18 orders them (rpmvercmp for each
 * part, rpmverCmp for the EVR).
 *
 * Written by hand: the npm packages that implement rpmvercmp predate the `^` (post-release)
 * separator or split the EVR differently from librpm.
 */
import { InvalidVersionError, type Comparison, type VersionScheme } from '../types.js';
import { memoParse } from '../internal/memo.js';

/** An EVR split as librpm's parseEVR splits it. */
export interface RpmVersion {
  /** Epoch as written ('0' when the string starts with ':'); null when there is none (compares as '0'). */
  epoch: string | null;
  version: string;
  /** null when the string has no '-': such a version sorts before the same version with any release. */
  release: string | null;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * Splits an EVR as librpm does: leading digits followed by ':' are the epoch, the last '-' after
 * them separates the release. Returns null for the empty string (the only string librpm rejects)
 * and for strings holding NUL (no C string can).
 */
export function parseRpmVersion(evr: string): RpmVersion | null {
  if (evr.length === 0 || evr.includes('\0')) return null;
  let s = 0;
  while (s < evr.length && isDigit(evr.charCodeAt(s))) s++;
  const hyphen = evr.lastIndexOf('-');
  let epoch: string | null = null;
  let versionStart = 0;
  if (evr.charCodeAt(s) === 58) {
    epoch = s === 0 ? '0' : evr.slice(0, s);
    versionStart = s + 1;
  }
  // librpm searches the '-' from the end of the epoch digits, so a '-' inside them cannot occur.
  if (hyphen >= s) return { epoch, version: evr.slice(versionStart, hyphen), release: evr.slice(hyphen + 1) };
  return { epoch, version: evr.slice(versionStart), release: null };
}

/**
 * librpm's rpmvercmp on two version (or release) strings: alphanumeric segments compared one by
 * one, numbers numerically and above letters, `~` before anything (even the end), `^` after the
 * end but before anything else; other characters only separate segments.
 */
export function rpmvercmp(a: string, b: string): Comparison {
  if (a === b) return 0;
  let one = 0;
  let two = 0;
  const la = a.length;
  const lb = b.length;
  while (one < la || two < lb) {
    let c1 = a.charCodeAt(one);
    let c2 = b.charCodeAt(two);
    while (one < la && !isDigit(c1) && !isAlpha(c1) && c1 !== 126 && c1 !== 94) c1 = a.charCodeAt(++one);
    while (two < lb && !isDigit(c2) && !isAlpha(c2) && c2 !== 126 && c2 !== 94) c2 = b.charCodeAt(++two);

    if (c1 === 126 || c2 === 126) {
      if (c1 !== 126) return 1;
      if (c2 !== 126) return -1;
      one++;
      two++;
      continue;
    }
    if (c1 === 94 || c2 === 94) {
      if (one >= la) return -1;
      if (two >= lb) return 1;
      if (c1 !== 94) return 1;
      if (c2 !== 94) return -1;
      one++;
      two++;
      continue;
    }
    if (one >= la || two >= lb) break;

    let e1 = one;
    let e2 = two;
    const isNum = isDigit(c1);
    if (isNum) {
      while (e1 < la && isDigit(a.charCodeAt(e1))) e1++;
      while (e2 < lb && isDigit(b.charCodeAt(e2))) e2++;
    } else {
      while (e1 < la && isAlpha(a.charCodeAt(e1))) e1++;
      while (e2 < lb && isAlpha(b.charCodeAt(e2))) e2++;
    }
    // A numeric segment against an alphabetic one: numbers are newer.
    if (e2 === two) return isNum ? 1 : -1;

    let s1 = one;
    let s2 = two;
    if (isNum) {
      while (s1 < e1 && a.charCodeAt(s1) === 48) s1++;
      while (s2 < e2 && b.charCodeAt(s2) === 48) s2++;
      if (e1 - s1 !== e2 - s2) return e1 - s1 > e2 - s2 ? 1 : -1;
    }
    const seg1 = a.slice(s1, e1);
    const seg2 = b.slice(s2, e2);
    if (seg1 !== seg2) return seg1 < seg2 ? -1 : 1;
    one = e1;
    two = e2;
  }
  if (one >= la && two >= lb) return 0;
  return one >= la ? -1 : 1;
}

/** librpm 4.18 rpmverCmp: epoch (absent = '0'), version, then release (absent < present). */
export function compareRpmVersions(a: RpmVersion, b: RpmVersion): Comparison {
  const e = rpmvercmp(a.epoch ?? '0', b.epoch ?? '0');
  if (e !== 0) return e;
  const v = rpmvercmp(a.version, b.version);
  if (v !== 0) return v;
  if (a.release === null || b.release === null) {
    if (a.release === b.release) return 0;
    return a.release === null ? -1 : 1;
  }
  return rpmvercmp(a.release, b.release);
}

/**
 * A version or release cut into rpmvercmp's segments once, so that comparing does no scanning:
 * '~', '^', a digit run without leading zeros (kept as '0' when all zeros), or a letter run;
 * separators are dropped, since they only separate.
 */
type Segments = string[];

interface Prepared {
  epoch: Segments;
  version: Segments;
  release: Segments | null;
}

function toSegments(s: string): Segments {
  const out: Segments = [];
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 126 || c === 94) {
      out.push(c === 126 ? '~' : '^');
      i++;
    } else if (isDigit(c)) {
      const start = i;
      while (i < s.length && isDigit(s.charCodeAt(i))) i++;
      let z = start;
      while (z < i - 1 && s.charCodeAt(z) === 48) z++;
      out.push(s.slice(z, i));
    } else if (isAlpha(c)) {
      const start = i;
      while (i < s.length && isAlpha(s.charCodeAt(i))) i++;
      out.push(s.slice(start, i));
    } else {
      i++;
    }
  }
  return out;
}

/** rpmvercmp on prepared segments (same loop, with the scanning done beforehand). */
function compareSegments(a: Segments, b: Segments): Comparison {
  let i = 0;
  let j = 0;
  for (;;) {
    const x = a[i];
    const y = b[j];
    if (x === undefined && y === undefined) return 0;
    if (x === '~' || y === '~') {
      if (x !== '~') return 1;
      if (y !== '~') return -1;
    } else if (x === '^' || y === '^') {
      if (x === undefined) return -1;
      if (y === undefined) return 1;
      if (x !== '^') return 1;
      if (y !== '^') return -1;
    } else {
      if (x === undefined) return -1;
      if (y === undefined) return 1;
      const xNum = isDigit(x.charCodeAt(0));
      const yNum = isDigit(y.charCodeAt(0));
      // A numeric segment against an alphabetic one: numbers are newer.
      if (xNum !== yNum) return xNum ? 1 : -1;
      if (x !== y) {
        if (xNum && x.length !== y.length) return x.length < y.length ? -1 : 1;
        return x < y ? -1 : 1;
      }
    }
    i++;
    j++;
  }
}

const parse = memoParse((evr: string): Prepared | null => {
  const v = parseRpmVersion(evr);
  if (v === null) return null;
  return { epoch: toSegments(v.epoch ?? '0'), version: toSegments(v.version), release: v.release === null ? null : toSegments(v.release) };
});

function parsed(version: string): Prepared {
  const p = parse(version);
  if (p === null) throw new InvalidVersionError('rpm', version);
  return p;
}

/** The scheme's fast path: compareRpmVersions on segments cut once per string (the tests check they agree). */
function comparePrepared(a: Prepared, b: Prepared): Comparison {
  const e = compareSegments(a.epoch, b.epoch);
  if (e !== 0) return e;
  const v = compareSegments(a.version, b.version);
  if (v !== 0) return v;
  if (a.release === null || b.release === null) {
    if (a.release === b.release) return 0;
    return a.release === null ? -1 : 1;
  }
  return compareSegments(a.release, b.release);
}

/**
 * The rpm scheme over `[epoch:]version[-release]` strings, as python3-rpm's `rpm.ver` compares
 * them. `isValid` is false only for the empty string: librpm accepts any other string. No
 * `satisfies`: RPM feeds give fixed EVRs, not ranges.
 */
export const rpmScheme: VersionScheme = {
  id: 'rpm',
  isValid: (version) => parse(version) !== null,
  compare: (a, b) => comparePrepared(parsed(a), parsed(b)),
};
