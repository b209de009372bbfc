/**
 * Quay's security information for one manifest (`GET /api/v1/repository/{ns}/{repo}/manifest/
 * {digest}/security`), built from a Portcullis scan: the envelope `{status, data}` with Quay's
 * field names (compatibility.md 3.2-3.3; shapes pinned against Quay's own test samples), so tools
 * written for Quay read it unchanged.
 *
 * - `Layer.Name` = the manifest digest, `ParentName` and `NamespaceName` "", `IndexedByVersion` 4
 *   (as Quay fills them from a Clair v4 report).
 * - One Feature per package (name, version, the layer that added it), every package of the image,
 *   vulnerable or not; `BaseScores` = the CVSS v3 scores of its vulnerabilities, `CVEIds` = their
 *   CVE ids, unique and sorted. The service passes the aggregate over its backends: a finding
 *   another backend made on an image package (a Debian source package's binaries) is listed under
 *   that package's Feature, and a package only a backend reported becomes a Feature of its own
 *   (named as that backend names it), after the image's.
 * - Vulnerabilities de-duplicated per Feature on the advisory name, as Quay does.
 */
import type { SeverityRating } from '../domain/advisory.js';
import type { Inventory } from '../domain/inventory.js';
import { isOsEcosystem } from '../domain/package.js';

/**
 * What the Quay view reads of a finding: an engine finding, or an aggregated one (src/service/
 * aggregate.ts) whose package may be a backend's naming and whose image packages are listed.
 */
export interface QuayInputFinding {
  id: string;
  aliases: string[];
  package: { name: string; version: string; path?: string; ecosystem?: string; addedBy?: string };
  severity: string;
  fixedVersions: string[];
  namespace?: string;
  links: string[];
  title?: string;
  description?: string;
  ratings?: readonly SeverityRating[];
  feed?: { id: string };
  /** The backends that found it (aggregated findings). */
  foundBy?: readonly { backend: string }[];
  /** The image packages it is about (aggregated findings); [] for a package only a backend reported. */
  imagePackages?: readonly { name: string; version: string; path: string }[];
}

export type QuayScanStatus = 'queued' | 'scanned' | 'failed' | 'unsupported';

export interface QuayVulnerability {
  Severity: string;
  NamespaceName: string;
  Link: string;
  FixedBy: string;
  Description: string;
  Name: string;
  Metadata: {
    UpdatedBy: string;
    RepoName: string | null;
    RepoLink: string | null;
    DistroName: string;
    DistroVersion: string;
    NVD?: { CVSSv3: { Vectors: string; Score: number } };
  };
}

export interface QuayFeature {
  Name: string;
  VersionFormat: string;
  NamespaceName: string;
  AddedBy: string;
  Version: string;
  BaseScores: number[];
  CVEIds: string[];
  Vulnerabilities: QuayVulnerability[];
}

export interface QuayLayer {
  Name: string;
  ParentName: string;
  NamespaceName: string;
  IndexedByVersion: number;
  Features: QuayFeature[];
}

export interface QuaySecurityResponse {
  status: QuayScanStatus;
  data: { Layer: QuayLayer } | null;
}

/** The response for a manifest that is not (or not yet, or cannot be) scanned: Quay sends `data: null`. */
export function quayStatusOnly(status: Exclude<QuayScanStatus, 'scanned'>): QuaySecurityResponse {
  return { status, data: null };
}

/**
 * The response for a scanned manifest. `withVulnerabilities` false leaves every Feature's
 * Vulnerabilities empty (Quay's `?vulnerabilities=false`; the features are still listed).
 */
