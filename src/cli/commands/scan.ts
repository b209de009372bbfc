import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import { isPortcullisError, PortcullisError } from '../../domain/errors.js';
import type { ScanReport } from '../../domain/finding.js';
import { SEVERITIES, type Severity } from '../../domain/severity.js';
import { OS_OWNED_MODES, type OsOwnedMode } from '../../matching/os-owned.js';
import type { Policy, PolicyResult } from '../../policy/evaluate.js';
import { REPORT_FORMAT_IDS } from '../../report/format-ids.js';
import type { ReportFormat, ReportOptions } from '../../report/types.js';
import type { DbAgeCheck, ScanOutcome } from '../../services/scan-service.js';
import { feedFailureLines } from '../../vulndb/describe.js';
import type { FeedFailure, UpdateSummary } from '../../vulndb/index.js';
import type { RunContext } from '../run-context.js';
import { addImageOptions, imageOptionsFrom, positiveInt, type ImageCliOptions } from '../options.js';
import { writeOutput } from '../output.js';
import { interruptOnSignals } from '../interrupt.js';

interface ScanOptions extends ImageCliOptions {
  whitelist?: string;
  threshold: string;
  report?: string;
  reportAll: boolean | string;
  quiet?: boolean;
  exitWhenNoFeatures?: boolean;
  clair?: string;
  server?: string;
  timeout: string;
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
  verbose?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/**
 * Parses `--exit-code`: a process exit status, 0 to 255. 0 makes the gate report-only (it then fails
 * only on errors, exit 2); larger values would wrap modulo 256 in the shell, so they are refused.
 */
export function parseExitCode(text: string): number {
  const trimmed = text.trim();
  const code = /^\d{1,3}$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!(code >= 0 && code <= 255)) throw new PortcullisError('E_USAGE', `--exit-code must be an integer from 0 to 255, got ${JSON.stringify(text)}`);
  return code;
}

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
function parseOutputs(values: string[], getReportFormat: (id: string) => ReportFormat): { format: string; file: string }[] {
  return values.map((v) => {
    const eq = v.indexOf('=');
    if (eq <= 0 || eq === v.length - 1) throw new PortcullisError('E_USAGE', `--output takes FORMAT=FILE, got ${JSON.stringify(v)}`);
    const format = v.slice(0, eq);
    getReportFormat(format);
    return { format, file: v.slice(eq + 1) };
  });
}

/** How `ensureDb` may get a DB and what it may say. */
interface DbPolicy {
  offline: boolean;
  /** Age limit of the DB's data in hours (see checkDbAge); undefined: any age. */
  maxAgeHours: number | undefined;
  quiet: boolean;
  verbose: boolean;
}

const warn = (message: string): void => {
  process.stderr.write(`portcullis: warning: ${message}\n`);
};

/**
 * Makes sure a usable DB exists before scanning. Offline, a missing DB or one whose data is older
 * than the limit is an error; online, it is updated from the configured upstreams first. A DB old
 * enough to pass but holding stale live feeds gets a warning per feed.
 */
