import type { Inventory } from '../domain/inventory.js';
import { LayerCache, defaultCacheDir } from '../cache/layer-cache.js';
import { DETECTORS } from '../inventory/detector-registry.js';
import type { Detector } from '../detectors/types.js';
import { openImage, type OpenImageOptions } from '../image/open-image.js';
import type { LayerDescriptor } from '../image/types.js';
import { buildInventory } from '../inventory/build-inventory.js';
import type { WalkProgress } from '../layers/walk-rootfs.js';

export interface InventoryRequest {
  reference: string;
  image?: Omit<OpenImageOptions, 'signal'>;
  /** false disables the layer cache; a string names its directory. Default: the default cache dir. */
  cache?: boolean | string;
  concurrency?: number;
  detectors?: readonly Detector[];
  signal?: AbortSignal;
  onLayerDone?: (layer: LayerDescriptor, from: 'blob' | 'cache') => void;
  /** `dir:` references only: running totals of the filesystem walk (files, bytes). */
  onWalkProgress?: (p: WalkProgress) => void;
}

/**
 * Inventories every image a reference resolves to (one, or one per platform with `--platform all`).
 * The image source is always closed, also on failure, so temporary files never outlive the call.
 */
export async function inventoryReference(request: InventoryRequest): Promise<Inventory[]> {
  const cache = request.cache === false ? undefined : new LayerCache(typeof request.cache === 'string' ? request.cache : defaultCacheDir());
  const opened = await openImage(request.reference, { ...request.image, ...(request.signal ? { signal: request.signal } : {}) });
  try {
    const inventories: Inventory[] = [];
    for (const image of opened.images) {
      inventories.push(
        await buildInventory(image, {
          detectors: request.detectors ?? DETECTORS,
          ...(cache ? { cache } : {}),
          ...(request.concurrency ? { concurrency: request.concurrency } : {}),
          ...(request.signal ? { signal: request.signal } : {}),
          ...(request.onLayerDone ? { onLayerDone: request.onLayerDone } : {}),
          ...(request.onWalkProgress ? { onWalkProgress: request.onWalkProgress } : {}),
        }),
      );
    }
    return inventories;
  } finally {
    await opened.close();
  }
}
