/**
 * JUnit XML for CI test dashboards (Jenkins, GitLab, Azure DevOps, CircleCI): one testsuite per
 * image, one testcase per package (default: every package of the inventory, failing when it has an
 * unapproved vulnerability) or per finding (failing when unapproved, skipped when suppressed).
 *
 * The XML is written here: the structure is fixed and tiny, and the part that matters, escaping, is
 * done explicitly, including dropping the characters XML 1.0 forbids (control characters in advisory
 * texts would otherwise make the whole file unparsable). The tests parse the output with a real parser.
 */
import type { Finding } from '../domain/finding.js';
import { bySeverityThenId, decisions, installedBy, packageKey, shownFindings, whyText } from './common.js';
import type { ReportContext, ReportFormat } from './types.js';

// Characters outside XML 1.0's Char production (and lone surrogates); listing the allowed control
// characters (tab, LF, CR) is the point of this expression.
// eslint-disable-next-line no-control-regex
const INVALID_XML = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Escapes text content: `&`, `<`, `>`; drops characters XML 1.0 cannot carry. */
export function xmlText(value: string): string {
  return value.replace(INVALID_XML, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escapes an attribute value (double-quoted); newlines and tabs are kept as character references. */
export function xmlAttr(value: string): string {
  return xmlText(value).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

function attrs(pairs: [string, string | number][]): string {
  return pairs.map(([k, v]) => ` ${k}="${xmlAttr(String(v))}"`).join('');
}

interface Case {
  name: string;
  failure?: { message: string; body: string };
  skipped?: string;
  out?: string;
}

function describeFinding(f: Finding): string {
  const fix = f.fixedVersions.length > 0 ? `fixed in ${f.fixedVersions.join(', ')}` : 'no fix';
  const owner = installedBy(f.package);
  return `${f.id} (${f.severity}) in ${f.package.name} ${f.package.version}${owner ? ` (${owner})` : ''}, ${fix}${f.links[0] ? ` - ${f.links[0]}` : ''}`;
}

/** Renders the JUnit XML document (see the module comment). */
export function renderJunit(ctx: ReportContext): string {
  const decided = decisions(ctx);
  const granularity = ctx.options?.junitGranularity ?? 'package';
  const cases: Case[] = [];

  if (granularity === 'finding') {
    for (const f of [...shownFindings(ctx), ...ctx.policy.suppressed.map((s) => s.finding)]) {
      const d = decided.get(f);
      const c: Case = { name: `${f.id} ${f.package.name} ${f.package.version} (${f.package.path})` };
      if (d?.status === 'unapproved') c.failure = { message: `${f.severity} ${f.id} in ${f.package.name} ${f.package.version}`, body: [describeFinding(f), f.description ?? '', `why: ${whyText(f)}`].filter((x) => x !== '').join('\n') };
      else if (d?.status === 'suppressed') c.skipped = `suppressed: ${d.reason ?? ''} [${d.source ?? ''}]`;
      else if (d?.status === 'approved') c.out = `approved: ${d.reason ?? ''} [${d.source ?? ''}]`;
      cases.push(c);
    }
  } else {
    const byPackage = new Map<string, { pkg: Finding['package'] | { name: string; version: string; path: string }; findings: Finding[] }>();
    for (const p of ctx.report.inventory?.packages ?? []) byPackage.set(packageKey(p), { pkg: p, findings: [] });
    for (const f of [...shownFindings(ctx), ...ctx.policy.suppressed.map((s) => s.finding)]) {
      const key = packageKey(f.package);
      const entry = byPackage.get(key);
      if (entry) entry.findings.push(f);
      else byPackage.set(key, { pkg: f.package, findings: [f] });
    }
    for (const { pkg, findings } of byPackage.values()) {
      const c: Case = { name: `${pkg.name} ${pkg.version} (${pkg.path})` };
      const unapproved = findings.filter((f) => decided.get(f)?.status === 'unapproved').sort(bySeverityThenId);
      if (unapproved.length > 0) {
        c.failure = { message: `${unapproved.length} unapproved ${unapproved.length === 1 ? 'vulnerability' : 'vulnerabilities'}: ${unapproved.map((f) => `${f.id} (${f.severity})`).join(', ')}`, body: unapproved.map(describeFinding).join('\n') };
      }
      const others = findings.filter((f) => decided.get(f)?.status !== 'unapproved');
      if (others.length > 0) c.out = others.map((f) => `${decided.get(f)?.status ?? ''}: ${describeFinding(f)}: ${decided.get(f)?.reason ?? ''}`).join('\n');
      cases.push(c);
    }
  }

  const failures = cases.filter((c) => c.failure).length;
  const skipped = cases.filter((c) => c.skipped !== undefined).length;
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  lines.push(`<testsuites${attrs([['name', 'portcullis'], ['tests', cases.length], ['failures', failures], ['errors', 0], ['skipped', skipped], ['time', 0]])}>`);
  lines.push(`  <testsuite${attrs([['name', ctx.imageName], ['tests', cases.length], ['failures', failures], ['errors', 0], ['skipped', skipped], ['time', 0], ['timestamp', ctx.report.createdAt.replace(/Z$/, '')]])}>`);
  lines.push('    <properties>');
  const props: [string, string][] = [['verdict', ctx.policy.verdict], ['image.digest', ctx.report.image.manifestDigest ?? ''], ['portcullis.version', ctx.report.tool.version]];
  for (const [name, value] of props) lines.push(`      <property${attrs([['name', name], ['value', value]])}/>`);
  lines.push('    </properties>');
  for (const c of cases) {
    const open = `    <testcase${attrs([['classname', ctx.imageName], ['name', c.name], ['time', 0]])}`;
    if (!c.failure && c.skipped === undefined && c.out === undefined) {
      lines.push(`${open}/>`);
      continue;
    }
    lines.push(`${open}>`);
    if (c.failure) lines.push(`      <failure${attrs([['message', c.failure.message], ['type', 'vulnerability']])}>${xmlText(c.failure.body)}</failure>`);
    if (c.skipped !== undefined) lines.push(`      <skipped${attrs([['message', c.skipped]])}/>`);
    if (c.out !== undefined) lines.push(`      <system-out>${xmlText(c.out)}</system-out>`);
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>');
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}

/** The `junit` report format. */
export const junitFormat: ReportFormat = {
  id: 'junit',
  version: 1,
  description: 'JUnit XML: one testsuite per image, a testcase per package (or per finding)',
  mediaType: 'application/xml',
  fileExtension: 'xml',
  render: renderJunit,
};
