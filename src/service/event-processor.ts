/**
 * Applies one registry notification to the catalog and queues the scans it calls for.
 *
 * - push of a manifest (Docker v2 schema 2, manifest list, OCI manifest, OCI index — Portus dropped
 *   OCI pushes): the manifest is fetched from the registry (an event's references do not carry
 *   platforms), recorded with an index's platform children, the tag pointed at it, and one scan
 *   per image manifest and enabled backend queued. A digest already scanned or queued is not
 *   scanned again, however many tags point at it. An untagged manifest (a platform child pushed
 *   before its index) is recorded and scanned when a tag names it.
 * - delete: removes the tag, or every tag of the repository that points at the deleted digest; a
 *   repository left without tags goes too.
 * Anything else (blob pushes, pulls, mounts, unknown actions) is skipped with a note.
 */
import { PortcullisError } from '../domain/errors.js';
import { IMAGE_MANIFEST_MEDIA_TYPES, INDEX_MEDIA_TYPES, normalizeMediaType } from '../image/media-types.js';
import { parseManifest, type ParsedImageManifest } from '../image/manifest.js';
import { formatPlatform, isAttestationPlatform } from '../image/platform.js';
import type { RegistryClient } from '../image/registry/client.js';
import type { CatalogStore } from '../store/catalog.js';
import type { JobQueue } from '../store/jobs.js';
import type { RegistryEventRecord } from '../store/registry-events.js';
import type { RegistryAccess } from './registry-access.js';

/** The facts of a stored registry event the processor needs (as the store reads them back). */
export type RegistryEventFacts = RegistryEventRecord;

export interface EventProcessorDeps {
  catalog: CatalogStore;
  queue: JobQueue;
  registry: RegistryAccess;
  /** Names of the enabled scanner backends (`embedded`, `clair`, ...). */
  backends: readonly string[];
}

export interface EventOutcome {
  status: 'done' | 'skipped';
  note?: string;
  /** Image manifests whose scans this event queued. */
  queued: string[];
}

/** The job kind of one backend's scan of one image manifest. */
export const SCAN_JOB = 'scan';

/** The start of the dedupe key of every scan job of `backend` (workers claim per backend by it). */
export function scanJobKeyPrefix(backend: string): string {
  return `scan:${backend}:`;
}

/** The payload of a scan job. */
export interface ScanJobPayload {
  repository: string;
  digest: string;
  backend: string;
  /** When the backend first answered "still working" for this job (see ScanWorker); absent until then. */
  pendingSince?: string;
}

const MANIFEST_MEDIA_TYPES = new Set([...INDEX_MEDIA_TYPES, ...IMAGE_MANIFEST_MEDIA_TYPES]);

/**
 * Processes one event. Throws (for the caller to retry later) only when the registry cannot be
 * read; an event that cannot apply is skipped with its reason.
 */
export async function processRegistryEvent(event: RegistryEventFacts, deps: EventProcessorDeps): Promise<EventOutcome> {
  const repository = event.repository;
  if (repository === null || repository === '') return skipped('the event names no repository');
  if (event.action === 'delete') return applyDelete(repository, event, deps);
  if (event.action !== 'push') return skipped(`${event.action} events change nothing the service keeps`);
  const mediaType = normalizeMediaType(event.mediaType);
  if (!MANIFEST_MEDIA_TYPES.has(mediaType)) return skipped(`push of ${mediaType || 'an unknown media type'} (not a manifest)`);
  if (event.digest === null) return skipped('a manifest push without a digest');

  const client = await deps.registry.client();
  try {
    const tag = event.tag === null || event.tag === '' ? undefined : event.tag;
    const { queued } = await recordPush(client, repository, event.digest, tag, deps, { scanUntagged: false });
    if (tag === undefined) return { status: 'done', note: 'untagged manifest recorded; scanned when a tag names it', queued: [] };
    return { status: 'done', queued };
  } finally {
    await client.close();
  }
}

/**
 * What a push does to the catalog, for a registry event and a scan on demand alike: the manifest
 * `reference` (a digest or a tag) names is fetched and recorded with an index's platform children,
 * `tag` (when given) is pointed at it, and its image manifests are queued for scanning (see
 * queueScans) when a tag names them or `scanUntagged` says so.
 */
export async function recordPush(
  client: RegistryClient,
  repository: string,
  reference: string,
  tag: string | undefined,
  deps: Pick<EventProcessorDeps, 'catalog' | 'queue' | 'backends'>,
  options: { scanUntagged: boolean },
): Promise<{ digest: string; images: string[]; queued: string[] }> {
  const { digest, images } = await recordManifestTree(client, repository, reference, deps.catalog);
  if (tag !== undefined) await deps.catalog.setTag(repository, tag, digest);
  else if (!options.scanUntagged) return { digest, images, queued: [] };
  else await deps.catalog.upsertRepository(repository);
  return { digest, images, queued: await queueScans(repository, images, deps) };
}

