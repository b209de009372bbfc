import type { AffectedPackage, RangeEvent, VersionRange } from '../domain/advisory.js';
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
}

function eventVersion(e: RangeEvent): string {
  if ('introduced' in e) return e.introduced;
  if ('fixed' in e) return e.fixed;
  if ('last_affected' in e) return e.last_affected;
  return e.limit;
}

/** Compares with OSV's `0` sentinel ("below every version") on either side. */
function sentinelCompare(scheme: VersionScheme, a: string, b: string): number {
  if (a === '0' || b === '0') return a === b ? 0 : a === '0' ? -1 : 1;
  return scheme.compare(a, b);
}

/** Events the scheme can order; `limit: *` (no limit) and unreadable versions are dropped (never guessed). */
function usableEvents(scheme: VersionScheme, range: VersionRange): RangeEvent[] {
  return range.events.filter((e) => {
    const v = eventVersion(e);
    if ('limit' in e && v === '*') return false;
    return v === '0' || scheme.isValid(v);
  });
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
  const cmp = (a: string, b: string): number => sentinelCompare(scheme, a, b);
  const events = usableEvents(scheme, range);
  const outside = { affected: false, rule: `${shown} is not in ${describeRange(range)}`, fixed: [] };
  for (const e of events) {
    if ('limit' in e && cmp(version, e.limit) >= 0) return outside;
  }
  // Stable sort: events at the same version keep the advisory's order.
  const sorted = [...events].sort((a, b) => cmp(eventVersion(a), eventVersion(b)));
  let open: string | undefined;
  for (const e of sorted) {
    if ('introduced' in e) {
      if (cmp(version, e.introduced) >= 0) open = e.introduced;
    } else if ('fixed' in e) {
      if (cmp(version, e.fixed) >= 0) open = undefined;
    } else if ('last_affected' in e) {
      if (cmp(version, e.last_affected) > 0) open = undefined;
    }
  }
  if (open === undefined) return outside;
  // The first closing event above the version bounds the interval the version lies in.
  const upper = sorted.find((e) => ('fixed' in e && cmp(version, e.fixed) < 0) || ('last_affected' in e && cmp(version, e.last_affected) <= 0));
  if (upper !== undefined && 'fixed' in upper) {
    return { affected: true, rule: `${shown} is in [${open}, ${upper.fixed}) (fixed in ${upper.fixed})`, fixed: [upper.fixed] };
  }
  if (upper !== undefined && 'last_affected' in upper) {
    return { affected: true, rule: `${shown} is in [${open}, ${upper.last_affected}] (last affected ${upper.last_affected}, no fixed version named)`, fixed: [] };
  }
  return { affected: true, rule: `${shown} is in [${open}, ∞) (no fix)`, fixed: [] };
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
export function patchedFloors(scheme: VersionScheme, installed: string, patched: string[]): string[] {
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
  const shown = `${scheme.id}: ${version}`;
  if (!scheme.isValid(version)) return { affected: false, rule: `${shown} is not a valid ${scheme.id} version`, fixed: [] };
  if (affected.state === 'not_affected') {
    return { affected: false, rule: `vendor states not affected${affected.vendorStatus ? ` (${affected.vendorStatus})` : ''}`, fixed: [] };
  }
  for (const [label, list] of [
    ['patched', affected.patched],
    ['unaffected', affected.unaffected],
  ] as const) {
    const hit = (list ?? []).find((r) => safeSatisfies(scheme, version, r));
    if (hit !== undefined) return { affected: false, rule: `${shown} satisfies ${label} ${hit}`, fixed: [] };
  }
  const patched = affected.patched ?? [];
  const exclusions = patched.length > 0 ? `, and none of the patched ${patched.join(' | ')}` : '';
  const floors = (): string[] => patchedFloors(scheme, version, patched);

  const versionRanges = affected.ranges.filter((r) => r.type !== 'GIT');
  for (const range of versionRanges) {
    const verdict = inRange(scheme, version, range);
    if (verdict.affected) return verdict.fixed.length > 0 || patched.length === 0 ? verdict : { ...verdict, fixed: floors() };
  }
  const listed = affected.versions.some((v) => v === version || (scheme.isValid(v) && scheme.compare(v, version) === 0));
  // OSV reads "in `versions` or in a range". But `versions` lists are enumerated by tools from git
  // history and contradict the version ranges they sit beside (PYSEC-2023-177: gevent "fixed 23.9.0"
  // yet 23.9.0 and 23.9.0.post1 listed): a statement with version ranges is judged by its ranges,
  // and `versions` decides only where the ranges are git commits or absent.
  if (listed && versionRanges.length > 0) {
    return { affected: false, rule: `${shown} is listed as affected but is not in ${versionRanges.map(describeRange).join(' or ')}; the version ranges decide`, fixed: [] };
  }
  if (listed) {
    const fixed = fixesAbove(scheme, version, affected.ranges);
    return { affected: true, rule: `${shown} is listed as an affected version${exclusions}`, fixed: fixed.length > 0 ? fixed.slice(0, 1) : floors() };
  }
  const native = (affected.nativeRanges ?? []).find((r) => safeSatisfies(scheme, version, r));
  if (native !== undefined) {
    return { affected: true, rule: `${shown} satisfies ${native}${exclusions}`, fixed: floors() };
  }
  const namesVersions = affected.ranges.length > 0 || affected.versions.length > 0 || (affected.nativeRanges?.length ?? 0) > 0;
  if (!namesVersions && affected.state === 'unfixed') {
    return { affected: true, rule: `${shown}: every version is affected (no fix${affected.vendorStatus ? `: ${affected.vendorStatus}` : ''})`, fixed: [] };
  }
  if (!namesVersions && patched.length > 0 && scheme.satisfies !== undefined) {
    return { affected: true, rule: `${shown} satisfies none of the patched ${patched.join(' | ')}`, fixed: floors() };
  }
  const where = affected.ranges.filter((r) => r.type !== 'GIT').map(describeRange);
  if (affected.versions.length > 0) where.push(`the ${affected.versions.length} listed versions`);
  if (affected.nativeRanges?.length) where.push(affected.nativeRanges.join(' | '));
  return { affected: false, rule: `${shown} is not in ${where.length > 0 ? where.join(' or ') : 'any affected range'}`, fixed: [] };
}
