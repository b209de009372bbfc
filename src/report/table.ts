/**
 * The table for people. Rows are grouped by package instance (package name, installed version and
 * location, the file the package was read from, printed on the group's first row only), groups
 * ordered by their most severe finding; one package found in several files (a Go module linked into
 * four binaries) is one group per file, the groups adjacent and the name and version printed once,
 * so the rows say where each copy is instead of repeating themselves. Each row carries the
 * clair-scanner style status (Approved / Unapproved), severity, fixed version and state, and with
 * `showWhy` the version rule that matched. A summary line counts findings per severity and gives the
 * verdict. Colours only when `color: true` (the CLI passes isTTY), so files and pipes stay plain.
 * The layout is written here rather than with a table library: it is a handful of padded columns.
 */
import type { Finding } from '../domain/finding.js';
import { severityRank, type Severity } from '../domain/severity.js';
import { bySeverityThenId, decisions, packageKey, severityCounts, shownFindings, whyText, type FindingDecision } from './common.js';
import type { ReportContext, ReportFormat } from './types.js';

const ANSI = {
  reset: '\u001b[0m',
  bold: '\u001b[1m',
  dim: '\u001b[2m',
  red: '\u001b[31m',
  green: '\u001b[32m',
  yellow: '\u001b[33m',
  blue: '\u001b[34m',
  magenta: '\u001b[35m',
} as const;

const SEVERITY_STYLE: Record<Severity, string> = {
  Critical: ANSI.bold + ANSI.magenta,
  High: ANSI.red,
  Medium: ANSI.yellow,
  Low: ANSI.blue,
  Negligible: ANSI.dim,
  Unknown: ANSI.dim,
};

type Cell = { text: string; style?: string };

function statusLabel(d: FindingDecision | undefined): Cell {
  if (d?.status === 'approved') return { text: 'Approved', style: ANSI.green };
  if (d?.status === 'suppressed') return { text: 'Suppressed', style: ANSI.dim };
  return { text: 'Unapproved', style: ANSI.red };
}

function stateLabel(f: Finding): string {
  if (f.state === 'fixed') return 'fixed';
  return f.vendorStatus ? `unfixed (${f.vendorStatus})` : f.state.replace('_', ' ');
}

function renderRows(header: string[], rows: Cell[][], color: boolean): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.text.length ?? 0)));
  const line = (cells: Cell[]): string =>
    cells
      .map((c, i) => {
        const padded = i === cells.length - 1 ? c.text : c.text.padEnd(widths[i] ?? 0);
        return color && c.style && c.text !== '' ? `${c.style}${padded}${ANSI.reset}` : padded;
      })
      .join('  ')
      .trimEnd();
  return [line(header.map((h) => ({ text: h, style: ANSI.bold }))), ...rows.map(line)];
}

/**
 * Where a package was found: the image path of the file it was read from, and for a language
 * package an OS package installed, that package: `/usr/lib/python3/.../PKG-INFO (deb python3-requests)`.
 */
function location(p: Finding['package']): string {
  const path = p.path === '' ? '' : `/${p.path}`;
  if (p.osOwner === undefined) return path;
  const owner = `(${p.osOwner.ecosystem} ${p.osOwner.name})`;
  return path === '' ? owner : `${path} ${owner}`;
}

/** `1 vulnerability`, `2 vulnerabilities`. */
function count(n: number, singular: string, plural: string): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

/**
 * Groups findings by package instance (package and file), groups ordered by their most severe
 * finding, then name, version and location, so the copies of one package stay adjacent.
 */
function groupByPackage(findings: Finding[]): Finding[][] {
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    const key = packageKey(f.package);
    const g = groups.get(key);
    if (g) g.push(f);
    else groups.set(key, [f]);
  }
  const list = [...groups.values()].map((g) => g.sort(bySeverityThenId));
  return list.sort((a, b) => {
    const sa = severityRank(a[0]?.severity ?? 'Unknown');
    const sb = severityRank(b[0]?.severity ?? 'Unknown');
    const pa = a[0]?.package;
    const pb = b[0]?.package;
    return sb - sa || (pa?.name ?? '').localeCompare(pb?.name ?? '') || (pa?.version ?? '').localeCompare(pb?.version ?? '') || (pa?.path ?? '').localeCompare(pb?.path ?? '');
  });
}

