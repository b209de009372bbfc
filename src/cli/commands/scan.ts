import { Command, Option } from 'commander';
import { PortcullisError } from '../../domain/errors.js';
import type { ScanReport } from '../../domain/finding.js';
import { SEVERITIES, type Severity } from '../../domain/severity.js';
import { OS_OWNED_MODES, type OsOwnedMode } from '../../matching/os-owned.js';
import type { Policy, PolicyResult } from '../../policy/evaluate.js';
import { REPORT_FORMAT_IDS } from '../../report/format-ids.js';
import type { ReportFormat, ReportOptions } from '../../report/types.js';
import type { ScanOutcome } from '../../services/scan-service.js';
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

const warn = (message: string): void => {
  process.stderr.write(`portcullis: warning: ${message}\n`);
};

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
      { DEFAULT_OFFLINE_MAX_DB_AGE_HOURS },
      { chooseScanBackend },
      { defaultDbPath },
      { createProgress, progressMode, writeRunSummary },
      { defaultEngineContext },
      { parsePlatform },
    ] = await Promise.all([
      import('../../policy/evaluate.js'),
      import('../../policy/ignore-file.js'),
      import('../../policy/threshold.js'),
      import('../../policy/vex.js'),
      import('../../policy/whitelist.js'),
      import('../../report/registry.js'),
      import('../../services/scan-service.js'),
      import('../../services/image-scan.js'),
      import('../../vulndb/paths.js'),
      import('../progress.js'),
      import('../../engine/context.js'),
      import('../../image/platform.js'),
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
    // A service reads the image itself: no registry credentials are asked for (nor read from standard input).
    const access: ReturnType<typeof imageOptionsFrom> = serverUrl ? { image: {}, credentials: { kind: 'host' } } : imageOptionsFrom(opts);
    // Where the analysis runs, chosen by the use case; the command only says what it was given.
    const backend = chooseScanBackend(reference, {
      // The token comes from the environment only, so it never sits in a command line or a log.
      ...(serverUrl ? { server: { server: serverUrl, token: process.env.PORTCULLIS_TOKEN, timeoutMs: serverTimeoutMs, ...(opts.platform ? { platform: parsePlatform(opts.platform) } : {}) } } : {}),
      ...(clairUrl
        ? {
            clair: {
              clairUrl,
              ip: opts.ip ?? 'localhost',
              image: access.image,
              // Clair's pre-shared-key auth (its `auth.psk` config), from the environment so the key never sits in a command line.
              ...(process.env.CLAIR_PSK ? { psk: { key: process.env.CLAIR_PSK, issuer: process.env.CLAIR_PSK_ISSUER ?? 'portcullis' } } : {}),
            },
          }
        : {}),
      embedded: () => ({
        dbPath: opts.db ?? defaultDbPath(),
        db: { offline: opts.offline === true, maxAgeHours: maxDbAge, quiet: opts.quiet === true, verbose: opts.verbose === true, ...(process.env.PORTCULLIS_FEED_MIRROR ? { mirror: process.env.PORTCULLIS_FEED_MIRROR } : {}) },
        notices: { note: (message) => process.stderr.write(`portcullis: ${message}\n`), warn },
        includeNotAffected: opts.includeNotAffected === true,
        osOwned: opts.osOwned,
        image: access.image,
        cache: opts.cache === false ? false : (opts.cacheDir ?? true),
        concurrency: positiveInt(opts.concurrency, '--concurrency', 3),
      }),
    });
    await backend.prepare(reference);

    const mode = progressMode(opts.quiet === true);
    const progress = createProgress(backend.engineRuns ? mode : 'summary');
    // Ctrl-C cancels cleanly where this process does the work.
    const interrupt = backend.engineRuns ? interruptOnSignals() : undefined;
    let outcomes: ScanOutcome[];
    try {
      const context = defaultEngineContext({ verbose: opts.verbose === true, quiet: opts.quiet === true, credentials: access.credentials, ...(interrupt ? { signal: interrupt.signal } : {}) });
      outcomes = await backend.scan(reference, context, { onLayerProgress: (p) => progress.onProgress(p), onWalkProgress: (p) => progress.onWalk(p) });
    } finally {
      interrupt?.dispose();
      progress.stop();
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
    const readNow = !backend.readImages() ? [] : outcomes.flatMap(({ report }) => (report.inventory ? [report.inventory] : []));
    const warnings = outcomes.flatMap(({ report, warnings: matching }) => [...(report.inventory?.warnings ?? []), ...matching]);
    writeRunSummary(mode, { inventories: readNow, warnings, progress });

    const noFeatures = outcomes.every(({ report }) => report.packageCount === 0);
    if (opts.exitWhenNoFeatures && noFeatures) ctx.exitCode = 5;
    else if (evaluated.some((e) => e.policy.verdict === 'fail')) ctx.exitCode = unapprovedExit;
    else ctx.exitCode = 0;
  });
  return cmd;
}
