/**
 * Alpine (apk) package versions: `digit{.digit}...{letter}{_suffix{number}}...{~hash}{-rN}`,
 * validated and ordered as apk-tools 3.0.6 does (`apk version -c`, `apk version -t`).
 *
 * Written by hand: no npm package follows apk-tools' tokenizer (leading-zero string sort, suffix
 * order, commit hashes, what it rejects).
 */
import { InvalidVersionError, type Comparison, type VersionScheme } from '../types.js';
import { memoParse } from '../internal/memo.js';

/** Token kinds, in apk-tools' order: the order matters for both validation and comparison. */
const T_INITIAL_DIGIT = 0;
const T_DIGIT = 1;
const T_LETTER = 2;
const T_SUFFIX = 3;
const T_SUFFIX_NO = 4;
const T_COMMIT_HASH = 5;
const T_REVISION_NO = 6;
const T_END = 7;
const T_INVALID = 8;

/** Suffix ranks: pre-release suffixes below NONE (a plain release), post-release ones above. */
const SUFFIX_NONE = 5;
const SUFFIXES: ReadonlyMap<string, number> = new Map([
  ['alpha', 1],
  ['beta', 2],
  ['pre', 3],
  ['rc', 4],
  ['cvs', 6],
  ['svn', 7],
  ['git', 8],
  ['hg', 9],
  ['p', 10],
]);

/** One token: its kind, its text (digits without the dot, the letter, the suffix name, the hash), and its value. */
export interface ApkToken {
  kind: number;
  text: string;
  /** Number for digit tokens (uint64 wrap-around as in apk-tools), suffix rank for suffixes, char code for letters. */
  value: bigint | number;
}

