/**
 * A manifest's aggregated findings as a download, in the order and with the filters the findings
 * list had: JSON (the findings route's FindingPage, every finding on one page), CSV (RFC 4180 by
 * csv-stringify, one row per finding; a cell that a spreadsheet would take for a formula, starting
 * with = + - @ tab or CR, gets a leading ' as OWASP's CSV injection advice says) and SARIF 2.1.0
 * (rules and log shaped by src/report/sarif.ts, as `portcullis scan --format sarif` makes them; one
 * result per aggregated finding, with the backends that found it).
 */
import { createHash } from 'node:crypto';
import { stringify } from 'csv-stringify/sync';
import { sarifLevel, sarifLog, sarifRules } from '../report/sarif.js';
import { TOOL_VERSION } from '../version.js';
import type { AggregatedFinding, ManifestAggregate } from './aggregate.js';
import type { FindingPage } from './queries.js';

export const EXPORT_FORMATS = ['json', 'csv', 'sarif'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportFile {
  mediaType: string;
  fileName: string;
  body: string;
}

const CSV_COLUMNS = ['id', 'severity', 'package', 'version', 'fixed in', 'status', 'layer', 'found by', 'title'] as const;

/** The file of `findings` (already filtered and ordered) of `digest` in `format`. */
export function exportFindings(format: ExportFormat, digest: string, aggregate: ManifestAggregate, findings: readonly AggregatedFinding[], backend?: string): ExportFile {
  const base = `${digest.replace(/^sha256:/, '').slice(0, 12)}-findings`;
  switch (format) {
    case 'json': {
      const page: FindingPage = { digest, ...(backend !== undefined ? { backend } : {}), status: aggregate.status, complete: aggregate.complete, backends: aggregate.backends, total: findings.length, offset: 0, limit: findings.length, findings: [...findings] };
      return { mediaType: 'application/json; charset=utf-8', fileName: `${base}.json`, body: `${JSON.stringify(page, null, 2)}\n` };
    }
    case 'csv':
      return { mediaType: 'text/csv; charset=utf-8; header=present', fileName: `${base}.csv`, body: findingsCsv(findings) };
    case 'sarif':
      return { mediaType: 'application/sarif+json', fileName: `${base}.sarif`, body: `${JSON.stringify(findingsSarif(digest, findings), null, 2)}\n` };
  }
}

/** The layer a finding's package was added in: the embedded scanner's, else the first image package's, else the backend's word. */
function layerOf(f: AggregatedFinding): string {
  return f.package.layer ?? f.imagePackages[0]?.layer ?? f.package.addedBy ?? '';
}

/** CSV of the findings, RFC 4180 (CRLF rows, quoted where needed), formula cells neutralised. */
export function findingsCsv(findings: readonly AggregatedFinding[]): string {
  const rows = findings.map((f) => [f.id, f.severity, f.package.name, f.package.version, f.fixedVersions.join(' '), f.status, layerOf(f), f.foundBy.map((b) => b.backend).join(' '), f.title ?? '']);
  // A lone CR is a line break to many readers: quoted like CRLF and LF are.
  return stringify(rows, { header: true, columns: [...CSV_COLUMNS], record_delimiter: 'windows', escape_formulas: true, quoted_match: /\r/ });
}

/** SARIF 2.1.0 of aggregated findings: the report's rules, one result per finding at its package file. */
export function findingsSarif(digest: string, findings: readonly AggregatedFinding[]): Record<string, unknown> {
  const { rules, ruleIndex } = sarifRules(findings.map((f) => ({ ...f, ratings: f.ratings ?? [] })));
  const results = findings.map((f) => {
    const path = f.package.path ?? f.imagePackages[0]?.path;
    const fixed = f.fixedVersions.length > 0 ? ` Fixed in ${f.fixedVersions.join(', ')}.` : f.status === 'wont-fix' ? ' The vendor will not fix it.' : ' No fix is available.';
    const result: Record<string, unknown> = {
      ruleId: f.id,
      ruleIndex: ruleIndex.get(f.id),
      level: sarifLevel(f.severity),
      message: { text: `Package ${f.package.name} ${f.package.version} is affected by ${f.id} (${f.severity}).${fixed}` },
      partialFingerprints: { 'portcullis/v1': createHash('sha256').update(`${f.id}\u0000${f.package.purl ?? `${f.package.name}@${f.package.version}`}\u0000${path ?? ''}`).digest('hex') },
      properties: {
        ...(f.package.purl !== undefined ? { purl: f.package.purl } : {}),
        installedVersion: f.package.version,
        fixedVersions: f.fixedVersions,
        severity: f.severity,
        status: f.status,
        ...(f.namespace !== undefined ? { namespace: f.namespace } : {}),
        layer: layerOf(f),
        foundBy: f.foundBy.map((b) => b.backend),
        ...(f.why !== undefined ? { why: f.why } : {}),
      },
    };
    if (path !== undefined) result.locations = [{ physicalLocation: { artifactLocation: { uri: path }, region: { startLine: 1 } }, message: { text: `package ${f.package.name} ${f.package.version}${layerOf(f) !== '' ? ` in layer ${layerOf(f)}` : ''}` } }];
    return result;
  });
  return sarifLog({ version: TOOL_VERSION, automationId: `portcullis/${digest}/`, rules, results, properties: { imageDigest: digest } });
}
