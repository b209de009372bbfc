/**
 * What a scanner backend remembers per manifest between scans, in the app database so that every
 * worker process shares it and it survives restarts (Clair v4: the indexer state a manifest was
 * indexed at, its next If-None-Match).
 */
import type { Store } from './open-store.js';

/** One backend's per-manifest state (the shape src/backends/clair-v4 takes as `indexStates`). */
export interface ManifestStates {
  get(digest: string): Promise<string | undefined>;
  set(digest: string, state: string): Promise<void>;
}

/** The states of `backend`, stored in `store`. */
export function storedManifestStates(store: Store, backend: string): ManifestStates {
  return {
    async get(digest) {
      const row = await store.db.selectFrom('backend_index_state').select('state').where('manifest_digest', '=', digest).where('backend', '=', backend).executeTakeFirst();
      return row?.state;
    },
    async set(digest, state) {
      const now = new Date().toISOString();
      await store.db
        .insertInto('backend_index_state')
        .values({ manifest_digest: digest, backend, state, updated_at: now })
        .onConflict((oc) => oc.columns(['manifest_digest', 'backend']).doUpdateSet({ state, updated_at: now }))
        .execute();
    },
  };
}
