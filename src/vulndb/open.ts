/**
 * Reading the vulnerability DB: read-only, prepared statements, batch lookups.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Advisory, AffectedPackage, FeedMetadata } from '../domain/advisory.js';
import { PortcullisError } from '../domain/errors.js';
import type { Ecosystem } from '../domain/package.js';
import type { EnrichmentRecord } from '../feeds/types.js';
import { DB_FORMAT, SCHEMA_VERSION, packageKey } from './schema.js';

/** One affected-package statement found for a package, with the advisory it belongs to. */
export interface AffectedMatch {
  /** The whole advisory (every affected entry); cached and shared between calls: do not mutate. */
  advisory: Advisory;
  /** The statement about the package asked for (one of `advisory.affected`). */
  affected: AffectedPackage;
}

/** Feed metadata plus what only the DB knows. */
export interface StoredFeed extends FeedMetadata {
  kind: 'advisories' | 'enrichment';
  /** Parser version that built this feed's rows. */
  version: number;
}

/** An open, read-only vulnerability DB. */
export interface VulnDb {
  readonly path: string;
  /** When the DB file was built (ISO 8601). */
  readonly builtAt: string;
  readonly schemaVersion: number;
  /** Every feed in the DB, ordered by id; [] for an empty DB. */
  feeds(): StoredFeed[];
  /**
   * The statements about any of `packageNames` in one ecosystem and namespace, from every feed,
   * withdrawn advisories excluded. Names are matched as the ecosystem compares them (PyPI
   * normalized, others exact). One query per call whatever the number of names. Returns [] for no
   * names or no match. Results are grouped by package name in input order.
   */
  affectedFor(ecosystem: Ecosystem, namespace: string, packageNames: string[]): AffectedMatch[];
  /**
   * Enrichment facts per CVE id, merged across enrichment feeds (CVSS entries concatenated; EPSS and
   * KEV from whichever feed has them). CVEs without facts are absent from the map.
   */
  enrichment(cveIds: string[]): Map<string, EnrichmentRecord>;
  /** Advisories whose id, alias or related id is one of `ids` (withdrawn included); [] when none. */
  advisoriesFor(ids: string[]): Advisory[];
  /** Namespaces present for an ecosystem, sorted; [] when none (for diagnostics and distro fallbacks). */
  namespaces(ecosystem: Ecosystem): string[];
  close(): void;
}

function dbError(message: string, path: string, cause?: unknown): PortcullisError {
  return new PortcullisError('E_DB', `vulndb: ${message}`, { path }, cause === undefined ? undefined : { cause });
}

/** [package_key, advisory rowid, index in advisory.affected] */
type AffectedRow = [string, number, number];

/**
 * Opens a vulnerability DB read-only. Throws E_DB when the file is missing, not a Portcullis
 * vulnerability DB, or of another schema version (rebuild it with `portcullis db update`).
 */
