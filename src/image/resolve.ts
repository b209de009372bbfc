import { type Readable, pipeline } from 'node:stream';
import { PortcullisError } from '../domain/errors.js';
import { createDigestVerifier, verifyBytes } from './digest.js';
import { layerCreatedBy, parseImageConfig } from './image-config.js';
import { descriptorIsIndex, parseManifest, type Descriptor, type ParsedImageManifest } from './manifest.js';
import { IMAGE_MANIFEST_MEDIA_TYPES, normalizeMediaType } from './media-types.js';
import { formatPlatform, platformMatches, selectPlatforms } from './platform.js';
import type { ImageConfigSummary, ImageTransport, LayerDescriptor, LayerProgress, Platform, PlatformSelector, ResolvedImage } from './types.js';

/** Largest manifest or index read into memory (the Distribution registry's own limit is 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Largest image config read into memory; real configs with long histories stay well below. */
export const MAX_CONFIG_BYTES = 32 * 1024 * 1024;
/** Nested indexes deeper than this are refused (a cycle or a hostile document). */
const MAX_INDEX_DEPTH = 4;

/**
 * Where the blobs of one image source live. Implementations return raw bytes; verification against
 * descriptors happens here, once, for every source.
 */
export interface BlobStore {
  /** Raw manifest bytes for a descriptor, and the content type the transport reported, if any. */
  fetchManifest(desc: Descriptor, signal?: AbortSignal): Promise<{ bytes: Buffer; contentType?: string }>;
  /** The blob's stored bytes, unverified. Rejects with E_NOT_FOUND when the blob is absent. */
  openBlob(desc: Descriptor, signal?: AbortSignal): Promise<Readable>;
  /** Local stores only: whether a blob is present (an index may list platforms whose blobs were not copied). */
  hasBlob?(digest: string): boolean;
}

/** Everything the resolver needs besides the store. */
export interface ResolveContext {
  store: BlobStore;
  reference: string;
  transport: ImageTransport;
  selector: PlatformSelector;
  /** True when the user chose the platform (a single-platform image of another platform is then an error). */
  explicitPlatform: boolean;
  base?: Pick<ResolvedImage, 'registry' | 'repository' | 'tag'>;
  onProgress?: (p: LayerProgress) => void;
  signal?: AbortSignal;
  logger?: { debug(obj: object, msg: string): void };
}

/** Reads a whole blob through the digest verifier, refusing more than `maxBytes`. */
export async function readVerifiedBlob(store: BlobStore, desc: Descriptor, what: string, maxBytes: number, signal?: AbortSignal): Promise<Buffer> {
  if (desc.size > maxBytes) {
    throw new PortcullisError('E_TOO_LARGE', `image: ${what} is ${desc.size} bytes, more than the ${maxBytes} allowed`, { digest: desc.digest });
  }
  const source = await store.openBlob(desc, signal);
  const verifier = createDigestVerifier(desc.digest, { expectedSize: desc.size, what });
  const chunks: Buffer[] = [];
  let total = 0;
  await new Promise<void>((resolve, reject) => {
    verifier.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
        verifier.destroy(new PortcullisError('E_TOO_LARGE', `image: ${what} is more than the ${maxBytes} bytes allowed`, { digest: desc.digest }));
        return;
      }
      chunks.push(chunk);
    });
    pipeline(source, verifier, (err) => (err ? reject(err) : resolve()));
  });
  return Buffer.concat(chunks);
}

/** Fetches a manifest by descriptor and verifies its digest and size. */
export async function readVerifiedManifest(
  store: BlobStore,
  desc: Descriptor,
  signal?: AbortSignal,
): Promise<{ bytes: Buffer; contentType?: string }> {
  if (desc.size > MAX_MANIFEST_BYTES) {
    throw new PortcullisError('E_TOO_LARGE', `image: manifest ${desc.digest} is ${desc.size} bytes, more than ${MAX_MANIFEST_BYTES}`, { digest: desc.digest });
  }
  const fetched = await store.fetchManifest(desc, signal);
  verifyBytes(fetched.bytes, desc.digest, `manifest ${desc.digest}`, desc.size);
  return fetched;
}

/**
 * Resolves already-fetched (and verified) manifest bytes into images: an image manifest gives one
 * image, an index gives the children the platform selector picks (nested indexes are followed).
 */
