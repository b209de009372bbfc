import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sharedData } from '../../test/support/shared-data.js';
import { isPortcullisError } from '../domain/errors.js';
import { FEEDS, checkFeedRegistry, feedById } from './registry.js';
import type { AdvisoryFeed } from './types.js';
import { walkFiles as walk } from '../../test/support/files.js';

const fake = (id: string, version = 1): AdvisoryFeed => ({
  kind: 'advisories',
  id,
  version,
  description: id,
  upstream: [],
  recognizes: () => false,
  parse: () => ({ advisories: [], skipped: [] }),
});

describe('feed registry', () => {
  test('every feed has a unique, well-formed id and a description', () => {
    const ids = FEEDS.map((f) => f.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const f of FEEDS) {
      assert.match(f.id, /^[a-z0-9][a-z0-9-]*$/);
      assert.ok(f.description.length > 0, f.id);
      for (const u of f.upstream) assert.doesNotThrow(() => new URL(u.url), `${f.id}: ${u.url}`);
    }
    for (const id of ['osv', 'alpine-secdb', 'wolfi-secdb', 'npm-security-wg', 'rubysec']) assert.ok(feedById(id), id);
  });

  test('duplicate ids are rejected', () => {
    assert.throws(() => checkFeedRegistry([fake('a'), fake('b'), fake('a')]), (err) => isPortcullisError(err, 'E_INTERNAL') && /duplicate feed id "a"/.test(err.message));
    assert.throws(() => checkFeedRegistry([fake('Bad Id')]), (err) => isPortcullisError(err, 'E_INTERNAL'));
    assert.throws(() => checkFeedRegistry([fake('x', 0)]), (err) => isPortcullisError(err, 'E_INTERNAL'));
    assert.deepEqual(checkFeedRegistry([]), []);
  });

  test('feedById', () => {
    assert.equal(feedById('osv')?.id, 'osv');
    assert.equal(feedById('nope'), undefined);
  });
});


describe('recognition across the whole registry', () => {
  const owners: Record<string, string> = { osv: 'osv', 'alpine-secdb': 'alpine-secdb', 'wolfi-secdb': 'wolfi-secdb', 'npm-security-wg': 'npm-security-wg', rubysec: 'rubysec' };
  const root = sharedData('feeds');

  test('every sample of these feeds goes to its own feed, and these feeds claim no other sample', () => {
    const mine = new Set(Object.values(owners));
    for (const path of walk(root)) {
      const folder = path.slice(root.length + 1).split('/')[0] ?? '';
      const file = { name: path.slice(root.length + 1), bytes: readFileSync(path) };
      const first = FEEDS.find((f) => f.recognizes(file))?.id;
      const expected = owners[folder];
      if (expected !== undefined) assert.equal(first, expected, path);
      else assert.ok(first === undefined || !mine.has(first), `${path} claimed by ${first}`);
    }
  });
});
