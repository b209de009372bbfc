/**
 * The CI gate: from a scan report and a policy to approved / unapproved / suppressed findings and a
 * verdict. Three kinds of rules, applied in this order:
 *
 * 1. View filters drop findings from every list (they are not part of the result at all):
 *    `severities` keeps only the listed severities, `ignoreUnfixed` keeps only findings with a fix.
 * 2. Suppression (VEX `not_affected`/`fixed`, then ignore files) says the finding does not apply; it
 *    is kept aside with its reason for `--show-suppressed` and never fails the gate.
 * 3. Approval (clair-scanner's whitelist, then threshold) accepts a finding that does apply; it is
 *    reported as Approved and does not fail the gate.
 *
 * Everything left is unapproved; the verdict is `fail` when anything is unapproved.
 */
import type { Finding, ScanReport } from '../domain/finding.js';
import type { Severity } from '../domain/severity.js';
import { ignoreMatch, type IgnoreList } from './ignore-file.js';
import { belowThreshold, type Threshold } from './threshold.js';
import { vexSuppression, type VexDocument } from './vex.js';
import { whitelistMatch, type Whitelist } from './whitelist.js';

/** The policy of one gate run; every rule is optional (none: everything is unapproved). */
export interface Policy {
  /** The image name as the user gave it (whitelist `images:` keys and VEX image products match it). */
  imageName: string;
  whitelist?: Whitelist;
  threshold?: Threshold;
  /** Keep only findings of these severities (none given: keep all). */
  severities?: Severity[];
  /** Drop findings without a fixed version. */
  ignoreUnfixed?: boolean;
  vex?: VexDocument | VexDocument[];
  ignore?: IgnoreList | IgnoreList[];
  /** Clock for ignore-file expiry; defaults to now. */
  now?: Date;
}

/** One decision with its reason; `source` names the file or rule that made it. */
export interface PolicyDecision {
  finding: Finding;
  reason: string;
  source: string;
}

/** A finding a VEX statement or ignore rule takes out of the gate. */
export interface SuppressedFinding extends PolicyDecision {
  kind: 'vex' | 'ignore';
  /** VEX only: the status and justification, for reports that carry them (CycloneDX analysis). */
  vex?: { status: 'not_affected' | 'fixed'; justification?: string; rawStatus?: string };
}

/** The gate's outcome; see {@link evaluatePolicy}. */
export interface PolicyResult {
  approved: Finding[];
  unapproved: Finding[];
  suppressed: SuppressedFinding[];
  verdict: 'pass' | 'fail';
  /** Why each approved finding is approved, in the order of `approved`. */
  approvals: PolicyDecision[];
  /** How many findings the view filters (severities, ignoreUnfixed) dropped. */
  filtered: number;
}

function asList<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** True when the finding has a fix to upgrade to. */
function hasFix(finding: Finding): boolean {
  return finding.state === 'fixed' || finding.fixedVersions.length > 0;
}

/**
 * Applies `policy` to `report.findings` (see the module comment for the order). Never throws on
 * data; an empty report passes with empty lists. Findings keep their report order in every list.
 */
export function evaluatePolicy(report: ScanReport, policy: Policy): PolicyResult {
  const vex = asList(policy.vex);
  const ignores = asList(policy.ignore);
  const now = policy.now ?? new Date();
  const severities = policy.severities && policy.severities.length > 0 ? new Set(policy.severities) : undefined;
  const image = {
    name: policy.imageName,
    digests: [report.image.manifestDigest, report.image.indexDigest].filter((d): d is string => d !== undefined),
  };

  const result: PolicyResult = { approved: [], unapproved: [], suppressed: [], verdict: 'pass', approvals: [], filtered: 0 };
  for (const finding of report.findings) {
    if ((severities && !severities.has(finding.severity)) || (policy.ignoreUnfixed && !hasFix(finding))) {
      result.filtered += 1;
      continue;
    }

    const byVex = vexSuppression(vex, finding, image);
    if (byVex) {
      const detail: SuppressedFinding['vex'] = { status: byVex.status };
      if (byVex.statement.justification !== undefined) detail.justification = byVex.statement.justification;
      if (byVex.statement.rawStatus !== undefined) detail.rawStatus = byVex.statement.rawStatus;
      result.suppressed.push({ finding, reason: byVex.reason, source: byVex.document.source, kind: 'vex', vex: detail });
      continue;
    }
    let ignored: SuppressedFinding | undefined;
    for (const list of ignores) {
      const hit = ignoreMatch(list, finding, now);
      if (hit) {
        ignored = { finding, reason: hit.reason, source: hit.rule.line !== undefined ? `${list.source}:${hit.rule.line}` : list.source, kind: 'ignore' };
        break;
      }
    }
    if (ignored) {
      result.suppressed.push(ignored);
      continue;
    }

    const listed = policy.whitelist ? whitelistMatch(policy.whitelist, finding, policy.imageName) : undefined;
    if (listed && policy.whitelist) {
      result.approved.push(finding);
      result.approvals.push({ finding, reason: `whitelisted as ${listed.id}${listed.reason ? `: ${listed.reason}` : ''}`, source: `${policy.whitelist.source} (${listed.scope})` });
      continue;
    }
    if (policy.threshold !== undefined && belowThreshold(finding.severity, policy.threshold)) {
      result.approved.push(finding);
      result.approvals.push({ finding, reason: `${finding.severity} is below the ${policy.threshold} threshold`, source: 'threshold' });
      continue;
    }
    result.unapproved.push(finding);
  }
  result.verdict = result.unapproved.length > 0 ? 'fail' : 'pass';
  return result;
}
