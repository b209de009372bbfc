import type { AffectedPackage, AffectedState, SeverityRating, VersionRange } from '../../domain/advisory.js';
import type { Severity } from '../../domain/severity.js';

/**
 * Builds the AffectedPackage for one Debian/Ubuntu source package in one release. The range encodes the
 * state the way OSV does, so one matcher reads every feed: `fixed` = introduced 0 .. fixed v,
 * `unfixed` = introduced 0 with no end (every version), `not_affected` = no range at all.
 */
export function dpkgSourceAffected(input: {
  namespace: string;
  packageName: string;
  state: AffectedState;
  fixedVersion?: string;
  vendorStatus?: string;
  severity?: SeverityRating;
}): AffectedPackage {
  const out: AffectedPackage = {
    ecosystem: 'deb',
    namespace: input.namespace,
    packageName: input.packageName,
    nameKind: 'source',
    scheme: 'dpkg',
    state: input.state,
    ranges: stateRanges(input.state, input.fixedVersion),
    versions: [],
  };
  if (input.vendorStatus !== undefined) out.vendorStatus = input.vendorStatus;
  if (input.severity !== undefined) out.severity = input.severity;
  return out;
}

/** The OSV-style range for a state: see dpkgSourceAffected. */
export function stateRanges(state: AffectedState, fixedVersion?: string): VersionRange[] {
  if (state === 'not_affected') return [];
  if (state === 'fixed' && fixedVersion !== undefined) {
    return [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: fixedVersion }] }];
  }
  return [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }];
}

const URGENCY: Record<string, Severity> = {
  unimportant: 'Negligible',
  low: 'Low',
  medium: 'Medium',
  high: 'High',
  'not yet assigned': 'Unknown',
};

/**
 * Debian's urgency as a vendor severity. The tracker marks urgencies it inferred rather than assessed
 * with trailing `*` (`high**`); those are stripped. Returns undefined for an empty urgency and for
 * `end-of-life`, which the tracker writes in the urgency slot but which says nothing about severity.
 * Unknown words map to Unknown (kept as written).
 */
export function debianUrgencySeverity(raw: string | undefined): SeverityRating | undefined {
  if (raw === undefined) return undefined;
  const value = raw.replace(/\*+$/, '').trim().toLowerCase();
  if (value === '' || value === 'end-of-life') return undefined;
  return { source: 'debian', type: 'vendor', value, normalized: URGENCY[value] ?? 'Unknown' };
}

/** Stable key for de-duplicating affected entries of one advisory (same key = same statement). */
export function affectedKey(a: AffectedPackage): string {
  return JSON.stringify([a.namespace, a.packageName, a.nameKind, a.module ?? '', a.state, a.vendorStatus ?? '', a.ranges]);
}
