import type { Distro } from './distro.js';
import type { InventoryPackage, InventoryProject } from './package.js';
import type { ScanWarning } from './warning.js';
import type { Platform } from './platform.js';
import * as z from 'zod';
import { PortcullisError } from './errors.js';
import { ECOSYSTEMS, OS_ECOSYSTEM_IDS } from './package.js';

export const INVENTORY_SCHEMA = 'https://portcullis.dev/schemas/inventory/v1' as const;
export const INVENTORY_SCHEMA_VERSION = 1 as const;

/** One layer of the scanned image and what the scan did with it. */
export interface InventoryLayer {
  index: number;
  digest: string;
  diffId?: string;
  size: number;
  mediaType: string;
  createdBy?: string;
  /** How many inventory packages this layer introduced. */
  packageCount: number;
  /** `cache` when every detector's result came from the layer cache and the blob was not read. */
  readFrom: 'blob' | 'cache' | 'rootfs';
}

/** The image-level package inventory: the product of engine I and the input of matching. */
export interface Inventory {
  schema: typeof INVENTORY_SCHEMA;
  schemaVersion: typeof INVENTORY_SCHEMA_VERSION;
  tool: { name: 'portcullis'; version: string };
  createdAt: string;
  image: {
    reference: string;
    transport: string;
    manifestDigest?: string;
    indexDigest?: string;
    configDigest?: string;
    platform?: Platform;
    registry?: string;
    repository?: string;
    tag?: string;
  };
  distro?: Distro;
  layers: InventoryLayer[];
  packages: InventoryPackage[];
  /** Projects whose lockfiles the image holds (npm's `/app`); absent when none. Never matched. */
  projects?: InventoryProject[];
  detectors: { id: string; version: number }[];
  warnings: ScanWarning[];
  stats: { layersRead: number; layersFromCache: number; bytesRead: number };
}


const osOwnerSchema = z.object({
  ecosystem: z.enum(OS_ECOSYSTEM_IDS),
  name: z.string(),
  version: z.string(),
  sourceName: z.string().optional(),
  sourceVersion: z.string().optional(),
  arch: z.string().optional(),
});

const inventoryPackageSchema = z.object({
  ecosystem: z.enum(ECOSYSTEMS),
  name: z.string(),
  version: z.string(),
  sourceName: z.string().optional(),
  sourceVersion: z.string().optional(),
  arch: z.string().optional(),
  epoch: z.number().optional(),
  modularityLabel: z.string().optional(),
  license: z.string().optional(),
  path: z.string(),
  attributes: z.record(z.string(), z.string()).optional(),
  purl: z.string(),
  layer: z.string(),
  layerIndex: z.number().int(),
  osOwner: osOwnerSchema.optional(),
});

/**
 * The inventory's JSON shape, for every reader of inventory JSON: stored inventories of the service
 * and `--inventory` files. Keys it does not know are dropped rather than refused, so an inventory
 * a newer version wrote (an added field) still reads; the schema URI and version must match.
 */
export const inventorySchema = z.object({
  schema: z.literal(INVENTORY_SCHEMA),
  schemaVersion: z.literal(INVENTORY_SCHEMA_VERSION),
  tool: z.object({ name: z.literal('portcullis'), version: z.string() }),
  createdAt: z.string(),
  image: z.object({
    reference: z.string(),
    transport: z.string(),
    manifestDigest: z.string().optional(),
    indexDigest: z.string().optional(),
    configDigest: z.string().optional(),
    platform: z.object({ os: z.string(), architecture: z.string(), variant: z.string().optional() }).optional(),
    registry: z.string().optional(),
    repository: z.string().optional(),
    tag: z.string().optional(),
  }),
  distro: z
    .object({
      id: z.string(),
      versionId: z.string().optional(),
      versionCodename: z.string().optional(),
      name: z.string().optional(),
      prettyName: z.string().optional(),
      idLike: z.array(z.string()).optional(),
      variantId: z.string().optional(),
      cpe: z.string().optional(),
      source: z.string(),
    })
    .optional(),
  layers: z.array(
    z.object({
      index: z.number().int(),
      digest: z.string(),
      diffId: z.string().optional(),
      size: z.number(),
      mediaType: z.string(),
      createdBy: z.string().optional(),
      packageCount: z.number().int(),
      readFrom: z.enum(['blob', 'cache', 'rootfs']),
    }),
  ),
  packages: z.array(inventoryPackageSchema),
  projects: z
    .array(
      z.object({
        ecosystem: z.literal('npm'),
        name: z.string(),
        version: z.string().optional(),
        purl: z.string(),
        lockfile: z.string(),
        manifest: z.string().optional(),
        dependencies: z.array(z.string()),
        layer: z.string(),
        layerIndex: z.number().int(),
      }),
    )
    .optional(),
  detectors: z.array(z.object({ id: z.string(), version: z.number() })),
  warnings: z.array(z.object({ code: z.string(), message: z.string(), layer: z.string().optional(), path: z.string().optional(), detector: z.string().optional() })),
  stats: z.object({ layersRead: z.number(), layersFromCache: z.number(), bytesRead: z.number() }),
});

// The schema and the interface describe one shape: either drifting from the other fails to compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesInterface: Same<z.infer<typeof inventorySchema>, Inventory> = true;
void schemaMatchesInterface;

/** `packages[3].version`: a zod issue path as a reader finds the field. */
function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  return out === '' ? '(the top level)' : out;
}

/**
 * Parsed JSON checked as an inventory. `what` names it in the error (`inventory: app.json`, `the
 * stored inventory of sha256:...`); E_INPUT names the first bad field's path and what is wrong there
 * (`details` go into the error's details beside `field`).
 */
export function parseInventory(value: unknown, what: string, details: Record<string, unknown> = {}): Inventory {
  const result = inventorySchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue === undefined ? '(the top level)' : fieldPath(issue.path);
  const wrongSchema = issue?.path.length === 1 && (issue.path[0] === 'schema' || issue.path[0] === 'schemaVersion');
  const reason = wrongSchema ? `not a Portcullis inventory of schema ${INVENTORY_SCHEMA} v${INVENTORY_SCHEMA_VERSION}` : (issue?.message ?? 'invalid');
  throw new PortcullisError('E_INPUT', `${what} is not a valid Portcullis inventory: ${where}: ${reason}`, { ...details, field: where });
}
