/**
 * The outgoing webhook delivery log: each notice to each configured URL is a row, retried with
 * exponential backoff until delivered or out of attempts, and kept as the record of what was sent.
 * Secrets are not stored here: the deliverer signs with the secret the configuration gives the URL.
 */
import type { Selectable } from 'kysely';
import type { Store } from './open-store.js';
import type { WebhookDeliveryTable } from './schema.js';

export interface WebhookDelivery {
  id: number;
  url: string;
  event: string;
  payload: string;
  status: WebhookDeliveryTable['status'];
  attempts: number;
  nextAttemptAt: string;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

export class WebhookStore {
  private readonly now: () => Date;

  constructor(
    private readonly store: Store,
    options: { now?: () => Date } = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /** Queues one notice for one URL; returns its delivery id. */
  async enqueue(url: string, event: string, payload: string): Promise<number> {
    const now = this.now().toISOString();
    const row = await this.store.db
      .insertInto('webhook_deliveries')
      .values({ url, event, payload, status: 'pending', next_attempt_at: now, last_status: null, last_error: null, created_at: now, delivered_at: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** Pending deliveries whose time has come, oldest first. */
  async due(limit: number): Promise<WebhookDelivery[]> {
    const rows = await this.store.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', this.now().toISOString())
      .orderBy('next_attempt_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toDelivery);
  }

  async delivered(id: number, httpStatus: number): Promise<void> {
    const now = this.now().toISOString();
    await this.store.db
      .updateTable('webhook_deliveries')
      .set((eb) => ({ status: 'delivered' as const, attempts: eb('attempts', '+', 1), last_status: httpStatus, last_error: null, delivered_at: now }))
      .where('id', '=', id)
      .execute();
  }

  /** Records a failed attempt: pending again at `retryAt`, or failed for good when undefined. */
  async attemptFailed(id: number, error: string, httpStatus: number | null, retryAt: Date | undefined): Promise<void> {
    await this.store.db
      .updateTable('webhook_deliveries')
      .set((eb) => ({
        status: retryAt === undefined ? ('failed' as const) : ('pending' as const),
        attempts: eb('attempts', '+', 1),
        last_status: httpStatus,
        last_error: error,
        ...(retryAt !== undefined ? { next_attempt_at: retryAt.toISOString() } : {}),
      }))
      .where('id', '=', id)
      .execute();
  }

  /** The delivery log, newest first. */
  async log(limit = 100): Promise<WebhookDelivery[]> {
    const rows = await this.store.db.selectFrom('webhook_deliveries').selectAll().orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toDelivery);
  }

  /** Deliveries per status (for /metrics). */
  async counts(): Promise<Record<WebhookDeliveryTable['status'], number>> {
    const rows = await this.store.db.selectFrom('webhook_deliveries').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
    const out: Record<WebhookDeliveryTable['status'], number> = { pending: 0, delivered: 0, failed: 0 };
    for (const r of rows) out[r.status] = Number(r.n);
    return out;
  }
}

function toDelivery(r: Selectable<WebhookDeliveryTable>): WebhookDelivery {
  return {
    id: r.id,
    url: r.url,
    event: r.event,
    payload: r.payload,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastStatus: r.last_status,
    lastError: r.last_error,
    createdAt: r.created_at,
    deliveredAt: r.delivered_at,
  };
}
