import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import { PortcullisError } from '../../domain/errors.js';
import type { ScanReport } from '../../domain/finding.js';
import { SEVERITIES, type Severity } from '../../domain/severity.js';
import { OS_OWNED_MODES, type OsOwnedMode } from '../../matching/matcher.js';
import { evaluatePolicy, type Policy, type PolicyResult } from '../../policy/evaluate.js';
import { loadIgnoreFile } from '../../policy/ignore-file.js';
import { parseThreshold } from '../../policy/threshold.js';
import { loadVex } from '../../policy/vex.js';
import { loadWhitelist } from '../../policy/whitelist.js';
import { getReportFormat, REPORT_FORMATS } from '../../report/registry.js';
import type { ReportOptions } from '../../report/types.js';
import { isOlderThan, scanReference, type ScanOutcome } from '../../services/scan-service.js';
import { defaultDbPath, openVulnDb, updateFeeds } from '../../vulndb/index.js';
import type { RunContext } from '../main.js';
import { addImageOptions, imageOptionsFrom, positiveInt, type ImageCliOptions } from '../options.js';
import { writeOutput } from '../output.js';
import { createProgress } from '../progress.js';

interface ScanOptions extends ImageCliOptions {
  whitelist?: string;
  threshold: string;
  report?: string;
  reportAll: boolean | string;
  quiet?: boolean;
  exitWhenNoFeatures?: boolean;
  clair?: string;
  ip?: string;
  severity?: string;
  ignoreUnfixed?: boolean;
  vex: string[];
  showSuppressed?: boolean;
  why?: boolean;
  includeNotAffected?: boolean;
  osOwned: OsOwnedMode;
  ignoreFile: string[];
  format: string;
  output: string[];
  exitCode: string;
  offline?: boolean;
  maxDbAge?: string;
  db?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Parses `--max-db-age` (`36h`, `7d`, or a number of hours). */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([hd]?)$/i.exec(text.trim());
  if (!m || m[1] === undefined) throw new PortcullisError('E_USAGE', `--max-db-age takes hours or days (e.g. 24h, 7d), got ${JSON.stringify(text)}`);
  const n = Number(m[1]);
  return m[2]?.toLowerCase() === 'd' ? n * 24 : n;
}

function parseSeverities(list: string | undefined): Severity[] | undefined {
  if (list === undefined) return undefined;
  return list.split(',').map((raw) => {
    const found = SEVERITIES.find((s) => s.toLowerCase() === raw.trim().toLowerCase());
    if (!found) throw new PortcullisError('E_USAGE', `--severity: unknown severity ${JSON.stringify(raw)} (one of ${SEVERITIES.join(', ')})`);
    return found;
  });
}

function parseBool(value: boolean | string): boolean {
  if (typeof value === 'boolean') return value;
  if (/^(true|1|yes)$/i.test(value)) return true;
  if (/^(false|0|no)$/i.test(value)) return false;
  throw new PortcullisError('E_USAGE', `expected true or false, got ${JSON.stringify(value)}`);
}

/** `--output FORMAT=FILE` pairs, each format checked against the registry. */
function parseOutputs(values: string[]): { format: string; file: string }[] {
  return values.map((v) => {
    const eq = v.indexOf('=');
    if (eq <= 0 || eq === v.length - 1) throw new PortcullisError('E_USAGE', `--output takes FORMAT=FILE, got ${JSON.stringify(v)}`);
    const format = v.slice(0, eq);
    getReportFormat(format);
    return { format, file: v.slice(eq + 1) };
  });
}

/**
 * Makes sure a usable DB exists before scanning. Offline, a missing or stale DB is an error;
 * online, it is updated from the configured upstreams first.
 */
