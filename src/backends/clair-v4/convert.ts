/**
 * Clair v4 VulnerabilityReport -> Finding[]: one finding per (package, vulnerability id), with
 *
 * - the package from `packages` (binary name/version, source package, arch) placed by its first
 *   `environments` entry (layer `introduced_in`, database `package_db`, distribution);
 * - the id: the advisory id the vulnerability name starts with (`RHSA-2023:5837: nghttp2 ...`,
 *   `CVE-2021-39537 ncurses: ...`, `GHSA-...`, `pyup.io-39606 (CVE-2020-36242)`), else the CVE its
 *   links point to (Red Hat's unpatched entries are titled `ncurses: Heap buffer overflow ...`), else
 *   the name itself; other well-known ids in the name and links become aliases;
 * - `namespace` = `distribution.did:version_id` (`rhel:8`, `alpine:3.7`), what Clair v2 called a
 *   NamespaceName; language packages get their OSV ecosystem name (`Go`, `PyPI`);
 * - `severity` = `normalized_severity` (Clair's own scale is ours); the vendor label and any CVSS the
 *   `clair.cvss` enricher attached are kept as ratings;
 * - `fixedVersions` from `fixed_in_version`, `links` split from the space-separated `links`.
 *
 * Clair repeats a vulnerability once per repository it was published in (RHEL baseos and appstream
 * carry the same RHSA); those repeats are merged into one finding. Packages whose ecosystem neither
 * their database, their repository nor their distribution reveals are left out.
 */
import { PackageURL } from 'packageurl-js';
import type { SeverityRating } from '../../domain/advisory.js';
import type { Finding } from '../../domain/finding.js';
import { isOsEcosystem, type Ecosystem } from '../../domain/package.js';
import { languageNamespace } from '../../ecosystems/registry.js';
import { SEVERITIES, severityRank, type Severity } from '../../domain/severity.js';
import type { ClairDistribution, ClairPackage, ClairVulnerability, ClairVulnerabilityReport } from './schemas.js';

/** Facts the report lacks that the conversion can use. */
export interface ConvertOptions {
  /** Layer digests of the manifest, base first, to turn `introduced_in` into a layer index (else -1). */
  layers?: readonly string[];
  /** When the report was fetched, recorded as the feed date. */
  fetchedAt?: string;
}

const KNOWN_ID = /\b(CVE-\d{4}-\d{4,}|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}|RH[SBE]A-\d{4}:\d+|USN-\d+-\d+|DSA-\d+-\d+|DLA-\d+-\d+|GO-\d{4}-\d+|PYSEC-\d{4}-\d+|RUSTSEC-\d{4}-\d+)\b/g;
const LEADING_ID = /^(GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}|[A-Za-z][A-Za-z0-9.]*(?:-[A-Za-z0-9]+)*-\d[A-Za-z0-9.:]*?)(?=:?\s|:?$)/;

/** Splits Clair's vulnerability name and links into our id and aliases (see the module comment). */
export function clairIds(v: Pick<ClairVulnerability, 'name' | 'links'>): { id: string; aliases: string[] } {
  const name = v.name.trim();
  const inText = [...new Set([...`${name} ${v.links}`.matchAll(KNOWN_ID)].map((m) => m[1] ?? ''))];
  const leading = LEADING_ID.exec(name)?.[1];
  const id = leading ?? inText.find((x) => x.startsWith('CVE-')) ?? inText[0] ?? name;
  return { id, aliases: inText.filter((x) => x !== id) };
}

const REPOSITORY_ECOSYSTEM: Record<string, Ecosystem> = { go: 'golang', pypi: 'pypi', npm: 'npm', maven: 'maven', rubygems: 'gem', 'crates.io': 'cargo' };
const DISTRO_ECOSYSTEM: Record<string, Ecosystem> = {
  debian: 'deb', ubuntu: 'deb', alpine: 'apk', wolfi: 'apk', chainguard: 'apk',
  rhel: 'rpm', centos: 'rpm', fedora: 'rpm', ol: 'rpm', oracle: 'rpm', amzn: 'rpm', suse: 'rpm', sles: 'rpm', 'opensuse-leap': 'rpm', rocky: 'rpm', almalinux: 'rpm', photon: 'rpm', mariner: 'rpm', azurelinux: 'rpm',
};

/** The package database path without Clair's `kind:` prefix (`bdb:var/lib/rpm` -> `var/lib/rpm`). */
function dbPath(db: string): { kind: string; path: string } {
  const m = /^([a-z0-9]+):(?!\/\/)(.*)$/.exec(db);
  return m ? { kind: m[1] ?? '', path: m[2] ?? '' } : { kind: '', path: db };
}