/** A tokenized version: the tokens up to (not including) the END or INVALID token, then that kind. */
export interface ApkVersion {
  tokens: ApkToken[];
  /** T_END when the whole string is a valid version, T_INVALID where apk-tools' tokenizer gave up. */
  last: number;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** apk_blob_pull_uint: decimal digits into a uint64 that silently wraps, as the C code does. */
function digitValue(text: string): bigint | number {
  if (text.length <= 15) return Number(text);
  return BigInt.asUintN(64, BigInt(text));
}

/**
 * apk-tools' tokenizer. It never throws: like apk-tools it records where the string stops being a
 * version (an INVALID token), because `apk version -t` still compares such strings token by token.
 */
export function tokenizeApkVersion(s: string): ApkVersion {
  const tokens: ApkToken[] = [];
  const n = s.length;
  let i = 0;
  // The first token is always a number.
  let start = i;
  while (i < n && isDigit(s.charCodeAt(i))) i++;
  if (i === start) return { tokens, last: T_INVALID };
  let kind = T_INITIAL_DIGIT;
  tokens.push({ kind, text: s.slice(start, i), value: digitValue(s.slice(start, i)) });

  for (;;) {
    if (i >= n) return { tokens, last: T_END };
    const c = s.charCodeAt(i);
    if (c >= 97 && c <= 122) {
      // A single lower-case letter, only right after a number.
      if (kind > T_DIGIT) break;
      kind = T_LETTER;
      tokens.push({ kind, text: s[i] as string, value: c });
      i++;
    } else if (c === 46 || isDigit(c)) {
      // '.' + number continues the numbers; bare digits can only number a suffix.
      if (c === 46) {
        if (kind > T_DIGIT) break;
        i++;
      }
      if (kind === T_INITIAL_DIGIT || kind === T_DIGIT) kind = T_DIGIT;
      else if (kind === T_SUFFIX) kind = T_SUFFIX_NO;
      else break;
      start = i;
      while (i < n && isDigit(s.charCodeAt(i))) i++;
      if (i === start) break;
      const text = s.slice(start, i);
      tokens.push({ kind, text, value: digitValue(text) });
    } else if (c === 95) {
      // '_' + known suffix name.
      if (kind > T_SUFFIX_NO) break;
      i++;
      start = i;
      while (i < n && s.charCodeAt(i) >= 97 && s.charCodeAt(i) <= 122) i++;
      const text = s.slice(start, i);
      const rank = SUFFIXES.get(text);
      if (rank === undefined) break;
      kind = T_SUFFIX;
      tokens.push({ kind, text, value: rank });
    } else if (c === 126) {
      // '~' + lower-case hex commit hash.
      if (kind >= T_COMMIT_HASH) break;
      i++;
      start = i;
      for (let h = s.charCodeAt(i); i < n && (isDigit(h) || (h >= 97 && h <= 102)); h = s.charCodeAt(++i));
      if (i === start) break;
      kind = T_COMMIT_HASH;
      tokens.push({ kind, text: s.slice(start, i), value: 0 });
    } else if (c === 45) {
      // "-r" + revision number, last.
      if (kind >= T_REVISION_NO || s.charCodeAt(i + 1) !== 114) break;
      i += 2;
      start = i;
      while (i < n && isDigit(s.charCodeAt(i))) i++;
      if (i === start) break;
      kind = T_REVISION_NO;
      const text = s.slice(start, i);
      tokens.push({ kind, text, value: digitValue(text) });
    } else {
      break;
    }
  }
  return { tokens, last: T_INVALID };
}

/** apk_blob_sort: byte-wise, then shorter first. Versions that get here are ASCII. */
function blobSort(a: string, b: string): Comparison {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

function tokenCmp(a: ApkToken, b: ApkToken): Comparison {
  if (a.kind === T_COMMIT_HASH) return blobSort(a.text, b.text);
  // Between dots, a leading zero on either side switches to string comparison (Gentoo's rule).
  if (a.kind === T_DIGIT && (a.text.charCodeAt(0) === 48 || b.text.charCodeAt(0) === 48)) return blobSort(a.text, b.text);
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/**
 * apk_version_compare_fuzzy on tokenized versions. With `fuzzy`, `b` running out first means
 * equal (`3.6.1 ~ 3.6`). Works on invalid strings too, exactly as apk-tools does.
 */
export function compareApkTokens(a: ApkVersion, b: ApkVersion, fuzzy = false): Comparison {
  const ta = a.tokens;
  const tb = b.tokens;
  let i = 0;
  for (; i < ta.length && i < tb.length; i++) {
    const x = ta[i] as ApkToken;
    const y = tb[i] as ApkToken;
    if (x.kind !== y.kind) break;
    const r = tokenCmp(x, y);
    if (r !== 0) return r;
  }
  const ka = i < ta.length ? (ta[i] as ApkToken).kind : a.last;
  const kb = i < tb.length ? (tb[i] as ApkToken).kind : b.last;
  if (ka === kb) return 0;
  if (kb === T_END && fuzzy) return 0;
  // Same leading tokens: the longer version is newer unless what follows is a pre-release suffix.
  if (ka === T_SUFFIX && (ta[i] as ApkToken).value < SUFFIX_NONE) return -1;
  if (kb === T_SUFFIX && (tb[i] as ApkToken).value < SUFFIX_NONE) return 1;
  if (ka > kb) return -1;
  if (kb > ka) return 1;
  return 0;
}

const EQUAL = 1;
const LESS = 2;
const GREATER = 4;
const FUZZY = 8;

/**
 * apk-tools' `apk_version_match(a, op, b)` for an operator string made of `<`, `>`, `=`, `~`
 * (`~` = fuzzy equal, so `<~`, `>~`, `~`), optionally prefixed with `!` (negation). Like apk-tools
 * it compares invalid strings too; it throws on an unknown operator.
 */
export function apkVersionMatch(a: string, op: string, b: string): boolean {
  let negate = false;
  let text = op;
  if (text.startsWith('!')) {
    negate = true;
    text = text.slice(1);
  }
  let mask = 0;
  for (const ch of text) {
    if (ch === '<') mask |= LESS;
    else if (ch === '>') mask |= GREATER;
    else if (ch === '=') mask |= EQUAL;
    else if (ch === '~') mask |= FUZZY | EQUAL;
    else throw new Error(`apk: unknown version operator ${JSON.stringify(op)}`);
  }
  if (mask === 0) throw new Error(`apk: unknown version operator ${JSON.stringify(op)}`);
  let ok: boolean;
  if ((mask & (EQUAL | LESS | GREATER)) === (EQUAL | LESS | GREATER)) ok = true;
  else {
    const r = compareApkTokens(tokens(a), tokens(b), (mask & FUZZY) !== 0);
    ok = (mask & (r < 0 ? LESS : r > 0 ? GREATER : EQUAL)) !== 0;
  }
  return negate ? !ok : ok;
}

const tokenize = memoParse(tokenizeApkVersion);

/** Memoised tokenizer (tokenizeApkVersion never returns null; the memo's type allows it). */
function tokens(version: string): ApkVersion {
  return tokenize(version) ?? tokenizeApkVersion(version);
}

function valid(version: string): ApkVersion {
  const t = tokens(version);
  if (t.last !== T_END) throw new InvalidVersionError('apk', version);
  return t;
}

/**
 * The apk scheme. `isValid` is `apk version -c` of apk-tools 3.0.6 (no white space, lower-case
 * letters and hashes only, known suffixes, `-rN` last). No `satisfies`: Alpine's secdb lists fixed
 * versions, not ranges (see `apkVersionMatch` for apk's dependency operators).
 */
export const apkScheme: VersionScheme = {
  id: 'apk',
  isValid: (version) => tokens(version).last === T_END,
  compare: (a, b) => compareApkTokens(valid(a), valid(b)),
};
