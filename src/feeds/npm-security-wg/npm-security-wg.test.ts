import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sharedData } from '../../../test/support/shared-data.js';
import type { FeedFile } from '../types.js';
import { npmSecurityWgFeed, parseNpmWgFiles } from './index.js';

function load(): FeedFile[] {
  const dir = sharedData('feeds', 'npm-security-wg');
  return readdirSync(dir)
    .sort()
    .map((n) => ({ name: n, bytes: readFileSync(join(dir, n)) }));
}

interface Raw {
  id: number;
  module_name: string;
  vulnerable_versions: string;
  patched_versions: string | null;
  cves: string[];
}

describe('npm security-wg', () => {
  const files = load();
  const raws = files.map((f) => JSON.parse(f.bytes.toString('utf8')) as Raw);
  const result = npmSecurityWgFeed.parse(files);

  test('every file is recognized and parses into one advisory, nothing skipped', () => {
    assert.equal(files.length, 250);
    assert.equal(files.filter((f) => !npmSecurityWgFeed.recognizes(f)).length, 0);
    assert.deepEqual(result.skipped, []);
    assert.equal(result.advisories.length, 250);
    assert.equal(result.newestRecord, '2020-07-13T00:00:00.000Z');
  });

  test('ranges kept in npm syntax: vulnerable -> nativeRanges, patched -> patched', () => {
    for (const r of raws) {
      const a = result.advisories.find((x) => x.id === `NSWG-ECO-${r.id}`);
      assert.ok(a, String(r.id));
      const p = a.affected[0];
      assert.ok(p);
      assert.equal(p.ecosystem, 'npm');
      assert.equal(p.namespace, 'npm');
      assert.equal(p.scheme, 'npm');
      assert.equal(p.packageName, r.module_name);
      assert.deepEqual(p.nativeRanges, [r.vulnerable_versions.trim()]);
      const noFix = r.patched_versions === null || r.patched_versions.trim() === '<0.0.0';
      assert.equal(p.state, noFix ? 'unfixed' : 'fixed');
      assert.deepEqual(p.patched, noFix ? undefined : [r.patched_versions?.trim()]);
      assert.deepEqual(a.aliases, r.cves);
    }
  });

  test('hand-checked NSWG-ECO-10 (geddy)', () => {
    const a = result.advisories.find((x) => x.id === 'NSWG-ECO-10');
    assert.ok(a);
    assert.equal(a.title, 'Directory Traversal');
    assert.deepEqual(a.aliases, ['CVE-2015-5688']);
    assert.equal(a.published, '2015-07-27T00:00:00.000Z');
    assert.equal(a.modified, '2016-04-20T00:00:00.000Z');
    assert.deepEqual(a.severities, [{ source: 'nodejs-security-wg', type: 'CVSS_V3', value: 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N', score: 5.3, normalized: 'Medium' }]);
    assert.deepEqual(a.affected[0]?.nativeRanges, ['<13.0.8']);
    assert.deepEqual(a.affected[0]?.patched, ['>=13.0.8']);
  });

  test('a malformed file between good ones is skipped and counted', () => {
    const out = parseNpmWgFiles([files[0] as FeedFile, { name: 'bad.json', bytes: Buffer.from('{"id": 1, "module_name": "x"}') }, files[1] as FeedFile]);
    assert.equal(out.advisories.length, 2);
    assert.deepEqual(out.skipped.map((s) => s.record), ['bad.json']);
  });
});