export async function resolveManifestBytes(
  ctx: ResolveContext,
  root: { bytes: Buffer; contentType?: string; digest: string; descriptorMediaType?: string },
): Promise<ResolvedImage[]> {
  const hints = { what: root.digest, contentType: root.contentType, descriptorMediaType: root.descriptorMediaType };
  const parsed = parseManifest(root.bytes, hints);
  if (parsed.kind === 'image') return [await buildFromManifest(ctx, parsed, root.digest, undefined, undefined)];
  return resolveIndexChildren(ctx, parsed.manifests, root.digest, `index ${root.digest}`, 1);
}

/** Resolves one descriptor (manifest or index) found in an OCI layout's index.json or an index. */
export async function resolveDescriptor(ctx: ResolveContext, desc: Descriptor): Promise<ResolvedImage[]> {
  const fetched = await readVerifiedManifest(ctx.store, desc, ctx.signal);
  return resolveManifestBytes(ctx, { ...fetched, digest: desc.digest, descriptorMediaType: desc.mediaType });
}

interface Candidate {
  desc: Descriptor;
  indexDigest: string | undefined;
}

/**
 * Selects among the children of an index (flattening nested indexes first, since they carry no
 * platform of their own) and resolves each selected image manifest. `indexDigest` is undefined for
 * a synthetic index (the untagged top level of an OCI layout).
 */
export async function resolveIndexChildren(
  ctx: ResolveContext,
  children: Descriptor[],
  indexDigest: string | undefined,
  what: string,
  depth = 1,
): Promise<ResolvedImage[]> {
  const flat = await flatten(ctx, children, indexDigest, depth);
  // Indexes may also list non-image manifests (artifacts, signatures); they are not platforms.
  const candidates = flat.filter((c) => IMAGE_MANIFEST_MEDIA_TYPES.has(normalizeMediaType(c.desc.mediaType)));
  const present = ctx.store.hasBlob ? candidates.filter((c) => ctx.store.hasBlob!(c.desc.digest)) : candidates;
  const skipped = flat.length - present.length;
  if (skipped > 0) ctx.logger?.debug({ skipped, what }, 'image: index children that are not images, or whose manifests are not in the source, were skipped');
  const selected = selectPlatforms(
    present.map((c) => ({ ...c, platform: c.desc.platform })),
    ctx.selector,
    what,
  );
  const images: ResolvedImage[] = [];
  for (const c of selected) {
    const fetched = await readVerifiedManifest(ctx.store, c.desc, ctx.signal);
    const parsed = parseManifest(fetched.bytes, { what: c.desc.digest, contentType: fetched.contentType, descriptorMediaType: c.desc.mediaType });
    if (parsed.kind !== 'image') {
      throw new PortcullisError('E_MANIFEST', `image: ${c.desc.digest} is listed as an image manifest but is an index`, { digest: c.desc.digest });
    }
    images.push(await buildFromManifest(ctx, parsed, c.desc.digest, c.indexDigest, c.desc.platform));
  }
  return images;
}

async function flatten(ctx: ResolveContext, children: Descriptor[], indexDigest: string | undefined, depth: number): Promise<Candidate[]> {
  const out: Candidate[] = [];
  for (const desc of children) {
    if (!descriptorIsIndex(desc)) {
      out.push({ desc, indexDigest });
      continue;
    }
    if (depth >= MAX_INDEX_DEPTH) {
      throw new PortcullisError('E_MANIFEST', `image: indexes nested deeper than ${MAX_INDEX_DEPTH} levels at ${desc.digest}`, { digest: desc.digest });
    }
    if (ctx.store.hasBlob && !ctx.store.hasBlob(desc.digest)) continue;
    const fetched = await readVerifiedManifest(ctx.store, desc, ctx.signal);
    const parsed = parseManifest(fetched.bytes, { what: desc.digest, contentType: fetched.contentType, descriptorMediaType: desc.mediaType });
    if (parsed.kind === 'index') out.push(...(await flatten(ctx, parsed.manifests, desc.digest, depth + 1)));
    else out.push({ desc, indexDigest });
  }
  return out;
}

async function buildFromManifest(
  ctx: ResolveContext,
  manifest: ParsedImageManifest,
  manifestDigest: string,
  indexDigest: string | undefined,
  indexPlatform: Platform | undefined,
): Promise<ResolvedImage> {
  const configBytes = await readVerifiedBlob(ctx.store, manifest.config, `config ${manifest.config.digest}`, MAX_CONFIG_BYTES, ctx.signal);
  const config = parseImageConfig(configBytes, `config ${manifest.config.digest}`);
  return buildImage(ctx, {
    manifestDigest,
    indexDigest,
    configDigest: manifest.config.digest,
    config,
    layers: manifest.layers,
    indexPlatform,
  });
}

