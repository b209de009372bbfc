import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sharedData } from '../../../test/support/shared-data.js';
import { agreement, disagreementReport, readVersionTable } from '../test-support/tables.js';
import { InvalidRangeError } from '../types.js';
import { npmScheme } from './index.js';

const satisfies = (v: string, r: string): boolean => (npmScheme.satisfies as (v: string, r: string) => boolean)(v, r);

describe('npm scheme', () => {
  test('agrees with semver.compare on every pair of versions/npm-semver.tsv', () => {
    const pairs = readVersionTable('npm-semver.tsv');
    const d = agreement(npmScheme, pairs);
    assert.equal(d.agree, pairs.length, disagreementReport(d, pairs.length));
  });

  test('parses strictly, with the leading v and trimming semver allows', () => {
    assert.equal(npmScheme.compare('v1.2.3', '1.2.3'), 0);
    assert.equal(npmScheme.compare(' 1.2.3 ', '1.2.3'), 0);
    assert.equal(npmScheme.compare('1.0.0+a', '1.0.0+b'), 0, 'build metadata is ignored');
    assert.equal(npmScheme.compare('1.0.0-rc.1', '1.0.0'), -1);
    assert.ok(!npmScheme.isValid('1.2'));
  });

  test('satisfies npm ranges, pre-releases included as npm audit includes them', () => {
    assert.equal(satisfies('1.4.0', '>=1.2.0 <2.0.0'), true);
    assert.equal(satisfies('2.0.0', '^1.2.3'), false);
    assert.equal(satisfies('1.9.9', '^1.2.3'), true);
    assert.equal(satisfies('1.2.9', '~1.2.0 || >=3'), true);
    assert.equal(satisfies('3.1.0', '~1.2.0 || >=3'), true);
    assert.equal(satisfies('2.0.0-beta.1', '<2.0.0'), true, 'a pre-release below the bound is inside');
    assert.equal(satisfies('1.5.0-rc.1', '>=1.0.0 <2.0.0'), true);
    assert.equal(satisfies('1.0.0', ''), true, 'the empty range is any version');
    assert.throws(() => satisfies('1.0.0', 'not a range'), InvalidRangeError);
  });

  test('reads every range of the npm security-wg advisories', () => {
    const dir = sharedData('feeds', 'npm-security-wg');
    let ranges = 0;
    for (const name of readdirSync(dir)) {
      const doc = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>;
      for (const key of ['vulnerable_versions', 'patched_versions']) {
        const range = doc[key];
        if (typeof range !== 'string') continue;
        ranges++;
        assert.doesNotThrow(() => satisfies('1.0.0', range), `${name} ${key} ${range}`);
      }
    }
    assert.ok(ranges > 250);
  });
});
