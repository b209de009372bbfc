/**
 * The engine facade (claircore's split): `index` reads images into inventories, `match` turns an
 * inventory into a report, `rematch` brings stored results up to date with changed advisories.
 * The CLI and the service both go through it; what they differ in comes in as ports: the advisory
 * store (the SQLite DB, held open and leased per piece of work), the inventory store (the service's
 * catalog; none for the CLI), the layer-result cache, and the EngineContext (logger, cancellation,
 * clock, credentials, allowed transports).
 *
 * It lives in the use-case layer (src/services), not in src/engine: src/engine holds the context
 * every engine folder imports, so a facade there importing those folders back would be a cycle.
 */
import { performance } from 'node:perf_hooks';
import type { LayerCache } from '../cache/layer-cache.js';
import { PortcullisError } from '../domain/errors.js';
import type { Inventory } from '../domain/inventory.js';
import type { EngineContext } from '../engine/context.js';
import type { AdvisoryStore, OsOwnedMode } from '../matching/matcher.js';
import { throwIfCancelled } from '../util/concurrency.js';
import { diffChanged, diffFindings, type DiffableFinding, type ManifestDiff } from './finding-diff.js';
import { inventoryReference, type InventoryRequest } from './inventory-service.js';
import { readStoredInventory, reportFor, type ScanOutcome } from './scan-service.js';

/** The advisory store as one piece of work sees it: the store and the build it answers from. */
export type LeasedAdvisories = AdvisoryStore & {
  /** When the data was built (ISO 8601): what a result records it was matched against. */
  readonly builtAt: string;
  /** What changed since the build this one replaced (see VulnDb.changes); undefined: assume everything. */
  changeRecord(): Promise<{ since: string; packages: { ecosystem: string; key: string }[] } | undefined>;
};

/**
 * The advisory store port: `use` holds one build of the data for the whole of `work`, even when a
 * newer build is swapped in meanwhile (src/services/vulndb-handle.ts; a CLI run holds one DB).
 */
export interface AdvisoryDb {
  use<T>(work: (db: LeasedAdvisories) => Promise<T>, logger?: EngineContext['logger']): Promise<T>;
}

/** An advisory store over one open DB that the caller closes (a CLI run, a test). */
export function fixedAdvisoryDb(db: LeasedAdvisories): AdvisoryDb {
  return { use: (work) => work(db) };
}

/** The inventory store port: inventories kept per manifest digest (the service's catalog). */
export interface InventoryStore {
  /** The stored inventory of a manifest, validated; undefined when there is none. */
  load(digest: string): Promise<Inventory | undefined>;
  save(digest: string, inventory: Inventory): Promise<void>;
}

/** The stored results a re-match brings up to date (the service's catalog). */
export interface StoredResults {
  /** Manifests whose stored result was matched against another build than `builtAt`. */
  matchedBefore(builtAt: string): Promise<{ digest: string; matchedDb: string | null }[]>;
  /** Manifests whose inventory holds any of these (ecosystem, package key) pairs. */
  holding(packages: readonly { ecosystem: string; key: string }[]): Promise<ReadonlySet<string>>;
  /** The findings of the manifest's current result ([] when none). */
  previousFindings(digest: string): Promise<DiffableFinding[]>;
  /** Stores a re-matched result (and, when its findings changed, whatever history the store keeps). */
  saveRematch(digest: string, outcome: MatchOutcome, diff: ManifestDiff): Promise<void>;
  /** Marks results as matched against `builtAt` without re-matching (the change record showed them untouched). */
  markCurrent(digests: readonly string[], builtAt: string): Promise<void>;
}

export interface EnginePorts {
  /** Absent for index-only work (`portcullis sbom`): match and rematch then fail with E_INTERNAL. */
  advisories?: AdvisoryDb;
  inventories?: InventoryStore;
  /** The layer-result cache; absent: layers are always read. */
  layerCache?: LayerCache;
  context: EngineContext;
}

export interface IndexRequest extends Pick<InventoryRequest, 'image' | 'concurrency' | 'detectors' | 'onLayerDone' | 'onWalkProgress'> {
  reference: string;
  /**
   * Read `sbom:FILE` (CycloneDX) and `inventory:FILE` references as stored inventories (the CLI's
   * scan). Off by default: such files are the host's, which a service must not open for a caller.
   */
  readFiles?: boolean;
  /**
   * The manifest digest the reference names, when the caller knows it: with `reuseStored`, an
   * inventory the store already holds for it is returned without reading the image.
   */
  digest?: string;
  reuseStored?: boolean;
  /** Keep each inventory read in the inventory store (by its manifest digest). */
  store?: boolean;
}

export interface MatchRequest {
  includeNotAffected?: boolean;
  osOwned?: OsOwnedMode;
}

/** A report and the build of the advisory data it was matched against. */
export interface MatchOutcome extends ScanOutcome {
  matchedDb: string;
}

export interface RematchSummary {
  /** built_at of the DB matched against. */
  db: string;
  rematched: number;
  /** Results the DB's change record showed untouched: marked current without re-matching. */
  untouched: number;
  /** Manifests whose stored inventory could not be read (left as they were, with the reason). */
  failures: { digest: string; reason: string }[];
  /** Only the manifests whose findings changed. */
  diffs: ManifestDiff[];
}

