import type { RegistryReference } from '../reference.js';
import { resolveManifestBytes, type BlobStore, type ResolveContext } from '../resolve.js';
import type { ResolvedImage } from '../types.js';
import type { RegistryClient } from './client.js';

/** A BlobStore over one repository of a registry. */
export function registryBlobStore(client: RegistryClient, repository: string): BlobStore {
  return {
    async fetchManifest(desc, signal) {
      const m = await client.getManifest(repository, desc.digest, signal);
      return m.contentType !== undefined ? { bytes: m.bytes, contentType: m.contentType } : { bytes: m.bytes };
    },
    openBlob(desc, signal) {
      return client.openBlob(repository, desc, signal);
    },
  };
}

/**
 * Resolves a registry reference to images: fetches the manifest by digest (or tag), follows an
 * index to the platform(s) the selector asks for, reads and verifies each config. Layers are not
 * touched until `openLayer`.
 */
export async function resolveRegistryImages(client: RegistryClient, ref: RegistryReference, ctx: Omit<ResolveContext, 'store' | 'base'>): Promise<ResolvedImage[]> {
  const reference = ref.digest ?? ref.tag ?? 'latest';
  const root = await client.getManifest(ref.repository, reference, ctx.signal);
  const base: NonNullable<ResolveContext['base']> = { registry: ref.registry, repository: ref.repository };
  if (ref.tag !== undefined) base.tag = ref.tag;
  return resolveManifestBytes({ ...ctx, base, store: registryBlobStore(client, ref.repository) }, root);
}
