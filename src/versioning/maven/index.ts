/**
 * Maven versions, ordered as `ComparableVersion` of maven-artifact 3.8.7 orders them, and Maven
 * version ranges (`[1.0,2.0)`, `(,1.0],[1.2,)`) as `VersionRange.createFromVersionSpec` reads them.
 *
 * Written by hand: the npm ports of ComparableVersion follow other Maven releases (3.9 changed how
 * `.` and `-` before qualifiers are treated), and 3.8.7 is the reference our tables come from.
 */
import { InvalidRangeError, InvalidVersionError, type Comparison, type VersionScheme } from '../types.js';
import { compareDigits, memoParse, sign } from '../internal/memo.js';

/**
 * One item of a parsed version. Numbers keep maven's three classes (int: up to 9 digits, long: up
 * to 18, big: more), because maven orders a longer class above a shorter one whatever the values.
 */
type Item = NumberItem | StringItem | ListItem;
interface NumberItem {
  kind: 'number';
  cls: 0 | 1 | 2;
  /** The value in ASCII digits without leading zeros. */
  digits: string;
}
interface StringItem {
  kind: 'string';
  /** The qualifier after aliasing (ga/final/release -> '', cr -> rc, a1 -> alpha ...). */
  value: string;
  /** `comparableQualifier(value)`: known qualifiers by rank, others after them by name. */
  key: string;
}
interface ListItem {
  kind: 'list';
  items: Item[];
}

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const ALIASES: Readonly<Record<string, string>> = { ga: '', final: '', release: '', cr: 'rc' };
const RELEASE_KEY = String(QUALIFIERS.indexOf(''));

function comparableQualifier(q: string): string {
  const i = QUALIFIERS.indexOf(q);
  return i === -1 ? `${QUALIFIERS.length}-${q}` : String(i);
}

function stringItem(raw: string, followedByDigit: boolean): StringItem {
  let value = raw;
  if (followedByDigit && raw.length === 1) {
    if (raw === 'a') value = 'alpha';
    else if (raw === 'b') value = 'beta';
    else if (raw === 'm') value = 'milestone';
  }
  value = ALIASES[value] ?? value;
  return { kind: 'string', value, key: comparableQualifier(value) };
}

const UNICODE_DIGIT = /^\p{Nd}$/u;

/** Java's Character.isDigit on one UTF-16 unit (Unicode Nd, BMP only since maven reads chars). */
function isJavaDigit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  if (c < 128) return c >= 48 && c <= 57;
  return UNICODE_DIGIT.test(s[i] as string);
}

/** The value of a Unicode decimal digit: Nd characters come in runs of whole 0-9 sets. */
function digitValue(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c < 128) return c - 48;
  let start = c;
  while (UNICODE_DIGIT.test(String.fromCharCode(start - 1))) start--;
  return (c - start) % 10;
}

function numberItem(buf: string): NumberItem {
  // stripLeadingZeroes strips ASCII '0' only and keeps an all-zero string whole; its length picks the class.
  let i = 0;
  while (i < buf.length && buf.charCodeAt(i) === 48) i++;
  const stripped = i === buf.length ? buf : buf.slice(i);
  const cls = stripped.length <= 9 ? 0 : stripped.length <= 18 ? 1 : 2;
  let ascii = buf;
  if (/[^0-9]/.test(buf)) {
    ascii = '';
    for (let k = 0; k < buf.length; k++) ascii += String(digitValue(buf, k));
  }
  let z = 0;
  while (z < ascii.length - 1 && ascii.charCodeAt(z) === 48) z++;
  return { kind: 'number', cls, digits: ascii.slice(z) };
}

const ZERO: NumberItem = { kind: 'number', cls: 0, digits: '0' };

function isNull(item: Item): boolean {
  if (item.kind === 'number') return item.digits === '0';
  if (item.kind === 'string') return item.key === RELEASE_KEY;
  return item.items.length === 0;
}

/** ListItem.normalize: drops trailing null items, looking through non-empty sub-lists. */
function normalize(list: ListItem): void {
  const items = list.items;
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i] as Item;
    if (isNull(item)) items.splice(i, 1);
    else if (item.kind !== 'list') break;
  }
}

