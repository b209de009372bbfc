/**
 * Reading back what the service stored for a manifest: a backend's findings and the inventory,
 * for the API, the queries and re-matching alike.
 */
import { PortcullisError } from '../domain/errors.js';
import type { Finding } from '../domain/finding.js';
import { INVENTORY_SCHEMA, isInventory, type Inventory } from '../domain/inventory.js';
import type { CatalogStore, ScanRow } from '../store/catalog.js';

/** The findings of a backend's stored report; [] when it has none yet. */
export function reportFindings(scan: Pick<ScanRow, 'report'>): Finding[] {
  return scan.report === null ? [] : ((JSON.parse(scan.report) as { findings?: Finding[] }).findings ?? []);
}

/**
 * A manifest's stored inventory, checked for the shape matching needs (this service wrote it, but
 * a store outlives versions): E_NOT_FOUND when there is none, E_INPUT when it is not an inventory.
 */
export async function storedInventory(catalog: CatalogStore, digest: string): Promise<Inventory> {
  const stored = await catalog.inventory(digest);
  if (stored === undefined) throw new PortcullisError('E_NOT_FOUND', `no stored inventory for ${digest}`);
  const parsed = JSON.parse(stored.json) as unknown;
  if (!isInventory(parsed)) throw new PortcullisError('E_INPUT', `the stored inventory of ${digest} is not a Portcullis inventory (schema ${INVENTORY_SCHEMA})`);
  return parsed;
}
