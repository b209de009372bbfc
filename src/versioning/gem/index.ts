/**
 * RubyGems versions and requirements, as `Gem::Version` and `Gem::Requirement` of RubyGems 3.3
 * (Ruby 3.1, Debian 12) read, order and match them.
 *
 * Written by hand: no npm package implements Gem::Version's ordering (string segments make a
 * pre-release, trailing zeros of each part are insignificant) or the `~>` operator.
 */
import { InvalidRangeError, InvalidVersionError, type Comparison, type VersionScheme } from '../types.js';
import { compareDigits, memoParse, stripZeros } from '../internal/memo.js';

/** A segment: a number (digit string without leading zeros) or a letter run. */
export interface GemSegment {
  num: boolean;
  text: string;
}

/** A parsed Gem::Version. */
export interface GemVersion {
  /** The normalised version string (`-` replaced by `.pre.`), as `Gem::Version#version`. */
  version: string;
  segments: GemSegment[];
  /** `canonical_segments`: trailing zeros dropped from the numeric part and from the string part. */
  canonical: GemSegment[];
  prerelease: boolean;
}

/** Ruby's `\s`: ASCII white space only. */
const RUBY_WS = '[ \\t\\r\\n\\f\\v]';
const VERSION_PATTERN = '[0-9]+(?:\\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?';
// Gem::Version's pattern uses an atomic group for the dot segments; a plain group is equivalent
// here because what may follow a segment ('-', white space, end) can never be an alphanumeric.
const ANCHORED = new RegExp(`^${RUBY_WS}*(${VERSION_PATTERN})?${RUBY_WS}*$`);
const SEGMENT = /[0-9]+|[a-z]+/gi;
const HAS_LETTER = /[a-zA-Z]/;

function zero(s: GemSegment): boolean {
  return s.num && s.text === '0';
}

function dropTrailingZeros(segs: GemSegment[]): GemSegment[] {
  let n = segs.length;
  while (n > 0 && zero(segs[n - 1] as GemSegment)) n--;
  return segs.slice(0, n);
}

function fromString(version: string): GemVersion {
  const segments: GemSegment[] = [];
  for (const m of version.matchAll(SEGMENT)) {
    const text = m[0];
    const c = text.charCodeAt(0);
    const num = c >= 48 && c <= 57;
    segments.push({ num, text: num ? stripZeros(text) : text });
  }
  let firstString = segments.findIndex((s) => !s.num);
  if (firstString < 0) firstString = segments.length;
  const canonical = [...dropTrailingZeros(segments.slice(0, firstString)), ...dropTrailingZeros(segments.slice(firstString))];
  return { version, segments, canonical, prerelease: HAS_LETTER.test(version) };
}

/** `Gem::Version.new`: null where it raises "Malformed version number string". Blank means "0". */
export function parseGemVersion(input: string): GemVersion | null {
  const m = ANCHORED.exec(input);
  if (m === null) return null;
  const core = m[1];
  if (core === undefined) return fromString('0');
  return fromString(core.replaceAll('-', '.pre.'));
}

function compareSegment(a: GemSegment, b: GemSegment): Comparison {
  if (a.num !== b.num) return a.num ? 1 : -1;
  if (a.num) return compareDigits(a.text, b.text);
  return a.text === b.text ? 0 : a.text < b.text ? -1 : 1;
}

const ZERO: GemSegment = { num: true, text: '0' };

/** `Gem::Version#<=>` on canonical segments, the shorter side padded with 0. */
export function compareGemVersions(a: GemVersion, b: GemVersion): Comparison {
  if (a.version === b.version) return 0;
  const x = a.canonical;
  const y = b.canonical;
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const r = compareSegment(x[i] ?? ZERO, y[i] ?? ZERO);
    if (r !== 0) return r;
  }
  return 0;
}

/** Numeric segments before the last string one removed, as `release` and `bump` do. */
function numericPrefix(segs: GemSegment[]): GemSegment[] {
  const firstString = segs.findIndex((s) => !s.num);
  return firstString < 0 ? [...segs] : segs.slice(0, firstString);
}

/** `Gem::Version#release`: the version without its pre-release part. */
function release(v: GemVersion): GemVersion {
  if (!v.prerelease) return v;
  return fromString(numericPrefix(v.segments).map((s) => s.text).join('.'));
}

/** `Gem::Version#bump`: drop string segments and the last number, increment the new last one. */
function bump(v: GemVersion): GemVersion {
  const segs = numericPrefix(v.segments);
  if (segs.length > 1) segs.pop();
  const last = segs[segs.length - 1] as GemSegment;
  segs[segs.length - 1] = { num: true, text: (BigInt(last.text) + 1n).toString() };
  return fromString(segs.map((s) => s.text).join('.'));
}

type Op = '=' | '!=' | '>' | '<' | '>=' | '<=' | '~>';

interface Requirement {
  op: Op;
  version: GemVersion;
  /** For `~>`: the bumped version, computed once. */
  bumped: GemVersion | null;
}

const REQUIREMENT = new RegExp(`^${RUBY_WS}*(=|!=|>=|<=|>|<|~>)?${RUBY_WS}*(${VERSION_PATTERN})${RUBY_WS}*$`);

/**
 * Parses a requirement list such as `>= 1.2, < 2` (how ruby-advisory-db and bundler-audit write
 * several requirements in one string). Returns null where Gem::Requirement raises "Illformed
 * requirement" for any item, or for an empty list.
 */
function parseRequirements(range: string): Requirement[] | null {
  const out: Requirement[] = [];
  for (const item of range.split(',')) {
    const m = REQUIREMENT.exec(item);
    if (m === null) return null;
    const op = (m[1] ?? '=') as Op;
    const version = fromString((m[2] as string).replaceAll('-', '.pre.'));
    out.push({ op, version, bumped: op === '~>' ? bump(version) : null });
  }
  return out;
}

const parseRange = memoParse(parseRequirements, 10_000);

function satisfied(v: GemVersion, r: Requirement): boolean {
  const c = compareGemVersions(v, r.version);
  switch (r.op) {
    case '=':
      return c === 0;
    case '!=':
      return c !== 0;
    case '>':
      return c > 0;
    case '<':
      return c < 0;
    case '>=':
      return c >= 0;
    case '<=':
      return c <= 0;
    case '~>':
      return c >= 0 && compareGemVersions(release(v), r.bumped as GemVersion) < 0;
  }
}

const parse = memoParse(parseGemVersion);

function parsed(version: string): GemVersion {
  const p = parse(version);
  if (p === null) throw new InvalidVersionError('gem', version);
  return p;
}

/**
 * The RubyGems scheme. `isValid` is `Gem::Version.correct?` (a blank string is valid and means
 * `0`, as RubyGems reads it). `compare` is `Gem::Version#<=>` (`1.0.a` < `1.0` == `1.0.0`).
 * `satisfies` takes comma-separated requirements, all of which must hold (`~> 1.2.3, >= 1.2.3.1`,
 * `!= 2.0`; a bare version means `=`), and throws InvalidRangeError for an ill-formed one.
 */
export const gemScheme: VersionScheme = {
  id: 'gem',
  isValid: (version) => parse(version) !== null,
  compare: (a, b) => compareGemVersions(parsed(a), parsed(b)),
  satisfies: (version, range) => {
    const v = parsed(version);
    const reqs = parseRange(range);
    if (reqs === null) throw new InvalidRangeError('gem', range);
    return reqs.every((r) => satisfied(v, r));
  },
};
