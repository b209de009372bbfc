import type { Inventory } from '../domain/inventory.js';
import { LayerCache, defaultCacheDir } from '../cache/layer-cache.js';
import { DETECTORS } from '../inventory/detector-registry.js';
import type { Detector } from '../detectors/types.js';
import { silentEngineContext, type EngineContext } from '../engine/context.js';
import { openImage, type OpenImageOptions } from '../image/open-image.js';
import type { LayerDescriptor } from '../image/types.js';
import { buildInventory } from '../inventory/build-inventory.js';
import type { WalkProgress } from '../layers/walk-rootfs.js';

export interface InventoryRequest {
  reference: string;
  image?: OpenImageOptions;
  /** Logger, cancellation, credentials and allowed transports; default a silent, unrestricted context. */
  context?: EngineContext;
  /** false disables the layer cache; a string names its directory, a LayerCache is used as it is. Default: the default cache dir. */
  cache?: boolean | string | LayerCache;
  concurrency?: number;
  detectors?: readonly Detector[];
  onLayerDone?: (layer: LayerDescriptor, from: 'blob' | 'cache') => void;
  /** `dir:` references only: running totals of the filesystem walk (files, bytes). */
  onWalkProgress?: (p: WalkProgress) => void;
}

/**
 * Inventories every image a reference resolves to (one, or one per platform with `--platform all`).
 * The image source is always closed, also on failure, so temporary files never outlive the call.
 */
export async function inventoryReference(request: InventoryRequest): Promise<Inventory[]> {
  const context = request.context ?? silentEngineContext();
  const cache = request.cache === false ? undefined : request.cache instanceof LayerCache ? request.cache : new LayerCache(typeof request.cache === 'string' ? request.cache : defaultCacheDir());
  const opened = await openImage(request.reference, request.image ?? {}, context);
  try {
    const inventories: Inventory[] = [];
    for (const image of opened.images) {
      inventories.push(
        await buildInventory(image, {
          detectors: request.detectors ?? DETECTORS,
          ...(cache ? { cache } : {}),
          ...(request.concurrency ? { concurrency: request.concurrency } : {}),
          ...(context.signal ? { signal: context.signal } : {}),
          logger: context.logger,
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
