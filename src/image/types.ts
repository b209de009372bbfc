import type { ImageTransport } from '../engine/context.js';
import type { Readable } from 'node:stream';
import type { Platform } from '../domain/platform.js';

/** os/arch[/variant], as in OCI image indexes (the domain's vocabulary, re-exported for image sources). */
export type { Platform } from '../domain/platform.js';

/** Which child of a manifest list / OCI index to read: one platform, or every child. */
export type PlatformSelector = Platform | 'all';

/** One layer as the manifest (or docker-save manifest.json) describes it. */
export interface LayerDescriptor {
  /** Position from the base (0) upwards. */
  index: number;
  /** Digest of the blob as stored (compressed for registries and OCI layouts; for docker-archive, of the tar). */
  digest: string;
  /** Uncompressed tar digest from the image config's rootfs.diff_ids, when known. */
  diffId?: string;
  /** Stored size in bytes; -1 when unknown. */
  size: number;
  mediaType: string;
  /** The history entry's created_by, when the config has one for this layer. */
  createdBy?: string;
}

/** The image config fields the scanner uses (validated at the boundary). */
export interface ImageConfigSummary {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  diffIds: string[];
  labels: Record<string, string>;
  env: string[];
  history: { createdBy?: string; emptyLayer: boolean }[];
}

/** A single-platform image that can be read layer by layer. */
export interface ResolvedImage {
  /** Reference as the user gave it (e.g. `oci:/tmp/img:latest`, `localhost:5000/ns/repo:tag`). */
  reference: string;
  transport: ImageTransport;
  /** Digest of the (single-platform) manifest, when the source has one. */
  manifestDigest?: string;
  /** Digest of the manifest list / index it was chosen from, when there was one. */
  indexDigest?: string;
  configDigest?: string;
  platform?: Platform;
  /** Registry repository (`ns/repo`) and host, for registry images. */
  repository?: string;
  registry?: string;
  tag?: string;
  config?: ImageConfigSummary;
  layers: LayerDescriptor[];
  /**
   * Opens one layer's blob. The stream yields the stored bytes (possibly compressed) and is
   * digest-verified: it errors with E_DIGEST_MISMATCH at its end if the bytes do not hash to
   * `layer.digest`. Consumers must read it to the end before trusting what they parsed.
   */
  openLayer(layer: LayerDescriptor, signal?: AbortSignal): Promise<Readable>;
}

/** A root filesystem on disk (`dir:PATH`): no layers, walked in place. */
export interface RootfsImage {
  reference: string;
  transport: 'dir';
  root: string;
}

export type { ImageTransport };

/** Progress events for a download bar (bytes of one layer blob). */
export interface LayerProgress {
  layer: LayerDescriptor;
  bytes: number;
  total: number;
}
