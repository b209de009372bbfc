/**
 * The NuGet scheme against NuGet's documented rules:
 * https://learn.microsoft.com/en-us/nuget/concepts/package-versioning — sections "Version basics",
 * "Pre-release versions" (the ordering list), "Version ranges" (the notation table) and
 * "Normalized version numbers"; case-insensitive pre-release labels and numeric labels by value are
 * NuGet.Versioning's VersionComparer (OrdinalIgnoreCase). The comparison pairs are in
 * test/data/versions/nuget-docs.tsv (see MANIFEST.tsv).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readVersionTable } from '../test-support/tables.js';
import { InvalidRangeError, InvalidVersionError } from '../types.js';
import { nugetScheme } from './index.js';

const satisfies = (v: string, r: string): boolean => (nugetScheme.satisfies as (v: string, r: string) => boolean)(v, r);

describe('nuget scheme', () => {
  test('orders the documented pairs', () => {
    const table = readVersionTable('nuget-docs.tsv');
    assert.ok(table.length >= 80);
    const wrong = table.filter((p) => nugetScheme.compare(p.a, p.b) !== p.expected).map((p) => `${p.where}: ${p.a} vs ${p.b} want ${p.expected}`);
    assert.deepEqual(wrong, []);
  });

  test('accepts one to four numeric parts with optional label and metadata; rejects the rest', () => {
    for (const good of ['1', '1.0', '1.0.0', '1.0.0.0', '01.02', '1.0.1-build.23', '1.0.7+r3456', '2.2.44-beta.1+sha.abc']) assert.ok(nugetScheme.isValid(good), good);
    for (const bad of ['', 'a', '1.0.0.0.0', 'v1.0', '1.0-', '1.0+', '1..0', '1.0.0-a..b', '[1.0]']) assert.ok(!nugetScheme.isValid(bad), bad);
    assert.throws(() => nugetScheme.compare('1.0', 'x'), InvalidVersionError);
  });

  // "Version ranges": each notation of the table, probed at and around its bounds.
  const documented: [range: string, inside: string[], outside: string[]][] = [
    ['1.0', ['1.0', '1.0.0.0', '1.0.1', '99.0'], ['0.9', '1.0-rc']],
    ['[1.0,)', ['1.0', '2.0'], ['0.9.9']],
    ['(1.0,)', ['1.0.0.1', '2.0'], ['1.0', '1.0.0.0']],
    ['[1.0]', ['1.0', '1.0.0', '1.0.0.0'], ['1.0.1', '0.9']],
    ['(,1.0]', ['0.1', '1.0', '1.0-beta'], ['1.0.1']],
    ['(,1.0)', ['0.9', '1.0-beta'], ['1.0', '1.0.0.0']],
    ['[1.0,2.0]', ['1.0', '1.5', '2.0'], ['0.9', '2.0.1']],
    ['(1.0,2.0)', ['1.0.1', '2.0-rc'], ['1.0', '2.0']],
    ['[1.0,2.0)', ['1.0', '1.9.9'], ['2.0', '0.9']],
    [' [ 1.0 , 2.0 ) ', ['1.0'], ['2.0']],
  ];
  for (const [range, inside, outside] of documented) {
    test(`range ${range}`, () => {
      for (const v of inside) assert.equal(satisfies(v, range), true, `${v} in ${range}`);
      for (const v of outside) assert.equal(satisfies(v, range), false, `${v} not in ${range}`);
    });
  }

  test('rejects ranges NuGet does not accept', () => {
    // `(1.0)` is listed as invalid in the table; reversed bounds and an empty interval admit nothing.
    for (const bad of ['(1.0)', '[2.0,1.0]', '(1.0,1.0)', '[1.0', '(,)', '[1.0,2.0,3.0]', '', '[x]']) assert.throws(() => satisfies('1.0', bad), InvalidRangeError, bad);
  });
});
