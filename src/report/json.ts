/**
 * Portcullis's own JSON report: the ScanReport unchanged, plus the policy result as one decision per
 * finding (by index into `report.findings`), so nothing is duplicated and the file stays one source
 * of truth. Versioned by `schema`/`schemaVersion`, like the ScanReport inside it.
 */
import type { ScanReport } from '../domain/finding.js';
import { decisions, type FindingStatus } from './common.js';
import type { ReportContext, ReportFormat } from './types.js';

/** Schema id of the JSON report document. */
export const SCAN_RESULT_SCHEMA = 'https://portcullis.dev/schemas/scan-result/v1' as const;

/** One finding's policy outcome in the JSON report. */
export interface PolicyDecisionJson {
  /** Index into `report.findings`. */
  finding: number;
  id: string;
  purl: string;
  status: FindingStatus;
  reason?: string;
  source?: string;
  kind?: 'vex' | 'ignore';
  vex?: { status: 'not_affected' | 'fixed'; justification?: string; rawStatus?: string };
}

/** The JSON report document. */
export interface ScanResultJson {
  schema: typeof SCAN_RESULT_SCHEMA;
  schemaVersion: 1;
  report: ScanReport;
  policy: {
    imageName: string;
    verdict: 'pass' | 'fail';
    counts: { approved: number; unapproved: number; suppressed: number; filtered: number };
    decisions: PolicyDecisionJson[];
  };
}

/** Builds the JSON document (see the module comment). An empty report has `decisions: []`. */
export function toScanResultJson(ctx: ReportContext): ScanResultJson {
  const decided = decisions(ctx);
  return {
    schema: SCAN_RESULT_SCHEMA,
    schemaVersion: 1,
    report: ctx.report,
    policy: {
      imageName: ctx.imageName,
      verdict: ctx.policy.verdict,
      counts: { approved: ctx.policy.approved.length, unapproved: ctx.policy.unapproved.length, suppressed: ctx.policy.suppressed.length, filtered: ctx.policy.filtered },
      decisions: ctx.report.findings.map((f, i) => {
        const d = decided.get(f) ?? { status: 'filtered' };
        return { finding: i, id: f.id, purl: f.package.purl, ...d };
      }),
    },
  };
}

/** The `json` report format. */
export const jsonFormat: ReportFormat = {
  id: 'json',
  version: 1,
  description: 'Portcullis JSON: the scan report plus the policy decision for each finding',
  mediaType: 'application/json',
  fileExtension: 'json',
  render: (ctx) => `${JSON.stringify(toScanResultJson(ctx), null, 2)}\n`,
};
