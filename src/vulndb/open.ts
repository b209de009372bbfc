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
  /**
   * A slot for the caller to keep what it derives from this statement (the matcher keeps its
   * prepared form here): the same object is returned for the statement as long as the DB keeps its
   * advisory cached. Undefined until the caller sets it; the DB never reads it.
   */
  memo?: unknown;
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
   * What changed since the DB this one replaced: that DB's build time and every (ecosystem,
   * package key) a changed advisory or enrichment record can touch (package keys as
   * `packageKey()` normalizes names). Undefined for a first build or a DB built before change
   * records existed: a consumer must then assume everything changed.
   */
  changes(): { since: string; packages: { ecosystem: string; key: string }[] } | undefined;
  /**
   * The statements about any of `packageNames` in one ecosystem and namespace, from every feed,
   * withdrawn advisories excluded. Names are matched as the ecosystem compares them (PyPI
   * normalized, others exact). One query per call whatever the number of names. Returns [] for no
   * names or no match. Results are grouped by package name in input order.
   */
  affectedFor(ecosystem: Ecosystem, namespace: string, packageNames: string[]): AffectedMatch[];
  /**
   * The matcher's advisory store port (src/matching/matcher.ts AdvisoryStore) over this file: the
   * same answers as affectedFor, enrichment, feeds and namespaces, asynchronous and batched. The
   * reads are synchronous (better-sqlite3 answers from the page cache in microseconds; a worker
   * thread per lookup would cost more than the lookup), so the promises are already settled.
   */
  affectedForMany(lookups: readonly { ecosystem: Ecosystem; namespace: string; packageNames: string[] }[]): Promise<AffectedMatch[][]>;
  enrichmentFor(cveIds: string[]): Promise<Map<string, EnrichmentRecord>>;
  feedList(): Promise<StoredFeed[]>;
  /** changes(), for the engine's asynchronous port. */
  changeRecord(): Promise<ReturnType<VulnDb['changes']>>;
  namespacesFor(ecosystem: Ecosystem): Promise<string[]>;
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