async function ensureDb(path: string, offline: boolean, maxAgeHours: number | undefined, quiet: boolean): Promise<void> {
  let reason: string | undefined;
  if (!existsSync(path)) reason = 'missing';
  else if (maxAgeHours !== undefined) {
    const db = openVulnDb(path);
    const stale = isOlderThan(db.builtAt, maxAgeHours);
    db.close();
    if (stale) reason = `older than ${maxAgeHours}h`;
  }
  if (reason === undefined) return;
  if (offline) {
    throw new PortcullisError('E_DB', `vulnerability database ${path} is ${reason} and --offline forbids updating it: run \`portcullis db update\` or \`portcullis db import PATH\``, { path });
  }
  if (!quiet) process.stderr.write(`portcullis: vulnerability database ${reason}; updating from the feeds\n`);
  const summary = await updateFeeds({ target: path, ...(process.env.PORTCULLIS_FEED_MIRROR ? { mirror: process.env.PORTCULLIS_FEED_MIRROR } : {}) });
  if (!existsSync(path) || summary.build === undefined) {
    throw new PortcullisError('E_DB', `could not build the vulnerability database at ${path}: ${summary.failed.map((f) => `${f.feed}: ${f.error}`).join('; ')}`, { path });
  }
}

/**
 * `portcullis scan IMAGE`: the CI gate. clair-scanner's flags and meanings (whitelist, threshold,
 * report, reportAll, quiet, exit-when-no-features) plus severity filters, VEX, ignore files and
 * several outputs at once. Exit codes: 0 approved, 1 (or --exit-code) unapproved, 5 no packages
 * with --exit-when-no-features, 2 errors.
 */
