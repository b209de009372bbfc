/**
 * Python package versions (PEP 440), parsed, ordered and matched against specifier sets exactly as
 * `packaging` 21.3 (the version pip 23 vendors) does.
 *
 * Written by hand rather than on @renovatebot/pep440: that package agrees on ordering for ordinary
 * versions, but it reads numbers as JavaScript numbers (date-like segments beyond 2^53 collide), it
 * rejects the surrounding white space packaging accepts, and its specifier matching simplifies
 * PEP 440's exclusive-comparison rules (`<1.0rc2` must accept `1.0rc1`; `>1.0.post1` must accept
 * `1.0.post2`). The tests cross-check this module against the real packaging table.
 */
import { InvalidRangeError, InvalidVersionError, type Comparison, type VersionScheme } from '../types.js';
import { compareDigits, memoParse, stripZeros } from '../internal/memo.js';

/** A parsed PEP 440 version. Numbers are decimal digit strings without leading zeros (no size limit). */
export interface Pep440Version {
  epoch: string;
  /** The release numbers as written (normalised), e.g. ['1', '0', '0']. */
  release: string[];
  /** The release numbers without trailing zeros, which is what ordering looks at (1.0.0 == 1). */
  trimmed: string[];
  /** Pre-release as [normalised letter 'a' | 'b' | 'rc', number], or null. */
  pre: [string, string] | null;
  post: string | null;
  dev: string | null;
  /** Local label parts, lower-cased; all-digit parts normalised as numbers. */
  local: string[] | null;
}

/** Python's `\s` (str.isspace characters), which packaging's regular expressions allow around a version. */
const WS = '[\\t\\n\\v\\f\\r \\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';

const PRE = '[-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?([0-9]+)?';
const POST = '-([0-9]+)|[-_.]?(post|rev|r)[-_.]?([0-9]+)?';
const DEV = '[-_.]?(dev)[-_.]?([0-9]+)?';
const LOCAL = '[a-z0-9]+(?:[-_.][a-z0-9]+)*';

/** packaging's VERSION_PATTERN (IGNORECASE), anchored with optional surrounding white space. */
const VERSION_RE = new RegExp(
  `^${WS}*v?(?:([0-9]+)!)?([0-9]+(?:\\.[0-9]+)*)(?:${PRE})?(?:${POST})?(?:${DEV})?(?:\\+(${LOCAL}))?${WS}*$`,
  'i',
);

/** Parses a version as packaging 21.3's `Version(...)`; null where it raises InvalidVersion. */
export function parsePep440Version(input: string): Pep440Version | null {
  const m = VERSION_RE.exec(input);
  if (m === null) return null;
  const [, epoch, release, preL, preN, postN1, postL, postN2, devL, devN, local] = m;
  let pre: [string, string] | null = null;
  if (preL !== undefined) {
    const l = preL.toLowerCase();
    const letter = l === 'alpha' ? 'a' : l === 'beta' ? 'b' : l === 'c' || l === 'pre' || l === 'preview' ? 'rc' : l;
    pre = [letter, stripZeros(preN ?? '0')];
  }
  let post: string | null = null;
  if (postN1 !== undefined) post = stripZeros(postN1);
  else if (postL !== undefined) post = stripZeros(postN2 ?? '0');
  const dev = devL !== undefined ? stripZeros(devN ?? '0') : null;
  const releaseNumbers = (release as string).split('.').map(stripZeros);
  return {
    epoch: stripZeros(epoch ?? '0'),
    release: releaseNumbers,
    trimmed: trimmedRelease(releaseNumbers),
    pre,
    post,
    dev,
    local: local === undefined ? null : local.toLowerCase().split(/[-_.]/).map((p) => (/^[0-9]+$/.test(p) ? stripZeros(p) : p)),
  };
}

const TRAILING_WS = new RegExp(`${WS}+$`);

/** Release numbers without trailing zeros (1.0.0 == 1). */
function trimmedRelease(release: string[]): string[] {
  let n = release.length;
  while (n > 0 && release[n - 1] === '0') n--;
  return n === release.length ? release : release.slice(0, n);
}

function compareRelease(x: string[], y: string[]): Comparison {
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const r = compareDigits(x[i] as string, y[i] as string);
    if (r !== 0) return r;
  }
  return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
}

/** Compares optional numbers where "absent" is -infinity or +infinity. */
function compareOptional(a: string | null, b: string | null, absent: -1 | 1): Comparison {
  if (a === null || b === null) {
    if (a === b) return 0;
    return a === null ? absent : (-absent as Comparison);
  }
  return compareDigits(a, b);
}

function isNumeric(part: string): boolean {
  const c = part.charCodeAt(0);
  return c >= 48 && c <= 57 && /^[0-9]+$/.test(part);
}

