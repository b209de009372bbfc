/**
 * Registry notifications as the webhook stores them and the event processor reads them: stored
 * before they are acknowledged, deduplicated by the registry's event id (its delivery is
 * at-least-once), read back in the order the registry produced them.
 */
import type { Store } from './open-store.js';
import type { RegistryEvent, RegistryEventStatus } from './schema.js';

/** One event to store, as the webhook classified it (`eventId`, the registry's `events[].id`, is the deduplication key). */
export interface NewRegistryEvent extends RegistryEventRecord {
  /** The registry's `events[].timestamp` as sent (any RFC 3339 precision), or null. */
  timestamp: string | null;
  /** The event object as received; stored as JSON so the processor sees every field. */
  payload: unknown;
  /** `fresh` for the processor, `skipped` for events it never acts on (with the reason in note). */
  status: Extract<RegistryEventStatus, 'fresh' | 'skipped'>;
  note: string | null;
}

/** What `recordEvents` did with a batch. */
export interface RecordedEvents {
  /** Events newly stored (fresh or skipped). */
  stored: number;
  /** Events dropped because an event with the same id was already stored (or came twice in the batch). */
  duplicates: number;
  /** Of the stored events, those left for the processor. */
  fresh: number;
}

/**
 * Stores a batch of events in one statement (all or nothing). Ids already stored, and repeats
 * inside the batch, are dropped: the first copy received wins. `now` is the receive time.
 */
export async function recordEvents(store: Store, events: readonly NewRegistryEvent[], now: Date = new Date()): Promise<RecordedEvents> {
  const firstById = new Map<string, NewRegistryEvent>();
  for (const e of events) if (!firstById.has(e.eventId)) firstById.set(e.eventId, e);
  const unique = [...firstById.values()];
  if (unique.length === 0) return { stored: 0, duplicates: events.length, fresh: 0 };
  const receivedAt = now.toISOString();
  const rows = unique.map((e) => ({
    event_id: e.eventId,
    received_at: receivedAt,
    occurred_at: normalizeTimestamp(e.timestamp),
    action: e.action,
    repository: e.repository,
    digest: e.digest,
    tag: e.tag,
    media_type: e.mediaType,
    payload: JSON.stringify(e.payload),
    status: e.status,
    note: e.note,
    processed_at: null,
  }));
  // RETURNING tells which rows were new on both databases; a conflict returns nothing for its row.
  const inserted = await store.db
    .insertInto('registry_events')
    .values(rows)
    .onConflict((oc) => oc.column('event_id').doNothing())
    .returning(['event_id', 'status'])
    .execute();
  return { stored: inserted.length, duplicates: events.length - inserted.length, fresh: inserted.filter((r) => r.status === 'fresh').length };
}

/**
 * Up to `limit` fresh events, oldest first: by receive time, then by the registry's own event time
 * (the order inside one envelope), then by id so the order is total.
 */
export async function freshEvents(store: Store, limit: number): Promise<RegistryEvent[]> {
  return store.db
    .selectFrom('registry_events')
    .selectAll()
    .where('status', '=', 'fresh')
    .orderBy('received_at')
    .orderBy('occurred_at')
    .orderBy('event_id')
    .limit(Math.max(0, Math.floor(limit)))
    .execute();
}

/** Records what the processor did with an event. Returns false when no event has that id. */
export async function markEvent(store: Store, eventId: string, status: Exclude<RegistryEventStatus, 'fresh'>, note: string | null = null, now: Date = new Date()): Promise<boolean> {
  const result = await store.db
    .updateTable('registry_events')
    .set({ status, note, processed_at: now.toISOString() })
    .where('event_id', '=', eventId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * An RFC 3339 time as fixed-width UTC text with nine fraction digits, so text order is time order
 * (the registry's Go timestamps drop trailing zeros of the fraction). Null when absent or unreadable.
 */
export function normalizeTimestamp(text: string | null): string | null {
  if (text === null) return null;
  const m = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})$/.exec(text.trim());
  if (m === null) return null;
  const [, day, time, fraction = '', zone = 'Z'] = m;
  const whole = Date.parse(`${day}T${time}${zone.toUpperCase()}`);
  if (Number.isNaN(whole)) return null;
  return `${new Date(whole).toISOString().slice(0, 19)}.${fraction.padEnd(9, '0')}Z`;
}

/** What the event processor reads of a stored event (the shape of the service runtime's RegistryEventSource). */
export interface RegistryEventRecord {
  eventId: string;
  action: string;
  repository: string | null;
  digest: string | null;
  tag: string | null;
  mediaType: string | null;
}

/** The stored events as the service runtime reads them: fresh ones in order, and their outcomes. */
export interface RegistryEventQueue {
  /** Up to `limit` fresh events, oldest first (see freshEvents). */
  fresh(limit: number): Promise<RegistryEventRecord[]>;
  /** Records what became of one event. */
  mark(eventId: string, status: Exclude<RegistryEventStatus, 'fresh'>, note?: string): Promise<void>;
}

/**
 * The webhook's events for the event processor (src/service/runtime.ts takes this as its
 * `events`): `fresh` and `mark` over this store.
 */
export function registryEventQueue(store: Store): RegistryEventQueue {
  return {
    async fresh(limit) {
      const rows = await freshEvents(store, limit);
      return rows.map((r) => ({ eventId: r.event_id, action: r.action, repository: r.repository, digest: r.digest, tag: r.tag, mediaType: r.media_type }));
    },
    async mark(eventId, status, note) {
      await markEvent(store, eventId, status, note ?? null);
    },
  };
}
