import type { AffectedPackage, VersionRange } from '../domain/advisory.js';
import type { RuleBasis } from '../domain/finding.js';
import type { VersionScheme } from '../versioning/types.js';

/**
 * A judgement of one installed version against one affected-package statement, with the rule in
 * words (for a finding's `why`), whichever way it went.
 */
export interface AffectedVerdict {
  affected: boolean;
  /** The rule that decided, e.g. `dpkg: 2.27-3ubuntu1 is in [0, ∞) (no fix)`. */
  rule: string;
  /** Fixed versions the statement names above the installed version (empty when unfixed or not affected). */
  fixed: string[];
  /** For an affected verdict: which part of the statement made it so, as data (`rule` in words). */
  basis?: RuleBasis;
}

/** Compares with OSV's `0` sentinel ("below every version") on either side. */
function sentinelCompare(scheme: VersionScheme, a: string, b: string): number {
  if (a === '0' || b === '0') return a === b ? 0 : a === '0' ? -1 : 1;
  return scheme.compare(a, b);
}

/**
 * The range as half-open intervals for people: `[0, 1.2-3)`, `[v1.16.0-0, v1.16.6)`, `[1.0, 1.4]`
 * (last affected), `[0, ∞)` (no fix). Limits are shown as `limit v`.
 */
export function describeRange(range: VersionRange): string {
  const parts: string[] = [];
  let open: string | undefined;
  for (const e of range.events) {
    if ('introduced' in e) {
      if (open !== undefined) parts.push(`[${open}, ∞)`);
      open = e.introduced;
    } else if ('fixed' in e) {
      parts.push(`[${open ?? '0'}, ${e.fixed})`);
      open = undefined;
    } else if ('last_affected' in e) {
      parts.push(`[${open ?? '0'}, ${e.last_affected}]`);
      open = undefined;
    } else {
      parts.push(`limit ${e.limit}`);
    }
  }
  if (open !== undefined) parts.push(`[${open}, ∞)`);
  return parts.join(' ∪ ');
}

/** Event kinds of a prepared range (limits are kept apart). */
const INTRODUCED = 0;
const FIXED = 1;
const LAST_AFFECTED = 2;

/**
 * One range made ready for judging many versions: its usable events (the scheme can order them;
 * `limit: *` and unreadable versions are dropped, never guessed) sorted by version once, instead of
 * once per installed package. The sort is stable, so events at the same version keep the advisory's
 * order; limits only bound the range and are kept apart.
 */
interface PreparedRange {
  scheme: VersionScheme;
  limits: string[];
  kinds: number[];
  versions: string[];
}

/**
 * Ranges prepared for `inRange` callers, kept as long as the range object lives (`judge` keeps its
 * own per statement). The vulnerability DB caches parsed advisories, so a warm match prepares
 * nothing; ranges are read-only once built (see AffectedMatch).
 */
const preparedRanges = new WeakMap<VersionRange, PreparedRange>();

function prepareRange(scheme: VersionScheme, range: VersionRange, keep: boolean): PreparedRange {
  const known = keep ? preparedRanges.get(range) : undefined;
  if (known !== undefined && known.scheme === scheme) return known;
  const limits: string[] = [];
  const events: { kind: number; version: string }[] = [];
  for (const e of range.events) {
    let kind: number;
    let v: string;
    if ('introduced' in e) [kind, v] = [INTRODUCED, e.introduced];
    else if ('fixed' in e) [kind, v] = [FIXED, e.fixed];
    else if ('last_affected' in e) [kind, v] = [LAST_AFFECTED, e.last_affected];
    else {
      if (e.limit !== '*' && (e.limit === '0' || scheme.isValid(e.limit))) limits.push(e.limit);
      continue;
    }
    if (v === '0' || scheme.isValid(v)) events.push({ kind, version: v });
  }
  events.sort((a, b) => sentinelCompare(scheme, a.version, b.version));
  const prepared: PreparedRange = { scheme, limits, kinds: events.map((e) => e.kind), versions: events.map((e) => e.version) };
  if (keep) preparedRanges.set(range, prepared);
  return prepared;
}

/**
 * The OSV algorithm over a prepared range, for a version the scheme accepts. Returns the affected
 * verdict, or undefined when the version is outside the range (the caller words that rule, if wanted).
 */
