/**
 * Whether the app database answers, for the service's readiness probe.
 */
import { sql } from 'kysely';
import type { Store } from './open-store.js';

/** Runs a trivial query; resolves when the database answers, rejects with the driver's error otherwise. */
export async function pingStore(store: Store): Promise<void> {
  await sql`select 1`.execute(store.db);
}
