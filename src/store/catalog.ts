/**
 * What the service knows of the registry and of each manifest's scans: repositories, tags (name ->
 * digest), manifests with their platform children, per-backend scan results, stored inventories
 * and the (ecosystem, package) -> manifest index that re-matching uses. Results are keyed by
 * manifest digest, so one digest under several tags or repositories is scanned once.
 */
import type { Store } from './open-store.js';
import type { ScanTable } from './schema.js';

export interface ManifestRecord {
  digest: string;
  mediaType: string;
  kind: 'image' | 'index';
  size: number;
  configDigest?: string;
  platform?: string;
  /** For an index: its platform manifests. */
  children?: readonly { digest: string; platform: string }[];
}

export interface TagRow {
  repository: string;
  name: string;
  digest: string;
  pushedAt: string;
}

export interface RepositorySummary {
  name: string;
  tagCount: number;
  lastPush: string | null;
}

export type ScanStatus = ScanTable['status'];

export interface ScanRow {
  manifestDigest: string;
  backend: string;
  status: ScanStatus;
  reason: string | null;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** The backend's last complete report (JSON text), kept while a re-scan is queued or running. */
  report: string | null;
  counts: Record<string, number> | null;
}

export class CatalogStore {
  private readonly now: () => Date;

  constructor(
    private readonly store: Store,
    options: { now?: () => Date } = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  private stamp(): string {
    return this.now().toISOString();
  }

  /** Creates the repository if it is new. */
  async upsertRepository(name: string): Promise<void> {
    const now = this.stamp();
    await this.store.db
      .insertInto('repositories')
      .values({ name, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('name').doUpdateSet({ updated_at: now }))
      .execute();
  }

  /** Records a manifest (and an index's children) once; a second record of one digest changes nothing. */
  async recordManifest(m: ManifestRecord): Promise<void> {
    const now = this.stamp();
    await this.store.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('manifests')
        .values({ digest: m.digest, media_type: m.mediaType, kind: m.kind, size: m.size, config_digest: m.configDigest ?? null, platform: m.platform ?? null, created_at: now })
        .onConflict((oc) => oc.column('digest').doNothing())
        .execute();
      for (const c of m.children ?? []) {
        await trx
          .insertInto('manifest_children')
          .values({ parent_digest: m.digest, child_digest: c.digest, platform: c.platform })
          .onConflict((oc) => oc.columns(['parent_digest', 'child_digest']).doNothing())
          .execute();
      }
    });
  }

  /** One manifest, or undefined. */
  async manifest(digest: string): Promise<(ManifestRecord & { createdAt: string }) | undefined> {
    const row = await this.store.db.selectFrom('manifests').selectAll().where('digest', '=', digest).executeTakeFirst();
    if (row === undefined) return undefined;
    const children = row.kind === 'index' ? await this.children(digest) : undefined;
    return {
      digest: row.digest,
      mediaType: row.media_type,
      kind: row.kind,
      size: row.size,
      createdAt: row.created_at,
      ...(row.config_digest !== null ? { configDigest: row.config_digest } : {}),
      ...(row.platform !== null ? { platform: row.platform } : {}),
      ...(children !== undefined ? { children } : {}),
    };
  }

  /** The platform manifests of an index, by platform. */
  async children(digest: string): Promise<{ digest: string; platform: string }[]> {
    const rows = await this.store.db.selectFrom('manifest_children').select(['child_digest', 'platform']).where('parent_digest', '=', digest).orderBy('platform').execute();
    return rows.map((r) => ({ digest: r.child_digest, platform: r.platform }));
  }

  /** The indexes that list `digest` as a platform manifest. */
  async parentsOf(digest: string): Promise<string[]> {
    const rows = await this.store.db.selectFrom('manifest_children').select('parent_digest').where('child_digest', '=', digest).orderBy('parent_digest').execute();
    return rows.map((r) => r.parent_digest);
  }

