import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { PortcullisError } from '../domain/errors.js';
import type { ScanReport } from '../domain/finding.js';
import { INVENTORY_SCHEMA, type Inventory } from '../domain/inventory.js';
import type { ScanWarning } from '../domain/warning.js';
import { matchInventory, type AdvisorySource, type OsOwnedMode } from '../matching/matcher.js';
import { cycloneDxToInventory } from '../sbom/index.js';
import { defaultDbPath, openVulnDb } from '../vulndb/index.js';
import { TOOL_VERSION } from '../version.js';
import { inventoryReference, type InventoryRequest } from './inventory-service.js';

export interface ScanRequest extends InventoryRequest {
  /** Vulnerability DB file; default $PORTCULLIS_DB or the user cache. */
  dbPath?: string;
  /** Fail when the DB was built longer ago than this many hours. */
  maxDbAgeHours?: number;
  /** Also report the statements that cleared packages (not affected). */
  includeNotAffected?: boolean;
  /** Language packages installed by an OS package (`--os-owned`); default `distro`. */
  osOwned?: OsOwnedMode;
}

/** A scan report plus what matching could not judge. */
export interface ScanOutcome {
  report: ScanReport;
  warnings: ScanWarning[];
}

/**
 * Reads an inventory that was stored or exported earlier: `sbom:FILE` (CycloneDX JSON) or
 * `inventory:FILE` (Portcullis inventory JSON). Returns undefined for any other reference.
 */
export async function readStoredInventory(reference: string): Promise<Inventory | undefined> {
  const m = /^(sbom|inventory):(.+)$/.exec(reference);
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  const [, kind, file] = m;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new PortcullisError('E_INPUT', `${kind}: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`, { file });
  }
  if (kind === 'sbom') return cycloneDxToInventory(parsed);
  const inv = parsed as Partial<Inventory>;
  if (inv.schema !== INVENTORY_SCHEMA || !Array.isArray(inv.packages)) {
    throw new PortcullisError('E_INPUT', `inventory: ${file} is not a Portcullis inventory (schema ${INVENTORY_SCHEMA})`, { file });
  }
  return inv as Inventory;
}

/** True when a DB built at `builtAt` (ISO time) is older than `hours`, or its build time is unreadable. */
export function isOlderThan(builtAt: string, hours: number, now: number = Date.now()): boolean {
  const built = Date.parse(builtAt);
  return !Number.isFinite(built) || now - built > hours * 3_600_000;
}

/** Opens the vulnerability DB for matching, failing clearly when it is missing or too old. */
export function openDbForScan(dbPath: string | undefined, maxDbAgeHours?: number): ReturnType<typeof openVulnDb> {
  const path = dbPath ?? defaultDbPath();
  if (!existsSync(path)) {
    throw new PortcullisError('E_DB', `no vulnerability database at ${path}: run \`portcullis db update\` (or \`portcullis db import PATH\` offline)`, { path });
  }
  const db = openVulnDb(path);
  if (maxDbAgeHours !== undefined && isOlderThan(db.builtAt, maxDbAgeHours)) {
    db.close();
    throw new PortcullisError('E_DB', `vulnerability database ${path} was built at ${db.builtAt}, older than --max-db-age ${maxDbAgeHours}h: update it`, { path });
  }
  return db;
}

/** Matches one inventory and wraps the findings in a report that names the DB's feeds and dates. */
export function reportFor(inventory: Inventory, db: AdvisorySource & { builtAt: string }, options: { includeNotAffected?: boolean; osOwned?: OsOwnedMode } = {}): ScanOutcome {
  const { findings, warnings, coverage, notAffected } = matchInventory(inventory, db, {
    includeNotAffected: options.includeNotAffected === true,
    ...(options.osOwned ? { osOwned: options.osOwned } : {}),
  });
  const report: ScanReport = {
    schema: 'https://portcullis.dev/schemas/scan-report/v1',
    schemaVersion: 1,
    tool: { name: 'portcullis', version: TOOL_VERSION },
    createdAt: new Date().toISOString(),
    image: inventory.image,
    ...(inventory.distro ? { distro: inventory.distro } : {}),
    packageCount: inventory.packages.length,
    findings,
    ...(notAffected ? { notAffected } : {}),
    coverage: coverage.map((c) => ({ ecosystem: c.ecosystem, namespace: c.namespace, packages: c.packages, hasData: c.hasData })),
    db: { builtAt: db.builtAt, feeds: db.feeds() },
    inventory,
  };
  return { report, warnings };
}

/**
 * Scans a reference end to end: reads the image (or a stored inventory / SBOM), matches every
 * resolved image against the DB. The DB is opened before any image is read, so a missing DB
 * fails fast.
 */
export async function scanReference(request: ScanRequest): Promise<ScanOutcome[]> {
  const db = openDbForScan(request.dbPath, request.maxDbAgeHours);
  try {
    const stored = await readStoredInventory(request.reference);
    const inventories = stored ? [stored] : await inventoryReference(request);
    return inventories.map((inv) => reportFor(inv, db, { includeNotAffected: request.includeNotAffected === true, ...(request.osOwned ? { osOwned: request.osOwned } : {}) }));
  } finally {
    db.close();
  }
}
