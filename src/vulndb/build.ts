/**
 * Building the vulnerability DB: parse every input with its feed, write a complete new SQLite file
 * beside the target, make it durable (fsync) and rename it over the target. Readers holding the old
 * file keep their inode; a crash or error at any point before the rename leaves the old DB exactly
 * as it was (only a stray temp file, removed by the next build).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Advisory, FeedMetadata } from '../domain/advisory.js';
import { PortcullisError } from '../domain/errors.js';
import type { EnrichmentRecord, Feed, FeedFile, SkippedRecord } from '../feeds/types.js';
import { DB_FORMAT, INDEX_SQL, SCHEMA_SQL, SCHEMA_VERSION, packageKey } from './schema.js';
import { throwIfCancelled } from '../util/concurrency.js';

/** One feed's input to a build: its files and where they came from. */
export interface BuildInput {
  feed: Feed;
  files: FeedFile[];
  /** Where the files came from (URLs, or `import:` paths), shown by `db status`. */
  source: string;
  /** When the files were fetched or imported (ISO 8601). */
  fetchedAt: string;
}

export interface BuildOptions {
  /**
   * An existing DB whose feeds that are not among the inputs are carried over unchanged (so
   * `db update --feed osv` keeps every other feed). Ignored when the file is absent, unreadable or
   * of another schema version (those feeds are then dropped, and listed in `dropped`).
   */
  keepFrom?: string;
  /** Clock for `builtAt` (tests). */
  now?: () => Date;
  /** Called after each feed is written, before the DB is finalized (tests inject failures here). */
  afterFeed?: (feedId: string) => void;
  /** Stops the build between feeds with E_CANCELLED; the temp file is removed and the target left as it was. */
  signal?: AbortSignal;
}

/** What one feed contributed to a build. */
export interface FeedBuildResult extends FeedMetadata {
  /** Up to 100 of the skipped records with their reasons. */
  skippedRecords: SkippedRecord[];
}

export interface BuildSummary {
  path: string;
  builtAt: string;
  /** Feeds parsed from the inputs of this build. */
  built: FeedBuildResult[];
  /** Feed ids carried over from `keepFrom`. */
  kept: string[];
  /** Feed ids `keepFrom` had that could not be carried over (schema change). */
  dropped: string[];
  /** Totals over the whole new DB. */
  advisories: number;
  affectedRows: number;
  enrichmentRecords: number;
}

const MAX_SKIPPED_KEPT = 100;

function fail(message: string, cause?: unknown): PortcullisError {
  return new PortcullisError('E_DB', `vulndb: ${message}`, {}, cause === undefined ? undefined : { cause });
}

