/**
 * Catalog reconciliation: brings the catalog in line with what the registry holds
 * (`GET /v2/_catalog` and `/v2/<repo>/tags/list`, following Link pages), so pushes and deletes
 * missed while the service was down are caught. Portus's strategies:
 * - `initial`: one run at start, only when the catalog is empty;
 * - `on-start`: one full run at start (deletes included);
 * - `update`: at start and on the interval, adding and updating, never deleting;
 * - `update-delete`: at start and on the interval, deletes included.
 * A repository whose tag listing failed is never deleted, nor are its tags.
 */
import { toPortcullisError } from '../domain/errors.js';
import type { CatalogStore } from '../store/catalog.js';
import { queueScans, recordManifestTree, type EventProcessorDeps } from './event-processor.js';

export type SyncStrategy = 'initial' | 'on-start' | 'update' | 'update-delete';

export interface SyncSummary {
  repositories: number;
  tagsAdded: number;
  tagsMoved: number;
  tagsRemoved: number;
  repositoriesRemoved: number;
  scansQueued: number;
  /** Repositories (or `_catalog`) that could not be listed or read, with the reason; left as they were. */
  failures: { repository: string; reason: string }[];
}

/** Whether the strategy runs a sync when the service starts. */
export async function syncAtStart(strategy: SyncStrategy, catalog: CatalogStore): Promise<boolean> {
  if (strategy !== 'initial') return true;
  return (await catalog.repositories()).length === 0;
}

/** Whether the strategy syncs again on the interval. */
export function syncRepeats(strategy: SyncStrategy): boolean {
  return strategy === 'update' || strategy === 'update-delete';
}

/** Whether the strategy removes what the registry no longer has. */
export function syncDeletes(strategy: SyncStrategy): boolean {
  return strategy !== 'update';
}

/** One reconciliation run. Never throws for one repository's failure; an unreadable catalog is a failure entry and changes nothing. */
export async function syncCatalog(deps: EventProcessorDeps, options: { deletes: boolean; pageSize?: number; signal?: AbortSignal }): Promise<SyncSummary> {
  const summary: SyncSummary = { repositories: 0, tagsAdded: 0, tagsMoved: 0, tagsRemoved: 0, repositoriesRemoved: 0, scansQueued: 0, failures: [] };
  const client = await deps.registry.client();
  try {
    let repositories: string[];
    try {
      repositories = await client.listRepositories({ pageSize: options.pageSize ?? 100, ...(options.signal ? { signal: options.signal } : {}) });
    } catch (err) {
      summary.failures.push({ repository: '_catalog', reason: toPortcullisError(err).message });
      return summary;
    }
    summary.repositories = repositories.length;
    const listed = new Set(repositories);
    for (const repository of repositories) {
      options.signal?.throwIfAborted();
      let tags: string[];
      try {
        tags = await client.listTags(repository, { pageSize: options.pageSize ?? 100, ...(options.signal ? { signal: options.signal } : {}) });
      } catch (err) {
        summary.failures.push({ repository, reason: toPortcullisError(err).message });
        continue;
      }
      const known = new Map((await deps.catalog.tags(repository)).map((t) => [t.name, t.digest]));
      let readAll = true;
      for (const tag of tags) {
        try {
          const { digest, images } = await recordManifestTree(client, repository, tag, deps.catalog);
          const before = known.get(tag);
          if (before !== digest) {
            await deps.catalog.setTag(repository, tag, digest);
            if (before === undefined) summary.tagsAdded++;
            else summary.tagsMoved++;
          }
          summary.scansQueued += (await queueScans(repository, images, deps)).length;
        } catch (err) {
          readAll = false;
          summary.failures.push({ repository: `${repository}:${tag}`, reason: toPortcullisError(err).message });
        }
      }
      if (options.deletes && readAll) {
        const current = new Set(tags);
        for (const tag of known.keys()) {
          if (!current.has(tag) && (await deps.catalog.removeTag(repository, tag))) summary.tagsRemoved++;
        }
        if (tags.length === 0 && (await deps.catalog.removeRepositoryIfEmpty(repository))) summary.repositoriesRemoved++;
      }
    }
    if (options.deletes) {
      for (const repo of await deps.catalog.repositories()) {
        if (listed.has(repo.name)) continue;
        for (const tag of await deps.catalog.tags(repo.name)) if (await deps.catalog.removeTag(repo.name, tag.name)) summary.tagsRemoved++;
        if (await deps.catalog.removeRepositoryIfEmpty(repo.name)) summary.repositoriesRemoved++;
      }
    }
    return summary;
  } finally {
    await client.close();
  }
}
