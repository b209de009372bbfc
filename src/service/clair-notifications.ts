/**
 * Clair v4's notifier webhook, handled: Clair POSTs `{notification_id, callback}` when its matcher's
 * data changed the vulnerabilities of manifests it indexed. The pages of the notification are read
 * from the configured Clair server only (a callback naming another host is refused: the service
 * never follows a URL a caller chose), every affected manifest the catalog holds gets a `clair-v4`
 * re-scan job (the durable queue's retries apply; the index state is unchanged, so the job's POST
 * gets 412 and fetches the new vulnerability report), and the notification is deleted so Clair
 * stops delivering it. Any Clair failure before the delete answers the webhook with an error, and
 * Clair delivers it again later.
 */
import { CLAIR_V4_BACKEND } from '../backends/clair-v4/backend.js';
import type { ClairV4Client } from '../backends/clair-v4/client.js';
import { isPortcullisError, PortcullisError } from '../domain/errors.js';
import type { CatalogStore } from '../store/catalog.js';
import type { JobQueue } from '../store/jobs.js';
import { SCAN_JOB, scanJobKeyPrefix, type ScanJobPayload } from './event-processor.js';

/** The webhook body (Clair's openapi `Callback`). */
export interface ClairNotificationCallback {
  notification_id: string;
  callback: string;
}

export interface ClairNotificationDeps {
  /** A client of `security.clair_v4.server` (the notifier is there). */
  client: ClairV4Client;
  /** `security.clair_v4.server`: the only origin a callback may name. */
  server: string;
  catalog: CatalogStore;
  queue: JobQueue;
}

/** What one notification did. */
export interface ClairNotificationOutcome {
  notificationId: string;
  pages: number;
  notifications: number;
  /** Distinct manifests the notification named. */
  manifests: number;
  /** Of those, the ones the catalog holds, re-scan queued. */
  queued: string[];
}

/** Most pages read of one notification (Clair's default page holds 500 entries). */
const MAX_PAGES = 1000;

/** Handles one notifier webhook (see the module comment). */
export async function handleClairNotification(body: ClairNotificationCallback, deps: ClairNotificationDeps): Promise<ClairNotificationOutcome> {
  const id = body.notification_id;
  checkCallback(body, deps.server);
  const manifests = new Set<string>();
  let pages = 0;
  let notifications = 0;
  let next: string | undefined;
  const seen = new Set<string>();
  do {
    const page = await fromClair(deps.client.notificationPage(id, next));
    pages++;
    notifications += page.notifications.length;
    for (const n of page.notifications) manifests.add(n.manifest);
    const following = page.page?.next ?? undefined;
    // Older notifiers end with next "-1"; a next already read would loop forever.
    next = following === undefined || following === '' || following === '-1' || seen.has(following) ? undefined : following;
    if (next !== undefined) seen.add(next);
  } while (next !== undefined && pages < MAX_PAGES);

  const queued: string[] = [];
  for (const digest of manifests) {
    const repository = await repositoryOf(deps.catalog, digest);
    if (repository === undefined) continue;
    await deps.catalog.queueScan(digest, CLAIR_V4_BACKEND, `Clair notification ${id}: the vulnerability data of this manifest changed`);
    await deps.queue.enqueue({ kind: SCAN_JOB, payload: { repository, digest, backend: CLAIR_V4_BACKEND } satisfies ScanJobPayload, dedupeKey: `${scanJobKeyPrefix(CLAIR_V4_BACKEND)}${digest}` });
    queued.push(digest);
  }
  await fromClair(deps.client.deleteNotification(id));
  return { notificationId: id, pages, notifications, manifests: manifests.size, queued };
}

/** The callback must be this notification's URL on the configured Clair server. */
function checkCallback(body: ClairNotificationCallback, server: string): void {
  let callback: URL;
  try {
    callback = new URL(body.callback);
  } catch {
    throw new PortcullisError('E_INPUT', `callback ${JSON.stringify(body.callback)} is not a URL`);
  }
  const configured = new URL(server);
  if (callback.origin !== configured.origin) {
    throw new PortcullisError('E_INPUT', `callback ${callback.origin} is not the configured Clair server (security.clair_v4.server ${configured.origin}); only that server is asked for notifications`);
  }
  const last = decodeURIComponent(callback.pathname.replace(/\/+$/, '').split('/').pop() ?? '');
  if (last !== body.notification_id) throw new PortcullisError('E_INPUT', `callback ${callback.pathname} does not name notification ${body.notification_id}`);
}

/** A repository holding `digest`, directly or through an index that lists it; undefined when the catalog does not hold it. */
async function repositoryOf(catalog: CatalogStore, digest: string): Promise<string | undefined> {
  const direct = await catalog.tagsOfDigest(digest);
  if (direct[0] !== undefined) return direct[0].repository;
  for (const parent of await catalog.parentsOf(digest)) {
    const tags = await catalog.tagsOfDigest(parent);
    if (tags[0] !== undefined) return tags[0].repository;
  }
  return undefined;
}

/** A Clair that failed us is a bad gateway for Clair's own webhook call (it retries), never a 500 of ours. */
async function fromClair<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (isPortcullisError(err) && err.code !== 'E_UNREACHABLE') throw new PortcullisError('E_UNREACHABLE', err.message, { clairCode: err.code }, { cause: err });
    throw err;
  }
}
