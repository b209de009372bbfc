/**
 * clair-scanner's JSON report (`clair-scanner -r FILE`), byte for byte as its `reporter.go` writes
 * it: `json.MarshalIndent(report, "", "    ")` of
 * `{image, unapproved: [ids], vulnerabilities: [{featurename, featureversion, vulnerability,
 * namespace, description, link, severity, fixedby}]}`, no trailing newline, with Go's HTML-safe
 * escaping of `<`, `>`, `&`, U+2028 and U+2029 in strings.
 *
 * Semantics kept from clair-scanner 14.x: `image` is the name as the user typed it; `vulnerabilities`
 * lists every reported vulnerability, approved or not (the `--reportAll` switch only filters the
 * console table, never this file); `unapproved` has one id per unapproved entry, in the same order,
 * so an id affecting two packages appears twice; an empty list is `[]` (14.x initialises it).
 * Findings suppressed by VEX or an ignore file are not vulnerabilities of the image and are left out.
 * `featurename`/`featureversion` are the installed (binary) package, as with Clair v4. The format has
 * no field for the OS package that installed a language package: its `description` ends with
 * `[installed by deb python3-requests 2.28.1+dfsg-1 (source requests)]`, so no reader meets a new field.
 *
 * Order: clair-scanner sorts its vulnerability slice in place (most severe first) for the console
 * table before it writes the file, so the file lists vulnerabilities most severe first while
 * `unapproved` keeps the scan order; a real v13 report (api-samples/clair-v2/40_*) shows exactly that.
 */
import { severityRank } from '../domain/severity.js';
import { installedBy, shownFindings } from './common.js';
import type { Finding } from '../domain/finding.js';
import type { ReportContext, ReportFormat } from './types.js';

/** One entry of clair-scanner's `vulnerabilities`. */
export interface ClairScannerVulnerability {
  featurename: string;
  featureversion: string;
  vulnerability: string;
  namespace: string;
  description: string;
  link: string;
  severity: string;
  fixedby: string;
}

/** clair-scanner's report file. */
export interface ClairScannerReport {
  image: string;
  unapproved: string[];
  vulnerabilities: ClairScannerVulnerability[];
}

/** The report object (field order as clair-scanner declares it). */
export function toClairScannerReport(ctx: ReportContext): ClairScannerReport {
  const unapproved = new Set(ctx.policy.unapproved);
  const shown = shownFindings(ctx);
  return {
    image: ctx.imageName,
    unapproved: shown.filter((f) => unapproved.has(f)).map((f) => f.id),
    // Array.prototype.sort is stable, so equal severities keep the scan order.
    vulnerabilities: [...shown].sort((a, b) => severityRank(b.severity) - severityRank(a.severity)).map((f) => ({
      featurename: f.package.name,
      featureversion: f.package.version,
      vulnerability: f.id,
      namespace: f.namespace,
      description: withOwner(f.description ?? f.title ?? '', f),
      link: f.links[0] ?? '',
      severity: f.severity,
      fixedby: f.fixedVersions[0] ?? '',
    })),
  };
}

function withOwner(description: string, f: Finding): string {
  const owner = installedBy(f.package);
  if (owner === undefined) return description;
  return description === '' ? `[${owner}]` : `${description} [${owner}]`;
}

/** JSON text as Go's encoding/json MarshalIndent(v, "", "    ") writes it (HTML-safe escaping). */
export function goMarshalIndent(value: unknown): string {
  return JSON.stringify(value, null, 4).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The `clair-scanner` report format. */
export const clairScannerFormat: ReportFormat = {
  id: 'clair-scanner',
  version: 1,
  description: 'clair-scanner compatible JSON report (image, unapproved, vulnerabilities)',
  mediaType: 'application/json',
  fileExtension: 'json',
  render: (ctx) => goMarshalIndent(toClairScannerReport(ctx)),
};
