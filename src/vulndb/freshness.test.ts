import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedData } from '../../test/support/shared-data.js';
import { assessFreshness, staleFeeds } from './freshness.js';
import { importFeeds } from './import.js';
import { openVulnDb, type StoredFeed } from './open.js';

const DAY_MS = 86_400_000;

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-freshness-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Imports real feed files into a new DB (fetch time `importedAt`) and returns its stored feeds. */
async function importedFeeds(name: string, paths: string[], importedAt: Date): Promise<StoredFeed[]> {
  const target = join(dir, `${name}.db`);
  await importFeeds(paths, { target, now: () => importedAt });
  const db = openVulnDb(target);
  try {
    return db.feeds();
  } finally {
    db.close();
  }
}

function feed(feeds: StoredFeed[], id: string): StoredFeed {
  const found = feeds.find((f) => f.feed === id);
  assert.ok(found, `feed ${id} imported`);
  return found;
}

describe('DB freshness: age measured from the data, not from the build', () => {
  test('a DB imported today from old data is as old as its newest record, not as new as its build', async () => {
    const now = new Date();
    const feeds = await importedFeeds('old-data', [sharedData('feeds', 'osv', 'Go')], now);
    const newest = Date.parse(feed(feeds, 'osv').newestRecord ?? '');
    assert.ok(Number.isFinite(newest) && now.getTime() - newest > 7 * DAY_MS, 'the real Go feed snapshot is older than a week');

    const fresh = assessFreshness(feeds, now.getTime());
    assert.equal(fresh.decidedBy, 'osv');
    assert.equal(fresh.feeds[0]?.basis, 'newest-record');
    assert.equal(fresh.feeds[0]?.dataAsOf, new Date(newest).toISOString());
    assert.ok(Math.abs(fresh.ageHours - (now.getTime() - newest) / 3_600_000) < 1e-6);

    // Two days after the newest record the same DB counts as two days old.
    assert.ok(Math.abs(assessFreshness(feeds, newest + 2 * DAY_MS).ageHours - 48) < 1e-6);
  });

  test('dated feeds decide over feeds aged only by fetch time; frozen feeds never decide and are never stale', async () => {
    const now = new Date();
    const feeds = await importedFeeds('mixed', [sharedData('feeds', 'osv', 'Go'), sharedData('feeds', 'wolfi-secdb'), sharedData('feeds', 'npm-security-wg')], now);
    const fresh = assessFreshness(feeds, now.getTime());
    const byId = new Map(fresh.feeds.map((f) => [f.feed, f]));

    // Wolfi secdb records carry no dates: its age is its fetch (here: import) time, which proves nothing
    // about the data, so the dated osv feed decides although wolfi looks younger.
    assert.equal(byId.get('wolfi-secdb')?.basis, 'fetched');
    assert.equal(byId.get('wolfi-secdb')?.ageHours, 0);
    assert.equal(fresh.decidedBy, 'osv');
    assert.ok(fresh.ageHours > 7 * 24);

    const npm = byId.get('npm-security-wg');
    assert.equal(npm?.status, 'frozen');
    assert.equal(npm?.frozenSince, '2023-01-23');
    assert.deepEqual(
      staleFeeds(fresh, 7 * 24).map((f) => f.feed),
      ['osv'],
      'the frozen feed is far older than a week but not stale; wolfi was fetched just now',
    );
  });

  test('without dated live feeds the fetch time decides; a DB of frozen feeds only is aged by its fetch', async () => {
    const fetched = new Date('2026-11-01T00:00:00Z');
    const later = fetched.getTime() + 3 * DAY_MS;
    const undated = assessFreshness(await importedFeeds('undated', [sharedData('feeds', 'wolfi-secdb')], fetched), later);
    assert.equal(undated.decidedBy, 'wolfi-secdb');
    assert.equal(undated.ageHours, 72);

    const frozenOnly = assessFreshness(await importedFeeds('frozen', [sharedData('feeds', 'npm-security-wg')], fetched), later);
    assert.equal(frozenOnly.decidedBy, 'npm-security-wg');
    assert.equal(frozenOnly.ageHours, 72);
    assert.deepEqual(staleFeeds(frozenOnly, 1), []);
  });

  test('a record dated after the fetch proves nothing newer: the age is capped at the fetch time', async () => {
    const fetched = new Date('2020-01-01T00:00:00Z');
    const feeds = await importedFeeds('capped', [sharedData('feeds', 'osv', 'Go')], fetched);
    assert.ok((feed(feeds, 'osv').newestRecord ?? '') > fetched.toISOString(), 'the snapshot has records newer than the pretended fetch');
    const fresh = assessFreshness(feeds, fetched.getTime() + DAY_MS);
    assert.equal(fresh.feeds[0]?.dataAsOf, fetched.toISOString());
    assert.equal(fresh.ageHours, 24);
  });

  test('an empty DB has no age', () => {
    const fresh = assessFreshness([]);
    assert.equal(fresh.decidedBy, undefined);
    assert.equal(fresh.ageHours, Number.POSITIVE_INFINITY);
  });
});
