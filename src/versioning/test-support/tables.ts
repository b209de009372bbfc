/**
 * Readers for the version-comparison oracle tables, shared by the scheme tests (not built).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedData } from '../../../test/support/shared-data.js';
import { InvalidVersionError, type Comparison, type VersionScheme } from '../types.js';

/** One oracle answer: `a` compared with `b` is `expected`. */
export interface TablePair {
  a: string;
  b: string;
  expected: Comparison;
  /** Where it came from, for failure messages ("dpkg.tsv:12"). */
  where: string;
}

/** The pairs of `shared/data/versions/<file>` (`a<TAB>b<TAB>cmp`, no header). Throws on a malformed line. */
export function readVersionTable(file: string): TablePair[] {
  const text = readFileSync(sharedData('versions', file), 'utf8');
  const out: TablePair[] = [];
  text.split('\n').forEach((line, i) => {
    if (line === '') return;
    const [a, b, cmp, ...rest] = line.split('\t');
    if (a === undefined || b === undefined || (cmp !== '-1' && cmp !== '0' && cmp !== '1') || rest.length > 0) {
      throw new Error(`${file}:${i + 1}: malformed table line ${JSON.stringify(line)}`);
    }
    out.push({ a, b, expected: Number(cmp) as Comparison, where: `${file}:${i + 1}` });
  });
  return out;
}

/**
 * The pairs of an upstream `a OP b` list in `shared/data/versions/upstream/` (claircore style: `#`
 * comments, blank lines, OP one of `<`, `>`, `==`).
 */
export function readUpstreamOpTable(file: string): TablePair[] {
  const text = readFileSync(sharedData('versions', 'upstream', file), 'utf8');
  const out: TablePair[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const [a, op, b, ...rest] = line.trim().split(/\s+/);
    const expected = op === '<' ? -1 : op === '>' ? 1 : op === '==' ? 0 : undefined;
    if (a === undefined || b === undefined || expected === undefined || rest.length > 0) {
      throw new Error(`${file}:${i + 1}: malformed line ${JSON.stringify(line)}`);
    }
    out.push({ a, b, expected, where: `${file}:${i + 1}` });
  });
  return out;
}

/** Compares every pair; returns how many agree and a description of each disagreement. */
export function agreement(scheme: VersionScheme, pairs: readonly TablePair[]): { agree: number; disagreements: string[] } {
  let agree = 0;
  const disagreements: string[] = [];
  for (const p of pairs) {
    let got: string;
    try {
      got = String(scheme.compare(p.a, p.b));
    } catch (err) {
      got = err instanceof InvalidVersionError ? 'invalid' : `error ${String(err)}`;
    }
    if (got === String(p.expected)) agree++;
    else disagreements.push(`${p.where}: ${JSON.stringify(p.a)} vs ${JSON.stringify(p.b)}: tool ${p.expected}, ours ${got}`);
  }
  return { agree, disagreements };
}

/** A readable failure message listing the first disagreements. */
export function disagreementReport(d: { agree: number; disagreements: string[] }, total: number): string {
  return `${d.agree}/${total} agree; disagreements:\n${d.disagreements.slice(0, 40).join('\n')}`;
}

/** The distinct version strings of some pairs, in first-seen order. */
export function tableStrings(pairs: readonly TablePair[]): string[] {
  const seen = new Set<string>();
  for (const p of pairs) {
    seen.add(p.a);
    seen.add(p.b);
  }
  return [...seen];
}

/** A deterministic pseudo-random generator (tests must be repeatable). */
export function seededRandom(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.floor((s / 2 ** 32) * n);
  };
}

/** Up to `n` items picked deterministically (without replacement). */
export function sample<T>(items: readonly T[], n: number, seed = 1): T[] {
  const rnd = seededRandom(seed);
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = rnd(i + 1);
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, n);
}

/** Rows of a tab-separated oracle table in src/versioning/testdata/. */
export function readOracleRows(file: string): string[][] {
  const path = join(dirname(fileURLToPath(import.meta.url)), '..', 'testdata', file);
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\t'));
}
