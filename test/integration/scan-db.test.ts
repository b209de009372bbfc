import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FEEDS } from '../../src/feeds/registry.js';
import { assessFreshness, importFeeds, openVulnDb } from '../../src/vulndb/index.js';
import { writeTinyLayout } from '../harness/tiny-image.js';
import { runCli } from '../support/run-cli.js';
import { sharedData } from '../support/shared-data.js';

const FEEDS_WITH_UPSTREAM = FEEDS.filter((f) => f.upstream.length > 0).length;

/**
 * The vulnerability DB as `scan` and `db` see it on a first run: missing with the feeds out of reach
 * (a mirror that has nothing: every URL is a 404), and present but holding old data (the real feed
 * snapshot, imported today).
 */
describe('scan and db: a missing or old vulnerability DB', () => {
  let dir: string;
  let emptyMirror: Server;
  let mirrorUrl: string;
  let image: string;
  let oldDataDb: string;
  let oldDataAgeDays: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-scan-db-'));
    emptyMirror = createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((resolve) => emptyMirror.listen(0, '127.0.0.1', resolve));
    mirrorUrl = `http://127.0.0.1:${(emptyMirror.address() as AddressInfo).port}`;
    const layout = join(dir, 'layout');
    await writeTinyLayout(layout, { layers: [[{ path: 'etc/hello.txt', content: 'no packages here\n' }]] });
    image = `oci:${layout}:latest`;
    oldDataDb = join(dir, 'old-data.db');
    await importFeeds([sharedData('feeds', 'osv', 'crates.io'), sharedData('feeds', 'debian', 'DSA-list'), sharedData('feeds', 'npm-security-wg'), sharedData('feeds', 'wolfi-secdb')], { target: oldDataDb });
    const db = openVulnDb(oldDataDb);
    oldDataAgeDays = assessFreshness(db.feeds()).ageHours / 24;
    db.close();
  });
  after(async () => {
    await new Promise<void>((resolve) => emptyMirror?.close(() => resolve()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('missing DB, feeds unreachable: three short lines (what, online, air-gapped); the per-feed errors only with --verbose', async () => {
    const db = join(dir, 'never.db');
    const res = await runCli(['scan', image, '--db', db, '-q'], { env: { PORTCULLIS_FEED_MIRROR: mirrorUrl } });
    assert.equal(res.code, 2, res.stderr);
    assert.equal(
      res.stderr,
      [
        `portcullis: no vulnerability database at ${db}, and none of the ${FEEDS_WITH_UPSTREAM} feeds could be fetched to build one (--verbose lists why)`,
        '  online:     portcullis db update',
        '  air-gapped: portcullis db import FEEDS-DIR-OR-ZIP, or portcullis db update --mirror URL [E_DB]',
        '',
      ].join('\n'),
    );
    assert.equal(existsSync(db), false);

    const verbose = await runCli(['scan', image, '--db', db, '-q', '--verbose'], { env: { PORTCULLIS_FEED_MIRROR: mirrorUrl } });
    assert.equal(verbose.code, 2);
    const lines = verbose.stderr.trimEnd().split('\n');
    const perFeed = lines.filter((l) => /^portcullis: feed [a-z0-9-]+: HTTP 404 \(http:\/\/127\.0\.0\.1:\d+\//.test(l));
    assert.equal(perFeed.length, FEEDS_WITH_UPSTREAM, verbose.stderr);
    assert.deepEqual(lines.slice(perFeed.length), [
      `portcullis: no vulnerability database at ${db}, and none of the ${FEEDS_WITH_UPSTREAM} feeds could be fetched to build one`,
      '  online:     portcullis db update',
      '  air-gapped: portcullis db import FEEDS-DIR-OR-ZIP, or portcullis db update --mirror URL [E_DB]',
    ]);
  });

  test('missing DB offline: the same three lines, without touching the network', async () => {
    const db = join(dir, 'offline.db');
    const res = await runCli(['scan', image, '--db', db, '--offline'], { env: { PORTCULLIS_FEED_MIRROR: 'http://127.0.0.1:1' } });
    assert.equal(res.code, 2);
    assert.deepEqual(res.stderr.trimEnd().split('\n'), [
      `portcullis: no vulnerability database at ${db}, and --offline forbids building one`,
      '  online:     portcullis db update',
      '  air-gapped: portcullis db import FEEDS-DIR-OR-ZIP, or portcullis db update --mirror URL [E_DB]',
    ]);
  });

  test('db update with every feed unreachable: three lines; --verbose gives each feed its error', async () => {
    const db = join(dir, 'update.db');
    const res = await runCli(['db', 'update', '--db', db, '--mirror', mirrorUrl, '--quiet']);
    assert.equal(res.code, 2);
    assert.deepEqual(res.stderr.trimEnd().split('\n'), [
      `portcullis: db update: none of the ${FEEDS_WITH_UPSTREAM} feeds could be fetched; no database was written at ${db} (--verbose lists why)`,
      '  online:     check the network and proxy ($HTTPS_PROXY), then rerun portcullis db update',
      '  air-gapped: portcullis db import FEEDS-DIR-OR-ZIP, or portcullis db update --mirror URL [E_FEED]',
    ]);
    const verbose = await runCli(['db', 'update', '--db', db, '--mirror', mirrorUrl, '--quiet', '--verbose', '--feed', 'osv,kev']);
    assert.equal(verbose.code, 2);
    const lines = verbose.stderr.trimEnd().split('\n');
    assert.deepEqual(lines.slice(0, 2).map((l) => l.replace(/ \(.*\)$/, '')), ['feed osv: HTTP 404', 'feed kev: HTTP 404']);
    assert.equal(lines[2], `portcullis: db update: none of the 2 feeds could be fetched; no database was written at ${db}`);
  });

  test('--offline refuses data older than 7 days by default, though the DB was built a moment ago', async () => {
    assert.ok(oldDataAgeDays > 7, 'the real feed snapshot is older than a week');
    const res = await runCli(['scan', image, '--db', oldDataDb, '--offline', '-q']);
    assert.equal(res.code, 2, res.stderr);
    const lines = res.stderr.trimEnd().split('\n');
    assert.match(lines[0] ?? '', new RegExp(`^portcullis: vulnerability data in ${oldDataDb.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is \\d+d old \\(its freshest feed, osv, is current as of \\d{4}-\\d\\d-\\d\\d\\), over --max-db-age 7d`));
    assert.equal(lines.length, 3);
    assert.match(lines[2] ?? '', /\[E_DB\]$/);
  });

  test('--max-db-age is measured from the freshest live feed\'s newest record; older live feeds get a warning each', async () => {
    const above = `${Math.ceil(oldDataAgeDays) + 1}d`;
    const below = `${Math.floor(oldDataAgeDays) - 1}d`;
    const accepted = await runCli(['scan', image, '--db', oldDataDb, '--offline', '--max-db-age', above]);
    assert.equal(accepted.code, 0, accepted.stderr);
    // The DSA list (last entry 2023) is older than osv: named as stale. The frozen npm feed is older
    // still but expected to be, and wolfi (undated) was imported just now: neither is named.
    const warnings = accepted.stderr.split('\n').filter((l) => l.startsWith('portcullis: warning: '));
    assert.deepEqual(
      warnings.map((w) => /feed (\S+) is stale/.exec(w)?.[1]),
      ['debian-dsa'],
      accepted.stderr,
    );
    assert.match(warnings[0] ?? '', /newest record 2023-\d\d-\d\d/);
    assert.equal((await runCli(['scan', image, '--db', oldDataDb, '--offline', '--max-db-age', above, '-q'])).stderr, '', 'quiet: no warnings');

    const refused = await runCli(['scan', image, '--db', oldDataDb, '--offline', '--max-db-age', below, '-q']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /over --max-db-age \d+d/);
  });
});
