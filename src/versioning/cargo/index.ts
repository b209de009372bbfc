/**
 * Rust crate versions: strict SemVer 2.0 (`1.2.3-alpha.1+build`, no `v`, no white space, numbers
 * up to 2^64-1), ordered by SemVer precedence, and Cargo requirements (`1.2`, `^1.2.3`, `~1.2`,
 * `1.*`, `>=1.2, <1.5`) matched as Cargo's `semver` crate (`VersionReq::matches`) does.
 *
 * Written by hand: npm's `semver` package accepts what Cargo rejects (a `v` prefix, white space)
 * and reads ranges differently (a bare `1.2` is `=1.2` for npm but `^1.2` for Cargo; npm separates
 * comparators with spaces, Cargo with commas). Version ordering is cross-checked against npm's
 * package in the tests.
 */
import { InvalidRangeError, InvalidVersionError, type Comparison, type VersionScheme } from '../types.js';
import { compareDigits, memoParse } from '../internal/memo.js';
import { comparePrerelease } from '../internal/semver-prerelease.js';

/** A parsed version; numbers are digit strings without leading zeros. Build metadata is dropped (it never orders). */
export interface CargoVersion {
  major: string;
  minor: string;
  patch: string;
  pre: string[];
}

const U64_MAX = '18446744073709551615';

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Reads a u64 at `i` (no leading zero, no overflow). Returns [end, digits] or null. */
function readNumber(s: string, i: number): [number, string] | null {
  let j = i;
  while (j < s.length && isDigit(s.charCodeAt(j))) j++;
  if (j === i) return null;
  const digits = s.slice(i, j);
  if (digits.length > 1 && digits.charCodeAt(0) === 48) return null;
  if (compareDigits(digits, U64_MAX) > 0) return null;
  return [j, digits];
}

/**
 * Reads dot-separated identifiers [0-9A-Za-z-]+ starting at `i` (after '-' or '+'); numeric
 * pre-release identifiers must not have leading zeros. Returns [end, identifiers] or null.
 */
function readIdents(s: string, i: number, pre: boolean): [number, string[]] | null {
  const ids: string[] = [];
  let j = i;
  for (;;) {
    const start = j;
    let numeric = true;
    for (let c = s.charCodeAt(j); isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45; c = s.charCodeAt(++j)) {
      if (!isDigit(c)) numeric = false;
    }
    if (j === start) return null;
    if (pre && numeric && j - start > 1 && s.charCodeAt(start) === 48) return null;
    ids.push(s.slice(start, j));
    if (s.charCodeAt(j) !== 46) return [j, ids];
    j++;
  }
}

/** Reads `-pre` and `+build` at `i`; returns [end, pre] or null. */
function readPreBuild(s: string, i: number): [number, string[]] | null {
  let pre: string[] = [];
  let j = i;
  if (s.charCodeAt(j) === 45) {
    const r = readIdents(s, j + 1, true);
    if (r === null) return null;
    [j, pre] = r;
  }
  if (s.charCodeAt(j) === 43) {
    const r = readIdents(s, j + 1, false);
    if (r === null) return null;
    j = r[0];
  }
  return [j, pre];
}

/** `semver::Version::parse`; null where it returns an error. */
export function parseCargoVersion(s: string): CargoVersion | null {
  const ma = readNumber(s, 0);
  if (ma === null || s.charCodeAt(ma[0]) !== 46) return null;
  const mi = readNumber(s, ma[0] + 1);
  if (mi === null || s.charCodeAt(mi[0]) !== 46) return null;
  const pa = readNumber(s, mi[0] + 1);
  if (pa === null) return null;
  const rest = readPreBuild(s, pa[0]);
  if (rest === null || rest[0] !== s.length) return null;
  return { major: ma[1], minor: mi[1], patch: pa[1], pre: rest[1] };
}

/** SemVer 2.0 precedence; build metadata is ignored. */
export function compareCargoVersions(a: CargoVersion, b: CargoVersion): Comparison {
  return (
    compareDigits(a.major, b.major) ||
    compareDigits(a.minor, b.minor) ||
    compareDigits(a.patch, b.patch) ||
    comparePrerelease(a.pre, b.pre)
  );
}