export function scanCommand(ctx: RunContext): Command {
  const cmd = new Command('scan')
    .description('scan an image for known vulnerabilities and fail on unapproved ones')
    .argument('<image>', 'registry reference, oci:DIR[:TAG], docker-archive:FILE, dir:PATH, sbom:FILE (CycloneDX) or inventory:FILE')
    .option('-w, --whitelist <file>', 'clair-scanner whitelist YAML (generalwhitelist / images)')
    .option('-t, --threshold <severity>', 'approve findings strictly below this severity (Unknown|Negligible|Low|Medium|High|Critical|Defcon1)', 'Unknown')
    .option('-r, --report <file>', "write clair-scanner's JSON report to this file")
    .option('--all, --reportAll [bool]', 'list approved vulnerabilities too (clair-scanner semantics)', true)
    .option('-q, --quiet', 'no table, no progress: only files and the exit code')
    .option('--exit-when-no-features', 'exit 5 when the image has no packages at all')
    .option('-c, --clair <url>', 'delegate analysis to a Clair v4 server (env CLAIR_URL) instead of the embedded engine')
    .option('--ip <address>', 'address the Clair server reaches this machine on, for layers of local images', 'localhost')
    .option('--severity <list>', 'only report these severities (comma-separated)')
    .option('--ignore-unfixed', 'only report findings that have a fix')
    .option('--vex <file>', 'OpenVEX or CycloneDX VEX document (repeatable)', collect, [])
    .option('--show-suppressed', 'list findings suppressed by VEX or ignore files, with the justification')
    .option('--why', 'show the records and the rule behind each finding')
    .option('--include-not-affected', 'also report (JSON) the statements that cleared packages, with the rule that cleared them')
    .addOption(
      new Option('--os-owned <mode>', 'language packages an OS package installed: distro (its distribution records judge them), report (match as they are), skip (leave them to the OS package)')
        .choices(OS_OWNED_MODES)
        .default('distro'),
    )
    .option('--ignore-file <file>', 'ids to ignore, one per line or YAML (repeatable)', collect, [])
    .addOption(new Option('-f, --format <format>', 'format on standard output').choices(REPORT_FORMATS.map((f) => f.id)).default('table'))
    .option('-o, --output <format=file>', 'also write FORMAT to FILE (repeatable)', collect, [])
    .option('--exit-code <n>', 'exit code when unapproved vulnerabilities are found', '1')
    .option('--offline', 'never touch the network for feeds; fail when the DB is missing or too old')
    .option('--max-db-age <duration>', 'refuse (offline) or update (online) a DB older than this (e.g. 24h, 7d)')
    .option('--db <file>', 'vulnerability DB (default: $PORTCULLIS_DB or ~/.cache/portcullis/vuln.db)');
  addImageOptions(cmd);
  cmd.action(async (reference: string, opts: ScanOptions) => {
    // Validate every input file before any image is read, so a typo fails in milliseconds.
    const threshold = parseThreshold(opts.threshold);
    const severities = parseSeverities(opts.severity);
    const whitelist = opts.whitelist ? loadWhitelist(opts.whitelist) : undefined;
    const vex = opts.vex.map((f) => loadVex(f));
    const ignore = opts.ignoreFile.map((f) => loadIgnoreFile(f));
    const outputs = parseOutputs(opts.output);
    const unapprovedExit = positiveInt(opts.exitCode, '--exit-code', 1);
    const reportAll = parseBool(opts.reportAll);
    const maxDbAge = opts.maxDbAge !== undefined ? parseDuration(opts.maxDbAge) : undefined;
    const clairUrl = opts.clair ?? process.env.CLAIR_URL;

    let outcomes: ScanOutcome[];
    if (clairUrl) {
      const { scanWithClair } = await import('../../services/clair-scan.js');
      // Clair's pre-shared-key auth (its `auth.psk` config), from the environment so the key never sits in a command line.
      const psk = process.env.CLAIR_PSK ? { key: process.env.CLAIR_PSK, issuer: process.env.CLAIR_PSK_ISSUER ?? 'portcullis' } : undefined;
      outcomes = await scanWithClair({ reference, clairUrl, ip: opts.ip ?? 'localhost', image: imageOptionsFrom(opts), ...(psk ? { clair: { psk } } : {}) });
    } else {
      const dbPath = opts.db ?? defaultDbPath();
      await ensureDb(dbPath, opts.offline === true, maxDbAge, opts.quiet === true);
      const progress = createProgress(!opts.quiet);
      try {
        outcomes = await scanReference({
          reference,
          dbPath,
          includeNotAffected: opts.includeNotAffected === true,
          osOwned: opts.osOwned,
          image: { ...imageOptionsFrom(opts), onProgress: (p) => progress.onProgress(p) },
          cache: opts.cache === false ? false : (opts.cacheDir ?? true),
          concurrency: positiveInt(opts.concurrency, '--concurrency', 3),
        });
      } finally {
        progress.stop();
      }
    }

    const reportOptions: ReportOptions = {
      color: process.stdout.isTTY === true,
      showWhy: opts.why === true,
      showSuppressed: opts.showSuppressed === true,
      reportAll,
    };
    const evaluated = outcomes.map(({ report }) => {
      const policy: Policy = {
        imageName: reference,
        threshold,
        ...(whitelist ? { whitelist } : {}),
        ...(severities ? { severities } : {}),
        ...(opts.ignoreUnfixed ? { ignoreUnfixed: true } : {}),
        vex,
        ignore,
      };
      return { report, policy: evaluatePolicy(report, policy) };
    });
    if (evaluated.length > 1 && (opts.format !== 'table' || outputs.length > 0 || opts.report)) {
      throw new PortcullisError('E_USAGE', 'scan: machine-readable reports hold one image; choose one platform with --platform os/arch');
    }
    const render = (format: string, report: ScanReport, policy: PolicyResult): string =>
      getReportFormat(format).render({ report, policy, imageName: reference, options: format === 'table' ? reportOptions : { ...reportOptions, color: false } });

    for (const { report, policy } of evaluated) {
      if (opts.report) await writeOutput(opts.report, render('clair-scanner', report, policy));
      for (const o of outputs) await writeOutput(o.file, render(o.format, report, policy));
      if (!(opts.quiet && opts.format === 'table')) await writeOutput(undefined, render(opts.format, report, policy));
    }
    for (const { warnings } of outcomes) {
      if (!opts.quiet) for (const w of warnings) process.stderr.write(`portcullis: warning: ${w.message}\n`);
    }

    const noFeatures = outcomes.every(({ report }) => report.packageCount === 0);
    if (opts.exitWhenNoFeatures && noFeatures) ctx.exitCode = 5;
    else if (evaluated.some((e) => e.policy.verdict === 'fail')) ctx.exitCode = unapprovedExit;
    else ctx.exitCode = 0;
  });
  return cmd;
}
