/**
 * CycloneDX 1.6 JSON with vulnerabilities (a VDR, and for suppressed findings a VEX), built with
 * @cyclonedx/cyclonedx-library on top of the SBOM of src/sbom: components come from the inventory
 * (or, when the report carries none, from the findings' packages). Findings with the same id and the
 * same policy outcome share one vulnerability entry whose `affects` lists every affected component;
 * suppressed ones carry an `analysis` (state, justification, detail) taken from the VEX statement or
 * ignore rule that suppressed them.
 */
import { Enums, Models } from '@cyclonedx/cyclonedx-library';
import type { SeverityRating } from '../domain/advisory.js';
import type { Finding } from '../domain/finding.js';
import { INVENTORY_SCHEMA, INVENTORY_SCHEMA_VERSION, type Inventory } from '../domain/inventory.js';
import type { InventoryPackage } from '../domain/package.js';
import type { Severity } from '../domain/severity.js';
import { bomToJson, inventoryToBomModel } from '../sbom/cyclonedx.js';
import { decisions, packageKey, shownFindings, type FindingDecision } from './common.js';
import type { ReportContext, ReportFormat } from './types.js';

const SEVERITY: Record<Severity, Enums.Vulnerability.Severity> = {
  Critical: Enums.Vulnerability.Severity.Critical,
  High: Enums.Vulnerability.Severity.High,
  Medium: Enums.Vulnerability.Severity.Medium,
  Low: Enums.Vulnerability.Severity.Low,
  Negligible: Enums.Vulnerability.Severity.Info,
  Unknown: Enums.Vulnerability.Severity.Unknown,
};

/** OpenVEX justifications (and CycloneDX's own, passed through) to CycloneDX analysis justifications. */
const JUSTIFICATION: Record<string, Enums.Vulnerability.AnalysisJustification> = {
  component_not_present: Enums.Vulnerability.AnalysisJustification.CodeNotPresent,
  vulnerable_code_not_present: Enums.Vulnerability.AnalysisJustification.CodeNotPresent,
  vulnerable_code_not_in_execute_path: Enums.Vulnerability.AnalysisJustification.CodeNotReachable,
  vulnerable_code_cannot_be_controlled_by_adversary: Enums.Vulnerability.AnalysisJustification.RequiresEnvironment,
  inline_mitigations_already_exist: Enums.Vulnerability.AnalysisJustification.ProtectedByMitigatingControl,
  ...Object.fromEntries(Object.values(Enums.Vulnerability.AnalysisJustification).map((v) => [v, v])),
};

function ratingOf(r: SeverityRating): Models.Vulnerability.Rating {
  const rating = new Models.Vulnerability.Rating({ source: new Models.Vulnerability.Source({ name: r.source }), severity: SEVERITY[r.normalized] });
  if (r.score !== undefined) rating.score = r.score;
  if (r.type === 'vendor') {
    rating.method = Enums.Vulnerability.RatingMethod.Other;
    rating.justification = `${r.source} rates it ${r.value}`;
  } else {
    rating.vector = r.value;
    rating.method =
      r.type === 'CVSS_V2'
        ? Enums.Vulnerability.RatingMethod.CVSSv2
        : r.type === 'CVSS_V4'
          ? Enums.Vulnerability.RatingMethod.CVSSv4
          : r.value.startsWith('CVSS:3.1/')
            ? Enums.Vulnerability.RatingMethod.CVSSv31
            : Enums.Vulnerability.RatingMethod.CVSSv3;
  }
  return rating;
}

/** An inventory made of the findings' packages, for reports that carry no inventory. */
function inventoryFromFindings(ctx: ReportContext, findings: Finding[]): Inventory {
  const seen = new Map<string, InventoryPackage>();
  for (const f of findings) {
    const key = packageKey(f.package);
    if (!seen.has(key)) seen.set(key, { ...f.package });
  }
  const inventory: Inventory = {
    schema: INVENTORY_SCHEMA,
    schemaVersion: INVENTORY_SCHEMA_VERSION,
    tool: ctx.report.tool,
    createdAt: ctx.report.createdAt,
    image: ctx.report.image,
    layers: [],
    packages: [...seen.values()],
    detectors: [],
    warnings: [],
    stats: { layersRead: 0, layersFromCache: 0, bytesRead: 0 },
  };
  if (ctx.report.distro) inventory.distro = ctx.report.distro;
  return inventory;
}

function groupKey(f: Finding, d: FindingDecision | undefined): string {
  return d?.status === 'suppressed' ? `${f.id}\u0000suppressed\u0000${d.reason ?? ''}\u0000${d.source ?? ''}` : `${f.id}\u0000${d?.status ?? 'unapproved'}`;
}