/** Local labels: numeric parts above alphanumeric ones, numbers by value, strings lexically, shorter first. */
function compareLocal(a: string[] | null, b: string[] | null): Comparison {
  if (a === null || b === null) {
    if (a === b) return 0;
    return a === null ? -1 : 1;
  }
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    const nx = isNumeric(x);
    const ny = isNumeric(y);
    if (nx !== ny) return nx ? 1 : -1;
    const r = nx ? compareDigits(x, y) : x === y ? 0 : x < y ? -1 : 1;
    if (r !== 0) return r;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Pre-release key: a bare dev release sorts before any pre-release; no pre-release sorts last. */
function preRank(v: Pep440Version): number {
  return v.pre !== null ? 0 : v.post === null && v.dev !== null ? -1 : 1;
}

/** packaging's `_cmpkey` ordering. */
export function comparePep440Versions(a: Pep440Version, b: Pep440Version): Comparison {
  let r = compareDigits(a.epoch, b.epoch) || compareRelease(a.trimmed, b.trimmed);
  if (r !== 0) return r;
  const ra = preRank(a);
  const rb = preRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (a.pre !== null && b.pre !== null) {
    if (a.pre[0] !== b.pre[0]) return a.pre[0] < b.pre[0] ? -1 : 1;
    r = compareDigits(a.pre[1], b.pre[1]);
    if (r !== 0) return r;
  }
  return compareOptional(a.post, b.post, -1) || compareOptional(a.dev, b.dev, 1) || compareLocal(a.local, b.local);
}

/** packaging's `str(Version)`: the normalised form. */
function normalize(v: Pep440Version): string {
  let s = v.epoch !== '0' ? `${v.epoch}!` : '';
  s += v.release.join('.');
  if (v.pre !== null) s += v.pre[0] + v.pre[1];
  if (v.post !== null) s += `.post${v.post}`;
  if (v.dev !== null) s += `.dev${v.dev}`;
  if (v.local !== null) s += `+${v.local.join('.')}`;
  return s;
}

const parse = memoParse(parsePep440Version);

function parsed(version: string): Pep440Version {
  const p = parse(version);
  if (p === null) throw new InvalidVersionError('pep440', version);
  return p;
}

// ---- specifiers (packaging 21.3 `Specifier` / `SpecifierSet`) ----

type Operator = '===' | '~=' | '==' | '!=' | '<=' | '>=' | '<' | '>';

/** Turns capturing groups into non-capturing ones, to reuse the version pieces in specifier patterns. */
function nonCapturing(pattern: string): string {
  return pattern.replace(/\(([^?])/g, '(?:$1');
}

/**
 * The version part each operator accepts, as packaging's Specifier regular expression spells it:
 * `==`/`!=` allow a local label or a `.*` suffix, `~=` needs two release numbers, the ordered
 * comparisons allow neither, `===` takes any text without white space (checked separately).
 */
function specPattern(release: string, tail: string): RegExp {
  const base = `v?(?:[0-9]+!)?${release}(?:${nonCapturing(PRE)})?(?:${nonCapturing(POST)})?`;
  return new RegExp(`^${base}${tail}$`, 'i');
}
const DEV_OPT = `(?:${nonCapturing(DEV)})?`;
const EQUALITY = specPattern('[0-9]+(?:\\.[0-9]+)*', `(?:${DEV_OPT}(?:\\+${LOCAL})?|\\.\\*)`);
const ORDERED = specPattern('[0-9]+(?:\\.[0-9]+)*', DEV_OPT);
const SPEC_VERSION: Record<Operator, RegExp> = {
  '===': /^/,
  '==': EQUALITY,
  '!=': EQUALITY,
  '~=': specPattern('[0-9]+(?:\\.[0-9]+)+', DEV_OPT),
  '<=': ORDERED,
  '>=': ORDERED,
  '<': ORDERED,
  '>': ORDERED,
};
const SPEC_RE = new RegExp(`^${WS}*(===|~=|==|!=|<=|>=|<|>)${WS}*(.*?)${WS}*$`, 's');
const LEADING_WS = new RegExp(`^${WS}+`);
const HAS_WS = new RegExp(WS);

interface Specifier {
  op: Operator;
  /** The version text as written (stripped), which packaging keeps and re-parses. */
  spec: string;
}

/** Reads one specifier; null where packaging 21.3 would fall back to a LegacySpecifier. */
function parseSpecifier(text: string): Specifier | null {
  const m = SPEC_RE.exec(text);
  if (m === null) return null;
  const op = m[1] as Operator;
  const spec = m[2] as string;
  // `[^\s]*` of '===' must not span white space (e.g. "===a b").
  if (!SPEC_VERSION[op].test(spec) || (op === '===' && HAS_WS.test(spec))) return null;
  return { op, spec };
}

/** Parses a specifier set: comma-separated, blank items ignored; null when any item is not PEP 440. */
function parseSpecifierSet(range: string): Specifier[] | null {
  const out: Specifier[] = [];
  for (const raw of range.split(',')) {
    const item = raw.replace(LEADING_WS, '').replace(TRAILING_WS, '');
    if (item === '') continue;
    const s = parseSpecifier(item);
    if (s === null) return null;
    out.push(s);
  }
  return out;
}

const parseRange = memoParse(parseSpecifierSet, 10_000);

function withoutLocal(v: Pep440Version): Pep440Version {
  return v.local === null ? v : { ...v, local: null };
}

function sameBase(a: Pep440Version, b: Pep440Version): boolean {
  return compareDigits(a.epoch, b.epoch) === 0 && compareRelease(a.trimmed, b.trimmed) === 0;
}

function isPrerelease(v: Pep440Version): boolean {
  return v.pre !== null || v.dev !== null;
}

/** packaging's `_version_split`: dot-split, with "1rc1"-like items split into number and suffix. */
function versionSplit(version: string): string[] {
  const out: string[] = [];
  for (const item of version.split('.')) {
    const m = PREFIX_SPLIT.exec(item);
    if (m !== null) out.push(m[1] as string, m[2] as string);
    else out.push(item);
  }
  return out;
}
const PREFIX_SPLIT = /^([0-9]+)((?:a|b|c|rc)[0-9]+)$/;

function isAsciiDigits(s: string): boolean {
  return /^[0-9]+$/.test(s);
}

/** packaging's `_pad_version`: pads the leading release numbers of both lists with "0" to equal length. */
function padVersion(left: string[], right: string[]): [string[], string[]] {
  const lr = takeWhile(left, isAsciiDigits);
  const rr = takeWhile(right, isAsciiDigits);
  const lpad = Array<string>(Math.max(0, rr - lr)).fill('0');
  const rpad = Array<string>(Math.max(0, lr - rr)).fill('0');
  return [
    [...left.slice(0, lr), ...lpad, ...left.slice(lr)],
    [...right.slice(0, rr), ...rpad, ...right.slice(rr)],
  ];
}

function takeWhile(items: string[], pred: (s: string) => boolean): number {
  let i = 0;
  while (i < items.length && pred(items[i] as string)) i++;
  return i;
}

function specVersion(spec: string): Pep440Version {
  const v = parse(spec);
  // The specifier regular expressions only admit valid versions; this guards the invariant.
  if (v === null) throw new InvalidRangeError('pep440', spec);
  return v;
}

function compareEqual(prospective: Pep440Version, spec: string): boolean {
  if (spec.endsWith('.*')) {
    // Prefix match, string-wise on the normalised prospective version, as packaging 21.3 does.
    const splitSpec = versionSplit(spec.slice(0, -2));
    const splitProspective = versionSplit(normalize(withoutLocal(prospective))).slice(0, splitSpec.length);
    const [ps, pp] = padVersion(splitSpec, splitProspective);
    return ps.length === pp.length && ps.every((x, i) => x === pp[i]);
  }
  const sv = specVersion(spec);
  const p = sv.local === null ? withoutLocal(prospective) : prospective;
  return comparePep440Versions(p, sv) === 0;
}

const IS_NOT_SUFFIX = (segment: string): boolean => !['dev', 'a', 'b', 'rc', 'post'].some((p) => segment.startsWith(p));

function specifierContains(v: Pep440Version, s: Specifier): boolean {
  switch (s.op) {
    case '===':
      return normalize(v).toLowerCase() === s.spec.toLowerCase();
    case '==':
      return compareEqual(v, s.spec);
    case '!=':
      return !compareEqual(v, s.spec);
    case '<=':
      return comparePep440Versions(withoutLocal(v), specVersion(s.spec)) <= 0;
    case '>=':
      return comparePep440Versions(withoutLocal(v), specVersion(s.spec)) >= 0;
    case '<': {
      const sv = specVersion(s.spec);
      if (comparePep440Versions(v, sv) >= 0) return false;
      // `<V` excludes pre-releases of V itself unless V is a pre-release.
      return !(!isPrerelease(sv) && isPrerelease(v) && sameBase(v, sv));
    }
    case '>': {
      const sv = specVersion(s.spec);
      if (comparePep440Versions(v, sv) <= 0) return false;
      // `>V` excludes post-releases and local versions of V itself unless V is a post-release.
      if (sv.post === null && v.post !== null && sameBase(v, sv)) return false;
      return !(v.local !== null && sameBase(v, sv));
    }
    case '~=': {
      const parts = versionSplit(s.spec);
      const kept = parts.slice(0, takeWhile(parts, IS_NOT_SUFFIX));
      const prefix = `${kept.slice(0, -1).join('.')}.*`;
      return comparePep440Versions(withoutLocal(v), specVersion(s.spec)) >= 0 && compareEqual(v, prefix);
    }
  }
}

/**
 * The PEP 440 scheme. `isValid` is packaging 21.3's `Version` (surrounding white space allowed;
 * LegacyVersion strings are invalid). `satisfies(version, '>=1.0,<2.0')` is
 * `SpecifierSet(range).contains(version, prereleases=True)`: pre-releases are tested like any other
 * version, because a scanner must not skip a vulnerable pre-release; the empty set matches all.
 * It throws InvalidRangeError for anything packaging would only read as a LegacySpecifier.
 */
export const pep440Scheme: VersionScheme = {
  id: 'pep440',
  isValid: (version) => parse(version) !== null,
  compare: (a, b) => comparePep440Versions(parsed(a), parsed(b)),
  satisfies: (version, range) => {
    const v = parsed(version);
    const specs = parseRange(range);
    if (specs === null) throw new InvalidRangeError('pep440', range);
    return specs.every((s) => specifierContains(v, s));
  },
};