/** ComparableVersion.parseVersion. Accepts every string, as maven does. */
function parseMavenVersion(version: string): ListItem {
  const v = version.toLowerCase();
  const root: ListItem = { kind: 'list', items: [] };
  let list = root;
  const lists: ListItem[] = [root];
  const push = (): void => {
    const child: ListItem = { kind: 'list', items: [] };
    list.items.push(child);
    list = child;
    lists.push(child);
  };
  const parseItem = (digit: boolean, buf: string): Item => (digit ? numberItem(buf) : stringItem(buf, false));
  let isDigit = false;
  let start = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 46 || c === 45) {
      list.items.push(i === start ? ZERO : parseItem(isDigit, v.slice(start, i)));
      start = i + 1;
      if (c === 45) push();
    } else if (isJavaDigit(v, i)) {
      if (!isDigit && i > start) {
        // "1.0.0.X1 < 1.0.0-X2": a qualifier followed by a number opens a sub-list like '-' does.
        if (list.items.length > 0) push();
        list.items.push(stringItem(v.slice(start, i), true));
        start = i;
        push();
      }
      isDigit = true;
    } else {
      if (isDigit && i > start) {
        list.items.push(parseItem(true, v.slice(start, i)));
        start = i;
        push();
      }
      isDigit = false;
    }
  }
  if (v.length > start) {
    if (!isDigit && list.items.length > 0) push();
    list.items.push(parseItem(isDigit, v.slice(start)));
  }
  for (let i = lists.length - 1; i >= 0; i--) normalize(lists[i] as ListItem);
  return root;
}

/** Item.compareTo(other), `other` null meaning "missing" (the shorter side of a list). */
function compareItem(a: Item, b: Item | null): Comparison {
  switch (a.kind) {
    case 'number':
      if (b === null) return a.digits === '0' ? 0 : 1;
      if (b.kind !== 'number') return 1;
      if (a.cls !== b.cls) return a.cls < b.cls ? -1 : 1;
      return compareDigits(a.digits, b.digits);
    case 'string':
      if (b === null) return compareKeys(a.key, RELEASE_KEY);
      if (b.kind === 'string') return compareKeys(a.key, b.key);
      return -1;
    case 'list': {
      if (b === null) {
        for (const item of a.items) {
          const r = compareItem(item, null);
          if (r !== 0) return r;
        }
        return 0;
      }
      if (b.kind === 'number') return -1;
      if (b.kind === 'string') return 1;
      const n = Math.max(a.items.length, b.items.length);
      for (let i = 0; i < n; i++) {
        const l = a.items[i];
        const r = b.items[i] ?? null;
        const c = l === undefined ? (r === null ? 0 : (-compareItem(r, null) as Comparison)) : compareItem(l, r);
        if (c !== 0) return c;
      }
      return 0;
    }
  }
}

/** Java String.compareTo, reduced to its sign. */
function compareKeys(a: string, b: string): Comparison {
  return a === b ? 0 : a < b ? -1 : 1;
}

const parse = memoParse((version: string): ListItem | null => (version.length === 0 ? null : parseMavenVersion(version)));

function parsed(version: string): ListItem {
  const p = parse(version);
  if (p === null) throw new InvalidVersionError('maven', version);
  return p;
}

// ---- ranges (VersionRange.createFromVersionSpec) ----

interface Restriction {
  lower: ListItem | null;
  lowerInclusive: boolean;
  upper: ListItem | null;
  upperInclusive: boolean;
}

/** Java String.trim: strips every char <= U+0020 at both ends. */
function javaTrim(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s.charCodeAt(a) <= 32) a++;
  while (b > a && s.charCodeAt(b - 1) <= 32) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

