/**
 * Reading back what the service stored for a manifest: a backend's findings and the inventory,
 * for the API, the queries and re-matching alike.
 */
import { PortcullisError } from '../domain/errors.js';
import type { Finding } from '../domain/finding.js';
import { parseInventory, type Inventory } from '../domain/inventory.js';
import type { CatalogStore, ScanRow } from '../store/catalog.js';

/** The findings of a backend's stored report; [] when it has none yet. */
export function reportFindings(scan: Pick<ScanRow, 'report'>): Finding[] {
  return scan.report === null ? [] : ((JSON.parse(scan.report) as { findings?: Finding[] }).findings ?? []);
}

/**
 * A manifest's stored inventory, checked against the inventory schema (this service wrote it, but
 * a store outlives versions): E_NOT_FOUND when there is none, E_INPUT naming the first bad field.
 */
export async function storedInventory(catalog: CatalogStore, digest: string): Promise<Inventory> {
  const inventory = await storedInventoryIfAny(catalog, digest);
  if (inventory === undefined) throw new PortcullisError('E_NOT_FOUND', `no stored inventory for ${digest}`);
  return inventory;
}

/** Like storedInventory, but undefined when the manifest has none. */
export async function storedInventoryIfAny(catalog: CatalogStore, digest: string): Promise<Inventory | undefined> {
  const stored = await catalog.inventory(digest);
  if (stored === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored.json);
  } catch (err) {
    throw new PortcullisError('E_INPUT', `the stored inventory of ${digest} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseInventory(parsed, `the stored inventory of ${digest}`);
}
