import type { Distro } from './distro.js';
import type { InventoryPackage, InventoryProject } from './package.js';
import type { ScanWarning } from './warning.js';
import type { Platform } from './platform.js';

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

/** Whether parsed JSON is a Portcullis inventory of this schema (the shape matching relies on). */
export function isInventory(value: unknown): value is Inventory {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Inventory>;
  return candidate.schema === INVENTORY_SCHEMA && Array.isArray(candidate.packages);
}
