/** Helpers shared by the report formats. */
import type { Finding } from '../domain/finding.js';
import { describeOwner } from '../domain/package.js';
import { severityRank, SEVERITIES, type Severity } from '../domain/severity.js';
import type { ReportContext } from './types.js';

export type FindingStatus = 'approved' | 'unapproved' | 'suppressed' | 'filtered';

export interface FindingDecision {
  status: FindingStatus;
  reason?: string;
  source?: string;
  /** For suppressed findings: how (VEX or ignore file) and, for VEX, the status/justification. */
  kind?: 'vex' | 'ignore';
  vex?: { status: 'not_affected' | 'fixed'; justification?: string; rawStatus?: string };
}

/**
 * The policy decision for each finding of the report, by object identity. Findings the view filters
 * dropped (severity filter, ignore-unfixed) are `filtered`.
 */
export function decisions(ctx: ReportContext): Map<Finding, FindingDecision> {
  const out = new Map<Finding, FindingDecision>();
  for (const f of ctx.report.findings) out.set(f, { status: 'filtered' });
  for (const f of ctx.policy.unapproved) out.set(f, { status: 'unapproved' });
  ctx.policy.approved.forEach((f, i) => {
    const a = ctx.policy.approvals[i];
    out.set(f, a && a.finding === f ? { status: 'approved', reason: a.reason, source: a.source } : { status: 'approved' });
  });
  for (const s of ctx.policy.suppressed) {
    const d: FindingDecision = { status: 'suppressed', reason: s.reason, source: s.source, kind: s.kind };
    if (s.vex) d.vex = s.vex;
    out.set(s.finding, d);
  }
  return out;
}

/** Findings that are shown (approved + unapproved), in report order. */
export function shownFindings(ctx: ReportContext): Finding[] {
  const shown = new Set<Finding>([...ctx.policy.approved, ...ctx.policy.unapproved]);
  return ctx.report.findings.filter((f) => shown.has(f));
}

/** Counts per severity, most severe first, every severity present (zeros included). */
export function severityCounts(findings: readonly Finding[]): [Severity, number][] {
  return [...SEVERITIES].reverse().map((s): [Severity, number] => [s, findings.filter((f) => f.severity === s).length]);
}

/** Most severe first, then id. */
export function bySeverityThenId(a: Finding, b: Finding): number {
  return severityRank(b.severity) - severityRank(a.severity) || a.id.localeCompare(b.id);
}

/** A key identifying the package instance a finding is about. */
export function packageKey(p: Finding['package']): string {
  return `${p.purl}\u0000${p.path}\u0000${p.layerIndex}`;
}

/**
 * `installed by deb python3-requests 2.28.1+dfsg-1 (source requests)` for a language package an OS
 * package installed; undefined for any other package.
 */
export function installedBy(p: Finding['package']): string | undefined {
  return p.osOwner ? `installed by ${describeOwner(p.osOwner)}` : undefined;
}

/** The version rule of a finding, and for an OS-owned language package what the distribution said. */
export function whyText(f: Finding): string {
  return f.why.distro ? `${f.why.rule}; distro: ${f.why.distro}` : f.why.rule;
}

/** Highest CVSS base score among the finding's ratings, if any. */
export function maxCvssScore(finding: Pick<Finding, 'ratings'>): number | undefined {
  let best: number | undefined;
  for (const r of finding.ratings) {
    if (r.type === 'vendor' || r.score === undefined) continue;
    if (best === undefined || r.score > best) best = r.score;
  }
  return best;
}