export function openVulnDb(path: string): VulnDb {
  const file = resolve(path);
  if (!existsSync(file)) throw dbError(`no vulnerability database at ${file}; run \`portcullis db update\` or \`portcullis db import\``, file);
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw dbError(`cannot open ${file}: ${err instanceof Error ? err.message : String(err)}`, file, err);
  }
  let meta: Map<string, string>;
  try {
    meta = new Map((db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
  } catch (err) {
    db.close();
    throw dbError(`${file} is not a Portcullis vulnerability database`, file, err);
  }
  if (meta.get('format') !== DB_FORMAT) {
    db.close();
    throw dbError(`${file} is not a Portcullis vulnerability database`, file);
  }
  const schemaVersion = Number(meta.get('schema_version'));
  if (schemaVersion !== SCHEMA_VERSION) {
    db.close();
    throw dbError(
      `${file} has schema version ${meta.get('schema_version') ?? '(none)'} but this Portcullis reads version ${SCHEMA_VERSION}; rebuild it with \`portcullis db update\``,
      file,
    );
  }
  const builtAt = meta.get('built_at') ?? '';

  const feedsStmt = db.prepare('SELECT feed, kind, version, source, fetched_at, record_count, newest_record, skipped FROM feeds ORDER BY feed');
  // json_each turns the whole batch into one statement; the planner seeks the clustered affected
  // key once per name and reads nothing but the key.
  const affectedStmt = db
    .prepare(
      `SELECT package_key, advisory, idx FROM affected
       WHERE ecosystem = ? AND namespace = ? AND package_key IN (SELECT value FROM json_each(?))`,
    )
    // Rows as arrays: building one object per row is most of the cost of a large batch.
    .raw(true);
  const advisoryStmt = db.prepare('SELECT rowid, json FROM advisories WHERE rowid IN (SELECT value FROM json_each(?))');
  const enrichmentStmt = db.prepare('SELECT cve, json FROM enrichment WHERE cve IN (SELECT value FROM json_each(?)) ORDER BY cve, feed');
  const byAliasStmt = db.prepare(
    `SELECT a.json FROM advisories a WHERE a.rowid IN (SELECT advisory FROM aliases WHERE alias IN (SELECT value FROM json_each(?))) ORDER BY a.feed, a.id`,
  );
  const namespacesStmt = db.prepare('SELECT DISTINCT namespace FROM affected WHERE ecosystem = ? ORDER BY namespace');

  // Parsed advisories, kept across calls: scanning many images re-reads the same popular
  // advisories, and a warm lookup then costs only the index seeks.
  const cache = new Map<number, Advisory>();
  const CACHE_LIMIT = 100_000;
  const loadAdvisories = (rowids: number[]): void => {
    const missing = [...new Set(rowids)].filter((r) => !cache.has(r));
    if (missing.length === 0) return;
    if (cache.size + missing.length > CACHE_LIMIT) cache.clear();
    for (const row of advisoryStmt.all(JSON.stringify(missing)) as { rowid: number; json: string }[]) cache.set(row.rowid, JSON.parse(row.json) as Advisory);
  };

  return {
    path: file,
    builtAt,
    schemaVersion,
    feeds() {
      return (feedsStmt.all() as { feed: string; kind: string; version: number; source: string; fetched_at: string; record_count: number; newest_record: string | null; skipped: number }[]).map(
        (r) => ({
          feed: r.feed,
          kind: r.kind === 'enrichment' ? 'enrichment' : 'advisories',
          version: r.version,
          source: r.source,
          fetchedAt: r.fetched_at,
          recordCount: r.record_count,
          ...(r.newest_record !== null ? { newestRecord: r.newest_record } : {}),
          skipped: r.skipped,
        }),
      );
    },
    affectedFor(ecosystem, namespace, packageNames) {
      if (packageNames.length === 0) return [];
      const keys = [...new Set(packageNames.map((n) => packageKey(ecosystem, n)))];
      const rows = affectedStmt.all(ecosystem, namespace, JSON.stringify(keys)) as AffectedRow[];
      if (rows.length === 0) return [];
      loadAdvisories(rows.map((r) => r[1]));
      // Group by name (rows of one name arrive in primary-key order: advisory, then idx) and emit
      // the groups in the order the names were asked: linear, no sort.
      const byKey = new Map<string, AffectedRow[]>();
      for (const row of rows) {
        const group = byKey.get(row[0]);
        if (group === undefined) byKey.set(row[0], [row]);
        else group.push(row);
      }
      const out: AffectedMatch[] = [];
      for (const key of keys) {
        for (const [, rowid, idx] of byKey.get(key) ?? []) {
          const advisory = cache.get(rowid);
          const affected = advisory?.affected[idx];
          // Cannot happen in a DB this module built (rows and JSON are written together); skip rather than crash.
          if (advisory === undefined || affected === undefined) continue;
          out.push({ advisory, affected });
        }
      }
      return out;
    },
    enrichment(cveIds) {
      const out = new Map<string, EnrichmentRecord>();
      if (cveIds.length === 0) return out;
      for (const row of enrichmentStmt.all(JSON.stringify([...new Set(cveIds)])) as { cve: string; json: string }[]) {
        const record = JSON.parse(row.json) as EnrichmentRecord;
        const previous = out.get(row.cve);
        if (previous === undefined) {
          out.set(row.cve, record);
          continue;
        }
        if (record.cvss !== undefined) previous.cvss = [...(previous.cvss ?? []), ...record.cvss];
        if (previous.epss === undefined && record.epss !== undefined) previous.epss = record.epss;
        if (previous.kev === undefined && record.kev !== undefined) previous.kev = record.kev;
      }
      return out;
    },
    advisoriesFor(ids) {
      if (ids.length === 0) return [];
      return (byAliasStmt.all(JSON.stringify([...new Set(ids)])) as { json: string }[]).map((r) => JSON.parse(r.json) as Advisory);
    },
    namespaces(ecosystem) {
      return (namespacesStmt.all(ecosystem) as { namespace: string }[]).map((r) => r.namespace);
    },
    close() {
      cache.clear();
      if (db.open) db.close();
    },
  };
}