/** The parts of an image every source knows once it has read manifest and config. */
export interface ImageParts {
  manifestDigest?: string;
  indexDigest?: string;
  configDigest: string;
  config: ImageConfigSummary;
  /** Layer blobs, base first, as the store serves them. */
  layers: Descriptor[];
  /** The platform the index declared for this child, when it came from an index. */
  indexPlatform?: Platform;
}

/**
 * Assembles a ResolvedImage: checks the config's diff_ids line up with the layers (E_MANIFEST when
 * not), maps history onto layers, applies an explicitly requested platform to single-platform images
 * (E_PLATFORM on mismatch) and wires `openLayer` to the store through the digest verifier.
 */
export function buildImage(ctx: ResolveContext, parts: ImageParts): ResolvedImage {
  const { config } = parts;
  if (config.diffIds.length !== parts.layers.length) {
    throw new PortcullisError(
      'E_MANIFEST',
      `image: manifest ${parts.manifestDigest ?? ''} lists ${parts.layers.length} layers but its config has ${config.diffIds.length} diff_ids`.replace('  ', ' '),
      { manifestDigest: parts.manifestDigest },
    );
  }
  const configPlatform = config.os && config.architecture ? platformOf(config) : undefined;
  const platform = configPlatform ?? parts.indexPlatform;
  if (parts.indexPlatform === undefined && ctx.explicitPlatform && ctx.selector !== 'all' && configPlatform && !platformMatches(ctx.selector, configPlatform)) {
    throw new PortcullisError(
      'E_PLATFORM',
      `platform: ${ctx.reference} is a single-platform image for ${formatPlatform(configPlatform)}, not ${formatPlatform(ctx.selector)}; available: ${formatPlatform(configPlatform)}`,
      { wanted: formatPlatform(ctx.selector), available: [formatPlatform(configPlatform)] },
    );
  }
  const createdBy = layerCreatedBy(config, parts.layers.length);
  const layers: LayerDescriptor[] = parts.layers.map((d, index) => {
    const layer: LayerDescriptor = { index, digest: d.digest, size: d.size, mediaType: d.mediaType };
    const diffId = config.diffIds[index];
    if (diffId !== undefined) layer.diffId = diffId;
    const by = createdBy[index];
    if (by !== undefined) layer.createdBy = by;
    return layer;
  });
  const image: ResolvedImage = {
    reference: ctx.reference,
    transport: ctx.transport,
    configDigest: parts.configDigest,
    config,
    layers,
    openLayer: (layer, signal) => openLayer(ctx, parts.layers, layers, layer, signal),
    ...ctx.base,
  };
  if (parts.manifestDigest !== undefined) image.manifestDigest = parts.manifestDigest;
  if (parts.indexDigest !== undefined) image.indexDigest = parts.indexDigest;
  if (platform !== undefined) image.platform = platform;
  return image;
}

function platformOf(config: ImageConfigSummary): Platform {
  const p: Platform = { os: config.os ?? '', architecture: config.architecture ?? '' };
  if (config.variant) p.variant = config.variant;
  return p;
}

async function openLayer(
  ctx: ResolveContext,
  descriptors: Descriptor[],
  layers: LayerDescriptor[],
  layer: LayerDescriptor,
  signal?: AbortSignal,
): Promise<Readable> {
  const own = layers[layer.index];
  const desc = descriptors[layer.index];
  if (!own || !desc || own.digest !== layer.digest) {
    throw new PortcullisError('E_INTERNAL', `image: layer ${layer.index} (${layer.digest}) does not belong to ${ctx.reference}`);
  }
  const source = await ctx.store.openBlob(desc, signal ?? ctx.signal);
  const onProgress = ctx.onProgress;
  const verifier = createDigestVerifier(desc.digest, {
    expectedSize: desc.size,
    what: `layer ${layer.index} (${desc.digest})`,
    onBytes: onProgress ? (bytes) => onProgress({ layer: own, bytes, total: own.size }) : undefined,
  });
  // pipeline destroys both streams with the first error, so a source failure (network, missing
  // file) surfaces on the stream the caller reads, and a caller destroying it releases the source.
  pipeline(source, verifier, () => undefined);
  return verifier;
}