  /** Points `repository:tag` at `digest` (creating the repository); returns the digest it pointed at before, if any. */
  async setTag(repository: string, tag: string, digest: string, pushedAt?: string): Promise<string | undefined> {
    await this.upsertRepository(repository);
    const now = this.stamp();
    const before = await this.store.db.selectFrom('tags').select('digest').where('repository', '=', repository).where('name', '=', tag).executeTakeFirst();
    if (before?.digest === digest) return digest;
    await this.store.db
      .insertInto('tags')
      .values({ repository, name: tag, digest, pushed_at: pushedAt ?? now, updated_at: now })
      .onConflict((oc) => oc.columns(['repository', 'name']).doUpdateSet({ digest, pushed_at: pushedAt ?? now, updated_at: now }))
      .execute();
    return before?.digest;
  }

  /** Removes every tag of `repository` that points at `digest` (a manifest delete); returns their names. */
  async removeTagsByDigest(repository: string, digest: string): Promise<string[]> {
    const rows = await this.store.db.deleteFrom('tags').where('repository', '=', repository).where('digest', '=', digest).returning('name').execute();
    return rows.map((r) => r.name).sort();
  }

  /** Removes one tag; false when it was not there. */
  async removeTag(repository: string, tag: string): Promise<boolean> {
    const r = await this.store.db.deleteFrom('tags').where('repository', '=', repository).where('name', '=', tag).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }

  /** Deletes a repository that has no tag left; true when it did. */
  async removeRepositoryIfEmpty(repository: string): Promise<boolean> {
    const left = await this.store.db.selectFrom('tags').select('name').where('repository', '=', repository).limit(1).executeTakeFirst();
    if (left !== undefined) return false;
    const r = await this.store.db.deleteFrom('repositories').where('name', '=', repository).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }

  /** Every repository with its tag count and last push, by name. */
  async repositories(): Promise<RepositorySummary[]> {
    const rows = await this.store.db
      .selectFrom('repositories as r')
      .leftJoin('tags as t', 't.repository', 'r.name')
      .select((eb) => ['r.name', eb.fn.count<number>('t.name').as('tag_count'), eb.fn.max('t.pushed_at').as('last_push')])
      .groupBy('r.name')
      .orderBy('r.name')
      .execute();
    return rows.map((r) => ({ name: r.name, tagCount: Number(r.tag_count), lastPush: (r.last_push as string | null) ?? null }));
  }

  /** The tags of a repository, by name; [] for an unknown repository. */
  async tags(repository: string): Promise<TagRow[]> {
    const rows = await this.store.db.selectFrom('tags').selectAll().where('repository', '=', repository).orderBy('name').execute();
    return rows.map((r) => ({ repository: r.repository, name: r.name, digest: r.digest, pushedAt: r.pushed_at }));
  }

  /** Every tag (any repository) that points at `digest`. */
  async tagsOfDigest(digest: string): Promise<TagRow[]> {
    const rows = await this.store.db.selectFrom('tags').selectAll().where('digest', '=', digest).orderBy('repository').orderBy('name').execute();
    return rows.map((r) => ({ repository: r.repository, name: r.name, digest: r.digest, pushedAt: r.pushed_at }));
  }

  /**
   * Marks a backend's scan of a manifest queued, keeping its last complete report until a new one
   * replaces it. `note` says why it is queued again (a retry after a failed attempt).
   */
  async queueScan(digest: string, backend: string, note?: string): Promise<void> {
    const now = this.stamp();
    const reason = note ?? null;
    await this.store.db
      .insertInto('scans')
      .values({ manifest_digest: digest, backend, status: 'queued', reason, queued_at: now, started_at: null, finished_at: null, report: null, counts: null })
      .onConflict((oc) => oc.columns(['manifest_digest', 'backend']).doUpdateSet({ status: 'queued', reason, queued_at: now, started_at: null, finished_at: null }))
      .execute();
  }