export function quaySecurityInformation(digest: string, inventory: Pick<Inventory, 'packages' | 'distro'>, findings: readonly QuayInputFinding[], options: { withVulnerabilities?: boolean } = {}): QuaySecurityResponse {
  const withVulnerabilities = options.withVulnerabilities ?? true;
  const byPackage = new Map<string, QuayInputFinding[]>();
  const onlyBackends: { name: string; version: string; addedBy: string; key: string }[] = [];
  for (const f of findings) {
    const keys = featureKeysOf(f);
    if (keys.length === 0) {
      const key = featureKey(f.package.name, f.package.version, '');
      if (!onlyBackends.some((p) => p.key === key)) onlyBackends.push({ name: f.package.name, version: f.package.version, addedBy: f.package.addedBy ?? '', key });
      keys.push(key);
    }
    for (const key of keys) {
      const list = byPackage.get(key);
      if (list) list.push(f);
      else byPackage.set(key, [f]);
    }
  }
  const seen = new Set<string>();
  const features: QuayFeature[] = [];
  const feature = (name: string, version: string, addedBy: string, key: string): void => {
    if (seen.has(key)) return;
    seen.add(key);
    const vulns = dedupe(byPackage.get(key) ?? []);
    const scores = vulns.map(cvss3).filter((r): r is { vector: string; score: number } => r !== undefined).map((r) => r.score);
    const cves = [...new Set(vulns.flatMap((f) => [f.id, ...f.aliases]).filter((id) => /^CVE-\d{4}-\d+$/.test(id)))].sort();
    features.push({
      Name: name,
      VersionFormat: '',
      NamespaceName: '',
      AddedBy: addedBy,
      Version: version,
      BaseScores: withVulnerabilities ? scores : [],
      CVEIds: withVulnerabilities ? cves : [],
      Vulnerabilities: withVulnerabilities ? vulns.map((f) => vulnerability(f, inventory)) : [],
    });
  };
  for (const p of inventory.packages) feature(p.name, p.version, p.layer, featureKey(p.name, p.version, p.path));
  for (const p of onlyBackends) feature(p.name, p.version, p.addedBy, p.key);
  return { status: 'scanned', data: { Layer: { Name: digest, ParentName: '', NamespaceName: '', IndexedByVersion: 4, Features: features } } };
}

/** The Features a finding belongs to: its image packages, or its own package when it names a path in the image; [] for a package only a backend reported. */
function featureKeysOf(f: QuayInputFinding): string[] {
  if (f.imagePackages !== undefined) return f.imagePackages.map((p) => featureKey(p.name, p.version, p.path));
  return f.package.path !== undefined ? [featureKey(f.package.name, f.package.version, f.package.path)] : [];
}

function featureKey(name: string, version: string, path: string): string {
  return `${name}\u0000${version}\u0000${path}`;
}

/** Each advisory once per Feature (the findings given are all of one Feature). */
function dedupe(findings: readonly QuayInputFinding[]): QuayInputFinding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const k = f.id;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The highest CVSS v3 rating of a finding, as Quay picks its NVD block. */
function cvss3(f: QuayInputFinding): { vector: string; score: number } | undefined {
  let best: { vector: string; score: number } | undefined;
  for (const r of f.ratings ?? []) {
    if (r.type !== 'CVSS_V3' || r.score === undefined) continue;
    if (best === undefined || r.score > best.score) best = { vector: r.value, score: r.score };
  }
  return best;
}

function vulnerability(f: QuayInputFinding, inventory: Pick<Inventory, 'distro'>): QuayVulnerability {
  const nvd = cvss3(f);
  // Quay names the distribution only for OS packages (a PyPI finding has DistroName ""); a backend's
  // finding without an ecosystem is an OS package when its namespace is a distribution's (`debian:12`).
  const osPackage = f.package.ecosystem !== undefined ? isOsEcosystem(f.package.ecosystem) : /^[a-z]+:[0-9.]+$/i.test(f.namespace ?? '');
  const distro = osPackage ? inventory.distro : undefined;
  return {
    Severity: f.severity,
    NamespaceName: f.namespace ?? '',
    // Quay joins a report's links with spaces; only web links are kept (text from feeds is not trusted).
    Link: f.links.filter((l) => /^https?:\/\//i.test(l)).join(' '),
    FixedBy: f.fixedVersions[0] ?? '',
    Description: f.description ?? f.title ?? '',
    Name: f.id,
    Metadata: {
      UpdatedBy: f.feed?.id ?? (f.foundBy ?? []).map((b) => b.backend).join(' '),
      RepoName: null,
      RepoLink: null,
      DistroName: distro?.name ?? distro?.id ?? '',
      DistroVersion: distro?.versionId ?? '',
      ...(nvd ? { NVD: { CVSSv3: { Vectors: nvd.vector, Score: nvd.score } } } : {}),
    },
  };
}
