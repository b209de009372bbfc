/**
 * SARIF 2.1.0 for code-scanning dashboards (GitHub, GitLab, Azure DevOps). One rule per vulnerability
 * id, one result per finding (package x vulnerability) located at the file the package was read from
 * inside the image. `level` follows the severity (Critical/High error, Medium warning, others note);
 * `properties.security-severity` is the score GitHub turns into its severity badge: the highest CVSS
 * base score when it falls in the severity's band, else a representative score of the band.
 * Suppressed findings (VEX, ignore file) and whitelisted ones are kept as results with a SARIF
 * `suppressions` entry carrying the justification, so dashboards hide them but keep the audit trail.
 * The document is built by hand: it is plain data, and the official schema checks it in the tests.
 */
import { createHash } from 'node:crypto';
import type { Finding } from '../domain/finding.js';
import type { Severity } from '../domain/severity.js';
import { decisions, installedBy, maxCvssScore, shownFindings } from './common.js';
import type { ReportContext, ReportFormat } from './types.js';

type Level = 'error' | 'warning' | 'note';

const LEVEL: Record<Severity, Level> = { Critical: 'error', High: 'error', Medium: 'warning', Low: 'note', Negligible: 'note', Unknown: 'note' };

/** GitHub's bands: critical >= 9.0, high >= 7.0, medium >= 4.0, low > 0. */
const BAND: Record<Severity, [number, number] | undefined> = {
  Critical: [9.0, 10.0],
  High: [7.0, 8.9],
  Medium: [4.0, 6.9],
  Low: [0.1, 3.9],
  Negligible: [0.1, 3.9],
  Unknown: undefined,
};
const REPRESENTATIVE: Record<Severity, number | undefined> = { Critical: 9.5, High: 8.0, Medium: 5.5, Low: 2.0, Negligible: 0.5, Unknown: undefined };

/** The SARIF level of a severity. */
export function sarifLevel(severity: Severity): Level {
  return LEVEL[severity];
}

/** The security-severity score of one finding, or undefined for Unknown severity. */
export function securitySeverity(finding: Pick<Finding, 'severity' | 'ratings'>): number | undefined {
  const band = BAND[finding.severity];
  if (!band) return undefined;
  const score = maxCvssScore(finding);
  if (score !== undefined && score >= band[0] && score <= band[1]) return score;
  return REPRESENTATIVE[finding.severity];
}

/** What a SARIF rule is made of: the advisory side of a finding (a scan's or an aggregated one). */
export type RuleSource = Pick<Finding, 'id' | 'aliases' | 'severity' | 'title' | 'description' | 'links'> & { ratings: Finding['ratings']; package: { name: string; sourceName?: string } };

/**
 * One rule per advisory id over `findings`, in first-seen order, with the highest security-severity
 * of its findings; `ruleIndex` maps an id to its rule's position.
 */
export function sarifRules(findings: readonly RuleSource[]): { rules: Record<string, unknown>[]; ruleIndex: Map<string, number> } {
  const ruleIndex = new Map<string, number>();
  const rules: Record<string, unknown>[] = [];
  const ruleScore: (number | undefined)[] = [];

  for (const f of findings) {
    const score = securitySeverity(f);
    const existing = ruleIndex.get(f.id);
    if (existing !== undefined) {
      const prev = ruleScore[existing];
      if (score !== undefined && (prev === undefined || score > prev)) ruleScore[existing] = score;
      continue;
    }
    ruleIndex.set(f.id, rules.length);
    ruleScore.push(score);
    const summary = f.title ?? `${f.id} in ${f.package.sourceName ?? f.package.name}`;
    const helpLines = [f.description ?? summary, '', ...f.links.map((l) => `- ${l}`)];
    const rule: Record<string, unknown> = {
      id: f.id,
      shortDescription: { text: summary },
      fullDescription: { text: f.description ?? summary },
      help: { text: helpLines.join('\n').trim(), markdown: [`**${f.id}** (${f.severity})`, '', f.description ?? summary, '', ...f.links.map((l) => `- <${l}>`)].join('\n').trim() },
      defaultConfiguration: { level: LEVEL[f.severity] },
      properties: { tags: ['security', 'vulnerability', f.severity.toLowerCase()], precision: 'very-high', aliases: f.aliases },
    };
    const helpUri = f.links.find((l) => /^https?:\/\//.test(l));
    if (helpUri) rule.helpUri = helpUri;
    rules.push(rule);
  }
  rules.forEach((rule, i) => {
    const score = ruleScore[i];
    if (score !== undefined) (rule.properties as Record<string, unknown>)['security-severity'] = score.toFixed(1);
  });
  return { rules, ruleIndex };
}

/** The SARIF 2.1.0 log around one run of Portcullis. */
export function sarifLog(run: { version: string; automationId: string; rules: Record<string, unknown>[]; results: Record<string, unknown>[]; properties: Record<string, unknown> }): Record<string, unknown> {
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'portcullis', version: run.version, informationUri: 'https://portcullis.dev', rules: run.rules } },
        automationDetails: { id: run.automationId },
        results: run.results,
        properties: run.properties,
      },
    ],
  };
}