function analysisOf(d: FindingDecision): Models.Vulnerability.Analysis {
  const analysis = new Models.Vulnerability.Analysis({
    state: d.vex?.status === 'fixed' ? Enums.Vulnerability.AnalysisState.Resolved : d.vex?.rawStatus === 'false_positive' ? Enums.Vulnerability.AnalysisState.FalsePositive : Enums.Vulnerability.AnalysisState.NotAffected,
    detail: `${d.reason ?? ''} [${d.source ?? ''}]`.trim(),
  });
  const justification = d.vex?.justification ? JUSTIFICATION[d.vex.justification] : undefined;
  if (justification !== undefined) analysis.justification = justification;
  return analysis;
}

/** Builds the CycloneDX document (see the module comment). No findings: an SBOM without vulnerabilities. */
export function toCycloneDxReport(ctx: ReportContext): Record<string, unknown> {
  const decided = decisions(ctx);
  const findings = [...shownFindings(ctx), ...ctx.policy.suppressed.map((s) => s.finding)];
  const inventory = ctx.report.inventory ?? inventoryFromFindings(ctx, findings);
  const { bom, packageRefs } = inventoryToBomModel(inventory);
  const refByPackage = new Map<string, Models.BomRef>();
  const components = [...bom.components].filter((c) => c.type === Enums.ComponentType.Library);
  inventory.packages.forEach((p, i) => {
    const component = components.find((c) => c.bomRef.value === packageRefs[i]);
    if (component) refByPackage.set(packageKey({ ...p }), component.bomRef);
  });

  const groups = new Map<string, { findings: Finding[]; decision: FindingDecision | undefined }>();
  for (const f of findings) {
    const d = decided.get(f);
    const key = groupKey(f, d);
    const g = groups.get(key);
    if (g) g.findings.push(f);
    else groups.set(key, { findings: [f], decision: d });
  }

  const usedRefs = new Map<string, number>();
  for (const { findings: group, decision } of groups.values()) {
    const first = group[0];
    if (!first) continue;
    const n = (usedRefs.get(first.id) ?? 0) + 1;
    usedRefs.set(first.id, n);
    const vuln = new Models.Vulnerability.Vulnerability({ bomRef: n === 1 ? `vuln:${first.id}` : `vuln:${first.id}:${n}`, id: first.id });
    vuln.source = new Models.Vulnerability.Source({ name: first.feed.id });
    const description = first.description ?? first.title;
    if (description !== undefined) vuln.description = description;
    for (const alias of first.aliases) vuln.references.add(new Models.Vulnerability.Reference(alias, new Models.Vulnerability.Source({ name: first.feed.id })));
    // The rating that chose the severity comes first; a finding whose severity has no rating of its
    // own (e.g. a default) still states it, attributed to its severity source.
    const ratings: SeverityRating[] = first.ratings.some((r) => r.source === first.severitySource)
      ? first.ratings
      : [{ source: first.severitySource, type: 'vendor', value: first.severity, normalized: first.severity }, ...first.ratings];
    for (const r of ratings) vuln.ratings.add(ratingOf(r));
    for (const link of first.links) if (/^https?:\/\//.test(link)) vuln.advisories.add(new Models.Vulnerability.Advisory(link));
    const fixes = [...new Set(group.flatMap((f) => f.fixedVersions.map((v) => `${f.package.name} ${v}`)))];
    if (fixes.length > 0) vuln.recommendation = `Upgrade to ${fixes.join(', ')}`;
    const affected = decision?.status !== 'suppressed';
    for (const f of group) {
      const ref = refByPackage.get(packageKey(f.package));
      if (!ref) continue;
      const versions = new Models.Vulnerability.AffectedVersionRepository([
        new Models.Vulnerability.AffectedSingleVersion(f.package.version, { status: affected ? Enums.Vulnerability.AffectStatus.Affected : Enums.Vulnerability.AffectStatus.Unaffected }),
      ]);
      vuln.affects.add(new Models.Vulnerability.Affect(ref, { versions }));
    }
    if (decision?.status === 'suppressed') vuln.analysis = analysisOf(decision);
    vuln.properties.add(new Models.Property('portcullis:policy-status', decision?.status ?? 'unapproved'));
    if (decision?.reason !== undefined && decision.status !== 'suppressed') vuln.properties.add(new Models.Property('portcullis:policy-reason', decision.reason));
    bom.vulnerabilities.add(vuln);
  }
  return bomToJson(bom);
}

/** The `cyclonedx` report format. */
export const cyclonedxFormat: ReportFormat = {
  id: 'cyclonedx',
  version: 1,
  description: 'CycloneDX 1.6 JSON: the image SBOM with vulnerabilities, ratings, affects and VEX analysis',
  mediaType: 'application/vnd.cyclonedx+json',
  fileExtension: 'cdx.json',
  render: (ctx) => `${JSON.stringify(toCycloneDxReport(ctx), null, 2)}\n`,
};
