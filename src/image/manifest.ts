import * as z from 'zod';
import { PortcullisError } from '../domain/errors.js';
import { parseDigest } from './digest.js';
import {
  CONFIG_MEDIA_TYPES,
  IMAGE_MANIFEST_MEDIA_TYPES,
  INDEX_MEDIA_TYPES,
  LAYER_MEDIA_TYPES,
  MEDIA_TYPES,
  SCHEMA1_MEDIA_TYPES,
  normalizeMediaType,
} from './media-types.js';
import type { Platform } from './types.js';

/** An OCI content descriptor (what a manifest says about a blob it points at). */
export interface Descriptor {
  mediaType: string;
  digest: string;
  /** Size in bytes; -1 when the source does not know it. */
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
}

/** A multi-platform index (OCI index or Docker manifest list). */
export interface ParsedIndex {
  kind: 'index';
  mediaType: string;
  manifests: Descriptor[];
}

/** A single-platform image manifest (OCI or Docker v2 schema 2). */
export interface ParsedImageManifest {
  kind: 'image';
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

export type ParsedManifest = ParsedIndex | ParsedImageManifest;

const PlatformSchema = z.object({
  os: z.string(),
  architecture: z.string(),
  variant: z.string().optional(),
});

// Descriptors are validated strictly where the scanner depends on them (digest, size) and loosely
// elsewhere: annotations with non-string values are dropped rather than failing the image.
const DescriptorSchema = z.object({
  mediaType: z.string(),
  digest: z.string(),
  size: z.number().int().nonnegative(),
  urls: z.array(z.string()).optional().catch(undefined),
  annotations: z
    .record(z.string(), z.unknown())
    .optional()
    .catch(undefined)
    .transform((a) => (a === undefined ? undefined : onlyStrings(a))),
  platform: PlatformSchema.optional(),
});

/** The OCI index / Docker manifest list shape (also index.json of an OCI layout). */
export const IndexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(DescriptorSchema),
});

const ImageManifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: DescriptorSchema,
  layers: z.array(DescriptorSchema),
});

function onlyStrings(record: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** Where a manifest came from and what the transport said its type was. */
export interface ManifestHints {
  /** Content-Type header of a registry response. */
  contentType?: string;
  /** mediaType of the descriptor that pointed at this manifest. */
  descriptorMediaType?: string;
  /** Names the manifest in error messages (e.g. its digest). */
  what: string;
}

/**
 * Throws E_UNSUPPORTED when the bytes or their content type are a Docker schema 1 manifest. Called
 * before digest checks because schema 1 signed manifests hash differently from their bytes.
 */
export function assertNotSchema1(bytes: Uint8Array, contentType?: string): void {
  const unsupported = (): PortcullisError =>
    new PortcullisError('E_UNSUPPORTED', 'image: Docker schema 1 manifests are not supported', { mediaType: contentType });
  if (SCHEMA1_MEDIA_TYPES.has(normalizeMediaType(contentType))) throw unsupported();
  // A cheap sniff: schema 1 documents carry "schemaVersion": 1 at the top level.
  if (bytes.byteLength > 0 && bytes[0] === 0x7b) {
    const body = tryJson(bytes);
    if (isRecord(body) && (body['schemaVersion'] === 1 || SCHEMA1_MEDIA_TYPES.has(String(body['mediaType'])))) throw unsupported();
  }
}

function tryJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses a manifest or index. The type comes from the document's own `mediaType`, else the pointing
 * descriptor, else the Content-Type, else the shape (OCI allows omitting `mediaType`). Throws
 * E_UNSUPPORTED for Docker schema 1, E_MEDIA_TYPE for other document types (artifacts, unknown types),
 * for non-image configs and for layer media types the layer walk cannot read, and E_MANIFEST for
 * malformed JSON, a wrong shape or malformed digests.
 */
export function parseManifest(bytes: Uint8Array, hints: ManifestHints): ParsedManifest {
  assertNotSchema1(bytes, hints.contentType);
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new PortcullisError('E_MANIFEST', `image: manifest ${hints.what} is not valid JSON: ${(err as Error).message}`, { what: hints.what });
  }
  if (!isRecord(body)) throw new PortcullisError('E_MANIFEST', `image: manifest ${hints.what} is not a JSON object`, { what: hints.what });
  const mediaType = manifestMediaType(body, hints);
  if (INDEX_MEDIA_TYPES.has(mediaType)) {
    const parsed = IndexSchema.safeParse(body);
    if (!parsed.success) throw malformed(hints.what, parsed.error);
    const manifests = parsed.data.manifests.map((d) => toDescriptor(d, hints.what));
    return { kind: 'index', mediaType, manifests };
  }
  if (IMAGE_MANIFEST_MEDIA_TYPES.has(mediaType)) {
    const parsed = ImageManifestSchema.safeParse(body);
    if (!parsed.success) throw malformed(hints.what, parsed.error);
    const config = toDescriptor(parsed.data.config, hints.what);
    if (!CONFIG_MEDIA_TYPES.has(normalizeMediaType(config.mediaType))) {
      throw new PortcullisError(
        'E_MEDIA_TYPE',
        `image: manifest ${hints.what} is not a container image (config media type ${JSON.stringify(config.mediaType)})`,
        { mediaType: config.mediaType },
      );
    }
    const layers = parsed.data.layers.map((d) => toDescriptor(d, hints.what));
    for (const [i, layer] of layers.entries()) {
      if (!LAYER_MEDIA_TYPES.has(normalizeMediaType(layer.mediaType))) {
        throw new PortcullisError('E_MEDIA_TYPE', `image: layer ${i} of ${hints.what} has unsupported media type ${JSON.stringify(layer.mediaType)}`, {
          mediaType: layer.mediaType,
          digest: layer.digest,
        });
      }
    }
    return { kind: 'image', mediaType, config, layers };
  }
  throw new PortcullisError('E_MEDIA_TYPE', `image: ${hints.what} has unsupported manifest media type ${JSON.stringify(mediaType)}`, { mediaType });
}