function parseRestriction(spec: string, range: string): Restriction {
  const lowerInclusive = spec.startsWith('[');
  const upperInclusive = spec.endsWith(']');
  const body = javaTrim(spec.slice(1, -1));
  const comma = body.indexOf(',');
  if (comma < 0) {
    if (!lowerInclusive || !upperInclusive) throw new InvalidRangeError('maven', range, 'single version must be surrounded by []');
    const v = parseMavenVersion(body);
    return { lower: v, lowerInclusive, upper: v, upperInclusive };
  }
  const lowerText = javaTrim(body.slice(0, comma));
  const upperText = javaTrim(body.slice(comma + 1));
  const lower = lowerText.length > 0 ? parseMavenVersion(lowerText) : null;
  const upper = upperText.length > 0 ? parseMavenVersion(upperText) : null;
  if (lower !== null && upper !== null) {
    const c = compareItem(upper, lower);
    if (c < 0 || (c === 0 && (!lowerInclusive || !upperInclusive))) {
      throw new InvalidRangeError('maven', range, 'range defies version ordering');
    }
  }
  return { lower, lowerInclusive, upper, upperInclusive };
}

/**
 * Parses a range spec into restrictions with maven 3.8.7's checks (unbounded range, overlapping
 * sets, reversed bounds). A bare version (maven's "soft requirement", which maven
 * satisfies with *any* version) is read as the exact version instead: as a vulnerability range
 * "matches everything" would be meaningless. Returns the error for invalid specs.
 */
function parseRange(range: string): Restriction[] | InvalidRangeError {
  try {
    const restrictions: Restriction[] = [];
    let process = range;
    let upperBound: ListItem | null = null;
    while (process.startsWith('[') || process.startsWith('(')) {
      const close1 = process.indexOf(')');
      const close2 = process.indexOf(']');
      let index = close2;
      if ((close2 < 0 || close1 < close2) && close1 >= 0) index = close1;
      if (index < 0) throw new InvalidRangeError('maven', range, 'unbounded range');
      const r = parseRestriction(process.slice(0, index + 1), range);
      if (upperBound !== null && (r.lower === null || compareItem(r.lower, upperBound) < 0)) {
        throw new InvalidRangeError('maven', range, 'ranges overlap');
      }
      restrictions.push(r);
      upperBound = r.upper;
      process = javaTrim(process.slice(index + 1));
      if (process.startsWith(',')) process = javaTrim(process.slice(1));
    }
    if (process.length > 0) {
      if (restrictions.length > 0) throw new InvalidRangeError('maven', range, 'only fully-qualified sets allowed in multiple set scenario');
      if (/[[\](),]/.test(process)) throw new InvalidRangeError('maven', range, 'not a version');
      const v = parseMavenVersion(process);
      restrictions.push({ lower: v, lowerInclusive: true, upper: v, upperInclusive: true });
    }
    if (restrictions.length === 0) throw new InvalidRangeError('maven', range, 'empty range');
    return restrictions;
  } catch (err) {
    if (err instanceof InvalidRangeError) return err;
    throw err;
  }
}

const parseRangeMemo = memoParse(parseRange, 10_000);

function contains(r: Restriction, v: ListItem): boolean {
  if (r.lower !== null) {
    const c = compareItem(r.lower, v);
    if (c > 0 || (c === 0 && !r.lowerInclusive)) return false;
  }
  if (r.upper !== null) {
    const c = compareItem(r.upper, v);
    if (c < 0 || (c === 0 && !r.upperInclusive)) return false;
  }
  return true;
}

/**
 * The Maven scheme. `isValid` accepts every non-empty string (ComparableVersion orders anything;
 * maven's model validation rejects only an empty version). `satisfies` takes maven range syntax,
 * unions included (`(,1.0],[1.2,)`), with a bare version meaning exactly that version, and throws
 * InvalidRangeError where maven's VersionRange would throw (or for an empty spec).
 */
export const mavenScheme: VersionScheme = {
  id: 'maven',
  isValid: (version) => version.length > 0,
  compare: (a, b) => sign(compareItem(parsed(a), parsed(b))),
  satisfies: (version, range) => {
    const v = parsed(version);
    const restrictions = parseRangeMemo(range);
    if (restrictions instanceof InvalidRangeError) throw restrictions;
    if (restrictions === null) throw new InvalidRangeError('maven', range);
    return restrictions.some((r) => contains(r, v));
  },
};