/** Renders the table (see the module comment). Ends with a newline. */
export function renderTable(ctx: ReportContext): string {
  const color = ctx.options?.color === true;
  const reportAll = ctx.options?.reportAll !== false;
  const showWhy = ctx.options?.showWhy === true;
  const decided = decisions(ctx);
  const shown = shownFindings(ctx);
  const listed = reportAll ? shown : shown.filter((f) => decided.get(f)?.status === 'unapproved');
  const paint = (style: string, text: string): string => (color ? `${style}${text}${ANSI.reset}` : text);

  const out: string[] = [];
  const distro = ctx.report.distro ? ` (${ctx.report.distro.prettyName ?? `${ctx.report.distro.id} ${ctx.report.distro.versionId ?? ''}`.trim()})` : '';
  out.push(`${paint(ANSI.bold, ctx.imageName)}${distro}: ${count(ctx.report.packageCount, 'package', 'packages')}, ${count(shown.length, 'vulnerability', 'vulnerabilities')}`);
  out.push('');

  if (listed.length === 0) {
    out.push(shown.length === 0 ? 'No vulnerabilities found.' : 'No unapproved vulnerabilities.');
  } else {
    const header = ['PACKAGE', 'INSTALLED', 'LOCATION', 'VULNERABILITY', 'SEVERITY', 'STATUS', 'FIXED IN', 'STATE'];
    if (showWhy) header.push('WHY');
    const rows: Cell[][] = [];
    let previous: Finding['package'] | undefined;
    for (const group of groupByPackage(listed)) {
      const first = group[0]?.package;
      // Another copy of the package just listed: its name and version are already on screen.
      const sameAsPrevious = first !== undefined && previous !== undefined && first.name === previous.name && first.version === previous.version;
      previous = first;
      group.forEach((f, i) => {
        const row: Cell[] = [
          { text: i === 0 && !sameAsPrevious ? f.package.name : '' },
          { text: i === 0 && !sameAsPrevious ? f.package.version : '' },
          { text: i === 0 ? location(f.package) : '' },
          { text: f.id },
          { text: f.severity, style: SEVERITY_STYLE[f.severity] },
          statusLabel(decided.get(f)),
          { text: f.fixedVersions.join(', ') },
          { text: stateLabel(f) },
        ];
        if (showWhy) row.push({ text: whyText(f) });
        rows.push(row);
      });
    }
    out.push(...renderRows(header, rows, color));
  }

  const suppressed = ctx.policy.suppressed;
  if (ctx.options?.showSuppressed && suppressed.length > 0) {
    out.push('', paint(ANSI.bold, `Suppressed (${suppressed.length}):`));
    for (const s of suppressed) {
      out.push(`  ${s.finding.id}  ${s.finding.package.name} ${s.finding.package.version}  ${s.reason}  [${s.source}]`);
    }
  }

  const counts = severityCounts(shown)
    .map(([sev, n]) => (n > 0 ? paint(SEVERITY_STYLE[sev], `${sev} ${n}`) : `${sev} ${n}`))
    .join(', ');
  const verdict = ctx.policy.verdict === 'pass' ? paint(ANSI.bold + ANSI.green, 'PASS') : paint(ANSI.bold + ANSI.red, 'FAIL');
  out.push('');
  out.push(`Total: ${shown.length} (${counts}); unapproved ${ctx.policy.unapproved.length}, approved ${ctx.policy.approved.length}, suppressed ${suppressed.length}. Verdict: ${verdict}`);
  return `${out.join('\n')}\n`;
}

/** The `table` report format. */
export const tableFormat: ReportFormat = {
  id: 'table',
  version: 1,
  description: 'Human-readable table grouped by package, with a summary and the verdict',
  mediaType: 'text/plain',
  fileExtension: 'txt',
  render: renderTable,
};
