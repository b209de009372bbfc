/**
 * What `portcullis db status --json` prints and the service's `GET /api/v1/feeds` answers: the DB's
 * path, build time, schema, data age, and per feed its source, record count and freshness.
 */
import { assessFreshness } from './freshness.js';
import type { StoredFeed, VulnDb } from './open.js';

/** One feed as the status shows it. */
export type FeedStatus = StoredFeed & { status?: string; dataAsOf?: string; ageBasis?: string; ageHours?: number | null };

export interface DbStatus {
  path: string;
  builtAt: string;
  schemaVersion: number;
  /** Ages in hours, null when unknown (no readable date); JSON has no Infinity. */
  dataAge: { hours: number | null; decidedBy?: string };
  feeds: FeedStatus[];
}

/** The status of an open DB, as of `now`. */
export function dbStatus(vulnDb: Pick<VulnDb, 'path' | 'builtAt' | 'schemaVersion' | 'feeds'>, now: number = Date.now()): DbStatus {
  const feeds = vulnDb.feeds();
  const freshness = assessFreshness(feeds, now);
  const hours = (h: number): number | null => (Number.isFinite(h) ? Math.round(h * 10) / 10 : null);
  return {
    path: vulnDb.path,
    builtAt: vulnDb.builtAt,
    schemaVersion: vulnDb.schemaVersion,
    dataAge: { hours: hours(freshness.ageHours), ...(freshness.decidedBy !== undefined ? { decidedBy: freshness.decidedBy } : {}) },
    feeds: feeds.map((f, i) => {
      const age = freshness.feeds[i];
      return age ? { ...f, status: age.status, ...(age.dataAsOf !== undefined ? { dataAsOf: age.dataAsOf } : {}), ageBasis: age.basis, ageHours: hours(age.ageHours) } : f;
    }),
  };
}