function ecosystemOf(db: string, vuln: ClairVulnerability | undefined, distro: ClairDistribution | undefined): Ecosystem | undefined {
  const { kind, path } = dbPath(db);
  if (kind === 'go') return 'golang';
  if (kind === 'python') return 'pypi';
  if (kind === 'nodejs' || kind === 'npm') return 'npm';
  if (kind === 'maven' || kind === 'jar') return 'maven';
  if (kind === 'ruby' || kind === 'gem') return 'gem';
  if (kind === 'bdb' || kind === 'sqlite' || kind === 'ndb' || path.includes('lib/rpm') || path.startsWith('root/buildinfo/')) return 'rpm';
  if (path.includes('dpkg')) return 'deb';
  if (path.includes('apk/db')) return 'apk';
  const repo = vuln?.repository?.name ?? '';
  if (REPOSITORY_ECOSYSTEM[repo]) return REPOSITORY_ECOSYSTEM[repo];
  const did = distro?.did || vuln?.distribution?.did || '';
  return DISTRO_ECOSYSTEM[did];
}

function severityOf(value: string): Severity {
  return (SEVERITIES as readonly string[]).includes(value) ? (value as Severity) : 'Unknown';
}

const CVSS_SEVERITY: Record<string, Severity> = { CRITICAL: 'Critical', HIGH: 'High', MEDIUM: 'Medium', LOW: 'Low', NONE: 'Negligible' };

/** CVSS records the `clair.cvss` enricher attached, by Clair vulnerability id. */
function cvssByVulnerability(report: ClairVulnerabilityReport): Map<string, SeverityRating[]> {
  const out = new Map<string, SeverityRating[]>();
  for (const [kind, entries] of Object.entries(report.enrichments)) {
    if (!kind.includes('clair.cvss')) continue;
    for (const entry of entries) {
      if (typeof entry !== 'object' || entry === null) continue;
      for (const [vulnId, records] of Object.entries(entry as Record<string, unknown>)) {
        if (!Array.isArray(records)) continue;
        for (const r of records as Record<string, unknown>[]) {
          const vector = r.vectorString;
          const score = r.baseScore;
          if (typeof vector !== 'string' || typeof score !== 'number') continue;
          const version = String(r.version ?? '');
          const list = out.get(vulnId) ?? [];
          if (list.some((x) => x.value === vector)) continue;
          list.push({ source: 'nvd', type: version.startsWith('2') ? 'CVSS_V2' : version.startsWith('4') ? 'CVSS_V4' : 'CVSS_V3', value: vector, score, normalized: CVSS_SEVERITY[String(r.baseSeverity ?? '').toUpperCase()] ?? 'Unknown' });
          out.set(vulnId, list);
        }
      }
    }
  }
  return out;
}

function purlOf(ecosystem: Ecosystem, pkg: ClairPackage, distro: ClairDistribution | undefined): string {
  const q: Record<string, string> = {};
  if (pkg.arch) q.arch = pkg.arch;
  const did = distro?.did ?? '';
  const distroVersion = distro?.version_id || distro?.version || '';
  if (did && distroVersion) q.distro = `${did}-${distroVersion}`;
  let namespace: string | undefined;
  let name = pkg.name;
  let version = pkg.version;
  // Same conventions as the inventory's OS purls (src/inventory/os-purl.ts): namespace = distro id,
  // source package in `upstream`.
  if (isOsEcosystem(ecosystem)) namespace = did || undefined;
  if (pkg.source?.name && pkg.source.name !== pkg.name) q.upstream = pkg.source.version ? `${pkg.source.name}@${pkg.source.version}` : pkg.source.name;
  if (ecosystem === 'rpm') {
    const m = /^(\d+):(.*)$/.exec(version);
    if (m?.[1] && m[2]) {
      if (m[1] !== '0') q.epoch = m[1];
      version = m[2];
    }
  }
  if ((ecosystem === 'golang' || ecosystem === 'npm') && name.includes('/')) {
    namespace = name.slice(0, name.lastIndexOf('/'));
    name = name.slice(name.lastIndexOf('/') + 1);
  }
  try {
    return new PackageURL(ecosystem, namespace, name, version || undefined, Object.keys(q).length > 0 ? q : undefined, undefined).toString();
  } catch {
    return `pkg:${ecosystem}/${encodeURIComponent(pkg.name)}@${encodeURIComponent(pkg.version)}`;
  }
}

/**
 * Converts a VulnerabilityReport to findings (see the module comment). A report without
 * `package_vulnerabilities` gives [].
 */