// ---- requirements (semver crate `VersionReq`) ----

type Op = '=' | '>' | '>=' | '<' | '<=' | '~' | '^' | '*';

interface Comparator {
  op: Op;
  major: string;
  minor: string | null;
  patch: string | null;
  pre: string[];
}

function skipSpaces(s: string, i: number): number {
  while (s.charCodeAt(i) === 32) i++;
  return i;
}

function isWildcard(c: number): boolean {
  return c === 42 || c === 120 || c === 88; // * x X
}

/** Parses one comparator at `i`; returns [end (after trailing spaces), comparator] or a reason. */
function readComparator(s: string, i: number): [number, Comparator] | string {
  let op: Op = '^';
  let explicit = true;
  const c0 = s.charCodeAt(i);
  const c1 = s.charCodeAt(i + 1);
  if (c0 === 61) [op, i] = ['=', i + 1];
  else if (c0 === 62) [op, i] = c1 === 61 ? ['>=', i + 2] : ['>', i + 1];
  else if (c0 === 60) [op, i] = c1 === 61 ? ['<=', i + 2] : ['<', i + 1];
  else if (c0 === 126) [op, i] = ['~', i + 1];
  else if (c0 === 94) [op, i] = ['^', i + 1];
  else explicit = false;
  i = skipSpaces(s, i);
  const majorRead = readNumber(s, i);
  if (majorRead === null) return 'expected a major version number';
  const [afterMajor, major] = majorRead;
  i = afterMajor;
  let minor: string | null = null;
  let patch: string | null = null;
  let wildcard = false;
  if (s.charCodeAt(i) === 46) {
    if (isWildcard(s.charCodeAt(i + 1))) {
      wildcard = true;
      if (!explicit) op = '*';
      i += 2;
    } else {
      const m = readNumber(s, i + 1);
      if (m === null) return 'bad minor version number';
      [i, minor] = m;
    }
  }
  if (s.charCodeAt(i) === 46) {
    if (isWildcard(s.charCodeAt(i + 1))) {
      if (!explicit) op = '*';
      i += 2;
    } else if (wildcard) {
      return 'unexpected character after wildcard';
    } else {
      const p = readNumber(s, i + 1);
      if (p === null) return 'bad patch version number';
      [i, patch] = p;
    }
  }
  let pre: string[] = [];
  if (patch !== null) {
    const r = readPreBuild(s, i);
    if (r === null) return 'bad pre-release or build metadata';
    [i, pre] = r;
  }
  return [skipSpaces(s, i), { op, major, minor, patch, pre }];
}

const MAX_COMPARATORS = 32;

/** `VersionReq::parse`: comma-separated comparators; a lone `*` (or `x`, `X`) matches every release. */
function parseRequirement(range: string): Comparator[] | string {
  let i = skipSpaces(range, 0);
  if (isWildcard(range.charCodeAt(i))) {
    const rest = skipSpaces(range, i + 1);
    if (rest === range.length) return [];
    return range.charCodeAt(rest) === 44 ? 'a wildcard must be the only comparator' : 'unexpected character after wildcard';
  }
  const out: Comparator[] = [];
  for (;;) {
    const r = readComparator(range, i);
    if (typeof r === 'string') return r;
    out.push(r[1]);
    i = r[0];
    if (i === range.length) return out;
    if (range.charCodeAt(i) !== 44) return `expected ',' at offset ${i}`;
    if (out.length === MAX_COMPARATORS) return 'too many comparators';
    i = skipSpaces(range, i + 1);
  }
}

const parseReqMemo = memoParse(parseRequirement, 10_000);

function matchesExact(c: Comparator, v: CargoVersion): boolean {
  if (v.major !== c.major) return false;
  if (c.minor !== null && v.minor !== c.minor) return false;
  if (c.patch !== null && v.patch !== c.patch) return false;
  return comparePrerelease(v.pre, c.pre) === 0;
}

