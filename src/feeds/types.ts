import type { Advisory } from '../domain/advisory.js';

/** A record a parser refused, with the reason: counted and reported, never fatal. */
export interface SkippedRecord {
  record: string;
  reason: string;
}

export interface AdvisoryParseResult {
  advisories: Advisory[];
  skipped: SkippedRecord[];
  /** Newest modification/publication date seen (ISO 8601), for the feed's metadata. */
  newestRecord?: string;
}

/** One input file of a feed: its name (path relative to what was imported or fetched) and bytes. */
export interface FeedFile {
  name: string;
  bytes: Buffer;
}

/** Where `db update` fetches a feed from. */
export interface FeedUpstream {
  url: string;
  /** How the payload is packed. */
  format: 'json' | 'yaml' | 'text' | 'zip' | 'csv' | 'gzip-json' | 'bzip2-json' | 'tar-gz' | 'tar-zst';
  /**
   * When true, `url` returns a one-line text file naming the current payload (relative to `url`), and
   * that payload is what `format` describes (Red Hat publishes its CSAF VEX archive this way:
   * `archive_latest.txt` -> `csaf_vex_<date>.tar.zst`).
   */
  indirect?: boolean;
}

/**
 * A feed whose upstream no longer publishes new records (an archived repository). Its newest record
 * only gets older, so it never counts toward the DB's age and is never reported as stale.
 */
export interface FrozenFeed {
  /** Date (YYYY-MM-DD) of the upstream's last change. */
  since: string;
  reason: string;
}

/**
 * An advisory feed: a parser of one upstream format into normalized advisories. Feeds are pure:
 * bytes in, advisories out; fetching and storing belong to the vulnerability DB.
 */
export interface AdvisoryFeed {
  readonly kind: 'advisories';
  /** Stable id (`osv`, `debian-tracker`, `debian-dsa`, `alpine-secdb`, `ubuntu-uct`, `redhat-csaf`, ...). */
  readonly id: string;
  readonly version: number;
  readonly description: string;
  readonly upstream: FeedUpstream[];
  /** Set when the upstream is archived: see FrozenFeed. */
  readonly frozen?: FrozenFeed;
  /** True when a local file (by name and first bytes) is in this feed's format, for `db import`. */
  recognizes(file: FeedFile): boolean;
  parse(files: FeedFile[]): AdvisoryParseResult;
}

/** Facts that enrich advisories by CVE id: CVSS from NVD, EPSS scores, CISA KEV entries. */
export interface EnrichmentRecord {
  cve: string;
  cvss?: { version: '2.0' | '3.0' | '3.1' | '4.0'; vector: string; score: number; source: string }[];
  epss?: { score: number; percentile: number; date?: string };
  kev?: { dateAdded: string; dueDate?: string; knownRansomware?: boolean; shortDescription?: string };
}

export interface EnrichmentParseResult {
  records: EnrichmentRecord[];
  skipped: SkippedRecord[];
  newestRecord?: string;
}

export interface EnrichmentFeed {
  readonly kind: 'enrichment';
  readonly id: string;
  readonly version: number;
  readonly description: string;
  readonly upstream: FeedUpstream[];
  /** Set when the upstream is archived: see FrozenFeed. */
  readonly frozen?: FrozenFeed;
  recognizes(file: FeedFile): boolean;
  parse(files: FeedFile[]): EnrichmentParseResult;
}

export type Feed = AdvisoryFeed | EnrichmentFeed;
