/**
 * Scan requests Harbor sent to the adapter API, by the id Harbor polls with. Only what was asked
 * is kept (registry, repository, digest, tag, media type); the pull authorization never is.
 */
import type { Store } from './open-store.js';

/** One stored Harbor scan request. */
export interface HarborScanRequest {
  id: string;
  registryUrl: string;
  repository: string;
  digest: string;
  tag?: string;
  mimeType: string;
  createdAt: string;
}

export class HarborRequestStore {
  constructor(
    private readonly store: Store,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Records a new request; returns it with its creation time. */
  async add(request: Omit<HarborScanRequest, 'createdAt'>): Promise<HarborScanRequest> {
    const createdAt = this.now().toISOString();
    await this.store.db
      .insertInto('harbor_scan_requests')
      .values({ id: request.id, registry_url: request.registryUrl, repository: request.repository, manifest_digest: request.digest, tag: request.tag ?? null, mime_type: request.mimeType, created_at: createdAt })
      .execute();
    return { ...request, createdAt };
  }

  /** Forgets requests made before `cutoff` (the spec lets an adapter expire ids; Harbor scans again on a 404); returns how many. */
  async deleteOlderThan(cutoff: Date): Promise<number> {
    const result = await this.store.db.deleteFrom('harbor_scan_requests').where('created_at', '<', cutoff.toISOString()).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** The request with this id, or undefined. */
  async get(id: string): Promise<HarborScanRequest | undefined> {
    const row = await this.store.db.selectFrom('harbor_scan_requests').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) return undefined;
    return { id: row.id, registryUrl: row.registry_url, repository: row.repository, digest: row.manifest_digest, ...(row.tag !== null ? { tag: row.tag } : {}), mimeType: row.mime_type, createdAt: row.created_at };
  }
}
