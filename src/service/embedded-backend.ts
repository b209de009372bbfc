/**
 * The embedded scanner as a service backend: reads the image from the watched registry through
 * the engine (layer cache shared by every job, so a layer two images share is read once), stores
 * the inventory with its package index for later re-matching, and matches it against the
 * vulnerability DB current at the time.
 */
import { pino, type Logger } from 'pino';
import { PortcullisError } from '../domain/errors.js';
import type { Finding } from '../domain/finding.js';
import type { Inventory } from '../domain/inventory.js';
import { inventoryReference } from '../services/inventory-service.js';
import { reportFor } from '../services/scan-service.js';
import { packageKey } from '../vulndb/index.js';
import type { CatalogStore } from '../store/catalog.js';
import type { RegistryAccess } from './registry-access.js';
import type { BackendRunner } from './scan-worker.js';
import type { VulnDbHandle } from './vulndb-handle.js';
import { EMBEDDED_BACKEND } from './backend-names.js';

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

/** The runner of the embedded backend. */
export function embeddedBackend(deps: EmbeddedBackendDeps): BackendRunner {
  const logger = deps.logger ?? pino({ level: 'silent' });
  return async (job, signal, run) => {
    const context = deps.registry.engineContext(logger, { ...(run ? { job: run.jobId } : {}), digest: job.digest, backend: job.backend }, signal);
    const inventories = await inventoryReference({
      reference: deps.registry.reference(job.repository, job.digest),
      image: deps.registry.imageOptions(),
      cache: deps.cacheDir ?? true,
      context,
      ...(deps.concurrency !== undefined ? { concurrency: deps.concurrency } : {}),
    });
    const inventory = inventories[0];
    if (inventory === undefined || inventories.length !== 1) throw new PortcullisError('E_INTERNAL', `embedded: ${job.digest} resolved to ${inventories.length} images, expected one`);
    await deps.catalog.saveInventory(job.digest, inventory.schemaVersion, JSON.stringify(inventory), packageKeys(inventory));
    signal.throwIfAborted();
    const { db, report, warnings } = await deps.vulndb.use(async (db) => ({ db, ...(await reportFor(inventory, db, {}, context)) }), context.logger);
    // The inventory is stored once, beside the report, not inside every report.
    const { inventory: _stored, ...rest } = report;
    return { report: { ...rest, warnings }, counts: severityCounts(report.findings), matchedDb: db.builtAt };
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
