/**
 * The embedded scanner's findings as Harbor's scanner adapter reports them: the vulnerability
 * report of spec v1.0 (`application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0`)
 * and v1.1 (`application/vnd.security.vulnerability.report; version=1.1`, which adds
 * preferred_cvss, cwe_ids and vendor_attributes), and the v1.2 SBOM report carrying the CycloneDX
 * document `portcullis sbom --format cyclonedx` makes.
 */
import type { HarborVulnerabilityItem, HarborVulnerabilityReport } from '../backends/harbor/protocol.js';
import type { Finding } from '../domain/finding.js';
import type { Inventory } from '../domain/inventory.js';
import { severityRank, type Severity } from '../domain/severity.js';
import { inventoryToCycloneDx } from '../sbom/index.js';
import { TOOL_VERSION } from '../version.js';

/** How Portcullis names itself to Harbor. */
export const HARBOR_SCANNER = { name: 'Portcullis', vendor: 'Portcullis', version: TOOL_VERSION } as const;

/** The artifact a report is about, as Harbor named it in the scan request. */
export interface HarborArtifact {
  repository: string;
  digest: string;
  tag?: string;
  mime_type: string;
}

/** One item per finding (a package found twice in the image is two items, as the embedded report has two findings). */
export function harborVulnerabilityReport(findings: readonly Finding[], context: { artifact: HarborArtifact; generatedAt: string; version: '1.0' | '1.1' }): HarborVulnerabilityReport {
  const vulnerabilities = findings.map((f) => harborItem(f, context.version));
  const worst = findings.reduce<Severity | undefined>((acc, f) => (acc === undefined || severityRank(f.severity) > severityRank(acc) ? f.severity : acc), undefined);
  return {
    generated_at: context.generatedAt,
    artifact: context.artifact,
    scanner: { ...HARBOR_SCANNER },
    ...(worst !== undefined ? { severity: worst } : {}),
    vulnerabilities,
  };
}

function harborItem(f: Finding, version: '1.0' | '1.1'): HarborVulnerabilityItem {
  const fix = f.fixedVersions[0];
  const base: HarborVulnerabilityItem = {
    id: f.id,
    package: f.package.name,
    version: f.package.version,
    ...(fix !== undefined ? { fix_version: fix } : {}),
    severity: f.severity,
    ...(f.description !== undefined ? { description: f.description } : f.title !== undefined ? { description: f.title } : {}),
    links: f.links.filter(isUri),
  };
  if (version === '1.0') return base;
  const v3 = f.ratings.find((r) => r.type === 'CVSS_V3');
  const v2 = f.ratings.find((r) => r.type === 'CVSS_V2');
  const cvss = {
    ...(v3?.score !== undefined ? { score_v3: v3.score } : {}),
    ...(v3 !== undefined ? { vector_v3: v3.value } : {}),
    ...(v2?.score !== undefined ? { score_v2: v2.score } : {}),
    ...(v2 !== undefined ? { vector_v2: v2.value } : {}),
  };
  return {
    ...base,
    ...(Object.keys(cvss).length > 0 ? { preferred_cvss: cvss } : {}),
    // The feeds Portcullis reads carry no CWE ids for OS advisories; an empty list says so.
    cwe_ids: [],
    vendor_attributes: {
      ecosystem: f.package.ecosystem,
      purl: f.package.purl,
      path: f.package.path,
      namespace: f.namespace,
      feed: f.feed.id,
      aliases: f.aliases,
      state: f.state,
      severity_source: f.severitySource,
      ...(f.package.sourceName !== undefined ? { source_package: f.package.sourceName } : {}),
    },
  };
}

/** The v1.2 SBOM report: the CycloneDX document of the stored inventory. */
export function harborSbomReport(inventory: Inventory, context: { artifact: HarborArtifact; generatedAt: string }): Record<string, unknown> {
  return {
    generated_at: context.generatedAt,
    artifact: context.artifact,
    scanner: { ...HARBOR_SCANNER },
    vendor_attributes: { packages: inventory.packages.length },
    media_type: 'application/vnd.cyclonedx+json',
    sbom: inventoryToCycloneDx(inventory),
  };
}

function isUri(text: string): boolean {
  try {
    new URL(text);
    return true;
  } catch {
    return false;
  }
}
