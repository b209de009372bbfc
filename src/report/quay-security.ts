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
 *   CVE ids, unique and sorted.
 * - Vulnerabilities de-duplicated on package name + version + advisory name, as Quay does.
 */
import type { Finding } from '../domain/finding.js';
import type { Inventory } from '../domain/inventory.js';
import { OS_ECOSYSTEMS } from '../domain/package.js';

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
export function quaySecurityInformation(digest: string, inventory: Pick<Inventory, 'packages' | 'distro'>, findings: readonly Finding[], options: { withVulnerabilities?: boolean } = {}): QuaySecurityResponse {
  const withVulnerabilities = options.withVulnerabilities ?? true;
  const byPackage = new Map<string, Finding[]>();
  for (const f of findings) {
    const key = featureKey(f.package.name, f.package.version, f.package.path);
    const list = byPackage.get(key);
    if (list) list.push(f);
    else byPackage.set(key, [f]);
  }
  const seen = new Set<string>();
  const features: QuayFeature[] = [];
  for (const p of inventory.packages) {
    const key = featureKey(p.name, p.version, p.path);
    if (seen.has(key)) continue;
    seen.add(key);
    const vulns = dedupe(byPackage.get(key) ?? []);
    const scores = vulns.map(cvss3).filter((r): r is { vector: string; score: number } => r !== undefined).map((r) => r.score);
    const cves = [...new Set(vulns.flatMap((f) => [f.id, ...f.aliases]).filter((id) => /^CVE-\d{4}-\d+$/.test(id)))].sort();
    features.push({
      Name: p.name,
      VersionFormat: '',
      NamespaceName: '',
      AddedBy: p.layer,
      Version: p.version,
      BaseScores: withVulnerabilities ? scores : [],
      CVEIds: withVulnerabilities ? cves : [],
      Vulnerabilities: withVulnerabilities ? vulns.map((f) => vulnerability(f, inventory)) : [],
    });
  }
  return { status: 'scanned', data: { Layer: { Name: digest, ParentName: '', NamespaceName: '', IndexedByVersion: 4, Features: features } } };
}


function featureKey(name: string, version: string, path: string): string {
  return `${name}\u0000${version}\u0000${path}`;
}

function dedupe(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const k = `${f.package.name}\u0000${f.package.version}\u0000${f.id}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The highest CVSS v3 rating of a finding, as Quay picks its NVD block. */
function cvss3(f: Finding): { vector: string; score: number } | undefined {
  let best: { vector: string; score: number } | undefined;
  for (const r of f.ratings) {
    if (r.type !== 'CVSS_V3' || r.score === undefined) continue;
    if (best === undefined || r.score > best.score) best = { vector: r.value, score: r.score };
  }
  return best;
}

function vulnerability(f: Finding, inventory: Pick<Inventory, 'distro'>): QuayVulnerability {
  const nvd = cvss3(f);
  // Quay names the distribution only for OS packages (a PyPI finding has DistroName "").
  const distro = OS_ECOSYSTEMS.has(f.package.ecosystem) ? inventory.distro : undefined;
  return {
    Severity: f.severity,
    NamespaceName: f.namespace,
    // Quay joins a report's links with spaces; only web links are kept (text from feeds is not trusted).
    Link: f.links.filter((l) => /^https?:\/\//i.test(l)).join(' '),
    FixedBy: f.fixedVersions[0] ?? '',
    Description: f.description ?? f.title ?? '',
    Name: f.id,
    Metadata: {
      UpdatedBy: f.feed.id,
      RepoName: null,
      RepoLink: null,
      DistroName: distro?.name ?? distro?.id ?? '',
      DistroVersion: distro?.versionId ?? '',
      ...(nvd ? { NVD: { CVSSv3: { Vectors: nvd.vector, Score: nvd.score } } } : {}),
    },
  };
}
