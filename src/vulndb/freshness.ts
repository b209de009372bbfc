/**
 * How old the data in a vulnerability DB is. The DB file's build time says nothing about its data (a
 * DB imported today from a 2023 mirror was "built" today), so age is measured from what each feed
 * holds:
 *
 * - A feed's data is as recent as its **newest record** (the newest modified/published date its
 *   parser saw), capped at its fetch time (a record dated in the future proves nothing newer). A feed
 *   whose records carry no dates (Alpine and Wolfi secdb, the Debian tracker JSON) can only be aged
 *   by its **fetch time** (`basis: 'fetched'`).
 * - A **frozen** feed (its upstream archived, see FrozenFeed) never gets newer records: it is aged by
 *   fetch time, flagged, never reported as stale, and does not count toward the DB's age.
 * - The **DB's age** is the age of its freshest live advisory feed whose records are dated: how long
 *   ago any advisory data in it was current. Dated evidence wins over fetch times, because a fetch
 *   time only says when files were read: `db import` of a 2023 mirror is "fetched" today. Only when no
 *   live advisory feed has dated records does the freshest live advisory feed by fetch time decide,
 *   and only when there is no live advisory feed at all, the freshest feed of any kind.
 * - Live feeds that legitimately publish nothing for a while (a quiet week of rubysec) must not fail
 *   every scan while another feed is current, so a live feed older than the limit is reported as
 *   stale (a warning naming it) rather than failing the scan.
 */
import { FEEDS } from '../feeds/registry.js';
import type { Feed } from '../feeds/types.js';
import type { StoredFeed } from './open.js';

const HOUR_MS = 3_600_000;

/** How old one feed's data is. */
export interface FeedFreshness {
  feed: string;
  kind: StoredFeed['kind'];
  /** `frozen`: the upstream is archived (see FrozenFeed); `live` otherwise. */
  status: 'live' | 'frozen';
  /** Upstream's last change, for frozen feeds. */
  frozenSince?: string;
  /** The time the feed's data is current as of (ISO 8601); undefined when no date is readable. */
  dataAsOf?: string;
  /** What `dataAsOf` is: the newest record's date (capped at the fetch time) or the fetch time. */
  basis: 'newest-record' | 'fetched';
  /** Hours from `dataAsOf` to now (never negative); Infinity when no date is readable. */
  ageHours: number;
}

/** How old a DB's data is, per feed and as a whole. */
export interface DbFreshness {
  /** Per feed, in the order given. */
  feeds: FeedFreshness[];
  /** The feed that decides the DB's age (see the module comment); undefined for a DB without feeds. */
  decidedBy?: string;
  /** The DB's age in hours; Infinity for a DB without feeds or without any readable date. */
  ageHours: number;
}

function parseTime(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : undefined;
}

/** The freshness of one stored feed at `now` (ms since the epoch). */
export function feedFreshness(stored: StoredFeed, now: number = Date.now(), registry: readonly Feed[] = FEEDS): FeedFreshness {
  const frozen = registry.find((f) => f.id === stored.feed)?.frozen;
  const fetched = parseTime(stored.fetchedAt);
  const newest = frozen === undefined ? parseTime(stored.newestRecord) : undefined;
  const basis = newest !== undefined ? 'newest-record' : 'fetched';
  const asOf = newest !== undefined && fetched !== undefined ? Math.min(newest, fetched) : (newest ?? fetched);
  return {
    feed: stored.feed,
    kind: stored.kind,
    status: frozen === undefined ? 'live' : 'frozen',
    ...(frozen !== undefined ? { frozenSince: frozen.since } : {}),
    ...(asOf !== undefined ? { dataAsOf: new Date(asOf).toISOString() } : {}),
    basis,
    ageHours: asOf === undefined ? Number.POSITIVE_INFINITY : Math.max(0, (now - asOf) / HOUR_MS),
  };
}

/** The freshness of every feed of a DB and of the DB as a whole (see the module comment). */
export function assessFreshness(feeds: readonly StoredFeed[], now: number = Date.now(), registry: readonly Feed[] = FEEDS): DbFreshness {
  const perFeed = feeds.map((f) => feedFreshness(f, now, registry));
  const liveAdvisories = perFeed.filter((f) => f.status === 'live' && f.kind === 'advisories');
  const dated = liveAdvisories.filter((f) => f.basis === 'newest-record');
  const candidates = [dated, liveAdvisories, perFeed].find((tier) => tier.length > 0) ?? [];
  let freshest: FeedFreshness | undefined;
  for (const f of candidates) if (freshest === undefined || f.ageHours < freshest.ageHours) freshest = f;
  return {
    feeds: perFeed,
    ...(freshest !== undefined ? { decidedBy: freshest.feed } : {}),
    ageHours: freshest?.ageHours ?? Number.POSITIVE_INFINITY,
  };
}

/** Live feeds whose data is older than `maxAgeHours`: the ones a scan warns about. */
export function staleFeeds(freshness: DbFreshness, maxAgeHours: number): FeedFreshness[] {
  return freshness.feeds.filter((f) => f.status === 'live' && f.ageHours > maxAgeHours);
}

/** An age for people: `5h`, `3d`, `unknown`. */
export function formatAge(hours: number): string {
  if (!Number.isFinite(hours)) return 'unknown';
  return hours < 48 ? `${Math.floor(hours)}h` : `${Math.floor(hours / 24)}d`;
}