/** Removes temp files of earlier builds of this target whose process is gone. */
function removeStaleTemps(target: string): void {
  const dir = dirname(target);
  const prefix = `.${basename(target)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = name.startsWith(prefix) ? /\.(\d+)\.[0-9a-f]+\.building$/.exec(name) : null;
    if (m === null) continue;
    const pid = Number(m[1]);
    try {
      // Signal 0 only asks whether the process exists: a live one may still be building.
      process.kill(pid, 0);
    } catch {
      rmSync(join(dir, name), { force: true });
    }
  }
}

function fsyncPath(path: string, directory: boolean): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, directory ? 'r' : 'r+');
    fsyncSync(fd);
  } catch (err) {
    // Some filesystems refuse fsync on a directory (EISDIR/EINVAL); the rename is still atomic there.
    if (!directory) throw err;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Merges a second advisory with the same feed and id into the first (union of everything). */
function mergeAdvisory(into: Advisory, other: Advisory): void {
  const seenAffected = new Set(into.affected.map((a) => JSON.stringify(a)));
  for (const a of other.affected) {
    const key = JSON.stringify(a);
    if (!seenAffected.has(key)) {
      seenAffected.add(key);
      into.affected.push(a);
    }
  }
  into.aliases = [...new Set([...into.aliases, ...other.aliases])];
  into.references = [...new Set([...into.references, ...other.references])];
  const related = [...new Set([...(into.related ?? []), ...(other.related ?? [])])];
  if (related.length > 0) into.related = related;
  const seenSeverity = new Set(into.severities.map((s) => JSON.stringify(s)));
  for (const s of other.severities) if (!seenSeverity.has(JSON.stringify(s))) into.severities.push(s);
  if ((other.modified ?? '') > (into.modified ?? '')) into.modified = other.modified;
}

function mergeEnrichment(into: EnrichmentRecord, other: EnrichmentRecord): void {
  if (other.cvss !== undefined) into.cvss = [...(into.cvss ?? []), ...other.cvss];
  if (other.epss !== undefined) into.epss = other.epss;
  if (other.kev !== undefined) into.kev = other.kev;
}

interface Statements {
  feed: Database.Statement;
  advisory: Database.Statement;
  affected: Database.Statement;
  alias: Database.Statement;
  enrichment: Database.Statement;
}

function writeFeed(st: Statements, input: BuildInput): FeedBuildResult {
  const { feed } = input;
  let recordCount: number;
  let skipped: SkippedRecord[];
  let newestRecord: string | undefined;
  try {
    if (feed.kind === 'advisories') {
      const result = feed.parse(input.files);
      skipped = result.skipped;
      newestRecord = result.newestRecord;
      const byId = new Map<string, Advisory>();
      for (const advisory of result.advisories) {
        const previous = byId.get(advisory.id);
        if (previous === undefined) byId.set(advisory.id, { ...advisory, feed: feed.id });
        else mergeAdvisory(previous, advisory);
      }
      for (const advisory of byId.values()) {
        const info = st.advisory.run(feed.id, advisory.id, advisory.modified ?? null, advisory.withdrawn ?? null, JSON.stringify(advisory));
        const rowid = info.lastInsertRowid;
        if (advisory.withdrawn === undefined) {
          advisory.affected.forEach((affected, idx) => {
            st.affected.run(affected.ecosystem, affected.namespace, packageKey(affected.ecosystem, affected.packageName), rowid, idx);
          });
        }
        st.alias.run(advisory.id, rowid, 'id');
        for (const alias of new Set(advisory.aliases)) if (alias !== advisory.id) st.alias.run(alias, rowid, 'alias');
        for (const related of new Set(advisory.related ?? [])) if (related !== advisory.id && !advisory.aliases.includes(related)) st.alias.run(related, rowid, 'related');
      }
      recordCount = byId.size;
    } else {
      const result = feed.parse(input.files);
      skipped = result.skipped;
      newestRecord = result.newestRecord;
      const byCve = new Map<string, EnrichmentRecord>();
      for (const record of result.records) {
        const previous = byCve.get(record.cve);
        if (previous === undefined) byCve.set(record.cve, { ...record });
        else mergeEnrichment(previous, record);
      }
      for (const record of byCve.values()) st.enrichment.run(record.cve, feed.id, JSON.stringify(record));
      recordCount = byCve.size;
    }
  } catch (err) {
    if (err instanceof PortcullisError) throw err;
    throw fail(`feed ${feed.id} failed to load: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  const meta: FeedBuildResult = {
    feed: feed.id,
    source: input.source,
    fetchedAt: input.fetchedAt,
    recordCount,
    skipped: skipped.length,
    skippedRecords: skipped.slice(0, MAX_SKIPPED_KEPT),
    ...(newestRecord !== undefined ? { newestRecord } : {}),
  };
  st.feed.run(feed.id, feed.kind, feed.version, input.source, input.fetchedAt, recordCount, newestRecord ?? null, skipped.length, JSON.stringify(meta.skippedRecords));
  return meta;
}