function affectedIn(scheme: VersionScheme, version: string, prepared: PreparedRange): AffectedVerdict | undefined {
  for (const limit of prepared.limits) if (sentinelCompare(scheme, version, limit) >= 0) return undefined;
  const { kinds, versions } = prepared;
  let open: string | undefined;
  // The first closing event above the version bounds the interval the version lies in.
  let upper = -1;
  for (let i = 0; i < kinds.length; i++) {
    const v = versions[i] as string;
    const c = sentinelCompare(scheme, version, v);
    const kind = kinds[i];
    if (kind === INTRODUCED) {
      if (c >= 0) open = v;
    } else if (kind === FIXED) {
      if (c >= 0) open = undefined;
      else if (upper < 0) upper = i;
    } else {
      if (c > 0) open = undefined;
      else if (upper < 0) upper = i;
    }
  }
  if (open === undefined) return undefined;
  const shown = `${scheme.id}: ${version}`;
  if (upper >= 0 && kinds[upper] === FIXED) {
    const fixed = versions[upper] as string;
    return { affected: true, rule: `${shown} is in [${open}, ${fixed}) (fixed in ${fixed})`, fixed: [fixed], basis: { kind: 'range', introduced: open, fixed } };
  }
  if (upper >= 0) {
    const last = versions[upper] as string;
    return { affected: true, rule: `${shown} is in [${open}, ${last}] (last affected ${last}, no fixed version named)`, fixed: [], basis: { kind: 'range', introduced: open, lastAffected: last } };
  }
  return { affected: true, rule: `${shown} is in [${open}, ∞) (no fix)`, fixed: [], basis: { kind: 'range', introduced: open } };
}

/**
 * Evaluates one OSV range for `version`, following the OSV schema's algorithm: events in version
 * order, `introduced` opens, `fixed` closes (at that version), `last_affected` closes after it,
 * `limit` bounds the range from above. `0` is below every version. GIT ranges cannot be judged from a
 * version and never match. Events whose version the scheme rejects are ignored (never guessed); a
 * version the scheme rejects is never affected. On a match, `fixed` is the fixed version of the
 * interval the version lies in (empty when that interval has no fix).
 */
export function inRange(scheme: VersionScheme, version: string, range: VersionRange): AffectedVerdict {
  const shown = `${scheme.id}: ${version}`;
  if (range.type === 'GIT') return { affected: false, rule: `${shown}: git commit ranges cannot be judged from a version`, fixed: [] };
  if (!scheme.isValid(version)) return { affected: false, rule: `${shown} is not a valid ${scheme.id} version`, fixed: [] };
  return affectedIn(scheme, version, prepareRange(scheme, range, true)) ?? { affected: false, rule: `${shown} is not in ${describeRange(range)}`, fixed: [] };
}

/** Fixed events above `version` in any range, lowest first: the fixes that would apply to it. */
function fixesAbove(scheme: VersionScheme, version: string, ranges: VersionRange[]): string[] {
  const out = new Set<string>();
  for (const r of ranges) {
    if (r.type === 'GIT') continue;
    for (const e of r.events) if ('fixed' in e && scheme.isValid(e.fixed) && scheme.compare(e.fixed, version) > 0) out.add(e.fixed);
  }
  return [...out].sort((a, b) => scheme.compare(a, b));
}

// Lower-bound operators of npm and RubyGems requirement syntax (`>=1.2`, `~> 2.2.8`, `^1.0.0`, `~1.2`,
// `=1.0`, a bare version). `>` is left out: `>1.2.3` names no version that exists.
const FLOOR = /^(?:>=|~>|\^|~|=)?\s*v?(\d[0-9A-Za-z.+-]*)$/;

/**
 * The lowest version each alternative of a "patched" requirement admits, for people: `~> 2.2.23` ->
 * `2.2.23`, `~> 2.2.8, >= 2.2.8.1` -> `2.2.8.1` (RubyGems: comma = and), `>=2.3.0 <3 || >=3.1.0` ->
 * `2.3.0`, `3.1.0` (npm: `||` = or, space = and). Versions below or equal to `installed` are left out
 * (another branch's fix does not apply); an alternative with no readable lower bound is kept as
 * written. Hand-written because neither scheme exposes "minimum version of a requirement", and only
 * a display value is derived here: matching itself uses the scheme's `satisfies`.
 */
