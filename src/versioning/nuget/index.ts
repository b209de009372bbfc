/**
 * NuGet package versions and version ranges, after NuGet's documented rules
 * (https://learn.microsoft.com/en-us/nuget/concepts/package-versioning):
 * - `Major.Minor.Patch[.Revision][-Prerelease][+Metadata]`, one to four numeric parts; a missing
 *   part is 0 and leading zeros do not count ("Normalized version numbers": `1.01` is `1.1.0`,
 *   `1.0.0.0` is `1.0.0`), so `1.0` == `1.0.0.0`;
 * - pre-release labels are dot-separated identifiers compared as SemVer 2.0 does (numeric below
 *   alphanumeric, numeric by value), but case-insensitively ("Pre-release versions");
 * - build metadata after `+` is ignored ("Semantic Versioning 2.0.0");
 * - ranges ("Version ranges"): `1.0` is `>= 1.0`, `[1.0]` exactly 1.0, `(1.0,)`, `(,1.0]`,
 *   `(,1.0)`, `[1.0,2.0]`, `(1.0,2.0)`, `[1.0,2.0)`; `(1.0)` and a range whose ends are reversed are invalid.
 *
 * Written by hand: there is no maintained JavaScript port of NuGet.Versioning, and its rules are short.
 */
import { compareDigits, memoParse, stripZeros } from '../internal/memo.js';
import { comparePrerelease } from '../internal/semver-prerelease.js';
import { InvalidRangeError, InvalidVersionError, type Comparison, type VersionScheme } from '../types.js';

/** A parsed version: four numeric parts as digit strings without leading zeros; pre-release labels lower-cased. */
export interface NugetVersion {
  parts: [string, string, string, string];
  pre: string[];
}

const VERSION = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

function parseUncached(input: string): NugetVersion | null {
  const m = VERSION.exec(input.trim());
  if (m === null) return null;
  const part = (i: number): string => stripZeros(m[i] ?? '0');
  // Numeric labels compare by value: `01` and `1` are the same label.
  const pre = m[5] === undefined ? [] : m[5].split('.').map((id) => (/^\d+$/.test(id) ? stripZeros(id) : id.toLowerCase()));
  return { parts: [part(1), part(2), part(3), part(4)], pre };
}

export const parseNugetVersion = memoParse(parseUncached);

function parsed(version: string): NugetVersion {
  const v = parseNugetVersion(version);
  if (v === null) throw new InvalidVersionError('nuget', version);
  return v;
}

function compareParsed(a: NugetVersion, b: NugetVersion): Comparison {
  for (let i = 0; i < 4; i++) {
    const c = compareDigits(a.parts[i] ?? '0', b.parts[i] ?? '0');
    if (c !== 0) return c;
  }
  return comparePrerelease(a.pre, b.pre);
}

/** The bounds of a NuGet range; an absent bound is open-ended. */
interface NugetRange {
  min?: { version: NugetVersion; inclusive: boolean };
  max?: { version: NugetVersion; inclusive: boolean };
}

function parseRange(range: string): NugetRange {
  const text = range.trim();
  const invalid = (reason: string): InvalidRangeError => new InvalidRangeError('nuget', range, reason);
  const bound = (s: string): NugetVersion => {
    const v = parseNugetVersion(s.trim());
    if (v === null) throw invalid(`invalid version ${JSON.stringify(s.trim())}`);
    return v;
  };
  if (text === '') throw invalid('empty');
  const open = text[0];
  if (open !== '[' && open !== '(') return { min: { version: bound(text), inclusive: true } };
  const close = text[text.length - 1];
  if (text.length < 2 || (close !== ']' && close !== ')')) throw invalid('unbalanced brackets');
  const body = text.slice(1, -1);
  const comma = body.indexOf(',');
  if (comma === -1) {
    // `[1.0]` is exactly 1.0; `(1.0)` says nothing NuGet accepts.
    if (open !== '[' || close !== ']') throw invalid('a single version must be in [ ]');
    const v = bound(body);
    return { min: { version: v, inclusive: true }, max: { version: v, inclusive: true } };
  }
  if (body.indexOf(',', comma + 1) !== -1) throw invalid('more than two bounds');
  const lower = body.slice(0, comma).trim();
  const upper = body.slice(comma + 1).trim();
  if (lower === '' && upper === '') throw invalid('no bound');
  const out: NugetRange = {};
  if (lower !== '') out.min = { version: bound(lower), inclusive: open === '[' };
  if (upper !== '') out.max = { version: bound(upper), inclusive: close === ']' };
  if (out.min && out.max) {
    const c = compareParsed(out.min.version, out.max.version);
    if (c > 0 || (c === 0 && !(out.min.inclusive && out.max.inclusive))) throw invalid('empty range');
  }
  return out;
}

export const nugetScheme: VersionScheme = {
  id: 'nuget',
  isValid: (version) => parseNugetVersion(version) !== null,
  compare: (a, b) => compareParsed(parsed(a), parsed(b)),
  satisfies(version, range) {
    const v = parsed(version);
    const r = parseRange(range);
    if (r.min) {
      const c = compareParsed(v, r.min.version);
      if (c < 0 || (c === 0 && !r.min.inclusive)) return false;
    }
    if (r.max) {
      const c = compareParsed(v, r.max.version);
      if (c > 0 || (c === 0 && !r.max.inclusive)) return false;
    }
    return true;
  },
};