async function ensureDb(path: string, policy: DbPolicy): Promise<void> {
  const [{ openVulnDb }, { checkDbAge, dbTooOldError, dbUnavailableError, describeDbAge, staleFeedWarnings }] = await Promise.all([
    import('../../vulndb/open.js'),
    import('../../services/scan-service.js'),
  ]);
  const check = (): DbAgeCheck | undefined => {
    if (policy.maxAgeHours === undefined) return undefined;
    const db = openVulnDb(path);
    try {
      return checkDbAge(db, policy.maxAgeHours);
    } finally {
      db.close();
    }
  };
  const missing = !existsSync(path);
  let age = missing ? undefined : check();
  if (!missing && age?.tooOld !== true) {
    if (age && !policy.quiet) staleFeedWarnings(age).forEach(warn);
    return;
  }
  if (policy.offline) {
    if (missing) throw dbUnavailableError(path, `no vulnerability database at ${path}, and --offline forbids building one`);
    if (age) throw dbTooOldError(path, age);
  }
  if (!policy.quiet) process.stderr.write(`portcullis: ${missing ? 'vulnerability database missing' : `vulnerability data ${age ? describeDbAge(age.freshness) : 'too old'}`}; updating from the feeds\n`);
  let summary: UpdateSummary | undefined;
  let failed: FeedFailure[];
  try {
    // The feed fetchers and parsers load only when the DB must be built or updated.
    const { updateFeeds } = await import('../../vulndb/update.js');
    summary = await updateFeeds({ target: path, ...(process.env.PORTCULLIS_FEED_MIRROR ? { mirror: process.env.PORTCULLIS_FEED_MIRROR } : {}) });
    failed = summary.failed;
  } catch (err) {
    // Every feed failed: updateFeeds lists them all in one line; the details carry them one by one.
    if (!isPortcullisError(err, 'E_FEED') || !Array.isArray(err.details.failed)) throw err;
    failed = err.details.failed as FeedFailure[];
  }
  if (policy.verbose && failed.length > 0) for (const line of feedFailureLines(failed)) process.stderr.write(`portcullis: feed ${line}\n`);
  if (summary?.build === undefined || !existsSync(path)) {
    const hint = policy.verbose ? '' : ' (--verbose lists why)';
    const fetched = `none of the ${failed.length} feeds could be fetched`;
    throw dbUnavailableError(path, missing ? `no vulnerability database at ${path}, and ${fetched} to build one${hint}` : `vulnerability data in ${path} is too old, and ${fetched} to update it${hint}`, failed);
  }
  if (failed.length > 0 && !policy.quiet) warn(`${failed.length} feed(s) could not be updated and kept their previous data: ${failed.map((f) => f.feed).join(', ')}${policy.verbose ? '' : ' (--verbose lists why)'}`);
  age = check();
  if (age && !policy.quiet) staleFeedWarnings(age).forEach(warn);
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
    .option('--server <url>', 'ask this Portcullis service for the results of IMAGE, an image of its registry (env PORTCULLIS_SERVER; token from PORTCULLIS_TOKEN)')
    .option('--timeout <seconds>', 'with --server: how long to wait for the service to finish scanning', '600')
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
    .addOption(new Option('-f, --format <format>', 'format on standard output').choices(REPORT_FORMAT_IDS).default('table'))
    .option('-o, --output <format=file>', 'also write FORMAT to FILE (repeatable)', collect, [])
    .option('--exit-code <n>', 'exit code (0-255) when unapproved vulnerabilities are found; 0 reports without failing', '1')
    .option('--offline', 'never touch the network for feeds; fail when the DB is missing or its data older than --max-db-age (default 7d offline)')
    .option('--max-db-age <duration>', 'refuse (offline) or update (online) a DB whose data is older than this (e.g. 24h, 7d); age = that of its freshest live feed')
    .option('--verbose', 'say why each feed failed when the DB could not be built or updated, and log the engine steps (image, layers, matching) on stderr')
    .option('--db <file>', 'vulnerability DB (default: $PORTCULLIS_DB or ~/.cache/portcullis/vuln.db)');
  addImageOptions(cmd);
  cmd.action(async (reference: string, opts: ScanOptions) => {
    // The engine, policy and report code load only when a scan runs, so `--help` starts fast.
    const [
      { evaluatePolicy },
      { loadIgnoreFile },
      { parseThreshold },
      { loadVex },
      { loadWhitelist },
      { getReportFormat },
      { DEFAULT_OFFLINE_MAX_DB_AGE_HOURS, readStoredInventory, scanReference },
      { defaultDbPath },
      { createProgress, progressMode, writeRunSummary },
    ] = await Promise.all([
      import('../../policy/evaluate.js'),
      import('../../policy/ignore-file.js'),
      import('../../policy/threshold.js'),
      import('../../policy/vex.js'),
      import('../../policy/whitelist.js'),
      import('../../report/registry.js'),
      import('../../services/scan-service.js'),
      import('../../vulndb/paths.js'),
      import('../progress.js'),
    ]);
    // Validate every input file before any image is read, so a typo fails in milliseconds.
    const threshold = parseThreshold(opts.threshold);
    const severities = parseSeverities(opts.severity);
    const whitelist = opts.whitelist ? loadWhitelist(opts.whitelist) : undefined;
    const vex = opts.vex.map((f) => loadVex(f));
    const ignore = opts.ignoreFile.map((f) => loadIgnoreFile(f));
    const outputs = parseOutputs(opts.output, getReportFormat);
    const unapprovedExit = parseExitCode(opts.exitCode);
    const reportAll = parseBool(opts.reportAll);
    const maxDbAge = opts.maxDbAge !== undefined ? parseDuration(opts.maxDbAge) : opts.offline ? DEFAULT_OFFLINE_MAX_DB_AGE_HOURS : undefined;
    const clairUrl = opts.clair ?? process.env.CLAIR_URL;
    const serverUrl = opts.server ?? (process.env.PORTCULLIS_SERVER || undefined);
    const serverTimeoutMs = positiveInt(opts.timeout, '--timeout', 600) * 1000;
    if (serverUrl && clairUrl) throw new PortcullisError('E_USAGE', 'scan: --server and --clair (or PORTCULLIS_SERVER and CLAIR_URL) each name where the analysis runs; choose one');
    if (serverUrl && /^(sbom|inventory|oci|oci-archive|docker-archive|dir):/.test(reference)) {
      throw new PortcullisError('E_USAGE', `scan: with --server, IMAGE is an image of the service's registry (repo:tag or host:port/repo:tag), not ${reference.slice(0, reference.indexOf(':'))}:`);
    }
    // A broken sbom:/inventory: file is reported before the DB is checked (or updated for minutes).
    const stored = clairUrl || serverUrl ? undefined : await readStoredInventory(reference);

    const mode = progressMode(opts.quiet === true);
    const progress = createProgress(clairUrl || serverUrl ? 'summary' : mode);
    let outcomes: ScanOutcome[];
    if (serverUrl) {
      const [{ scanWithServer }, { parsePlatform }] = await Promise.all([import('../../services/server-scan.js'), import('../../image/platform.js')]);
      // The token comes from the environment only, so it never sits in a command line or a log.
      outcomes = await scanWithServer({ server: serverUrl, image: reference, token: process.env.PORTCULLIS_TOKEN, timeoutMs: serverTimeoutMs, ...(opts.platform ? { platform: parsePlatform(opts.platform) } : {}) });
    } else if (clairUrl) {
      const { scanWithClair } = await import('../../services/clair-scan.js');
      // Clair's pre-shared-key auth (its `auth.psk` config), from the environment so the key never sits in a command line.
      const psk = process.env.CLAIR_PSK ? { key: process.env.CLAIR_PSK, issuer: process.env.CLAIR_PSK_ISSUER ?? 'portcullis' } : undefined;
      const [{ defaultEngineContext }, access] = [await import('../../engine/context.js'), imageOptionsFrom(opts)];
      outcomes = await scanWithClair({
        reference,
        clairUrl,
        ip: opts.ip ?? 'localhost',
        image: access.image,
        context: defaultEngineContext({ verbose: opts.verbose === true, quiet: opts.quiet === true, credentials: access.credentials }),
        ...(psk ? { clair: { psk } } : {}),
      });
    } else {
      const dbPath = opts.db ?? defaultDbPath();
      await ensureDb(dbPath, { offline: opts.offline === true, maxAgeHours: maxDbAge, quiet: opts.quiet === true, verbose: opts.verbose === true });
      const [{ defaultEngineContext }, access] = [await import('../../engine/context.js'), imageOptionsFrom(opts)];
      const interrupt = interruptOnSignals();
      try {
        outcomes = await scanReference({
          reference,
          dbPath,
          ...(stored ? { stored } : {}),
          includeNotAffected: opts.includeNotAffected === true,
          osOwned: opts.osOwned,
          image: { ...access.image, onProgress: (p) => progress.onProgress(p) },
          context: defaultEngineContext({ verbose: opts.verbose === true, quiet: opts.quiet === true, credentials: access.credentials, signal: interrupt.signal }),
          onWalkProgress: (p) => progress.onWalk(p),
          cache: opts.cache === false ? false : (opts.cacheDir ?? true),
          concurrency: positiveInt(opts.concurrency, '--concurrency', 3),
        });
      } finally {
        interrupt.dispose();
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
    // A summary line only for images read in this run; a stored inventory's warnings are still its own.
    const readNow = clairUrl || serverUrl || stored ? [] : outcomes.flatMap(({ report }) => (report.inventory ? [report.inventory] : []));
    const warnings = outcomes.flatMap(({ report, warnings: matching }) => [...(report.inventory?.warnings ?? []), ...matching]);
    writeRunSummary(mode, { inventories: readNow, warnings, progress });

    const noFeatures = outcomes.every(({ report }) => report.packageCount === 0);
    if (opts.exitWhenNoFeatures && noFeatures) ctx.exitCode = 5;
    else if (evaluated.some((e) => e.policy.verdict === 'fail')) ctx.exitCode = unapprovedExit;
    else ctx.exitCode = 0;
  });
  return cmd;
}
