/**
 * Go module versions, validated and ordered as golang.org/x/mod/semver (IsValid, Compare): a `v`
 * prefix is required, `v1` and `v1.2` are shorthands for `v1.0.0` and `v1.2.0`, build metadata
 * (`+incompatible`, `+meta`) is ignored, pseudo-versions are ordinary pre-releases.
 *
 * Written by hand: x/mod's rules (shorthands, mandatory `v`, no range syntax) match no npm package.
 * Unlike x/mod's Compare, which silently sorts invalid strings first, `compare` throws.
 */
import { InvalidVersionError, type Comparison, type VersionScheme } from '../types.js';
import { compareDigits, memoParse } from '../internal/memo.js';
import { comparePrerelease } from '../internal/semver-prerelease.js';

/** A parsed Go version. Numbers are digit strings without leading zeros (any length, as x/mod). */
export interface GoVersion {
  major: string;
  minor: string;
  patch: string;
  prerelease: string[];
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isIdentChar(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45;
}

/** Reads a number at `i`: at least one digit, no leading zero. Returns the end index or -1. */
function readNumber(s: string, i: number): number {
  let j = i;
  while (j < s.length && isDigit(s.charCodeAt(j))) j++;
  if (j === i || (s.charCodeAt(i) === 48 && j - i > 1)) return -1;
  return j;
}

/**
 * Reads dot-separated identifiers after the '-' or '+' at `i`: non-empty, [0-9A-Za-z-]; for
 * pre-releases numeric identifiers must not have leading zeros. Returns [end, identifiers] or null.
 */
function readIdents(s: string, i: number, pre: boolean): [number, string[]] | null {
  const ids: string[] = [];
  let j = i + 1;
  for (;;) {
    const start = j;
    let numeric = true;
    while (j < s.length && isIdentChar(s.charCodeAt(j))) {
      if (!isDigit(s.charCodeAt(j))) numeric = false;
      j++;
    }
    if (j === start) return null;
    if (pre && numeric && j - start > 1 && s.charCodeAt(start) === 48) return null;
    ids.push(s.slice(start, j));
    if (s.charCodeAt(j) !== 46) return [j, ids];
    j++;
  }
}

/** x/mod semver's parse: null where IsValid is false. */
export function parseGoVersion(v: string): GoVersion | null {
  if (v.charCodeAt(0) !== 118) return null; // 'v'
  let i = readNumber(v, 1);
  if (i < 0) return null;
  const major = v.slice(1, i);
  if (i === v.length) return { major, minor: '0', patch: '0', prerelease: [] };
  if (v.charCodeAt(i) !== 46) return null;
  const j = readNumber(v, i + 1);
  if (j < 0) return null;
  const minor = v.slice(i + 1, j);
  if (j === v.length) return { major, minor, patch: '0', prerelease: [] };
  if (v.charCodeAt(j) !== 46) return null;
  i = readNumber(v, j + 1);
  if (i < 0) return null;
  const patch = v.slice(j + 1, i);
  let prerelease: string[] = [];
  if (v.charCodeAt(i) === 45) {
    const r = readIdents(v, i, true);
    if (r === null) return null;
    [i, prerelease] = r;
  }
  if (v.charCodeAt(i) === 43) {
    const r = readIdents(v, i, false);
    if (r === null) return null;
    i = r[0];
  }
  return i === v.length ? { major, minor, patch, prerelease } : null;
}

/** x/mod semver.Compare on two parsed versions. */
export function compareGoVersions(a: GoVersion, b: GoVersion): Comparison {
  return (
    compareDigits(a.major, b.major) ||
    compareDigits(a.minor, b.minor) ||
    compareDigits(a.patch, b.patch) ||
    comparePrerelease(a.prerelease, b.prerelease)
  );
}

const parse = memoParse(parseGoVersion);

function parsed(version: string): GoVersion {
  const p = parse(version);
  if (p === null) throw new InvalidVersionError('go', version);
  return p;
}

/**
 * The Go scheme. `isValid` is x/mod's semver.IsValid (so `1.2.3` without `v` is invalid; the Go
 * toolchain's own `go1.21.5` names are not semver either). No `satisfies`: Go advisories give
 * introduced/fixed events, not ranges.
 */
export const goScheme: VersionScheme = {
  id: 'go',
  isValid: (version) => parse(version) !== null,
  compare: (a, b) => compareGoVersions(parsed(a), parsed(b)),
};