  /** Marks the scan running. */
  async startScan(digest: string, backend: string): Promise<void> {
    await this.store.db.updateTable('scans').set({ status: 'scanning', started_at: this.stamp() }).where('manifest_digest', '=', digest).where('backend', '=', backend).execute();
  }

  /** Stores a complete scan: its report and per-severity counts, and the vulnerability DB it was matched against. */
  async finishScan(digest: string, backend: string, report: unknown, counts: Record<string, number>, matchedDb?: string): Promise<void> {
    await this.store.db
      .updateTable('scans')
      .set({ status: 'scanned', reason: null, finished_at: this.stamp(), report: JSON.stringify(report), counts: JSON.stringify(counts), matched_db: matchedDb ?? null })
      .where('manifest_digest', '=', digest)
      .where('backend', '=', backend)
      .execute();
  }

  /** Records a scan that did not happen (`failed`) or cannot (`unsupported`), with the reason; never a clean result. */
  async failScan(digest: string, backend: string, status: 'failed' | 'unsupported', reason: string): Promise<void> {
    await this.store.db.updateTable('scans').set({ status, reason, finished_at: this.stamp() }).where('manifest_digest', '=', digest).where('backend', '=', backend).execute();
  }

  /** The scanned results of one backend with the DB each was matched against, by digest. */
  async scannedBy(backend: string): Promise<{ digest: string; matchedDb: string | null }[]> {
    const rows = await this.store.db.selectFrom('scans').select(['manifest_digest', 'matched_db']).where('backend', '=', backend).where('status', '=', 'scanned').orderBy('manifest_digest').execute();
    return rows.map((r) => ({ digest: r.manifest_digest, matchedDb: r.matched_db }));
  }

  /** Every manifest with a stored report from any backend (the last complete one, whatever its state now), by digest. */
  async digestsWithReports(): Promise<string[]> {
    const rows = await this.store.db.selectFrom('scans').select('manifest_digest').distinct().where('report', 'is not', null).orderBy('manifest_digest').execute();
    return rows.map((r) => r.manifest_digest);
  }

  /** Records that these results hold against the DB `builtAt` as they are (a change that cannot touch them). */
  async markMatched(backend: string, digests: readonly string[], builtAt: string): Promise<void> {
    for (let i = 0; i < digests.length; i += 500) {
      await this.store.db.updateTable('scans').set({ matched_db: builtAt }).where('backend', '=', backend).where('manifest_digest', 'in', digests.slice(i, i + 500)).execute();
    }
  }

  /** Appends one point of a tag's findings-per-severity history. */
  async recordHistory(repository: string, tag: string, digest: string, counts: Record<string, number>): Promise<void> {
    await this.store.db.insertInto('scan_history').values({ repository, tag, manifest_digest: digest, at: this.stamp(), counts: JSON.stringify(counts) }).execute();
  }

  /** A repository's history points, oldest first. */
  async history(repository: string): Promise<{ tag: string; digest: string; at: string; counts: Record<string, number> }[]> {
    const rows = await this.store.db.selectFrom('scan_history').selectAll().where('repository', '=', repository).orderBy('at').orderBy('id').execute();
    return rows.map((r) => ({ tag: r.tag, digest: r.manifest_digest, at: r.at, counts: JSON.parse(r.counts) as Record<string, number> }));
  }

  /** The registry's delete events of a repository that were applied (status `done`), oldest first: when a tag or digest left it. */
  async deletions(repository: string): Promise<{ at: string; tag: string | null; digest: string | null }[]> {
    const rows = await this.store.db
      .selectFrom('registry_events')
      .select(['received_at', 'tag', 'digest'])
      .where('repository', '=', repository)
      .where('action', '=', 'delete')
      .where('status', '=', 'done')
      .orderBy('received_at')
      .execute();
    return rows.map((r) => ({ at: r.received_at, tag: r.tag, digest: r.digest }));
  }