function fingerprint(f: Finding): string {
  return createHash('sha256').update(`${f.id}\u0000${f.package.purl}\u0000${f.package.path}`).digest('hex');
}

/** Builds the SARIF log object. An empty report gives one run with no rules and no results. */
export function toSarif(ctx: ReportContext): Record<string, unknown> {
  const decided = decisions(ctx);
  const findings = [...shownFindings(ctx), ...ctx.policy.suppressed.map((s) => s.finding)];
  const { rules, ruleIndex } = sarifRules(findings);

  const results = findings.map((f) => {
    const d = decided.get(f);
    const fixed = f.fixedVersions.length > 0 ? ` Fixed in ${f.fixedVersions.join(', ')}.` : ' No fix is available.';
    const owner = installedBy(f.package);
    const result: Record<string, unknown> = {
      ruleId: f.id,
      ruleIndex: ruleIndex.get(f.id),
      level: LEVEL[f.severity],
      message: { text: `Package ${f.package.name} ${f.package.version} is affected by ${f.id} (${f.severity}).${fixed}` },
      locations: [
        {
          physicalLocation: { artifactLocation: { uri: f.package.path }, region: { startLine: 1 } },
          message: { text: `${f.package.ecosystem} package ${f.package.name} ${f.package.version}${owner ? `, ${owner},` : ''} in layer ${f.package.layerIndex} (${f.package.layer})` },
        },
      ],
      partialFingerprints: { 'portcullis/v1': fingerprint(f) },
      properties: {
        purl: f.package.purl,
        installedVersion: f.package.version,
        fixedVersions: f.fixedVersions,
        severity: f.severity,
        namespace: f.namespace,
        layer: f.package.layer,
        ...(f.package.osOwner ? { osOwner: f.package.osOwner } : {}),
        policyStatus: d?.status ?? 'unapproved',
        why: f.why,
      },
    };
    if (d?.status === 'suppressed') {
      result.suppressions = [{ kind: 'external', status: 'accepted', justification: `${d.reason ?? ''} [${d.source ?? ''}]`.trim() }];
    } else if (d?.status === 'approved' && d.source !== 'threshold') {
      result.suppressions = [{ kind: 'external', status: 'accepted', justification: `${d.reason ?? ''} [${d.source ?? ''}]`.trim() }];
    }
    return result;
  });

  return sarifLog({ version: ctx.report.tool.version, automationId: `portcullis/${ctx.imageName}/`, rules, results, properties: { imageName: ctx.imageName, imageDigest: ctx.report.image.manifestDigest, verdict: ctx.policy.verdict } });
}

/** The `sarif` report format. */
export const sarifFormat: ReportFormat = {
  id: 'sarif',
  version: 1,
  description: 'SARIF 2.1.0 for code-scanning dashboards (GitHub security-severity included)',
  mediaType: 'application/sarif+json',
  fileExtension: 'sarif',
  render: (ctx) => `${JSON.stringify(toSarif(ctx), null, 2)}\n`,
};
