import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import semver from 'semver';
import { cratesVersions } from '../test-support/feed-strings.js';
import { InvalidRangeError } from '../types.js';
import { cargoScheme } from './index.js';

const satisfies = (v: string, r: string): boolean => (cargoScheme.satisfies as (v: string, r: string) => boolean)(v, r);

describe('cargo scheme', () => {
  test('orders every pair of crates.io OSV versions as the semver package does', () => {
    const versions = cratesVersions();
    assert.ok(versions.length > 150);
    const wrong: string[] = [];
    for (const a of versions) {
      assert.ok(cargoScheme.isValid(a), a);
      for (const b of versions) if (cargoScheme.compare(a, b) !== semver.compare(a, b)) wrong.push(`${a} vs ${b}`);
    }
    assert.deepEqual(wrong.slice(0, 20), []);
  });

  test('accepts strict SemVer only, as the semver crate does', () => {
    for (const bad of ['v1.2.3', '1.2', '1.2.3 ', '=1.2.3', '1.2.3-', '1.2.3+', '01.2.3', '1.2.3-01', '1.2.3-a..b']) assert.ok(!cargoScheme.isValid(bad), bad);
    for (const good of ['0.0.0-0', '1.2.3-alpha.1+build.01', '18446744073709551615.0.0']) assert.ok(cargoScheme.isValid(good), good);
    assert.ok(!cargoScheme.isValid('18446744073709551616.0.0'), 'numbers are u64');
    assert.equal(cargoScheme.compare('1.0.0+a', '1.0.0+b'), 0, 'build metadata has no precedence');
  });

  // The requirement examples of the Cargo book ("Specifying dependencies"), probed at their bounds.
  const documented: [req: string, inside: string[], outside: string[]][] = [
    ['^1.2.3', ['1.2.3', '1.9.9'], ['1.2.2', '2.0.0']],
    ['1.2.3', ['1.2.3', '1.9.9'], ['1.2.2', '2.0.0']],
    ['^1.2', ['1.2.0', '1.9.9'], ['1.1.9', '2.0.0']],
    ['^1', ['1.0.0', '1.9.9'], ['0.9.9', '2.0.0']],
    ['^0.2.3', ['0.2.3', '0.2.9'], ['0.2.2', '0.3.0']],
    ['^0.2', ['0.2.0', '0.2.9'], ['0.1.9', '0.3.0']],
    ['^0.0.3', ['0.0.3'], ['0.0.2', '0.0.4']],
    ['^0.0', ['0.0.0', '0.0.9'], ['0.1.0']],
    ['^0', ['0.0.0', '0.9.9'], ['1.0.0']],
    ['~1.2.3', ['1.2.3', '1.2.9'], ['1.2.2', '1.3.0']],
    ['~1.2', ['1.2.0', '1.2.9'], ['1.1.9', '1.3.0']],
    ['~1', ['1.0.0', '1.9.9'], ['0.9.9', '2.0.0']],
    ['*', ['0.0.0', '9.9.9'], []],
    ['1.*', ['1.0.0', '1.9.9'], ['0.9.9', '2.0.0']],
    ['1.2.*', ['1.2.0', '1.2.9'], ['1.1.9', '1.3.0']],
    ['>= 1.2.0', ['1.2.0', '9.0.0'], ['1.1.9']],
    ['> 1', ['2.0.0'], ['1.9.9']],
    ['< 2', ['1.9.9'], ['2.0.0']],
    ['= 1.2.3', ['1.2.3'], ['1.2.4']],
    ['>= 1.2, < 1.5', ['1.2.0', '1.4.9'], ['1.1.9', '1.5.0']],
  ];
  for (const [req, inside, outside] of documented) {
    test(`requirement ${req}`, () => {
      for (const v of inside) assert.equal(satisfies(v, req), true, `${v} inside`);
      for (const v of outside) assert.equal(satisfies(v, req), false, `${v} outside`);
    });
  }

  test('pre-releases follow Cargo: only a comparator naming the same x.y.z with a pre-release admits them', () => {
    assert.equal(satisfies('1.3.0-alpha', '>=1.2'), false);
    assert.equal(satisfies('1.3.0-beta', '>=1.3.0-alpha'), true);
    assert.equal(satisfies('1.3.0-beta', '>=1.3.0-alpha, <2'), true);
    assert.equal(satisfies('1.0.0-pre', '*'), false);
    assert.equal(satisfies('5.0.0', '*'), true);
    assert.equal(satisfies('1.2.3+build', '=1.2.3'), true);
  });

  test('rejects what VersionReq::parse rejects', () => {
    for (const bad of ['', '1.2.', '*, 1.2', '1.2.3 1.2.4', 'v1.2', '1.*.3', '>=01.2', '1.2-alpha', '1.2.3,', '>= >= 1.2']) {
      assert.throws(() => satisfies('1.2.3', bad), InvalidRangeError, JSON.stringify(bad));
    }
    assert.throws(() => satisfies('1.2.3', Array(33).fill('>=1').join(', ')), InvalidRangeError, 'at most 32 comparators');
    assert.equal(satisfies('1.2.3', Array(32).fill('>=1').join(', ')), true);
  });
});