export function vulnerabilityReportToFindings(report: ClairVulnerabilityReport, options: ConvertOptions = {}): Finding[] {
  const cvss = cvssByVulnerability(report);
  const findings: Finding[] = [];
  for (const [pkgId, vulnIds] of Object.entries(report.package_vulnerabilities)) {
    const pkg = report.packages[pkgId];
    if (!pkg) continue;
    const envs = report.environments[pkgId] ?? [];
    const env = envs.find((e) => e.distribution_id !== '') ?? envs[0];
    const distro = env?.distribution_id ? report.distributions[env.distribution_id] : undefined;
    const byId = new Map<string, Finding>();
    for (const vulnId of vulnIds) {
      const v = report.vulnerabilities[vulnId];
      if (!v) continue;
      const ecosystem = ecosystemOf(env?.package_db ?? '', v, distro);
      if (!ecosystem) continue;
      const vDistro = distro ?? (v.distribution?.did ? v.distribution : undefined);
      const { id, aliases } = clairIds(v);
      const severity = severityOf(v.normalized_severity);
      const links = v.links.split(/\s+/).filter((l) => l !== '');
      const ratings: SeverityRating[] = [{ source: v.updater || 'clair', type: 'vendor', value: v.severity || v.normalized_severity || 'Unknown', normalized: severity }, ...(cvss.get(vulnId) ?? [])];
      const existing = byId.get(id);
      if (existing) {
        if (v.fixed_in_version && !existing.fixedVersions.includes(v.fixed_in_version)) existing.fixedVersions.push(v.fixed_in_version);
        for (const l of links) if (!existing.links.includes(l)) existing.links.push(l);
        for (const a of aliases) if (!existing.aliases.includes(a)) existing.aliases.push(a);
        for (const r of ratings) if (!existing.ratings.some((x) => x.source === r.source && x.value === r.value)) existing.ratings.push(r);
        if (severityRank(severity) > severityRank(existing.severity)) existing.severity = severity;
        if (existing.fixedVersions.length > 0) existing.state = 'fixed';
        continue;
      }
      const { path } = dbPath(env?.package_db ?? '');
      const layer = env?.introduced_in ?? '';
      const did = vDistro?.did ?? '';
      const namespace = did ? `${did}:${vDistro?.version_id || vDistro?.version || ''}`.replace(/:$/, '') : (languageNamespace(ecosystem) ?? v.repository?.name ?? '');
      const fixed = v.fixed_in_version;
      const finding: Finding = {
        id,
        aliases,
        package: {
          ecosystem,
          name: pkg.name,
          version: pkg.version,
          purl: purlOf(ecosystem, pkg, vDistro),
          path,
          layer,
          layerIndex: options.layers ? options.layers.indexOf(layer) : -1,
        },
        state: fixed ? 'fixed' : 'unfixed',
        fixedVersions: fixed ? [fixed] : [],
        severity,
        severitySource: ratings[0]?.source ?? 'clair',
        ratings,
        namespace,
        feed: options.fetchedAt ? { id: `clair:${v.updater}`, fetchedAt: options.fetchedAt } : { id: `clair:${v.updater}` },
        links,
        why: {
          package: `${ecosystem} ${pkg.name} ${pkg.version} from ${path || 'an unknown database'} (Clair package ${pkgId})`,
          advisory: `clair ${v.updater} ${v.name} ${namespace}: ${fixed ? `fixed ${fixed}` : 'no fixed version'}`,
          rule: `clair: ${pkg.version} matched${v.package?.version ? ` ${v.package.version}` : ''}${fixed ? ` (fixed in ${fixed})` : ' (unfixed)'}`,
        },
        // Clair compared, not Portcullis: the record is Clair's, the rule has no scheme or basis of ours.
        evidence: {
          package: { file: path, layer, layerIndex: options.layers ? options.layers.indexOf(layer) : -1 },
          matches: [
            {
              advisory: { feed: `clair:${v.updater}`, id: v.name || id, namespace, packageName: v.package?.name || pkg.name, nameKind: 'binary', state: fixed ? 'fixed' : 'unfixed' },
              rule: { installed: pkg.version, text: `clair: ${pkg.version} matched${v.package?.version ? ` ${v.package.version}` : ''}${fixed ? ` (fixed in ${fixed})` : ' (unfixed)'}` },
            },
          ],
        },
      };
      if (pkg.source?.name) finding.package.sourceName = pkg.source.name;
      if (pkg.source?.version) finding.package.sourceVersion = pkg.source.version;
      if (pkg.arch) finding.package.arch = pkg.arch;
      if (!fixed) finding.vendorStatus = 'unpatched';
      if (v.name && v.name !== id) finding.title = v.name;
      if (v.description) finding.description = v.description;
      byId.set(id, finding);
    }
    findings.push(...byId.values());
  }
  return findings;
}
