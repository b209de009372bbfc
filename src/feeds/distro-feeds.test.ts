import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { walkFiles } from '../../test/support/files.js';
import { sharedData } from '../../test/support/shared-data.js';
import { FEEDS as REGISTRY } from './registry.js';
import type { Feed } from './types.js';

// The distribution and enrichment feeds, taken from the one registry so this test cannot drift from it.
const DISTRO_FEED_IDS = new Set(['debian-tracker', 'debian-dsa', 'debian-dla', 'ubuntu-uct', 'ubuntu-vex', 'redhat-csaf', 'redhat-security-data', 'nvd', 'epss', 'kev']);
const FEEDS: Feed[] = REGISTRY.filter((f) => DISTRO_FEED_IDS.has(f.id));

// Which feed owns which corpus path; every other file (OSV, Alpine, RubySec, CPE aliases,
// security-support lists...) must be claimed by none of these feeds.
function expectedFeed(path: string): string | undefined {
  if (path === 'debian/DSA-list') return 'debian-dsa';
  if (path === 'debian/DLA-list') return 'debian-dla';
  if (path.startsWith('debian/tracker-json/')) return 'debian-tracker';
  if (path.startsWith('ubuntu/uct-active/')) return 'ubuntu-uct';
  if (path.startsWith('ubuntu/vex/')) return 'ubuntu-vex';
  if (path.startsWith('rhel/csaf/') || path.startsWith('rhel/vex/')) return 'redhat-csaf';
  if (path.startsWith('rhel/security-data-api-cve/')) return 'redhat-security-data';
  if (path === 'enrichment/nvd-cve-2.0-sample.json') return 'nvd';
  if (path === 'enrichment/epss-sample.csv') return 'epss';
  if (path === 'enrichment/kev-sample.json') return 'kev';
  return undefined;
}


describe('distribution and enrichment feeds over the whole feed corpus', () => {
  test('each file is recognized by exactly the feed of its format', () => {
    const root = sharedData('feeds');
    const files = walkFiles(root);
    assert.ok(files.length > 1000);
    for (const path of files) {
      const name = relative(root, path);
      const bytes = readFileSync(path);
      const claimed = FEEDS.filter((f) => f.recognizes({ name, bytes })).map((f) => f.id);
      const expected = expectedFeed(name);
      assert.deepEqual(claimed, expected === undefined ? [] : [expected], name);
    }
  });

  test('feed ids are unique and upstreams are https URLs', () => {
    assert.equal(FEEDS.length, DISTRO_FEED_IDS.size, 'every distribution and enrichment feed is registered');
    assert.equal(new Set(FEEDS.map((f) => f.id)).size, FEEDS.length);
    for (const f of FEEDS) {
      assert.ok(f.upstream.length > 0, f.id);
      for (const u of f.upstream) assert.match(u.url, /^https:\/\//, f.id);
    }
  });
});