function manifestMediaType(body: Record<string, unknown>, hints: ManifestHints): string {
  const own = body['mediaType'];
  if (typeof own === 'string' && own !== '') return normalizeMediaType(own);
  const known = (t: string | undefined): string | undefined => {
    const n = normalizeMediaType(t);
    return INDEX_MEDIA_TYPES.has(n) || IMAGE_MANIFEST_MEDIA_TYPES.has(n) ? n : undefined;
  };
  const fromTransport = known(hints.descriptorMediaType) ?? known(hints.contentType);
  if (fromTransport) return fromTransport;
  if (Array.isArray(body['manifests'])) return MEDIA_TYPES.ociIndex;
  if (isRecord(body['config']) && Array.isArray(body['layers'])) return MEDIA_TYPES.ociManifest;
  // Nothing says what this is: report the transport's type (or none) as unsupported.
  return normalizeMediaType(hints.descriptorMediaType) || normalizeMediaType(hints.contentType) || 'unknown';
}

function toDescriptor(d: z.infer<typeof DescriptorSchema>, what: string): Descriptor {
  try {
    parseDigest(d.digest);
  } catch (err) {
    if (err instanceof PortcullisError && err.code === 'E_MANIFEST') {
      throw new PortcullisError('E_MANIFEST', `image: manifest ${what}: ${err.message}`, err.details);
    }
    throw err;
  }
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.urls !== undefined) out.urls = d.urls;
  if (d.annotations !== undefined) out.annotations = d.annotations;
  if (d.platform !== undefined) {
    out.platform = d.platform.variant
      ? { os: d.platform.os, architecture: d.platform.architecture, variant: d.platform.variant }
      : { os: d.platform.os, architecture: d.platform.architecture };
  }
  return out;
}

/** E_MANIFEST naming the first offending field of a zod failure. */
export function malformed(what: string, error: z.ZodError): PortcullisError {
  const issue = error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
  return new PortcullisError('E_MANIFEST', `image: ${what} is malformed at ${where}: ${issue?.message ?? 'invalid'}`, {
    issues: error.issues.slice(0, 5).map((i) => ({ path: i.path.join('.'), message: i.message })),
  });
}

/** True when a descriptor points at an index (OCI index or Docker manifest list). */
export function descriptorIsIndex(d: Descriptor): boolean {
  return INDEX_MEDIA_TYPES.has(normalizeMediaType(d.mediaType));
}