export class Engine {
  constructor(private readonly ports: EnginePorts) {}

  get context(): EngineContext {
    return this.ports.context;
  }

  /**
   * Inventories every image a reference resolves to: an `sbom:`/`inventory:` file as it is stored (`readFiles`),
   * a manifest the inventory store holds (with `reuseStored`), otherwise read through the layer
   * cache (layers it holds are not read again).
   */
  async index(request: IndexRequest): Promise<Inventory[]> {
    const file = request.readFiles === true ? await readStoredInventory(request.reference) : undefined;
    if (file !== undefined) return [file];
    const store = this.ports.inventories;
    if (request.reuseStored === true && request.digest !== undefined && store !== undefined) {
      const held = await store.load(request.digest);
      if (held !== undefined) {
        this.context.logger.debug({ digest: request.digest }, 'index: stored inventory reused');
        return [held];
      }
    }
    const { readFiles: _files, digest: _digest, reuseStored: _reuse, store: _store, ...read } = request;
    const inventories = await inventoryReference({ ...read, context: this.context, cache: this.ports.layerCache ?? false });
    if (request.store === true && store !== undefined) {
      for (const inventory of inventories) {
        const digest = inventory.image.manifestDigest;
        if (digest !== undefined) await store.save(digest, inventory);
      }
    }
    return inventories;
  }

  /** Matches one inventory against the advisory data current now. */
  async match(inventory: Inventory, request: MatchRequest = {}): Promise<MatchOutcome> {
    return this.advisories().use(async (db) => ({ ...(await this.matchWith(db, inventory, request)), matchedDb: db.builtAt }), this.context.logger);
  }

  /**
   * Re-matches the stored inventories whose results an advisory change may alter, without reading
   * any image: every result matched against another build, except (when the data recorded what
   * changed since the build a result was matched against) those holding none of the changed
   * packages, which are only marked current. Returns the diffs of the results whose findings changed.
   */
  async rematch(results: StoredResults): Promise<RematchSummary> {
    return this.advisories().use((db) => this.rematchWith(db, results), this.context.logger);
  }

  private advisories(): AdvisoryDb {
    if (this.ports.advisories === undefined) throw new PortcullisError('E_INTERNAL', 'engine: matching needs an advisory store, and this engine was made without one');
    return this.ports.advisories;
  }

  private matchWith(db: LeasedAdvisories, inventory: Inventory, request: MatchRequest): Promise<ScanOutcome> {
    return reportFor(inventory, db, { includeNotAffected: request.includeNotAffected === true, ...(request.osOwned ? { osOwned: request.osOwned } : {}) }, this.context);
  }

  private async rematchWith(db: LeasedAdvisories, results: StoredResults): Promise<RematchSummary> {
    const logger = this.context.logger;
    const started = performance.now();
    const summary: RematchSummary = { db: db.builtAt, rematched: 0, untouched: 0, failures: [], diffs: [] };
    const stale = await results.matchedBefore(db.builtAt);
    if (stale.length === 0) return summary;
    const changes = await db.changeRecord();
    logger.info({ db: db.builtAt, stale: stale.length, changedPackages: changes?.packages.length, since: changes?.since }, 'rematch: start');
    const touched = changes === undefined ? undefined : await results.holding(changes.packages);
    const skip: string[] = [];
    for (const scan of stale) {
      throwIfCancelled(this.context.signal, 'rematch');
      if (changes !== undefined && touched !== undefined && scan.matchedDb === changes.since && !touched.has(scan.digest)) {
        skip.push(scan.digest);
        continue;
      }
      try {
        const diff = await this.rematchOne(db, results, scan.digest);
        summary.rematched++;
        if (diffChanged(diff)) {
          summary.diffs.push(diff);
          logger.debug({ digest: diff.digest, introduced: diff.introduced.length, fixed: diff.fixed.length, severityChanged: diff.severityChanged.length }, 'rematch: findings changed');
        }
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        summary.failures.push({ digest: scan.digest, reason });
        logger.warn({ digest: scan.digest, reason }, 'rematch: manifest left as it was');
      }
    }
    await results.markCurrent(skip, db.builtAt);
    summary.untouched = skip.length;
    logger.info(
      { db: db.builtAt, rematched: summary.rematched, untouched: summary.untouched, changed: summary.diffs.length, failures: summary.failures.length, ms: Math.round(performance.now() - started) },
      'rematch: done',
    );
    return summary;
  }

  private async rematchOne(db: LeasedAdvisories, results: StoredResults, digest: string): Promise<ManifestDiff> {
    const inventory = await this.ports.inventories?.load(digest);
    if (inventory === undefined) throw new PortcullisError('E_NOT_FOUND', `no stored inventory for ${digest}`);
    const before = await results.previousFindings(digest);
    const outcome = await this.matchWith(db, inventory, {});
    const diff = diffFindings(digest, before, outcome.report.findings);
    await results.saveRematch(digest, { ...outcome, matchedDb: db.builtAt }, diff);
    return diff;
  }
}