/** Copies the feeds of an older DB that this build does not rebuild. Returns [kept, dropped]. */
function carryOver(db: Database.Database, keepFrom: string, rebuilt: Set<string>): [string[], string[]] {
  if (!existsSync(keepFrom)) return [[], []];
  try {
    db.prepare('ATTACH DATABASE ? AS old').run(keepFrom);
  } catch {
    return [[], []];
  }
  try {
    let oldFeeds: string[];
    try {
      oldFeeds = (db.prepare('SELECT feed FROM old.feeds').all() as { feed: string }[]).map((r) => r.feed);
    } catch {
      return [[], []];
    }
    const version = (db.prepare("SELECT value FROM old.meta WHERE key = 'schema_version'").get() as { value: string } | undefined)?.value;
    const candidates = oldFeeds.filter((f) => !rebuilt.has(f));
    if (version !== String(SCHEMA_VERSION)) return [[], candidates];
    for (const feed of candidates) {
      db.prepare('INSERT INTO main.feeds SELECT * FROM old.feeds WHERE feed = ?').run(feed);
      db.prepare('INSERT INTO main.advisories (feed, id, modified, withdrawn, json) SELECT feed, id, modified, withdrawn, json FROM old.advisories WHERE feed = ? ORDER BY rowid').run(feed);
      // Advisory rowids differ between the two files: rows are re-pointed through (feed, id).
      db.prepare(
        `INSERT INTO main.affected (ecosystem, namespace, package_key, advisory, idx)
         SELECT x.ecosystem, x.namespace, x.package_key, n.rowid, x.idx
         FROM old.affected x JOIN old.advisories o ON o.rowid = x.advisory JOIN main.advisories n ON n.feed = o.feed AND n.id = o.id
         WHERE o.feed = ?`,
      ).run(feed);
      db.prepare(
        `INSERT INTO main.aliases (alias, advisory, kind)
         SELECT x.alias, n.rowid, x.kind
         FROM old.aliases x JOIN old.advisories o ON o.rowid = x.advisory JOIN main.advisories n ON n.feed = o.feed AND n.id = o.id
         WHERE o.feed = ?`,
      ).run(feed);
      db.prepare('INSERT INTO main.enrichment SELECT * FROM old.enrichment WHERE feed = ?').run(feed);
    }
    return [candidates, []];
  } finally {
    db.prepare('DETACH DATABASE old').run();
  }
}

/**
 * Records in `changes` which packages the difference from the DB this build replaces can touch:
 * the (ecosystem, package key) of every affected statement of an advisory that is new, gone, or
 * different in any byte, and of every advisory naming a CVE whose enrichment changed. Returns the
 * replaced DB's `built_at`, which consumers check before trusting the record (a service that
 * matched against an older DB re-matches everything instead). Returns undefined, recording
 * nothing, when there is no readable previous DB of this schema.
 */