/**
 * Queues a scan of each image manifest by each backend, unless that backend already has the
 * digest scanned, queued or running. Returns the digests that got at least one new scan.
 */
export async function queueScans(repository: string, imageDigests: readonly string[], deps: Pick<EventProcessorDeps, 'catalog' | 'queue' | 'backends'>): Promise<string[]> {
  const queued: string[] = [];
  for (const digest of imageDigests) {
    const existing = new Map((await deps.catalog.scans(digest)).map((s) => [s.backend, s.status]));
    let any = false;
    for (const backend of deps.backends) {
      const status = existing.get(backend);
      if (status === 'scanned' || status === 'queued' || status === 'scanning' || status === 'unsupported') continue;
      await deps.catalog.queueScan(digest, backend);
      await deps.queue.enqueue({ kind: SCAN_JOB, payload: { repository, digest, backend } satisfies ScanJobPayload, dedupeKey: `${scanJobKeyPrefix(backend)}${digest}` });
      any = true;
    }
    if (any) queued.push(digest);
  }
  return queued;
}

/**
 * Fetches and records the manifest `reference` (a digest or a tag) names and, for an index, each
 * platform child (attestation manifests are left out). Returns the manifest's digest and the image
 * manifests to scan: the manifest itself, or the index's children.
 */
export async function recordManifestTree(client: RegistryClient, repository: string, reference: string, catalog: CatalogStore): Promise<{ digest: string; images: string[] }> {
  const fetched = await client.getManifest(repository, reference);
  const digest = fetched.digest;
  const parsed = parseManifest(fetched.bytes, { ...(fetched.contentType ? { contentType: fetched.contentType } : {}), what: `${repository}@${digest}` });
  if (parsed.kind === 'image') {
    await catalog.recordManifest({ digest, mediaType: parsed.mediaType, kind: 'image', size: imageSize(parsed), configDigest: parsed.config.digest });
    return { digest, images: [digest] };
  }
  const children = parsed.manifests.filter((m) => !isAttestationPlatform(m.platform) && IMAGE_MANIFEST_MEDIA_TYPES.has(normalizeMediaType(m.mediaType)));
  for (const child of children) {
    const childFetched = await client.getManifest(repository, child.digest);
    const childParsed = parseManifest(childFetched.bytes, { ...(childFetched.contentType ? { contentType: childFetched.contentType } : {}), descriptorMediaType: child.mediaType, what: `${repository}@${child.digest}` });
    if (childParsed.kind !== 'image') throw new PortcullisError('E_MANIFEST', `${repository}@${child.digest}: a platform entry of index ${digest} is itself an index`);
    await catalog.recordManifest({
      digest: child.digest,
      mediaType: childParsed.mediaType,
      kind: 'image',
      size: imageSize(childParsed),
      configDigest: childParsed.config.digest,
      ...(child.platform ? { platform: formatPlatform(child.platform) } : {}),
    });
  }
  await catalog.recordManifest({
    digest,
    mediaType: parsed.mediaType,
    kind: 'index',
    size: fetched.bytes.length,
    children: children.map((c) => ({ digest: c.digest, platform: c.platform ? formatPlatform(c.platform) : 'unknown' })),
  });
  return { digest, images: children.map((c) => c.digest) };
}

async function applyDelete(repository: string, event: RegistryEventFacts, deps: EventProcessorDeps): Promise<EventOutcome> {
  let removed: string[];
  if (event.digest !== null && event.digest !== '') removed = await deps.catalog.removeTagsByDigest(repository, event.digest);
  else if (event.tag !== null && event.tag !== '') removed = (await deps.catalog.removeTag(repository, event.tag)) ? [event.tag] : [];
  else return skipped('a delete that names neither a digest nor a tag');
  const repoGone = await deps.catalog.removeRepositoryIfEmpty(repository);
  if (removed.length === 0) return skipped(`nothing of ${repository} matched the delete`);
  return { status: 'done', note: `removed ${repository}:${removed.join(',')}${repoGone ? ` and the now empty repository` : ''}`, queued: [] };
}

function imageSize(m: ParsedImageManifest): number {
  return Math.max(0, m.config.size) + m.layers.reduce((sum, l) => sum + Math.max(0, l.size), 0);
}

function skipped(note: string): EventOutcome {
  return { status: 'skipped', note, queued: [] };
}
