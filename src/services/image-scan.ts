/**
 * The scan use case behind `portcullis scan`: where the analysis runs (the embedded engine, a Clair
 * v4 server, or a Portcullis service) as one ScanBackend interface, and, for the embedded engine,
 * the DB's freshness check and automatic update. The command parses flags, picks nothing, renders
 * and sets the exit code.
 */
import { existsSync } from 'node:fs';
import { isPortcullisError, PortcullisError } from '../domain/errors.js';
import type { Inventory } from '../domain/inventory.js';
import { LayerCache, defaultCacheDir } from '../cache/layer-cache.js';
import { silentEngineContext, type EngineContext } from '../engine/context.js';
import type { OpenImageOptions } from '../image/open-image.js';
import type { LayerProgress, PlatformSelector } from '../image/types.js';
import type { WalkProgress } from '../layers/walk-rootfs.js';
import type { OsOwnedMode } from '../matching/os-owned.js';
import { feedFailureLines } from '../vulndb/describe.js';
import { openVulnDb } from '../vulndb/open.js';
import type { FeedFailure, UpdateSummary } from '../vulndb/update.js';
import { Engine, fixedAdvisoryDb } from './engine.js';
import type { InventoryRequest } from './inventory-service.js';
import { checkDbAge, dbTooOldError, dbUnavailableError, describeDbAge, openDbForScan, readStoredInventory, staleFeedWarnings, type DbAgeCheck, type ScanOutcome } from './scan-service.js';

/** Where a scan's analysis runs; the CLI's gate scans through one of these. */
export interface ScanBackend {
  readonly name: 'embedded' | 'clair-v4' | 'service';
  /**
   * True when this process reads and matches the image (the embedded engine): progress is shown
   * live, Ctrl-C cancels cleanly, and the run summary counts the inventories read.
   */
  readonly engineRuns: boolean;
  /** Checks what can fail fast (a stored inventory file) and gets what the scan needs (a fresh DB), before any image is read. */
  prepare(reference: string): Promise<void>;
  scan(reference: string, context: EngineContext, observer?: ScanObserver): Promise<ScanOutcome[]>;
  /** True when the outcomes' inventories were read in this run (not a stored inventory or a remote analysis). */
  readImages(): boolean;
}

/** What a caller may watch of a scan read in this process (progress bars). */
export interface ScanObserver {
  onLayerProgress?: (p: LayerProgress) => void;
  /** `dir:` references only: running totals of the filesystem walk. */
  onWalkProgress?: (p: WalkProgress) => void;
}

/** How the DB may be got and what may be said about it. */
export interface DbPolicy {
  offline: boolean;
  /** Age limit of the DB's data in hours (see checkDbAge); undefined: any age. */
  maxAgeHours: number | undefined;
  quiet: boolean;
  verbose: boolean;
  /** Feed mirror to update from (PORTCULLIS_FEED_MIRROR). */
  mirror?: string;
}

/** Where the use case's words go (the CLI: standard error). */
export interface ScanNotices {
  /** A step taken (`vulnerability database missing; updating from the feeds`). */
  note(message: string): void;
  warn(message: string): void;
}

/**
 * Makes sure a usable DB exists before scanning. Offline, a missing DB or one whose data is older
 * than the limit is an error; online, it is updated from the configured upstreams first. A DB old
 * enough to pass but holding stale live feeds gets a warning per feed.
 */
export async function ensureDb(path: string, policy: DbPolicy, notices: ScanNotices): Promise<void> {
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
    if (age && !policy.quiet) staleFeedWarnings(age).forEach((w) => notices.warn(w));
    return;
  }
  if (policy.offline) {
    if (missing) throw dbUnavailableError(path, `no vulnerability database at ${path}, and --offline forbids building one`);
    if (age) throw dbTooOldError(path, age);
  }
  if (!policy.quiet) notices.note(`${missing ? 'vulnerability database missing' : `vulnerability data ${age ? describeDbAge(age.freshness) : 'too old'}`}; updating from the feeds`);
  let summary: UpdateSummary | undefined;
  let failed: FeedFailure[];
  try {
    // The feed fetchers and parsers load only when the DB must be built or updated.
    const { updateFeeds } = await import('../vulndb/update.js');
    summary = await updateFeeds({ target: path, ...(policy.mirror ? { mirror: policy.mirror } : {}) });
    failed = summary.failed;
  } catch (err) {
    // Every feed failed: updateFeeds lists them all in one line; the details carry them one by one.
    if (!isPortcullisError(err, 'E_FEED') || !Array.isArray(err.details.failed)) throw err;
    failed = err.details.failed as FeedFailure[];
  }
  if (policy.verbose && failed.length > 0) for (const line of feedFailureLines(failed)) notices.note(`feed ${line}`);
  if (summary?.build === undefined || !existsSync(path)) {
    const hint = policy.verbose ? '' : ' (--verbose lists why)';
    const fetched = `none of the ${failed.length} feeds could be fetched`;
    throw dbUnavailableError(path, missing ? `no vulnerability database at ${path}, and ${fetched} to build one${hint}` : `vulnerability data in ${path} is too old, and ${fetched} to update it${hint}`, failed);
  }
  if (failed.length > 0 && !policy.quiet) notices.warn(`${failed.length} feed(s) could not be updated and kept their previous data: ${failed.map((f) => f.feed).join(', ')}${policy.verbose ? '' : ' (--verbose lists why)'}`);
  age = check();
  if (age && !policy.quiet) staleFeedWarnings(age).forEach((w) => notices.warn(w));
}

