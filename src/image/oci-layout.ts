import { z } from 'zod';
import { PortcullisError } from '../domain/errors.js';
import { parseDigest } from './digest.js';
import type { LayoutFiles } from './layout-files.js';
import { IndexSchema, malformed, type Descriptor } from './manifest.js';
import { parseRegistryReference, formatRegistryReference } from './reference.js';
import { MAX_MANIFEST_BYTES, resolveDescriptor, resolveIndexChildren, type BlobStore, type ResolveContext } from './resolve.js';
import type { ResolvedImage } from './types.js';

/** The annotation OCI layouts name their images with (`oci:DIR:TAG`). */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
/** The full image name containerd and Docker 25+ `docker save` add beside it. */
export const CONTAINERD_NAME_ANNOTATION = 'io.containerd.image.name';

const OciLayoutSchema = z.object({ imageLayoutVersion: z.string() });

/** `blobs/<alg>/<hex>` of a digest (validated, so the path cannot escape the layout). */
export function blobPath(digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return `blobs/${algorithm}/${hex}`;
}

/**
 * A BlobStore over the `blobs/` directory of a layout. A blob shorter than its descriptor says is
 * refused before it is read (E_INPUT naming the blob and the layout): a copy that was cut short is
 * then reported as that, not as a digest mismatch or a corrupt layer.
 */
export function layoutBlobStore(files: LayoutFiles): BlobStore {
  const checkComplete = (desc: Descriptor): string => {
    const rel = blobPath(desc.digest);
    const size = files.size(rel);
    if (size !== undefined && desc.size >= 0 && size < desc.size) {
      throw new PortcullisError('E_INPUT', `oci-layout: ${rel} in ${files.location} is truncated: ${size} of ${desc.size} bytes`, {
        path: files.location,
        blob: rel,
      });
    }
    return rel;
  };
  return {
    async fetchManifest(desc) {
      return { bytes: await files.readAll(checkComplete(desc), MAX_MANIFEST_BYTES) };
    },
    openBlob(desc, signal) {
      return files.open(checkComplete(desc), signal);
    },
    hasBlob(digest) {
      return files.has(blobPath(digest));
    },
  };
}

/** Whether the files look like an OCI layout (an `oci-layout` marker and an `index.json`). */
export function isOciLayout(files: LayoutFiles): boolean {
  return files.has('oci-layout') && files.has('index.json');
}

/**
 * Resolves the image(s) of an OCI image layout. With `name`, the index.json entries whose
 * `org.opencontainers.image.ref.name` (or `io.containerd.image.name`) equals it are used; without,
 * the single entry. Entries that are indexes are followed and the platform selector applied. Throws
 * E_REFERENCE when the files are not a layout or the choice is ambiguous, E_NOT_FOUND when the
 * name is absent or the layout is empty, E_MANIFEST for a malformed index.json, and whatever the
 * manifests raise (digest mismatches included).
 */
export async function resolveOciLayout(files: LayoutFiles, name: string | undefined, ctx: Omit<ResolveContext, 'store'>): Promise<ResolvedImage[]> {
  if (!files.has('oci-layout')) {
    throw new PortcullisError('E_REFERENCE', `oci-layout: ${files.location} is not an OCI image layout (no oci-layout file)`, { path: files.location });
  }
  const marker = parseJson(await files.readAll('oci-layout', 64 * 1024), 'oci-layout', files.location);
  const markerParsed = OciLayoutSchema.safeParse(marker);
  if (!markerParsed.success) throw malformed(`oci-layout of ${files.location}`, markerParsed.error);
  if (!markerParsed.data.imageLayoutVersion.startsWith('1.')) {
    throw new PortcullisError('E_UNSUPPORTED', `oci-layout: image layout version ${markerParsed.data.imageLayoutVersion} is not supported`);
  }
  const indexParsed = IndexSchema.safeParse(parseJson(await files.readAll('index.json', MAX_MANIFEST_BYTES), 'index.json', files.location));
  if (!indexParsed.success) throw malformed(`index.json of ${files.location}`, indexParsed.error);
  const entries: Descriptor[] = indexParsed.data.manifests.map((m) => {
    parseDigest(m.digest);
    const d: Descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.size };
    if (m.annotations) d.annotations = m.annotations;
    if (m.platform) d.platform = m.platform.variant ? { ...m.platform } : { os: m.platform.os, architecture: m.platform.architecture };
    return d;
  });
  const fullCtx: ResolveContext = { ...ctx, store: layoutBlobStore(files) };
  const names = entries.map(entryName).filter((n): n is string => n !== undefined);

  let chosen: Descriptor[];
  if (name !== undefined) {
    chosen = entries.filter((e) => nameMatches(e, name));
    if (chosen.length === 0) {
      throw new PortcullisError(
        'E_NOT_FOUND',
        `oci-layout: no image named ${JSON.stringify(name)} in ${files.location}; names: ${names.length > 0 ? names.join(', ') : 'none'}`,
        { name, names },
      );
    }
  } else {
    chosen = entries;
    if (chosen.length === 0) throw new PortcullisError('E_NOT_FOUND', `oci-layout: ${files.location} holds no images`, { path: files.location });
  }
  if (chosen.length === 1) return resolveDescriptor(fullCtx, chosen[0]!);
  // Several entries are one multi-platform image only when each declares a platform; otherwise
  // they are different images and the user must say which.
  if (chosen.every((e) => e.platform !== undefined) && new Set(chosen.map(entryName)).size <= 1) {
    return resolveIndexChildren(fullCtx, chosen, undefined, `index.json of ${files.location}`);
  }
  throw new PortcullisError(
    'E_REFERENCE',
    `oci-layout: ${files.location} holds ${chosen.length} images; name one (oci:DIR:NAME); names: ${names.length > 0 ? [...new Set(names)].join(', ') : 'none'}`,
    { names },
  );
}

function entryName(e: Descriptor): string | undefined {
  return e.annotations?.[REF_NAME_ANNOTATION] ?? e.annotations?.[CONTAINERD_NAME_ANNOTATION];
}

function nameMatches(e: Descriptor, name: string): boolean {
  const refName = e.annotations?.[REF_NAME_ANNOTATION];
  const fullName = e.annotations?.[CONTAINERD_NAME_ANNOTATION];
  if (refName === name || fullName === name) return true;
  if (fullName === undefined) return false;
  // `busybox:latest` names docker.io/library/busybox:latest, as Docker would read it.
  try {
    return formatRegistryReference(parseRegistryReference(fullName)) === formatRegistryReference(parseRegistryReference(name));
  } catch {
    return false;
  }
}

/** Parses a layout's own JSON file; an empty or cut-short one is E_MANIFEST naming the file and the layout. */
function parseJson(bytes: Buffer, what: string, location: string): unknown {
  if (bytes.length === 0) throw new PortcullisError('E_MANIFEST', `oci-layout: ${what} in ${location} is empty (0 bytes)`, { path: location });
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new PortcullisError('E_MANIFEST', `oci-layout: ${what} in ${location} is not valid JSON (truncated?): ${(err as Error).message}`, { path: location });
  }
}
