import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { readFile } from 'node:fs/promises';
import { PortcullisError } from '../domain/errors.js';
import { SCAN_REPORT_SCHEMA_VERSION, type ScanReport } from '../domain/finding.js';
import { parseInventory, type Inventory } from '../domain/inventory.js';
import type { ScanWarning } from '../domain/warning.js';
import { matchInventory, type AdvisoryStore, type OsOwnedMode } from '../matching/matcher.js';
import { cycloneDxToInventory } from '../sbom/index.js';
// The DB reader and its freshness check, not the vulndb index: a scan never loads the DB builder,
// importer or feed fetcher.
import { assessFreshness, formatAge, staleFeeds, type DbFreshness, type FeedFreshness } from '../vulndb/freshness.js';
import { openVulnDb, type VulnDb } from '../vulndb/open.js';
import { defaultDbPath } from '../vulndb/paths.js';
import type { FeedFailure } from '../vulndb/update.js';
import { TOOL_VERSION } from '../version.js';
import { silentEngineContext, type EngineContext } from '../engine/context.js';

/** A scan report plus what matching could not judge. */
export interface ScanOutcome {
  report: ScanReport;
  warnings: ScanWarning[];
}

/**
 * Reads an inventory that was stored or exported earlier: `sbom:FILE` (CycloneDX JSON) or
 * `inventory:FILE` (Portcullis inventory JSON). Returns undefined for any other reference. Throws
 * E_INPUT naming FILE when it is missing, unreadable, a directory, empty, cut short (not complete
 * JSON) or not the expected document.
 */
export async function readStoredInventory(reference: string): Promise<Inventory | undefined> {
  const m = /^(sbom|inventory):(.+)$/.exec(reference);
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  const [, kind, file] = m;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (err as Error).message;
    throw new PortcullisError('E_INPUT', `${kind}: cannot read ${file}: ${reason}`, { file }, { cause: err });
  }
  if (text.trim() === '') throw new PortcullisError('E_INPUT', `${kind}: ${file} is empty (${Buffer.byteLength(text)} bytes)`, { file });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new PortcullisError('E_INPUT', `${kind}: ${file} is not complete JSON (truncated?): ${err instanceof Error ? err.message : String(err)}`, { file });
  }
  if (kind === 'sbom') return cycloneDxToInventory(parsed, { file });
  return parseInventory(parsed, `inventory: ${file}`, { file });
}

/**
 * The error for a vulnerability DB that is not there to scan with: three short lines, what is
 * missing (`problem`, one line) and how to get a DB online and air-gapped. Per-feed failures are not
 * in the message (fifteen feeds' errors make one unreadable line); callers show them on request
 * (`--verbose`) with `feedFailureLines`, and they are kept in `details.failed` for programs.
 */
export function dbUnavailableError(path: string, problem: string, failed: readonly FeedFailure[] = []): PortcullisError {
  const message = [problem, '  online:     portcullis db update', '  air-gapped: portcullis db import FEEDS-DIR-OR-ZIP, or portcullis db update --mirror URL'].join('\n');
  return new PortcullisError('E_DB', message, { path, failed });
}

export { feedFailureLines } from '../vulndb/describe.js';

/** Default `--max-db-age` of an offline scan: a week. */
export const DEFAULT_OFFLINE_MAX_DB_AGE_HOURS = 7 * 24;

/** The verdict of a DB-age check: whether the DB is too old, and the facts behind it. */
export interface DbAgeCheck {
  freshness: DbFreshness;
  /** The limit checked against, in hours. */
  maxAgeHours: number;
  /** True when the DB's age (that of its freshest live advisory feed) exceeds the limit. */
  tooOld: boolean;
  /** Live feeds older than the limit, for a warning (the DB as a whole may still be fresh enough). */
  stale: FeedFreshness[];
}

/** Checks a DB's data age against `maxAgeHours` (see src/vulndb/freshness.ts for what age means). */
export function checkDbAge(db: Pick<VulnDb, 'feeds'>, maxAgeHours: number, now: number = Date.now()): DbAgeCheck {
  const freshness = assessFreshness(db.feeds(), now);
  return { freshness, maxAgeHours, tooOld: freshness.ageHours > maxAgeHours, stale: staleFeeds(freshness, maxAgeHours) };
}