/** `ver > cmp` (when `greater`) or `ver < cmp`, with missing minor/patch meaning "not beyond". */
function matchesOrdered(c: Comparator, v: CargoVersion, greater: boolean): boolean {
  const want = greater ? 1 : -1;
  let r = compareDigits(v.major, c.major);
  if (r !== 0) return r === want;
  if (c.minor === null) return false;
  r = compareDigits(v.minor, c.minor);
  if (r !== 0) return r === want;
  if (c.patch === null) return false;
  r = compareDigits(v.patch, c.patch);
  if (r !== 0) return r === want;
  return comparePrerelease(v.pre, c.pre) === want;
}

function matchesTilde(c: Comparator, v: CargoVersion): boolean {
  if (v.major !== c.major) return false;
  if (c.minor !== null && v.minor !== c.minor) return false;
  if (c.patch !== null && v.patch !== c.patch) return compareDigits(v.patch, c.patch) > 0;
  return comparePrerelease(v.pre, c.pre) >= 0;
}

function matchesCaret(c: Comparator, v: CargoVersion): boolean {
  if (v.major !== c.major) return false;
  if (c.minor === null) return true;
  if (c.patch === null) return c.major !== '0' ? compareDigits(v.minor, c.minor) >= 0 : v.minor === c.minor;
  if (c.major !== '0') {
    if (v.minor !== c.minor) return compareDigits(v.minor, c.minor) > 0;
    if (v.patch !== c.patch) return compareDigits(v.patch, c.patch) > 0;
  } else if (c.minor !== '0') {
    if (v.minor !== c.minor) return false;
    if (v.patch !== c.patch) return compareDigits(v.patch, c.patch) > 0;
  } else if (v.minor !== c.minor || v.patch !== c.patch) {
    return false;
  }
  return comparePrerelease(v.pre, c.pre) >= 0;
}

function matchesComparator(c: Comparator, v: CargoVersion): boolean {
  switch (c.op) {
    case '=':
    case '*':
      return matchesExact(c, v);
    case '>':
      return matchesOrdered(c, v, true);
    case '>=':
      return matchesExact(c, v) || matchesOrdered(c, v, true);
    case '<':
      return matchesOrdered(c, v, false);
    case '<=':
      return matchesExact(c, v) || matchesOrdered(c, v, false);
    case '~':
      return matchesTilde(c, v);
    case '^':
      return matchesCaret(c, v);
  }
}

/** `VersionReq::matches`: every comparator, and a pre-release only via a comparator naming the same x.y.z with a pre-release. */
function matchesRequirement(req: Comparator[], v: CargoVersion): boolean {
  if (!req.every((c) => matchesComparator(c, v))) return false;
  if (v.pre.length === 0) return true;
  return req.some((c) => c.major === v.major && c.minor === v.minor && c.patch === v.patch && c.pre.length > 0);
}

const parse = memoParse(parseCargoVersion);

function parsed(version: string): CargoVersion {
  const p = parse(version);
  if (p === null) throw new InvalidVersionError('cargo', version);
  return p;
}

/**
 * The Cargo scheme. `isValid` is `semver::Version::parse`. `compare` is SemVer 2.0 precedence
 * (build metadata ignored). `satisfies` is `VersionReq::matches`, including Cargo's pre-release
 * rule: `1.3.0-alpha` satisfies `>=1.3.0-alpha` but not `>=1.2` (a requirement must name the same
 * x.y.z with a pre-release); it throws InvalidRangeError for what `VersionReq::parse` rejects
 * (including the empty string).
 */
export const cargoScheme: VersionScheme = {
  id: 'cargo',
  isValid: (version) => parse(version) !== null,
  compare: (a, b) => compareCargoVersions(parsed(a), parsed(b)),
  satisfies: (version, range) => {
    const v = parsed(version);
    const req = parseReqMemo(range);
    if (req === null || typeof req === 'string') throw new InvalidRangeError('cargo', range, req ?? undefined);
    return matchesRequirement(req, v);
  },
};