export function patchedFloors(scheme: VersionScheme, installed: string, patched: readonly string[]): string[] {
  const out: string[] = [];
  for (const requirement of patched) {
    for (const alternative of requirement.split('||')) {
      const constraints = alternative
        .trim()
        .replace(/(>=|~>|<=|[<>=^~])\s+/g, '$1')
        .split(/[\s,]+/)
        .filter((c) => c !== '');
      let floor: string | undefined;
      for (const c of constraints) {
        const m = FLOOR.exec(c);
        const v = m?.[1];
        if (v === undefined || !scheme.isValid(v)) continue;
        if (floor === undefined || scheme.compare(v, floor) > 0) floor = v;
      }
      if (floor === undefined) {
        if (alternative.trim() !== '') out.push(alternative.trim());
        continue;
      }
      if (!scheme.isValid(installed) || scheme.compare(floor, installed) > 0) out.push(floor);
    }
  }
  return [...new Set(out)];
}

function safeSatisfies(scheme: VersionScheme, version: string, range: string): boolean {
  if (scheme.satisfies === undefined) return false;
  try {
    return scheme.satisfies(version, range);
  } catch {
    // A requirement the scheme cannot read says nothing; it never makes a version (un)affected.
    return false;
  }
}

/** Shared stand-in for an absent list (never written to). */
const NONE: readonly string[] = [];

/**
 * A statement made ready to judge many versions (`prepareStatement`): its non-GIT ranges (GIT
 * ranges cannot be judged from a version), each prepared, and the fields judging reads. Read-only.
 */
export interface PreparedStatement {
  readonly scheme: VersionScheme;
  readonly affected: AffectedPackage;
  /** The statement's own fields judging reads, copied into one object of one shape (statements parsed from JSON come in many). */
  readonly notAffected: boolean;
  readonly patched: readonly string[];
  readonly unaffected: readonly string[];
  readonly native: readonly string[];
  readonly ranges: readonly VersionRange[];
  readonly prepared: readonly PreparedRange[];
}

/**
 * Statements prepared for `judge` callers, kept as long as the statement object lives. The matcher
 * keeps its own (see prepareStatement), so that statements judged once cost no weak-map entry.
 */
const preparedStatements = new WeakMap<AffectedPackage, PreparedStatement>();

/**
 * The statement prepared for judging versions of `scheme` (`judgeStatement`): ranges sorted once.
 * Not kept here: the caller keeps it as long as it is useful. The statement must not change afterwards.
 */
export function prepareStatement(scheme: VersionScheme, affected: AffectedPackage): PreparedStatement {
  const ranges = affected.ranges.filter((r) => r.type !== 'GIT');
  const statement: PreparedStatement = {
    scheme,
    affected,
    notAffected: affected.state === 'not_affected',
    patched: affected.patched ?? NONE,
    unaffected: affected.unaffected ?? NONE,
    native: affected.nativeRanges ?? NONE,
    ranges,
    prepared: ranges.map((r) => prepareRange(scheme, r, false)),
  };
  return statement;
}

/** The words a rule adds for a statement's patched versions. */
function exclusions(patched: readonly string[]): string {
  return patched.length > 0 ? `, and none of the patched ${patched.join(' | ')}` : '';
}

function firstSatisfied(scheme: VersionScheme, version: string, requirements: readonly string[]): string | undefined {
  for (const r of requirements) if (safeSatisfies(scheme, version, r)) return r;
  return undefined;
}

/**
 * Judges one affected-package statement for an installed version. In order:
 * 1. a version the scheme rejects is never affected;
 * 2. a vendor `not_affected` statement is not affected;
 * 3. exclusions (`patched`, `unaffected`) win over everything below;
 * 4. OSV version ranges (any range containing the version); the explicit `versions` list only when
 *    the statement has no version ranges (git ranges only, or none: see the comment below); then
 *    native range expressions (`nativeRanges`);
 * 5. a statement that names no versions at all (no ranges, versions or native ranges) is affected
 *    when it is `unfixed` (the vendor says every version is) or has `patched` versions (RubyGems:
 *    every version not patched).
 * Returns `affected: false` with the deciding rule otherwise.
 */
export function judge(scheme: VersionScheme, version: string, affected: AffectedPackage): AffectedVerdict {
  let statement = preparedStatements.get(affected);
  if (statement === undefined || statement.scheme !== scheme) {
    statement = prepareStatement(scheme, affected);
    preparedStatements.set(affected, statement);
  }
  return judgeStatement(statement, version, true);
}