  /** The scans of a manifest (one per backend), by backend. */
  async scans(digest: string): Promise<ScanRow[]> {
    const rows = await this.store.db.selectFrom('scans').selectAll().where('manifest_digest', '=', digest).orderBy('backend').execute();
    return rows.map((r) => ({
      manifestDigest: r.manifest_digest,
      backend: r.backend,
      status: r.status,
      reason: r.reason,
      queuedAt: r.queued_at,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      report: r.report,
      counts: r.counts === null ? null : (JSON.parse(r.counts) as Record<string, number>),
    }));
  }

  /**
   * Stores a manifest's inventory and indexes its packages by (ecosystem, name) for re-matching.
   * `platform` (from the image's config) fills the manifest's platform when the push did not say
   * it: only an index names its children's platforms, a single image says it in its config.
   */
  async saveInventory(digest: string, schemaVersion: number, inventoryJson: string, packages: readonly { ecosystem: string; name: string }[], platform?: string): Promise<void> {
    const now = this.stamp();
    const unique = [...new Map(packages.map((p) => [`${p.ecosystem}\u0000${p.name}`, p])).values()];
    await this.store.db.transaction().execute(async (trx) => {
      if (platform !== undefined) await trx.updateTable('manifests').set({ platform }).where('digest', '=', digest).where('platform', 'is', null).execute();
      await trx
        .insertInto('inventories')
        .values({ manifest_digest: digest, schema_version: schemaVersion, inventory: inventoryJson, created_at: now })
        .onConflict((oc) => oc.column('manifest_digest').doUpdateSet({ schema_version: schemaVersion, inventory: inventoryJson, created_at: now }))
        .execute();
      await trx.deleteFrom('package_index').where('manifest_digest', '=', digest).execute();
      // Batches keep each statement under SQLite's bound-parameter limit.
      for (let i = 0; i < unique.length; i += 500) {
        await trx
          .insertInto('package_index')
          .values(unique.slice(i, i + 500).map((p) => ({ ecosystem: p.ecosystem, name: p.name, manifest_digest: digest })))
          .execute();
      }
    });
  }

  /** A stored inventory (JSON text), or undefined. */
  async inventory(digest: string): Promise<{ schemaVersion: number; json: string; createdAt: string } | undefined> {
    const row = await this.store.db.selectFrom('inventories').selectAll().where('manifest_digest', '=', digest).executeTakeFirst();
    return row === undefined ? undefined : { schemaVersion: row.schema_version, json: row.inventory, createdAt: row.created_at };
  }

  /** The manifests whose inventories hold any of these packages (what an advisory change can touch). */
  async manifestsWithPackages(packages: readonly { ecosystem: string; name: string }[]): Promise<string[]> {
    const out = new Set<string>();
    for (let i = 0; i < packages.length; i += 200) {
      const batch = packages.slice(i, i + 200);
      const rows = await this.store.db
        .selectFrom('package_index')
        .select('manifest_digest')
        .distinct()
        .where((eb) => eb.or(batch.map((p) => eb.and([eb('ecosystem', '=', p.ecosystem), eb('name', '=', p.name)]))))
        .execute();
      for (const r of rows) out.add(r.manifest_digest);
    }
    return [...out].sort();
  }

  /** How many manifests each backend has in each scan state (`{ embedded: { scanned: 12, failed: 1 } }`). */
  async scanCountsByBackend(): Promise<Record<string, Partial<Record<ScanStatus, number>>>> {
    const rows = await this.store.db
      .selectFrom('scans')
      .select((eb) => ['backend', 'status', eb.fn.countAll<number | string | bigint>().as('n')])
      .groupBy(['backend', 'status'])
      .execute();
    const out: Record<string, Partial<Record<ScanStatus, number>>> = {};
    for (const r of rows) (out[r.backend] ??= {})[r.status] = Number(r.n);
    return out;
  }
}
