import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { agreement, disagreementReport, readOracleRows, readUpstreamOpTable, readVersionTable } from '../test-support/tables.js';
import { InvalidRangeError } from '../types.js';
import { mavenScheme } from './index.js';

const satisfies = (v: string, r: string): boolean => (mavenScheme.satisfies as (v: string, r: string) => boolean)(v, r);

describe('maven scheme', () => {
  test('agrees with ComparableVersion 3.8.7 on every pair of versions/maven.tsv', () => {
    const pairs = readVersionTable('maven.tsv');
    const d = agreement(mavenScheme, pairs);
    assert.equal(d.agree, pairs.length, disagreementReport(d, pairs.length));
  });

  test('agrees with the claircore compare list except its one Maven 3.9-only case', () => {
    const pairs = readUpstreamOpTable('claircore-maven-compare.list');
    const d = agreement(mavenScheme, pairs);
    // The list was written for Maven 3.9, which tells 2.0.a from 2.0.0.a; 3.8.7 treats them as equal.
    assert.equal(d.agree, pairs.length - 1, disagreementReport(d, pairs.length));
    assert.equal(d.disagreements.length, 1);
    assert.match(d.disagreements[0] as string, /"2\.0\.a" vs "2\.0\.0\.a": tool -1, ours 0$/);
  });

  test('orders qualifiers, aliases and padding as 3.8.7 does', () => {
    const ordered = ['1-alpha-1', '1-beta-1', '1-milestone-1', '1-rc-1', '1-SNAPSHOT', '1', '1-sp', '1-abc', '1-1', '1.1'];
    for (let i = 0; i + 1 < ordered.length; i++) assert.equal(mavenScheme.compare(ordered[i] as string, ordered[i + 1] as string), -1, `${ordered[i]} < ${ordered[i + 1]}`);
    for (const [a, b] of [['1', '1.0.0'], ['1-ga', '1'], ['1-final', '1.0'], ['1cr1', '1-rc-1'], ['1a1', '1-alpha-1'], ['1.0-alpha-1.0', '1.0-alpha-1']]) {
      assert.equal(mavenScheme.compare(a as string, b as string), 0, `${a} == ${b}`);
    }
    assert.equal(mavenScheme.compare('1.0000000000.1', '1.5'), 1, 'a long (>9 digit) item outranks an int item, even zero');
    assert.ok(!mavenScheme.isValid(''));
  });

  test('agrees with VersionRange 3.8.7 on the frozen range oracle table', () => {
    const rows = readOracleRows('maven-ranges.tsv');
    const wrong: string[] = [];
    let soft = 0;
    for (const [version, range, expected] of rows) {
      const v = version as string;
      const r = range as string;
      let got: string;
      try {
        got = String(satisfies(v, r));
      } catch {
        got = 'invalid';
      }
      // Maven satisfies a bare version ("soft requirement") with anything; the scheme reads it as exact.
      const want = expected === 'soft' ? String(mavenScheme.compare(v, r) === 0) : expected;
      if (expected === 'soft') soft++;
      if (got !== want) wrong.push(`${v} ${r}: maven ${expected}, ours ${got}`);
    }
    assert.ok(soft > 0 && soft < rows.length);
    assert.equal(rows.length - wrong.length, rows.length, wrong.slice(0, 40).join('\n'));
  });

  test('reads the documented range forms', () => {
    assert.equal(satisfies('1.5', '[1.0,2.0)'), true);
    assert.equal(satisfies('2.0', '[1.0,2.0)'), false);
    assert.equal(satisfies('2.0-SNAPSHOT', '[1.0,2.0)'), true);
    assert.equal(satisfies('1.0', '(,1.0]'), true);
    assert.equal(satisfies('1.1', '(,1.0],[1.2,)'), false);
    assert.equal(satisfies('1.3', '(,1.0],[1.2,)'), true);
    assert.equal(satisfies('1.0', '[1.0]'), true);
    assert.equal(satisfies('1.0.0', '1.0'), true, 'a bare version is that version');
    assert.equal(satisfies('1.1', '1.0'), false);
    for (const bad of ['', '[1.0', '(1.0)', '[2.0,1.0]', '[1.0,2.0),[1.5,3.0)', '[1.0,2.0)x', '[1.0,2.0),1.5']) {
      assert.throws(() => satisfies('1.0', bad), InvalidRangeError, bad);
    }
  });
});
