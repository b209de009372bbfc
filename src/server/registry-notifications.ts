/**
 * Docker Distribution notification envelopes (`application/vnd.docker.distribution.events.v1+json`):
 * their schema and which of their events the event processor acts on.
 *
 * Permissive by design: the registry adds fields between versions, so unknown fields are kept
 * (and stored); only what the service reads is checked. One malformed event inside a well-formed
 * envelope is stored as skipped with the reason rather than refused, because the registry retries
 * a refused envelope forever and would block every later notification behind it.
 */
import * as z from 'zod';
import { MEDIA_TYPES, SCHEMA1_MEDIA_TYPES } from '../image/media-types.js';
import type { NewRegistryEvent } from '../store/registry-events.js';

/** The media type the registry's notification endpoint sends. */
export const NOTIFICATION_MEDIA_TYPE = 'application/vnd.docker.distribution.events.v1+json';

/** Most events one envelope may hold (the registry sends one per envelope by default). */
export const MAX_EVENTS_PER_ENVELOPE = 1000;

const descriptorSchema = z.looseObject({
  mediaType: z.string().optional(),
  digest: z.string().optional(),
  size: z.number().optional(),
});

const eventSchema = z.looseObject({
  /** Unique per event; the registry resends the same id when it retries a delivery. */
  id: z.string().min(1).max(256),
  timestamp: z.string().optional(),
  action: z.string().max(64),
  target: z
    .looseObject({
      mediaType: z.string().optional(),
      digest: z.string().optional(),
      repository: z.string().optional(),
      tag: z.string().optional(),
      url: z.string().optional(),
      size: z.number().optional(),
      length: z.number().optional(),
      references: z.array(descriptorSchema).optional(),
    })
    .optional(),
  request: z.looseObject({ id: z.string().optional(), host: z.string().optional(), method: z.string().optional(), useragent: z.string().optional() }).optional(),
  actor: z.looseObject({ name: z.string().optional() }).optional(),
  source: z.looseObject({ addr: z.string().optional(), instanceID: z.string().optional() }).optional(),
});

/** A notification envelope: `{ "events": [ ... ] }`. */
export const notificationEnvelopeSchema = z.looseObject({
  events: z.array(eventSchema).max(MAX_EVENTS_PER_ENVELOPE),
});

/** One event of an envelope, unknown fields kept. */
export type RegistryNotificationEvent = z.infer<typeof eventSchema>;
/** A validated envelope. */
export type RegistryNotificationEnvelope = z.infer<typeof notificationEnvelopeSchema>;

/** Manifest media types whose push the processor scans: Docker and OCI, single-platform and indexes alike. */
export const SCANNABLE_MANIFEST_MEDIA_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.dockerManifest, MEDIA_TYPES.dockerManifestList, MEDIA_TYPES.ociManifest, MEDIA_TYPES.ociIndex]);

/** What the processor is to do with an event. */
export type EventClass = { kind: 'manifest-push' } | { kind: 'delete' } | { kind: 'skip'; note: string };

// The registry's own grammar (distribution/reference): path components of lowercase alphanumerics
// joined by separators; tags of word characters, dots and dashes; digests `algorithm:hex`.
const REPOSITORY_NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

/**
 * Classifies one event. Pushes of manifests of every scannable media type (unlike Portus, OCI
 * manifests and indexes too) and deletes go to the processor; blob pushes, pulls, mounts, unknown
 * actions and events missing what their action needs are skipped with the reason. Whether the
 * repository is known is the processor's question, not this one's.
 */
export function classifyEvent(event: RegistryNotificationEvent): EventClass {
  const target = event.target ?? {};
  const problem = malformedTarget(target);
  switch (event.action) {
    case 'push': {
      if (isBlobUrl(target.url)) return { kind: 'skip', note: 'blob push: layers are read when their manifest is scanned' };
      const mediaType = target.mediaType ?? '';
      if (SCHEMA1_MEDIA_TYPES.has(mediaType)) return { kind: 'skip', note: `Docker schema 1 manifest (${mediaType}) is not supported; push it again as schema 2 or OCI` };
      if (!SCANNABLE_MANIFEST_MEDIA_TYPES.has(mediaType)) return { kind: 'skip', note: `push of ${mediaType === '' ? 'an object without a media type' : mediaType}: not a manifest` };
      if (target.repository === undefined || target.digest === undefined) return { kind: 'skip', note: 'manifest push without target.repository or target.digest' };
      if (problem !== undefined) return { kind: 'skip', note: problem };
      return { kind: 'manifest-push' };
    }
    case 'delete': {
      if (isBlobUrl(target.url)) return { kind: 'skip', note: 'blob delete: nothing is stored per blob' };
      if (target.repository === undefined || (target.digest === undefined && target.tag === undefined)) return { kind: 'skip', note: 'delete without target.repository and a target.digest or target.tag' };
      if (problem !== undefined) return { kind: 'skip', note: problem };
      return { kind: 'delete' };
    }
    case 'pull':
      return { kind: 'skip', note: 'pull: not tracked' };
    case 'mount':
      return { kind: 'skip', note: 'blob mount: layers are read when their manifest is scanned' };
    default:
      return { kind: 'skip', note: `unknown action "${event.action.slice(0, 64)}"` };
  }
}

/** The event as the store keeps it, classified. */
export function toStoredEvent(event: RegistryNotificationEvent): NewRegistryEvent {
  const cls = classifyEvent(event);
  const target = event.target ?? {};
  return {
    eventId: event.id,
    action: event.action,
    repository: target.repository ?? null,
    digest: target.digest ?? null,
    tag: target.tag ?? null,
    mediaType: target.mediaType ?? null,
    timestamp: event.timestamp ?? null,
    payload: event,
    status: cls.kind === 'skip' ? 'skipped' : 'fresh',
    note: cls.kind === 'skip' ? cls.note : null,
  };
}

function isBlobUrl(url: string | undefined): boolean {
  return url !== undefined && /\/blobs\/[^/]+$/.test(url);
}

/** Why a target's repository, tag or digest cannot be a registry's; undefined when they can. */
function malformedTarget(target: { repository?: string; tag?: string; digest?: string }): string | undefined {
  if (target.repository !== undefined && (target.repository.length > 255 || !REPOSITORY_NAME.test(target.repository))) return `malformed repository name "${target.repository.slice(0, 300)}"`;
  if (target.tag !== undefined && !TAG.test(target.tag)) return `malformed tag "${target.tag.slice(0, 200)}"`;
  if (target.digest !== undefined && !DIGEST.test(target.digest)) return `malformed digest "${target.digest.slice(0, 200)}"`;
  return undefined;
}
