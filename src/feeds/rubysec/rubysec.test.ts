import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { sharedData } from '../../../test/support/shared-data.js';
import type { FeedFile } from '../types.js';
import { EVERY_GEM_VERSION, parseRubysecFiles, rubysecFeed } from './index.js';
import { walkFiles as walk } from '../../../test/support/files.js';


describe('rubysec', () => {
  const root = sharedData('feeds', 'rubysec');
  const files: FeedFile[] = walk(root).map((f) => ({ name: f.slice(root.length + 1), bytes: readFileSync(f) }));
  const result = rubysecFeed.parse(files);

  test('every file parses; one advisory per distinct id, one affected entry per file', () => {
    assert.equal(files.length, 250);
    assert.equal(files.filter((f) => !rubysecFeed.recognizes(f)).length, 0);
    assert.deepEqual(result.skipped, []);
    const ids = new Set(files.map((f) => basename(f.name).replace(/\.yml$/, '')));
    assert.equal(result.advisories.length, ids.size);
    assert.equal(result.advisories.reduce((n, a) => n + a.affected.length, 0), files.length);
  });

  test('requirement strings are kept as written; affected = every version minus patched and unaffected', () => {
    for (const f of files) {
      const text = f.bytes.toString('utf8');
      const gem = /^gem: (\S+)/m.exec(text)?.[1];
      const id = basename(f.name).replace(/\.yml$/, '');
      const a = result.advisories.find((x) => x.id === id);
      const p = a?.affected.find((x) => x.packageName === gem);
      assert.ok(p, f.name);
      assert.equal(p.ecosystem, 'gem');
      assert.equal(p.namespace, 'RubyGems');
      assert.equal(p.scheme, 'gem');
      assert.deepEqual(p.nativeRanges, [EVERY_GEM_VERSION]);
      const patchedCount = /^patched_versions:\n((?: +- .*\n)+)/m.exec(text)?.[1]?.split('\n').filter((l) => l.trim() !== '').length ?? 0;
      assert.equal(p.patched?.length ?? 0, patchedCount, f.name);
      assert.equal(p.state, patchedCount > 0 ? 'fixed' : 'unfixed');
    }
  });

  test('hand-checked: resque CVE-2023-50727', () => {
    const a = result.advisories.find((x) => x.id === 'CVE-2023-50727');
    assert.ok(a);
    assert.deepEqual(a.aliases, ['GHSA-r9mq-m72x-257g']);
    assert.equal(a.published, '2023-12-18T00:00:00.000Z');
    assert.equal(a.title, 'Resque vulnerable to reflected XSS in Queue Endpoint');
    assert.deepEqual(a.severities, [{ source: 'rubysec', type: 'CVSS_V3', value: '6.3', score: 6.3, normalized: 'Medium' }]);
    assert.deepEqual(a.affected[0]?.patched, ['>= 2.6.0']);
    assert.equal(a.affected[0]?.unaffected, undefined);
    assert.equal(a.references[0], 'https://github.com/resque/resque/security/advisories/GHSA-r9mq-m72x-257g');
  });

  test('compound requirements and unaffected versions survive YAML parsing unchanged', () => {
    const withUnaffected = result.advisories.flatMap((a) => a.affected).filter((p) => p.unaffected !== undefined);
    assert.equal(withUnaffected.length, files.filter((f) => /^unaffected_versions:/m.test(f.bytes.toString('utf8'))).length);
    const compound = result.advisories.flatMap((a) => a.affected).flatMap((p) => p.patched ?? []).filter((r) => r.includes(','));
    assert.ok(compound.length > 0);
    for (const r of compound) assert.match(r, /^[~<>=!]+ ?[\w.]+, [<>=!]+ ?[\w.]+$/);
  });

  test('one id under two gems is one advisory with both gems', () => {
    const ids = files.map((f) => basename(f.name));
    const duplicated = ids.filter((n, i) => ids.indexOf(n) !== i);
    assert.ok(duplicated.length > 0);
    for (const name of duplicated) {
      const a = result.advisories.find((x) => x.id === name.replace(/\.yml$/, ''));
      assert.equal(a?.affected.length, ids.filter((n) => n === name).length);
    }
  });

  test('a malformed file between good ones is skipped and counted', () => {
    const out = parseRubysecFiles([files[0] as FeedFile, { name: 'gems/x/CVE-1.yml', bytes: Buffer.from('gem: [unterminated') }, files[1] as FeedFile]);
    assert.equal(out.advisories.length, 2);
    assert.deepEqual(out.skipped.map((s) => s.record), ['gems/x/CVE-1.yml']);
  });
});
