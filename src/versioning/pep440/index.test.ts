import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as renovate from '@renovatebot/pep440';
import { agreement, disagreementReport, readOracleRows, readVersionTable } from '../test-support/tables.js';
import { InvalidRangeError } from '../types.js';
import { pep440Scheme } from './index.js';

const satisfies = (v: string, r: string): boolean => (pep440Scheme.satisfies as (v: string, r: string) => boolean)(v, r);

describe('pep440 scheme', () => {
  test('agrees with packaging 21.3 Version on every pair of versions/pep440.tsv', () => {
    const pairs = readVersionTable('pep440.tsv');
    const d = agreement(pep440Scheme, pairs);
    assert.equal(d.agree, pairs.length, disagreementReport(d, pairs.length));
  });

  test('@renovatebot/pep440 also agrees on the table (why the hand-written parser is not about ordering)', () => {
    const pairs = readVersionTable('pep440.tsv');
    const wrong = pairs.filter((p) => Math.sign(renovate.compare(p.a, p.b)) !== p.expected);
    assert.deepEqual(wrong, []);
  });

  test('goes beyond the package where packaging does: white space, numbers past 2^53', () => {
    assert.ok(pep440Scheme.isValid(' 1.0\n'));
    assert.equal(renovate.valid(' 1.0\n'), null);
    assert.equal(pep440Scheme.compare('1.20230101123456789013', '1.20230101123456789012'), 1);
    assert.equal(renovate.compare('1.20230101123456789013', '1.20230101123456789012'), 0, 'the package loses precision');
  });

  test('orders the PEP 440 suffixes', () => {
    const ordered = ['1.0.dev1', '1.0a1.dev1', '1.0a1', '1.0b1', '1.0rc1', '1.0', '1.0+local', '1.0.post1.dev1', '1.0.post1', '1.1', '1!0.1'];
    for (let i = 0; i + 1 < ordered.length; i++) assert.equal(pep440Scheme.compare(ordered[i] as string, ordered[i + 1] as string), -1, `${ordered[i]} < ${ordered[i + 1]}`);
    assert.equal(pep440Scheme.compare('1.0', '1.0.0'), 0);
    assert.equal(pep440Scheme.compare('1.0-1', '1.0.post1'), 0);
    assert.equal(pep440Scheme.compare('1.0alpha1', '1.0a1'), 0);
    assert.equal(pep440Scheme.compare('v1.0', '1.0'), 0);
  });

  test('agrees with packaging 21.3 SpecifierSet.contains(v, prereleases=True) on the frozen oracle table', () => {
    const rows = readOracleRows('pep440-specifiers.tsv');
    const wrong: string[] = [];
    for (const [version, spec, expected] of rows) {
      let got: string;
      try {
        got = String(satisfies(version as string, spec as string));
      } catch {
        got = 'invalid';
      }
      if (got !== expected) wrong.push(`${version} ${spec}: packaging ${expected}, ours ${got}`);
    }
    assert.equal(rows.length - wrong.length, rows.length, wrong.slice(0, 40).join('\n'));
  });

  test('follows the PEP 440 specifier rules', () => {
    assert.equal(satisfies('2.9', '~=2.2'), true);
    assert.equal(satisfies('3.0', '~=2.2'), false);
    assert.equal(satisfies('1.4.9', '~=1.4.5'), true);
    assert.equal(satisfies('1.5.0', '~=1.4.5'), false);
    assert.equal(satisfies('1.1.0', '==1.1.*'), true);
    assert.equal(satisfies('1.10', '==1.1.*'), false);
    assert.equal(satisfies('1.7.1', '>1.7'), true);
    assert.equal(satisfies('1.7.0.post1', '>1.7'), false, '>V excludes post-releases of V');
    assert.equal(satisfies('3.1.dev0', '<3.1'), false, '<V excludes pre-releases of V');
    assert.equal(satisfies('1.0rc1', '<1.0rc2'), true);
    assert.equal(satisfies('1.5rc1', '>=1.0,<2.0'), true, 'pre-releases are not skipped');
    assert.equal(satisfies('1.0+local', '==1.0'), true, 'a public specifier ignores the local label');
    assert.equal(satisfies('1.0', ''), true);
    for (const bad of ['>=foo', '=>1.0', '~=1', '>=1.0+local', '<1.0.*', '1.0']) assert.throws(() => satisfies('1.0', bad), InvalidRangeError, bad);
  });
});