function recordChanges(db: Database.Database, previous: string): string | undefined {
  if (!existsSync(previous)) return undefined;
  try {
    db.prepare('ATTACH DATABASE ? AS old').run(previous);
  } catch {
    return undefined;
  }
  try {
    let since: string | undefined;
    try {
      const meta = new Map((db.prepare('SELECT key, value FROM old.meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
      if (meta.get('format') !== DB_FORMAT || meta.get('schema_version') !== String(SCHEMA_VERSION)) return undefined;
      since = meta.get('built_at');
    } catch {
      return undefined;
    }
    if (since === undefined) return undefined;
    const sameAdvisory = (a: string, b: string): string =>
      `${a}.feed = ${b}.feed AND ${a}.id = ${b}.id AND ${a}.json = ${b}.json AND coalesce(${a}.withdrawn, '') = coalesce(${b}.withdrawn, '')`;
    db.exec(`
      INSERT OR IGNORE INTO main.changes (ecosystem, package_key)
        SELECT a.ecosystem, a.package_key FROM main.affected a JOIN main.advisories n ON n.rowid = a.advisory
        WHERE NOT EXISTS (SELECT 1 FROM old.advisories o WHERE ${sameAdvisory('o', 'n')});
      INSERT OR IGNORE INTO main.changes (ecosystem, package_key)
        SELECT a.ecosystem, a.package_key FROM old.affected a JOIN old.advisories o ON o.rowid = a.advisory
        WHERE NOT EXISTS (SELECT 1 FROM main.advisories n WHERE ${sameAdvisory('n', 'o')});
      CREATE TEMP TABLE changed_cves AS
        SELECT cve FROM main.enrichment e WHERE NOT EXISTS (SELECT 1 FROM old.enrichment x WHERE x.cve = e.cve AND x.feed = e.feed AND x.json = e.json)
        UNION SELECT cve FROM old.enrichment x WHERE NOT EXISTS (SELECT 1 FROM main.enrichment e WHERE e.cve = x.cve AND e.feed = x.feed AND e.json = x.json);
      INSERT OR IGNORE INTO main.changes (ecosystem, package_key)
        SELECT a.ecosystem, a.package_key FROM main.aliases l JOIN main.affected a ON a.advisory = l.advisory
        WHERE l.alias IN (SELECT cve FROM changed_cves);
      DROP TABLE changed_cves;
    `);
    return since;
  } finally {
    db.prepare('DETACH DATABASE old').run();
  }
}

/**
 * Builds a vulnerability DB at `target` from feed inputs (see module doc for the crash guarantee).
 * Each input's feed parses all its files at once; duplicate advisory ids within a feed are merged;
 * withdrawn advisories are stored but get no affected rows (lookups never return them). With
 * `keepFrom`, feeds of that DB not among the inputs are carried over. Zero inputs and nothing kept
 * give a valid, empty DB. Throws E_DB (and leaves the target untouched) when a feed's parser throws,
 * two inputs name the same feed, or the file cannot be written.
 */
export async function buildVulnDb(target: string, inputs: BuildInput[], options: BuildOptions = {}): Promise<BuildSummary> {
  const path = resolve(target);
  const ids = new Set<string>();
  for (const input of inputs) {
    if (ids.has(input.feed.id)) throw fail(`feed ${input.feed.id} given twice to one build`);
    ids.add(input.feed.id);
  }
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (err) {
    throw fail(`cannot create ${dirname(path)}: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  removeStaleTemps(path);
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.building`);
  const builtAt = (options.now?.() ?? new Date()).toISOString();

  let db: Database.Database | undefined;
  try {
    db = new Database(temp);
    // A temp file that is fsynced and renamed at the end needs no journal: a crash discards it whole.
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.exec(SCHEMA_SQL);
    const st: Statements = {
      feed: db.prepare('INSERT INTO feeds (feed, kind, version, source, fetched_at, record_count, newest_record, skipped, skipped_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      advisory: db.prepare('INSERT INTO advisories (feed, id, modified, withdrawn, json) VALUES (?, ?, ?, ?, ?)'),
      affected: db.prepare('INSERT INTO affected (ecosystem, namespace, package_key, advisory, idx) VALUES (?, ?, ?, ?, ?)'),
      alias: db.prepare('INSERT INTO aliases (alias, advisory, kind) VALUES (?, ?, ?)'),
      enrichment: db.prepare('INSERT INTO enrichment (cve, feed, json) VALUES (?, ?, ?)'),
    };
    const built: FeedBuildResult[] = [];
    for (const input of inputs) {
      built.push(db.transaction(() => writeFeed(st, input))());
      options.afterFeed?.(input.feed.id);
      // Let timers and I/O run between feeds of a long build (an abort among them).
      await new Promise<void>((r) => setImmediate(r));
      throwIfCancelled(options.signal, `vulnerability DB build of ${path}`);
    }
    const [kept, dropped] = options.keepFrom !== undefined ? carryOver(db, resolve(options.keepFrom), ids) : [[], []];
    db.exec(INDEX_SQL);
    const changesSince = recordChanges(db, path);
    const setMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
    setMeta.run('format', DB_FORMAT);
    setMeta.run('schema_version', String(SCHEMA_VERSION));
    setMeta.run('built_at', builtAt);
    if (changesSince !== undefined) setMeta.run('changes_since', changesSince);
    db.exec('ANALYZE');
    const count = (sql: string): number => (db?.prepare(sql).get() as { n: number }).n;
    const summary: BuildSummary = {
      path,
      builtAt,
      built,
      kept,
      dropped,
      advisories: count('SELECT count(*) AS n FROM advisories'),
      affectedRows: count('SELECT count(*) AS n FROM affected'),
      enrichmentRecords: count('SELECT count(*) AS n FROM enrichment'),
    };
    db.close();
    db = undefined;
    fsyncPath(temp, false);
    renameSync(temp, path);
    fsyncPath(dirname(path), true);
    return summary;
  } catch (err) {
    try {
      db?.close();
    } catch {
      // already failing; the temp file is removed below
    }
    rmSync(temp, { force: true });
    if (err instanceof PortcullisError) throw err;
    throw fail(`cannot build ${path}: ${err instanceof Error ? err.message : String(err)}`, err);
  }
}
