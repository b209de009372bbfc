/**
 * The contract every version scheme must keep, run over real version strings of its ecosystem:
 * compare is reflexive, antisymmetric and transitive (a total preorder), answers only -1/0/1, and
 * throws InvalidVersionError (never guesses) for strings its reference tool rejects.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getScheme, VERSION_SCHEMES } from './index.js';
import { cratesVersions, rubysecVersions } from './test-support/feed-strings.js';
import { readVersionTable, sample, seededRandom, tableStrings } from './test-support/tables.js';
import { InvalidVersionError, VERSION_SCHEME_IDS, type VersionSchemeId } from './types.js';

/** Real strings per scheme: the scheme's oracle table, or the feed strings where there is none. */
const REAL_STRINGS: Record<VersionSchemeId, () => string[]> = {
  dpkg: () => tableStrings(readVersionTable('dpkg.tsv')),
  rpm: () => tableStrings(readVersionTable('rpm.tsv')),
  apk: () => tableStrings(readVersionTable('apk.tsv')),
  npm: () => tableStrings(readVersionTable('npm-semver.tsv')),
  pep440: () => tableStrings(readVersionTable('pep440.tsv')),
  maven: () => tableStrings(readVersionTable('maven.tsv')),
  go: () => tableStrings(readVersionTable('go-semver.tsv')),
  gem: () => rubysecVersions(),
  cargo: () => cratesVersions(),
  // The shared corpus has no NuGet feed: the documented strings, plus crates.io's real SemVer 2.0
  // versions, every one of which is a NuGet version too.
  nuget: () => [...tableStrings(readVersionTable('nuget-docs.tsv')), ...cratesVersions()],
};

/** Strings each reference tool rejects (checked against the tools: dpkg, x/mod, Gem::Version ...). */
const INVALID: Record<VersionSchemeId, string[]> = {
  dpkg: ['', ' ', '1:', ':1', 'a:1', '1.0-', '1 0', '1:-1', '-1:1', '2147483648:1'],
  rpm: [''],
  apk: ['', '1.0bc', '0.1_foobar', '0.1-r', '.1', 'a', '1.0-r1-r2', '1.0 '],
  npm: ['', '1.0', '01.0.0', '1.0.0-', 'V1.0.0', '=1.0.0', '1.2.3.4', '1.0.0-01'],
  pep440: ['', 'junk', '1.0-foo', '1..0', '1.0+', 'v'],
  maven: [''],
  go: ['', '1.2.3', 'v', 'v01.2.3', 'v1.2-pre', 'v1.2.3-01', 'v1.2.3+', 'V1.2.3'],
  gem: ['1.0-', '.1', 'a', '1..0', '1.0 2'],
  cargo: ['', '1.0', 'v1.0.0', ' 1.0.0', '1.0.0-', '01.0.0', '1.0.0-01', '18446744073709551616.0.0'],
  nuget: ['', 'a', '1.0.0.0.0', 'v1.0', '1.0-', '1.0+', '1..0'],
};

const SAMPLE = 140;

for (const id of VERSION_SCHEME_IDS) {
  describe(`version scheme contract: ${id}`, () => {
    const scheme = getScheme(id);
    const all = REAL_STRINGS[id]();
    const strings = sample(all, SAMPLE, 7);

    test('has real strings to test and accepts all of them', () => {
      assert.ok(all.length >= 150, `only ${all.length} real strings for ${id}`);
      assert.deepEqual(
        strings.filter((s) => !scheme.isValid(s)),
        [],
      );
    });

    test('is reflexive and answers only -1, 0, 1', () => {
      for (const a of strings) assert.equal(scheme.compare(a, a), 0, a);
      for (const a of strings.slice(0, 40)) {
        for (const b of strings.slice(0, 40)) assert.ok([-1, 0, 1].includes(scheme.compare(a, b)), `${a} ${b}`);
      }
    });

    test('is antisymmetric', () => {
      for (const a of strings) {
        for (const b of strings) {
          const ab = scheme.compare(a, b);
          const ba = scheme.compare(b, a);
          if (ab !== -ba) assert.fail(`compare(${a}, ${b}) = ${ab} but compare(${b}, ${a}) = ${ba}`);
        }
      }
    });

    test('is transitive: a sorted sample is ordered pairwise, random triples chain', () => {
      const sorted = [...strings].sort((a, b) => scheme.compare(a, b));
      for (let i = 0; i < sorted.length; i++) {
        for (let j = i + 1; j < sorted.length; j++) {
          const a = sorted[i] as string;
          const b = sorted[j] as string;
          if (scheme.compare(a, b) > 0) assert.fail(`sorted order broken: ${a} (#${i}) > ${b} (#${j})`);
        }
      }
      const rnd = seededRandom(11);
      const pick = (): string => all[rnd(all.length)] as string;
      for (let k = 0; k < 3000; k++) {
        const [a, b, c] = [pick(), pick(), pick()].sort((x, y) => scheme.compare(x, y)) as [string, string, string];
        assert.ok(scheme.compare(a, c) <= 0, `${a} <= ${b} <= ${c} but ${a} > ${c}`);
        if (scheme.compare(a, b) === 0 && scheme.compare(b, c) === 0) assert.equal(scheme.compare(a, c), 0, `${a} = ${b} = ${c}`);
      }
    });

    test('rejects invalid strings: isValid false, compare throws InvalidVersionError naming it', () => {
      const valid = strings[0] as string;
      for (const bad of INVALID[id]) {
        assert.equal(scheme.isValid(bad), false, JSON.stringify(bad));
        for (const [a, b] of [
          [bad, valid],
          [valid, bad],
        ] as const) {
          assert.throws(
            () => scheme.compare(a, b),
            (err: unknown) => err instanceof InvalidVersionError && err.scheme === id && err.version === bad && err.message.startsWith(`${id}: `),
            `${id}.compare(${JSON.stringify(a)}, ${JSON.stringify(b)})`,
          );
        }
        if (scheme.satisfies !== undefined) assert.throws(() => scheme.satisfies?.(bad, '>=0'), InvalidVersionError);
      }
    });
  });
}

test('the contract suite covers every registered scheme', () => {
  assert.deepEqual(
    VERSION_SCHEMES.map((s) => s.id),
    [...VERSION_SCHEME_IDS],
  );
});
