import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Advisory, AffectedPackage, VersionRange } from '../domain/advisory.js';
import { npmSecurityWgFeed } from '../feeds/npm-security-wg/index.js';
import { osvFeed } from '../feeds/osv/index.js';
import { rubysecFeed } from '../feeds/rubysec/index.js';
import { getScheme } from '../versioning/index.js';
import { describeRange, inRange, judge, patchedFloors } from './ranges.js';
import { feedFiles } from './test-support/real-data.js';

const go = getScheme('go');
const pep440 = getScheme('pep440');
const npm = getScheme('npm');
const gem = getScheme('gem');
const dpkg = getScheme('dpkg');

/** The one statement of a real record (parsed by the real feed) about `name`. */
function statement(advisories: Advisory[], id: string, name: string): AffectedPackage {
  const advisory = advisories.find((a) => a.id === id);
  assert.ok(advisory, `${id} parsed`);
  const affected = advisory.affected.find((a) => a.packageName === name);
  assert.ok(affected, `${id} speaks of ${name}`);
  return affected;
}

const semver = (...events: VersionRange['events']): VersionRange => ({ type: 'SEMVER', events });

describe('inRange: the OSV range algorithm', () => {
  // feeds/osv/Go/GO-2022-1037.json, stdlib: introduced 0, fixed 1.18.7, introduced 1.19.0-0, fixed 1.19.2
  // (the parser adds Go's `v`). Two intervals: [0, v1.18.7) and [v1.19.0-0, v1.19.2).
  const go1037 = statement(osvFeed.parse(feedFiles('osv', 'Go', 'GO-2022-1037.json')).advisories, 'GO-2022-1037', 'stdlib');
  const range = go1037.ranges[0] as VersionRange;

  test('several introduced/fixed pairs in one range: each interval is half-open', () => {
    assert.deepEqual(range.events, [{ introduced: '0' }, { fixed: 'v1.18.7' }, { introduced: 'v1.19.0-0' }, { fixed: 'v1.19.2' }]);
    const cases: [string, boolean, string[]][] = [
      ['v1.17.0', true, ['v1.18.7']],
      ['v1.18.6', true, ['v1.18.7']],
      ['v1.18.7', false, []], // fixed is exclusive
      ['v1.18.10', false, []], // between the intervals
      ['v1.19.0-rc.1', true, ['v1.19.2']], // 1.19.0-0 is below every 1.19.0 pre-release
      ['v1.19.1', true, ['v1.19.2']],
      ['v1.19.2', false, []],
      ['v1.19.8', false, []],
    ];
    for (const [version, affected, fixed] of cases) {
      const v = inRange(go, version, range);
      assert.equal(v.affected, affected, version);
      assert.deepEqual(v.fixed, fixed, version);
    }
    assert.equal(inRange(go, 'v1.19.1', range).rule, 'go: v1.19.1 is in [v1.19.0-0, v1.19.2) (fixed in v1.19.2)');
    assert.equal(inRange(go, 'v1.18.10', range).rule, 'go: v1.18.10 is not in [0, v1.18.7) ∪ [v1.19.0-0, v1.19.2)');
  });

  test('events out of order are sorted by version first', () => {
    const shuffled = semver({ fixed: 'v1.19.2' }, { introduced: 'v1.19.0-0' }, { fixed: 'v1.18.7' }, { introduced: '0' });
    for (const v of ['v1.17.0', 'v1.18.7', 'v1.19.1', 'v1.19.2']) assert.equal(inRange(go, v, shuffled).affected, inRange(go, v, range).affected, v);
  });

  test('last_affected closes after the version; no fixed version is named', () => {
    const r = semver({ introduced: 'v1.0.0' }, { last_affected: 'v1.4.2' });
    assert.equal(inRange(go, 'v0.9.0', r).affected, false);
    assert.equal(inRange(go, 'v1.0.0', r).affected, true);
    assert.equal(inRange(go, 'v1.4.2', r).affected, true, 'last_affected is inclusive');
    assert.equal(inRange(go, 'v1.4.3', r).affected, false);
    assert.deepEqual(inRange(go, 'v1.4.2', r).fixed, []);
    assert.match(inRange(go, 'v1.4.2', r).rule, /\[v1\.0\.0, v1\.4\.2\] \(last affected v1\.4\.2/);
  });

  test('limit bounds the range from above; introduced without an end is open', () => {
    const r = semver({ introduced: 'v2.0.0' }, { limit: 'v2.5.0' });
    assert.equal(inRange(go, 'v2.4.9', r).affected, true);
    assert.equal(inRange(go, 'v2.5.0', r).affected, false);
    assert.equal(inRange(go, 'v3.0.0', r).affected, false);
    const open = semver({ introduced: 'v2.0.0' });
    assert.equal(inRange(go, 'v9.9.9', open).affected, true);
    assert.equal(inRange(go, 'v9.9.9', open).rule, 'go: v9.9.9 is in [v2.0.0, ∞) (no fix)');
  });

  test('GIT ranges and invalid versions are never affected; invalid event versions are ignored', () => {
    assert.equal(inRange(go, 'v1.0.0', { type: 'GIT', events: [{ introduced: '0' }] }).affected, false);
    assert.equal(inRange(go, '1.19.8', range).affected, false, 'Go versions need the v');
    assert.equal(inRange(go, 'go1.19.8', range).affected, false);
    // A fixed event the scheme cannot read closes nothing: the open interval stays open.
    assert.equal(inRange(go, 'v5.0.0', semver({ introduced: '0' }, { fixed: 'not-a-version' })).affected, true);
  });

  test('describeRange shows intervals for people', () => {
    assert.equal(describeRange(range), '[0, v1.18.7) ∪ [v1.19.0-0, v1.19.2)');
    assert.equal(describeRange(semver({ introduced: '1.0' }, { last_affected: '1.4' })), '[1.0, 1.4]');
    assert.equal(describeRange({ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }), '[0, ∞)');
  });
});

describe('judge: one statement, every kind of version data', () => {
  const pypa = osvFeed.parse([...feedFiles('osv', 'PyPI', 'gevent'), ...feedFiles('osv', 'PyPI', 'requests'), ...feedFiles('osv', 'PyPI', 'gratient')]).advisories;

  test('versions list beside an ECOSYSTEM range: the range decides (PYSEC-2023-177 gevent)', () => {
    // feeds/osv/PyPI/gevent/PYSEC-2023-177.json: ECOSYSTEM [0, 23.9.0) ("before version 23.9.0" in
    // its details), yet its versions list ends with 23.9.0 and 23.9.0.post1.
    const gevent = statement(pypa, 'PYSEC-2023-177', 'gevent');
    assert.ok(gevent.versions.includes('23.9.0') && gevent.versions.includes('23.9.0.post1'));
    assert.deepEqual(judge(pep440, '23.7.0', gevent), { affected: true, rule: 'pep440: 23.7.0 is in [0, 23.9.0) (fixed in 23.9.0)', fixed: ['23.9.0'], basis: { kind: 'range', introduced: '0', fixed: '23.9.0' } });
    const fixedRelease = judge(pep440, '23.9.0', gevent);
    assert.equal(fixedRelease.affected, false);
    assert.equal(fixedRelease.rule, 'pep440: 23.9.0 is listed as affected but is not in [0, 23.9.0); the version ranges decide');
    assert.equal(judge(pep440, '23.9.0.post1', gevent).affected, false);
  });

  test('versions list alone decides when there is no version range (PYSEC-2024-1 gratient)', () => {
    // feeds/osv/PyPI/gratient/PYSEC-2024-1.json: no ranges, versions ["0.5"].
    const gratient = statement(pypa, 'PYSEC-2024-1', 'gratient');
    assert.deepEqual(gratient.ranges, []);
    assert.deepEqual(gratient.versions, ['0.5']);
    assert.deepEqual(judge(pep440, '0.5', gratient), { affected: true, rule: 'pep440: 0.5 is listed as an affected version', fixed: [], basis: { kind: 'listed-version' } });
    assert.equal(judge(pep440, '0.5.0', gratient).affected, true, 'PEP 440 equality: 0.5 == 0.5.0');
    assert.equal(judge(pep440, '0.6', gratient).affected, false);
  });

  test('GIT and ECOSYSTEM ranges together (PYSEC-2023-74 requests)', () => {
    // feeds/osv/PyPI/requests/PYSEC-2023-74.json: GIT [0, 74ea7cf...) and ECOSYSTEM [2.3.0, 2.31.0).
    const requests = statement(pypa, 'PYSEC-2023-74', 'requests');
    assert.equal(judge(pep440, '2.30.0', requests).affected, true);
    assert.equal(judge(pep440, '2.2.1', requests).affected, false);
    assert.equal(judge(pep440, '2.31.0', requests).affected, false);
    assert.equal(judge(pep440, '2.34.2', requests).affected, false);
  });

  test('an installed version the scheme rejects is never affected', () => {
    const requests = statement(pypa, 'PYSEC-2023-74', 'requests');
    const v = judge(pep440, 'not a version', requests);
    assert.equal(v.affected, false);
    assert.equal(v.rule, 'pep440: not a version is not a valid pep440 version');
  });

  test('npm security-wg: native range, patched range as exclusion (NSWG 130 tough-cookie)', () => {
    // feeds/npm-security-wg/130.json: vulnerable ">=0.9.7 <=2.2.2", patched ">=2.3.0".
    const tc = statement(npmSecurityWgFeed.parse(feedFiles('npm-security-wg', '130.json')).advisories, 'NSWG-ECO-130', 'tough-cookie');
    assert.deepEqual(judge(npm, '2.2.2', tc), { affected: true, rule: 'npm: 2.2.2 satisfies >=0.9.7 <=2.2.2, and none of the patched >=2.3.0', fixed: ['2.3.0'], basis: { kind: 'native-range', constraint: '>=0.9.7 <=2.2.2' } });
    assert.equal(judge(npm, '0.9.6', tc).affected, false);
    assert.deepEqual(judge(npm, '2.5.0', tc), { affected: false, rule: 'npm: 2.5.0 satisfies patched >=2.3.0', fixed: [] });
  });

  test('rubysec: every version but the patched and unaffected ones (rack CVE-2024-25126)', () => {
    // feeds/rubysec/gems/rack/CVE-2024-25126.yml: unaffected "< 0.4"; patched "~> 2.2.8, >= 2.2.8.1", ">= 3.0.9.1".
    const rack = statement(rubysecFeed.parse(feedFiles('rubysec', 'gems', 'rack', 'CVE-2024-25126.yml')).advisories, 'CVE-2024-25126', 'rack');
    assert.deepEqual(judge(gem, '0.3', rack), { affected: false, rule: 'gem: 0.3 satisfies unaffected < 0.4', fixed: [] });
    assert.deepEqual(judge(gem, '2.2.8', rack), {
      affected: true,
      rule: 'gem: 2.2.8 satisfies >= 0, and none of the patched ~> 2.2.8, >= 2.2.8.1 | >= 3.0.9.1',
      fixed: ['2.2.8.1', '3.0.9.1'],
      basis: { kind: 'native-range', constraint: '>= 0' },
    });
    assert.equal(judge(gem, '2.2.8.1', rack).affected, false);
    assert.equal(judge(gem, '2.2.22', rack).affected, false, '~> 2.2.8 admits 2.2.22');
    assert.equal(judge(gem, '3.0.9', rack).affected, true);
    assert.equal(judge(gem, '3.1.0', rack).affected, false);
  });

  test('vendor statements without versions: not_affected never, unfixed always', () => {
    const base: Omit<AffectedPackage, 'state' | 'ranges'> = { ecosystem: 'deb', namespace: 'debian:12', packageName: 'x', nameKind: 'source', scheme: 'dpkg', versions: [] };
    assert.deepEqual(judge(dpkg, '1.0-1', { ...base, state: 'not_affected', ranges: [] }), { affected: false, rule: 'vendor states not affected', fixed: [] });
    assert.equal(judge(dpkg, '1.0-1', { ...base, state: 'unfixed', vendorStatus: 'postponed', ranges: [] }).rule, 'dpkg: 1.0-1: every version is affected (no fix: postponed)');
    assert.equal(judge(dpkg, '1.0-1', { ...base, state: 'unfixed', ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }] }).affected, true);
  });
});

describe('patchedFloors: fixed versions for people', () => {
  test('lower bounds of each alternative above the installed version', () => {
    assert.deepEqual(patchedFloors(gem, '2.2.22', ['~> 2.2.23', '~> 3.1.21', '>= 3.2.6']), ['2.2.23', '3.1.21', '3.2.6']);
    assert.deepEqual(patchedFloors(gem, '2.2.8', ['~> 2.0.9, >= 2.0.9.2', '~> 2.2.6, >= 2.2.6.1']), [], 'branch fixes below the installed version are not its fix');
    assert.deepEqual(patchedFloors(npm, '1.0.0', ['>=2.3.0 <3.0.0 || >= 3.1.0']), ['2.3.0', '3.1.0']);
    assert.deepEqual(patchedFloors(npm, '0.1.0', ['>= 1.x']), ['>= 1.x'], 'unreadable bounds are kept as written');
  });
});
