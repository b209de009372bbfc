import type { AffectedPackage, AffectedState, SeverityRating } from '../../domain/advisory.js';
import type { Severity } from '../../domain/severity.js';

// Extended-support streams get their own namespace: their fixes land in builds (`.el9_0.4`) that the
// main stream of the same major never ships, so mixing them into `rhel:9` would mark mainline packages
// fixed (or vulnerable) by another stream's statement.
const STREAMS: Record<string, string> = {
  rhel_eus: 'eus',
  rhel_aus: 'aus',
  rhel_tus: 'tus',
  rhel_e4s: 'e4s',
  rhel_els: 'els',
  rhel_eus_long_life: 'eus-long-life',
};

/**
 * The namespace of a Red Hat platform CPE (2.2 URI `cpe:/o:redhat:enterprise_linux:9::baseos` or 2.3
 * `cpe:2.3:o:redhat:enterprise_linux:9:...`):
 * - the main stream, `enterprise_linux:<N>` with any variant (`::baseos`, `::appstream`, `::crb`,
 *   `::server`...): `rhel:<N>` (major only: the main stream moves from minor to minor);
 * - extended streams `rhel_eus:9.0`, `rhel_aus:7.6`, `rhel_tus`, `rhel_e4s`, `rhel_els:6`:
 *   `rhel:<version>:<stream>` (`rhel:9.0:eus`, `rhel:6:els`).
 * Returns undefined for layered products (Satellite, JBoss, OpenShift, `rhel_extras`, ...), whose
 * packages come from their own repositories and are not matched by distribution release.
 */
export function rhelNamespaceFromCpe(cpe: string): string | undefined {
  const parts = cpe.startsWith('cpe:2.3:') ? cpe.slice('cpe:2.3:'.length).split(':') : cpe.startsWith('cpe:/') ? cpe.slice('cpe:/'.length).split(':') : undefined;
  if (parts === undefined) return undefined;
  const [, vendor, product, version] = parts;
  if (vendor !== 'redhat' || product === undefined || version === undefined) return undefined;
  if (product === 'enterprise_linux') {
    const major = /^(\d+)(?:\.\d+)*$/.exec(version)?.[1];
    return major === undefined ? undefined : `rhel:${major}`;
  }
  const stream = STREAMS[product];
  if (stream === undefined || !/^\d+(\.\d+)?$/.test(version)) return undefined;
  return `rhel:${version}:${stream}`;
}

const IMPACT: Record<string, Severity> = {
  low: 'Low',
  moderate: 'Medium',
  important: 'High',
  critical: 'Critical',
};

/** Red Hat's impact rating (Low / Moderate / Important / Critical) as a vendor severity; undefined when empty. */
export function redhatImpactSeverity(raw: string | undefined): SeverityRating | undefined {
  const value = raw?.trim() ?? '';
  if (value === '') return undefined;
  return { source: 'redhat', type: 'vendor', value, normalized: IMPACT[value.toLowerCase()] ?? 'Unknown' };
}

/** A package a Red Hat statement names, as read from a purl or an NEVRA product id. */
export interface RpmComponent {
  name: string;
  /** `[epoch:]version-release`, epoch left out when 0 or absent. */
  evr?: string;
  arch?: string;
  /** Module stream, `name:stream`. */
  module?: string;
}

const NEVRA = /^(.+)-(?:(\d+):)?([^-:]+)-([^-:]+)\.([A-Za-z0-9_]+)$/;
const NEVR = /^(.+)-(?:(\d+):)?([^-:]+)-([^-:]+)$/;

/** The EVR string the rpm scheme compares, without a zero epoch. */
export function evrString(epoch: string | undefined, version: string, release?: string): string {
  const vr = release === undefined ? version : `${version}-${release}`;
  return epoch === undefined || epoch === '' || epoch === '0' ? vr : `${epoch}:${vr}`;
}

/**
 * Reads `name-[epoch:]version-release.arch` (`telnet-1:0.17-65.el7_6.src`), an unversioned
 * `name.src`, or a bare name (`kernel`). Returns undefined for an empty string.
 */
export function parseNevraId(id: string): RpmComponent | undefined {
  const s = id.trim();
  if (s === '') return undefined;
  const m = NEVRA.exec(s);
  if (m && /^\d/.test(m[3] ?? '')) return { name: m[1] ?? '', evr: evrString(m[2], m[3] ?? '', m[4]), arch: m[5] ?? '' };
  if (s.endsWith('.src')) return { name: s.slice(0, -'.src'.length), arch: 'src' };
  return { name: s };
}

/**
 * Reads a source `name-[epoch:]version-release` without arch (`firefox-0:102.15.1-1.el7_9`), as the
 * security data API writes fixed packages. Returns undefined when the string is not of that shape.
 */
export function parseNevr(s: string): RpmComponent | undefined {
  const m = NEVR.exec(s.trim());
  if (!m || !/^\d/.test(m[3] ?? '')) return undefined;
  return { name: m[1] ?? '', evr: evrString(m[2], m[3] ?? '', m[4]) };
}

/**
 * Builds an rpm AffectedPackage; ranges as for every OS feed: fixed = introduced 0 .. fixed evr,
 * unfixed = introduced 0 open-ended, not_affected = none.
 */
export function rpmAffected(input: {
  namespace: string;
  packageName: string;
  nameKind: 'source' | 'binary';
  state: AffectedState;
  fixedVersion?: string;
  vendorStatus?: string;
  severity?: SeverityRating;
  module?: string;
  arches?: string[];
}): AffectedPackage {
  const out: AffectedPackage = {
    ecosystem: 'rpm',
    namespace: input.namespace,
    packageName: input.packageName,
    nameKind: input.nameKind,
    scheme: 'rpm',
    state: input.state,
    ranges:
      input.state === 'not_affected'
        ? []
        : input.state === 'fixed' && input.fixedVersion !== undefined
          ? [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: input.fixedVersion }] }]
          : [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }],
    versions: [],
  };
  if (input.vendorStatus !== undefined) out.vendorStatus = input.vendorStatus;
  if (input.severity !== undefined) out.severity = input.severity;
  if (input.module !== undefined) out.module = input.module;
  if (input.arches !== undefined && input.arches.length > 0) out.arches = input.arches;
  return out;
}
