/**
 * The vulnerability DB's SQLite schema. Bump SCHEMA_VERSION on any change to tables or to the JSON
 * kept in them; a DB of another version is refused on open (E_DB) and rebuilt by `db update`.
 */
import type { Ecosystem } from '../domain/package.js';
import { isEcosystem, packageNameKey } from '../ecosystems/registry.js';

/** Version of the tables and stored JSON below. */
export const SCHEMA_VERSION = 1;

/** Written to `meta.format`, so a stray SQLite file is not mistaken for a vulnerability DB. */
export const DB_FORMAT = 'portcullis-vulndb';

export const SCHEMA_SQL = `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per feed present in the DB: where its data came from and how much of it loaded.
CREATE TABLE feeds (
  feed          TEXT PRIMARY KEY,
  kind          TEXT NOT NULL,
  version       INTEGER NOT NULL,
  source        TEXT NOT NULL,
  fetched_at    TEXT NOT NULL,
  record_count  INTEGER NOT NULL,
  newest_record TEXT,
  skipped       INTEGER NOT NULL,
  skipped_json  TEXT NOT NULL
) WITHOUT ROWID;

-- Whole normalized advisories (JSON of Advisory), one per feed and id.
CREATE TABLE advisories (
  rowid     INTEGER PRIMARY KEY,
  feed      TEXT NOT NULL,
  id        TEXT NOT NULL,
  modified  TEXT,
  withdrawn TEXT,
  json      TEXT NOT NULL,
  UNIQUE (feed, id)
);

-- One row per affected package statement of a non-withdrawn advisory: the statement itself is
-- advisories.json's affected[idx]. Clustered on the lookup key (WITHOUT ROWID), so a batch lookup is
-- one b-tree seek per package name and reads nothing else; package_key is the name normalized for
-- lookup (see packageKey()).
CREATE TABLE affected (
  ecosystem   TEXT NOT NULL,
  namespace   TEXT NOT NULL,
  package_key TEXT NOT NULL,
  advisory    INTEGER NOT NULL,
  idx         INTEGER NOT NULL,
  PRIMARY KEY (ecosystem, namespace, package_key, advisory, idx)
) WITHOUT ROWID;

-- Every id an advisory answers to: its own (kind 'id'), aliases ('alias') and related ids ('related').
CREATE TABLE aliases (
  alias    TEXT NOT NULL,
  advisory INTEGER NOT NULL,
  kind     TEXT NOT NULL
);

-- What changed since the DB this one replaced (meta.changes_since names it): every (ecosystem,
-- package_key) an added, removed or modified advisory or a changed enrichment record can touch.
-- Empty, with no changes_since, for a first build.
CREATE TABLE changes (
  ecosystem   TEXT NOT NULL,
  package_key TEXT NOT NULL,
  PRIMARY KEY (ecosystem, package_key)
) WITHOUT ROWID;

-- Enrichment facts per CVE and feed (JSON of EnrichmentRecord).
CREATE TABLE enrichment (
  cve  TEXT NOT NULL,
  feed TEXT NOT NULL,
  json TEXT NOT NULL,
  PRIMARY KEY (cve, feed)
) WITHOUT ROWID;
`;

/** Secondary indexes, created after the bulk insert (cheaper than maintaining them row by row). */
export const INDEX_SQL = `
CREATE INDEX affected_advisory ON affected (advisory);
CREATE INDEX aliases_alias ON aliases (alias);
CREATE INDEX advisories_feed ON advisories (feed);
`;

/**
 * The name under which a package is stored and looked up. PyPI names compare case-insensitively
 * with `-`, `_` and `.` equivalent (PEP 503), so they are normalized; every other ecosystem's names
 * are exact (Go module paths and Maven coordinates are case-sensitive; deb/rpm/apk names are exact).
 */
export function packageKey(ecosystem: Ecosystem | string, name: string): string {
  return isEcosystem(ecosystem) ? packageNameKey(ecosystem, name.trim()) : name.trim();
}
