/**
 * What a scanner backend remembers per manifest between scans, in the app database so that every
 * worker process shares it and it survives restarts (Clair v4: the indexer state a manifest was
 * indexed at, its next If-None-Match).
 */
import type { Store } from './open-store.js';

/** One backend's per-manifest state. */
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

/** States kept in this process only (a backend used without a store: tests, one-shot use). */
export function memoryManifestStates(): ManifestStates {
  const states = new Map<string, string>();
  return {
    get: (digest) => Promise.resolve(states.get(digest)),
    set: (digest, state) => {
      states.set(digest, state);
      return Promise.resolve();
    },
  };
}
