/**
 * The embedded scanner as a service backend: reads the image from the watched registry through
 * the engine (layer cache shared by every job, so a layer two images share is read once), stores
 * the inventory with its package index for later re-matching, and matches it against the
 * vulnerability DB current at the time.
 */
import { pino, type Logger } from 'pino';
import { LayerCache, defaultCacheDir } from '../cache/layer-cache.js';
import { PortcullisError } from '../domain/errors.js';
import { formatPlatform } from '../image/platform.js';
import type { Finding } from '../domain/finding.js';
import type { Inventory } from '../domain/inventory.js';
import { Engine, type InventoryStore, type StoredResults } from '../services/engine.js';
import { diffChanged } from '../services/finding-diff.js';
import type { VulnDbHandle } from '../services/vulndb-handle.js';
import { packageKey } from '../vulndb/index.js';
import type { CatalogStore } from '../store/catalog.js';
import type { RegistryAccess } from './registry-access.js';
import type { BackendRunner } from './scan-worker.js';
import { historyCounts } from './aggregate.js';
import { EMBEDDED_BACKEND } from './backend-names.js';
import { reportFindings, storedInventoryIfAny } from './stored-results.js';

export { EMBEDDED_BACKEND };

export interface EmbeddedBackendDeps {
  registry: RegistryAccess;
  catalog: CatalogStore;
  vulndb: VulnDbHandle;
  /** Layer cache directory; default the engine's. */
  cacheDir?: string;
  /** Layers read at once per image. */
  concurrency?: number;
  /** The service's logger; the engine logs to a child with the job's digest and backend bound. Default: silent. */
  logger?: Logger;
}

/** The runner of the embedded backend: the engine over the service's DB handle, catalog and layer cache. */
export function embeddedBackend(deps: EmbeddedBackendDeps): BackendRunner {
  const logger = deps.logger ?? pino({ level: 'silent' });
  const inventories = catalogInventoryStore(deps.catalog);
  return async (job, signal, run) => {
    const context = deps.registry.engineContext(logger, { ...(run ? { job: run.jobId } : {}), digest: job.digest, backend: job.backend }, signal);
    const engine = new Engine({ advisories: deps.vulndb, inventories, layerCache: new LayerCache(deps.cacheDir ?? defaultCacheDir()), context });
    const read = await engine.index({
      reference: deps.registry.reference(job.repository, job.digest),
      image: deps.registry.imageOptions(),
      ...(deps.concurrency !== undefined ? { concurrency: deps.concurrency } : {}),
    });
    const inventory = read[0];
    if (inventory === undefined || read.length !== 1) throw new PortcullisError('E_INTERNAL', `embedded: ${job.digest} resolved to ${read.length} images, expected one`);
    await inventories.save(job.digest, inventory);
    signal.throwIfAborted();
    const { report, warnings, matchedDb } = await engine.match(inventory);
    // The inventory is stored once, beside the report, not inside every report.
    const { inventory: _stored, ...rest } = report;
    return { report: { ...rest, warnings }, counts: severityCounts(report.findings), matchedDb };
  };
}

/** The engine's inventory store over the catalog: inventories with their package index, for re-matching. */
export function catalogInventoryStore(catalog: CatalogStore): InventoryStore {
  return {
    load: (digest) => storedInventoryIfAny(catalog, digest),
    save: (digest, inventory) => catalog.saveInventory(digest, inventory.schemaVersion, JSON.stringify(inventory), packageKeys(inventory), inventory.image.platform ? formatPlatform(inventory.image.platform) : undefined),
  };
}

/** The embedded backend's stored results as the engine's re-match reads and writes them. */
export function catalogStoredResults(catalog: CatalogStore): StoredResults {
  return {
    matchedBefore: async (builtAt) => (await catalog.scannedBy(EMBEDDED_BACKEND)).filter((s) => s.matchedDb !== builtAt),
    holding: async (packages) => new Set(await catalog.manifestsWithPackages(packages.map((p) => ({ ecosystem: p.ecosystem, name: p.key })))),
    previousFindings: async (digest) => {
      const previous = (await catalog.scans(digest)).find((s) => s.backend === EMBEDDED_BACKEND);
      return previous ? reportFindings(previous) : [];
    },
    saveRematch: async (digest, outcome, diff) => {
      const { inventory: _stored, ...rest } = outcome.report;
      const counts = severityCounts(outcome.report.findings);
      await catalog.finishScan(digest, EMBEDDED_BACKEND, { ...rest, warnings: outcome.warnings }, counts, outcome.matchedDb);
      if (diffChanged(diff)) {
        const tags = await catalog.tagsOfDigest(digest);
        const aggregated = tags.length > 0 ? await historyCounts(catalog, digest, counts) : counts;
        for (const tag of tags) await catalog.recordHistory(tag.repository, tag.name, digest, aggregated);
      }
    },
    markCurrent: (digests, builtAt) => catalog.markMatched(EMBEDDED_BACKEND, digests, builtAt),
  };
}

/**
 * The (ecosystem, package key) pairs an advisory change is looked up by (see VulnDb.changes): each
 * package's name and its source package's, normalized as the DB keys them.
 */
export function packageKeys(inventory: Inventory): { ecosystem: string; name: string }[] {
  const keys: { ecosystem: string; name: string }[] = [];
  for (const p of inventory.packages) {
    keys.push({ ecosystem: p.ecosystem, name: packageKey(p.ecosystem, p.name) });
    if (p.sourceName !== undefined && p.sourceName !== p.name) keys.push({ ecosystem: p.ecosystem, name: packageKey(p.ecosystem, p.sourceName) });
  }
  return keys;
}

/** Findings per severity; {} when there is none. */
export function severityCounts(findings: readonly Pick<Finding, 'severity'>[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const f of findings) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
  return counts;
}