/** `2026-08-21 (osv, 107d old)`: when the DB's data was current, for messages. */
export function describeDbAge(freshness: DbFreshness): string {
  const decider = freshness.feeds.find((f) => f.feed === freshness.decidedBy);
  if (decider?.dataAsOf === undefined) return 'of unknown age (no feed has a readable date)';
  return `${formatAge(freshness.ageHours)} old (its freshest feed, ${decider.feed}, is current as of ${decider.dataAsOf.slice(0, 10)})`;
}

/** One warning per live feed older than the limit (see DbAgeCheck.stale). */
export function staleFeedWarnings(check: DbAgeCheck): string[] {
  return check.stale.map((feed) => {
    const asOf = feed.dataAsOf === undefined ? 'no readable date' : `${feed.basis === 'newest-record' ? 'newest record' : 'fetched'} ${feed.dataAsOf.slice(0, 10)}`;
    return `feed ${feed.feed} is stale: ${formatAge(feed.ageHours)} old (${asOf}), over the ${formatAge(check.maxAgeHours)} limit; its findings may be out of date`;
  });
}

/** The E_DB error for a DB whose data is older than the limit it was checked against. */
export function dbTooOldError(path: string, check: DbAgeCheck): PortcullisError {
  return dbUnavailableError(path, `vulnerability data in ${path} is ${describeDbAge(check.freshness)}, over --max-db-age ${formatAge(check.maxAgeHours)} (raise it to accept older data)`);
}

/**
 * Opens the vulnerability DB for matching, failing clearly when it is missing or, with
 * `maxDbAgeHours`, when its data is older than that (see checkDbAge).
 */
export function openDbForScan(dbPath: string | undefined, maxDbAgeHours?: number, context: Pick<EngineContext, 'logger'> = silentEngineContext()): VulnDb {
  const path = dbPath ?? defaultDbPath();
  if (!existsSync(path)) throw dbUnavailableError(path, `no vulnerability database at ${path}`);
  const db = openVulnDb(path);
  context.logger.debug({ path, builtAt: db.builtAt }, 'vulnerability DB opened');
  if (maxDbAgeHours !== undefined) {
    const age = checkDbAge(db, maxDbAgeHours);
    if (age.tooOld) {
      db.close();
      throw dbTooOldError(path, age);
    }
  }
  return db;
}

/**
 * Matches one inventory and wraps the findings in a report that names the DB's feeds and dates.
 * The context gives the report's time and takes a `match done` line (packages, findings, ms).
 */
export async function reportFor(
  inventory: Inventory,
  db: AdvisoryStore & { builtAt: string },
  options: { includeNotAffected?: boolean; osOwned?: OsOwnedMode } = {},
  context: Pick<EngineContext, 'logger' | 'now'> & Partial<Pick<EngineContext, 'signal'>> = silentEngineContext(),
): Promise<ScanOutcome> {
  const started = performance.now();
  const { findings, warnings, coverage, notAffected } = await matchInventory(inventory, db, {
    includeNotAffected: options.includeNotAffected === true,
    ...(options.osOwned ? { osOwned: options.osOwned } : {}),
    ...(context.signal ? { signal: context.signal } : {}),
  });
  context.logger.info(
    { digest: inventory.image.manifestDigest, packages: inventory.packages.length, findings: findings.length, ms: Math.round(performance.now() - started) },
    'match done',
  );
  const report: ScanReport = {
    schema: 'https://portcullis.dev/schemas/scan-report/v1',
    schemaVersion: SCAN_REPORT_SCHEMA_VERSION,
    tool: { name: 'portcullis', version: TOOL_VERSION },
    createdAt: context.now().toISOString(),
    image: inventory.image,
    ...(inventory.distro ? { distro: inventory.distro } : {}),
    packageCount: inventory.packages.length,
    findings,
    ...(notAffected ? { notAffected } : {}),
    coverage: coverage.map((c) => ({ ecosystem: c.ecosystem, namespace: c.namespace, packages: c.packages, hasData: c.hasData })),
    db: { builtAt: db.builtAt, feeds: await db.feedList() },
    inventory,
  };
  return { report, warnings };
}