export interface ScanRequest extends InventoryRequest {
  /** Vulnerability DB file; default $PORTCULLIS_DB or the user cache. */
  dbPath?: string;
  /** Fail when the DB's data is older than this many hours (see checkDbAge). */
  maxDbAgeHours?: number;
  /** Also report the statements that cleared packages (not affected). */
  includeNotAffected?: boolean;
  /** The `sbom:`/`inventory:` file's inventory when the caller already read it (to fail on a bad file before the DB is touched). */
  stored?: Inventory;
  /** Language packages installed by an OS package (`--os-owned`); default `distro`. */
  osOwned?: OsOwnedMode;
}

/**
 * Scans a reference end to end through the engine: reads the image (or a stored inventory / SBOM),
 * matches every resolved image against the DB. The DB is opened before any image is read, so a
 * missing DB fails fast, and held open for the whole run.
 */
export async function scanReference(request: ScanRequest): Promise<ScanOutcome[]> {
  const context = request.context ?? silentEngineContext();
  const db = openDbForScan(request.dbPath, request.maxDbAgeHours, context);
  try {
    const cache = request.cache === false ? undefined : request.cache instanceof LayerCache ? request.cache : new LayerCache(typeof request.cache === 'string' ? request.cache : defaultCacheDir());
    const engine = new Engine({ advisories: fixedAdvisoryDb(db), context, ...(cache ? { layerCache: cache } : {}) });
    const inventories = request.stored ? [request.stored] : await engine.index({ ...request, readFiles: true });
    const outcomes: ScanOutcome[] = [];
    for (const inv of inventories) {
      const { report, warnings } = await engine.match(inv, { includeNotAffected: request.includeNotAffected === true, ...(request.osOwned ? { osOwned: request.osOwned } : {}) });
      outcomes.push({ report, warnings });
    }
    return outcomes;
  } finally {
    db.close();
  }
}

export interface EmbeddedScanOptions extends Omit<ScanRequest, 'reference' | 'context' | 'stored' | 'dbPath' | 'maxDbAgeHours'> {
  dbPath: string;
  db: DbPolicy;
  notices: ScanNotices;
}

/** The embedded engine: a fresh DB first (ensureDb), then index and match in this process. */
export function embeddedScanBackend(options: EmbeddedScanOptions): ScanBackend {
  let stored: Inventory | undefined;
  return {
    name: 'embedded',
    engineRuns: true,
    async prepare(reference) {
      // A broken sbom:/inventory: file is reported before the DB is checked (or updated for minutes).
      stored = await readStoredInventory(reference);
      await ensureDb(options.dbPath, options.db, options.notices);
    },
    scan(reference, context, observer = {}) {
      const { db: _policy, notices: _notices, ...request } = options;
      const image: OpenImageOptions = { ...request.image, ...(observer.onLayerProgress ? { onProgress: observer.onLayerProgress } : {}) };
      return scanReference({ ...request, image, reference, context, ...(observer.onWalkProgress ? { onWalkProgress: observer.onWalkProgress } : {}), ...(stored ? { stored } : {}) });
    },
    readImages: () => stored === undefined,
  };
}

export interface ClairScanOptions {
  clairUrl: string;
  /** Address Clair reaches this machine on. */
  ip: string;
  image?: OpenImageOptions;
  /** Clair's pre-shared key (its `auth.psk`). */
  psk?: { key: string; issuer: string };
}

/** A Clair v4 server indexes and matches; this process serves it the image's layers. */
export function clairV4ScanBackend(options: ClairScanOptions): ScanBackend {
  return {
    name: 'clair-v4',
    engineRuns: false,
    prepare: () => Promise.resolve(),
    async scan(reference, context) {
      const { scanWithClair } = await import('./clair-scan.js');
      return scanWithClair({ reference, clairUrl: options.clairUrl, ip: options.ip, ...(options.image ? { image: options.image } : {}), context, ...(options.psk ? { clair: { psk: options.psk } } : {}) });
    },
    readImages: () => false,
  };
}

export interface ServiceScanOptions {
  server: string;
  token: string | undefined;
  timeoutMs: number;
  platform?: PlatformSelector;
}

/** A Portcullis service scans an image of its registry; this process asks for its results. */
export function serviceScanBackend(options: ServiceScanOptions): ScanBackend {
  return {
    name: 'service',
    engineRuns: false,
    prepare: () => Promise.resolve(),
    async scan(reference) {
      const { scanWithServer } = await import('./server-scan.js');
      return scanWithServer({ server: options.server, image: reference, token: options.token, timeoutMs: options.timeoutMs, ...(options.platform ? { platform: options.platform } : {}) });
    },
    readImages: () => false,
  };
}

/**
 * Where the analysis runs: a Portcullis service (`--server`), a Clair v4 server (`--clair`), or the
 * embedded engine. E_USAGE when both remote kinds are named, or a local reference is sent to a service.
 */
export function chooseScanBackend(reference: string, choice: { server?: ServiceScanOptions; clair?: ClairScanOptions; embedded: () => EmbeddedScanOptions }): ScanBackend {
  if (choice.server && choice.clair) throw new PortcullisError('E_USAGE', 'scan: --server and --clair (or PORTCULLIS_SERVER and CLAIR_URL) each name where the analysis runs; choose one');
  if (choice.server && /^(sbom|inventory|oci|oci-archive|docker-archive|dir):/.test(reference)) {
    throw new PortcullisError('E_USAGE', `scan: with --server, IMAGE is an image of the service's registry (repo:tag or host:port/repo:tag), not ${reference.slice(0, reference.indexOf(':'))}:`);
  }
  if (choice.server) return serviceScanBackend(choice.server);
  if (choice.clair) return clairV4ScanBackend(choice.clair);
  return embeddedScanBackend(choice.embedded());
}