/** The answer of a synchronous read as a promise: settled already, a throw as a rejection. */
function settled<T>(read: () => T): Promise<T> {
  try {
    return Promise.resolve(read());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

function dbError(message: string, path: string, cause?: unknown): PortcullisError {
  return new PortcullisError('E_DB', `vulndb: ${message}`, { path }, cause === undefined ? undefined : { cause });
}

/** How an opened DB behaves; every field is optional. */
export interface VulnDbOptions {
  /**
   * Upper bound of the parsed-advisory cache, in characters of advisory JSON. A parsed advisory
   * takes about 1.3 bytes of heap per character, about 2.6 with what matching keeps beside it
   * (AffectedMatch.memo). Default DEFAULT_CACHE_CHARS; 0 keeps nothing between calls (each call
   * still parses what it returns).
   */
  cacheChars?: number;
  /** Upper bound of the per-name statement cache, in names (with or without statements). Default DEFAULT_CACHE_NAMES; 0 keeps none. */
  cacheNames?: number;
}

/** Default bound of the per-name cache: about 120 bytes a name, so at most ~12 MB. */
export const DEFAULT_CACHE_NAMES = 100_000;

/**
 * Default bound of the parsed-advisory cache: 32 Mi characters of JSON, about 85 MiB of heap with
 * what matching derives. Big enough for the advisories one very large inventory meets (10,000
 * packages against 300,000 advisories: about 20,000 advisories, 29 M characters), so matching it
 * again parses nothing; small enough that re-matching a thousand stored inventories, which meet
 * most of such a DB, keeps a modest heap (it was 100,000 advisories, about 300 MiB).
 */
export const DEFAULT_CACHE_CHARS = 32 * 1024 * 1024;

/**
 * Parsed advisories by rowid, kept across calls: scanning many images re-reads the same popular
 * advisories, and a warm lookup then costs only the index seeks. Bounded by the size of their JSON
 * with second-chance (CLOCK) eviction, an LRU approximation whose hits cost one flag write: the
 * least recently inserted entry not used since the last sweep goes first. Each entry also keeps
 * one AffectedMatch per statement, made once, so a warm lookup allocates nothing per row.
 */
class AdvisoryCache {
  private readonly entries = new Map<number, { advisory: Advisory; chars: number; used: boolean; matches: (AffectedMatch | undefined)[] }>();
  private chars = 0;

  constructor(private readonly limit: number) {}

  has(rowid: number): boolean {
    return this.entries.has(rowid);
  }

  add(rowid: number, json: string): void {
    if (this.entries.has(rowid)) return;
    // Entries added in this call are marked used: they must outlive the call that needs them.
    this.entries.set(rowid, { advisory: JSON.parse(json) as Advisory, chars: json.length, used: true, matches: [] });
    this.chars += json.length;
  }

  /** Statement `idx` of a cached advisory (the advisory is marked used), or undefined when either is unknown. */
  use(rowid: number, idx: number): AffectedMatch | undefined {
    const entry = this.entries.get(rowid);
    if (entry === undefined) return undefined;
    entry.used = true;
    let match = entry.matches[idx];
    if (match === undefined) {
      const affected = entry.advisory.affected[idx];
      if (affected === undefined) return undefined;
      match = { advisory: entry.advisory, affected, memo: undefined };
      entry.matches[idx] = match;
    }
    return match;
  }

  /**
   * Evicts down to the bound, after a call has taken what it needs: oldest first, except that an
   * entry used since the last sweep gets a second chance (flag cleared, moved to the back; the same
   * sweep reaches it again only after every entry that was not used).
   */
  trim(): void {
    if (this.chars <= this.limit) return;
    for (const [rowid, entry] of this.entries) {
      if (this.chars <= this.limit) return;
      this.entries.delete(rowid);
      if (entry.used) {
        entry.used = false;
        this.entries.set(rowid, entry);
      } else {
        this.chars -= entry.chars;
      }
    }
  }

  clear(): void {
    this.entries.clear();
    this.chars = 0;
  }
}

/**
 * Statements per looked-up name, kept across calls (the DB does not change while open): a warm
 * match of the same names runs no query at all. A value is [rowid, idx, rowid, idx, ...] in
 * primary-key order (numbers only: the advisories themselves stay in AdvisoryCache, under its
 * bound); names without statements are kept too, as NO_STATEMENTS. Bounded by entries with two
 * generations: a hit in the older one moves the entry to the younger; when the younger fills up
 * to half the bound, the older is dropped.
 */
class NameCache {
  // Per scope (ecosystem and namespace), per name: looked up by the caller's own name strings,
  // without building a key per name.
  private young = new Map<string, Map<string, number[]>>();
  private old = new Map<string, Map<string, number[]>>();
  private youngSize = 0;

  constructor(private readonly limit: number) {}

  get(scope: string, key: string): number[] | undefined {
    const hit = this.young.get(scope)?.get(key);
    if (hit !== undefined) return hit;
    const olderScope = this.old.get(scope);
    const aged = olderScope?.get(key);
    if (aged !== undefined) {
      olderScope?.delete(key);
      this.set(scope, key, aged);
    }
    return aged;
  }

  set(scope: string, key: string, value: number[]): void {
    if (this.limit <= 0) return;
    let names = this.young.get(scope);
    if (names === undefined) {
      names = new Map();
      this.young.set(scope, names);
    }
    names.set(key, value);
    if (++this.youngSize >= this.limit / 2) {
      this.old = this.young;
      this.young = new Map();
      this.youngSize = 0;
    }
  }
}

const NO_STATEMENTS: number[] = [];

/** [index of the name in the batch, advisory rowid, index in advisory.affected] */
type AffectedRow = [number, number, number];

function compareRows(a: AffectedRow, b: AffectedRow): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

function inOrder(rows: AffectedRow[]): boolean {
  for (let i = 1; i < rows.length; i++) if (compareRows(rows[i - 1] as AffectedRow, rows[i] as AffectedRow) > 0) return false;
  return true;
}

/**
 * Opens a vulnerability DB read-only. Throws E_DB when the file is missing, not a Portcullis
 * vulnerability DB, or of another schema version (rebuild it with `portcullis db update`).
 */
export function openVulnDb(path: string, options: VulnDbOptions = {}): VulnDb {
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
  // json_each turns the whole batch into one statement: the array is walked in order and the
  // clustered affected key sought once per name, reading nothing but the key. CROSS JOIN pins that
  // order: with the DB's statistics the planner may otherwise scan a whole namespace and probe the
  // array per row (50x slower on the real feeds). Rows carry the name's index in the array, not the
  // name (no string per row), and are arrays, not objects (building one object per row is most of
  // the cost of a large batch).
  const affectedStmt = db
    .prepare(
      `SELECT j.key, a.advisory, a.idx FROM json_each(@keys) j
       CROSS JOIN affected a ON a.ecosystem = @ecosystem AND a.namespace = @namespace AND a.package_key = j.value`,
    )
    .raw(true);
  const advisoryStmt = db.prepare('SELECT rowid, json FROM advisories WHERE rowid IN (SELECT value FROM json_each(?))').raw(true);
  const enrichmentStmt = db.prepare('SELECT cve, json FROM enrichment WHERE cve IN (SELECT value FROM json_each(?)) ORDER BY cve, feed');
  const byAliasStmt = db.prepare(
    `SELECT a.json FROM advisories a WHERE a.rowid IN (SELECT advisory FROM aliases WHERE alias IN (SELECT value FROM json_each(?))) ORDER BY a.feed, a.id`,
  );
  const namespacesStmt = db.prepare('SELECT DISTINCT namespace FROM affected WHERE ecosystem = ? ORDER BY namespace');
  // A DB built without enrichment feeds answers every enrichment call with nothing: skip the query
  // (with thousands of CVE ids, building its IN list alone costs milliseconds).
  const hasEnrichment = db.prepare('SELECT 1 FROM enrichment LIMIT 1').get() !== undefined;

  const cache = new AdvisoryCache(options.cacheChars ?? DEFAULT_CACHE_CHARS);
  const names = new NameCache(options.cacheNames ?? DEFAULT_CACHE_NAMES);
  /** Statements of each key as [rowid, idx, ...] (primary-key order), from the name cache or one query for the rest. */
  const statementsOf = (ecosystem: Ecosystem, namespace: string, keys: string[]): number[][] => {
    const scope = `${ecosystem}\u0000${namespace}`;
    const lists: number[][] = new Array<number[]>(keys.length);
    let pending: number[] | undefined;
    for (let i = 0; i < keys.length; i++) {
      const known = names.get(scope, keys[i] as string);
      if (known !== undefined) lists[i] = known;
      else (pending ??= []).push(i);
    }
    if (pending === undefined) return lists;
    const asked = pending.map((i) => keys[i] as string);
    const rows = affectedStmt.all({ ecosystem, namespace, keys: JSON.stringify(asked) }) as AffectedRow[];
    // Grouped by name in the order the names were asked, each name's rows in primary-key order
    // (advisory, then idx): the order the plan above reads them in. SQL promises no order without
    // ORDER BY (which would cost a temporary b-tree), so it is checked, and sorted if need be.
    if (!inOrder(rows)) rows.sort(compareRows);
    const found: number[][] = asked.map(() => NO_STATEMENTS);
    for (const [at, rowid, idx] of rows) {
      let list = found[at] as number[];
      if (list === NO_STATEMENTS) {
        list = [];
        found[at] = list;
      }
      list.push(rowid, idx);
    }
    for (let j = 0; j < pending.length; j++) {
      const list = found[j] as number[];
      lists[pending[j] as number] = list;
      names.set(scope, asked[j] as string, list);
    }
    return lists;
  };
  const loadAdvisories = (rowids: number[]): void => {
    for (const row of advisoryStmt.all(JSON.stringify([...new Set(rowids)])) as [number, string][]) cache.add(row[0], row[1]);
  };
  /** The statements of `lists` in order, from cached advisories; the rowids of advisories not cached are pushed to `missing` (and their statements left out). */
  const resolveLists = (lists: number[][], missing: number[]): AffectedMatch[] => {
    const out: AffectedMatch[] = [];
    for (const list of lists) {
      for (let i = 0; i < list.length; i += 2) {
        const rowid = list[i] as number;
        const match = cache.use(rowid, list[i + 1] as number);
        if (match !== undefined) out.push(match);
        // An advisory not cached yet; a cached one without that statement cannot happen in a DB
        // this module built (rows and JSON are written together): it is skipped rather than crash.
        else if (!cache.has(rowid)) missing.push(rowid);
      }
    }
    return out;
  };

  const vulnDb: VulnDb = {
    path: file,
    builtAt,
    schemaVersion,
    changes() {
      const since = meta.get('changes_since');
      if (since === undefined) return undefined;
      const rows = db.prepare('SELECT ecosystem, package_key FROM changes ORDER BY ecosystem, package_key').all() as { ecosystem: string; package_key: string }[];
      return { since, packages: rows.map((r) => ({ ecosystem: r.ecosystem, key: r.package_key })) };
    },
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
      const lists = statementsOf(ecosystem, namespace, keys);
      // Warm, every advisory is cached and one pass resolves them; otherwise the missing ones are
      // read (one query) and the pass made again.
      const missing: number[] = [];
      let out = resolveLists(lists, missing);
      if (missing.length > 0) {
        loadAdvisories(missing);
        out = resolveLists(lists, []);
      }
      cache.trim();
      return out;
    },
    enrichment(cveIds) {
      const out = new Map<string, EnrichmentRecord>();
      if (cveIds.length === 0 || !hasEnrichment) return out;
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
    affectedForMany: (lookups) => settled(() => lookups.map((l) => vulnDb.affectedFor(l.ecosystem, l.namespace, l.packageNames))),
    enrichmentFor: (cveIds) => settled(() => vulnDb.enrichment(cveIds)),
    feedList: () => settled(() => vulnDb.feeds()),
    changeRecord: () => settled(() => vulnDb.changes()),
    namespacesFor: (ecosystem) => settled(() => vulnDb.namespaces(ecosystem)),
    close() {
      cache.clear();
      if (db.open) db.close();
    },
  };
  return vulnDb;
}