/**
 * `judge` over a prepared statement. With `explain` false, for matching that keeps only affected
 * verdicts: the same decision, but undefined instead of a not-affected verdict, whose rule is then
 * never worded (most statements a large inventory meets do not affect it).
 */
export function judgeStatement(statement: PreparedStatement, version: string, explain: true): AffectedVerdict;
export function judgeStatement(statement: PreparedStatement, version: string, explain: boolean): AffectedVerdict | undefined;
export function judgeStatement(statement: PreparedStatement, version: string, explain: boolean): AffectedVerdict | undefined {
  const { scheme, affected, notAffected, patched, unaffected, native, ranges, prepared } = statement;
  if (!scheme.isValid(version)) return explain ? { affected: false, rule: `${scheme.id}: ${version} is not a valid ${scheme.id} version`, fixed: [] } : undefined;
  if (notAffected) {
    return explain ? { affected: false, rule: `vendor states not affected${affected.vendorStatus ? ` (${affected.vendorStatus})` : ''}`, fixed: [] } : undefined;
  }
  const patchedHit = firstSatisfied(scheme, version, patched);
  if (patchedHit !== undefined) return explain ? { affected: false, rule: `${scheme.id}: ${version} satisfies patched ${patchedHit}`, fixed: [] } : undefined;
  const unaffectedHit = firstSatisfied(scheme, version, unaffected);
  if (unaffectedHit !== undefined) return explain ? { affected: false, rule: `${scheme.id}: ${version} satisfies unaffected ${unaffectedHit}`, fixed: [] } : undefined;

  for (const range of prepared) {
    const verdict = affectedIn(scheme, version, range);
    if (verdict !== undefined) return verdict.fixed.length > 0 || patched.length === 0 ? verdict : { ...verdict, fixed: patchedFloors(scheme, version, patched) };
  }
  // With version ranges, nothing below can make the version affected but a native range, and a
  // listed version cannot either (the ranges decide): no need to look further when not explaining.
  if (!explain && ranges.length > 0 && native.length === 0) return undefined;

  const shown = `${scheme.id}: ${version}`;
  const listed = affected.versions.some((v) => v === version || (scheme.isValid(v) && scheme.compare(v, version) === 0));
  // OSV reads "in `versions` or in a range". But `versions` lists are enumerated by tools from git
  // history and contradict the version ranges they sit beside (PYSEC-2023-177: gevent "fixed 23.9.0"
  // yet 23.9.0 and 23.9.0.post1 listed): a statement with version ranges is judged by its ranges,
  // and `versions` decides only where the ranges are git commits or absent.
  if (listed && ranges.length > 0) {
    return explain ? { affected: false, rule: `${shown} is listed as affected but is not in ${ranges.map(describeRange).join(' or ')}; the version ranges decide`, fixed: [] } : undefined;
  }
  if (listed) {
    const fixed = fixesAbove(scheme, version, affected.ranges);
    return { affected: true, rule: `${shown} is listed as an affected version${exclusions(patched)}`, fixed: fixed.length > 0 ? fixed.slice(0, 1) : patchedFloors(scheme, version, patched), basis: { kind: 'listed-version' } };
  }
  const nativeHit = firstSatisfied(scheme, version, native);
  if (nativeHit !== undefined) {
    return { affected: true, rule: `${shown} satisfies ${nativeHit}${exclusions(patched)}`, fixed: patchedFloors(scheme, version, patched), basis: { kind: 'native-range', constraint: nativeHit } };
  }
  const namesVersions = affected.ranges.length > 0 || affected.versions.length > 0 || native.length > 0;
  if (!namesVersions && affected.state === 'unfixed') {
    return { affected: true, rule: `${shown}: every version is affected (no fix${affected.vendorStatus ? `: ${affected.vendorStatus}` : ''})`, fixed: [], basis: { kind: 'every-version' } };
  }
  if (!namesVersions && patched.length > 0 && scheme.satisfies !== undefined) {
    return { affected: true, rule: `${shown} satisfies none of the patched ${patched.join(' | ')}`, fixed: patchedFloors(scheme, version, patched), basis: { kind: 'not-patched', patched: [...patched] } };
  }
  if (!explain) return undefined;
  const where = ranges.map(describeRange);
  if (affected.versions.length > 0) where.push(`the ${affected.versions.length} listed versions`);
  if (native.length > 0) where.push(native.join(' | '));
  return { affected: false, rule: `${shown} is not in ${where.length > 0 ? where.join(' or ') : 'any affected range'}`, fixed: [] };
}
