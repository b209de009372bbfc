import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sharedData } from '../../../test/support/shared-data.js';
import type { Advisory, AffectedPackage } from '../../domain/advisory.js';
import { debianTrackerFeed, parseDebianTracker } from './tracker-json.js';

const path = sharedData('feeds', 'debian', 'tracker-json', 'vunnel-debian-tracker-excerpt.json');
const bytes = readFileSync(path);
const raw = JSON.parse(bytes.toString('utf8')) as Record<string, Record<string, { releases: unknown }>>;
const result = debianTrackerFeed.parse([{ name: 'json', bytes }]);

function affected(id: string, pkg: string, namespace: string): AffectedPackage {
  const a = result.advisories.find((x) => x.id === id);
  const p = a?.affected.find((x) => x.packageName === pkg && x.namespace === namespace);
  assert.ok(p, `${id} ${pkg} ${namespace}`);
  return p;
}

const fixedRange = (v: string) => [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: v }] }];
const openRange = [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }];

describe('Debian security tracker JSON', () => {
  test('the real excerpt parses whole: one advisory per id, one package entry per known release', () => {
    assert.equal(result.skipped.length, 0);
    const ids = new Set(Object.values(raw).flatMap((cves) => Object.keys(cves)));
    assert.equal(result.advisories.length, ids.size);
    const releaseCount = Object.values(raw)
      .flatMap((cves) => Object.values(cves))
      .reduce((n, e) => n + (Array.isArray(e.releases) ? e.releases.length : Object.keys(e.releases as object).length), 0);
    assert.equal(
      result.advisories.reduce((n, a) => n + a.affected.length, 0),
      releaseCount,
    );
  });

  test('resolved with a version is fixed; `**` urgency suffix stripped', () => {
    assert.deepEqual(affected('CVE-2008-7220', 'prototypejs', 'debian:9'), {
      ecosystem: 'deb',
      namespace: 'debian:9',
      packageName: 'prototypejs',
      nameKind: 'source',
      scheme: 'dpkg',
      state: 'fixed',
      ranges: fixedRange('1.6.0.2-1'),
      versions: [],
      severity: { source: 'debian', type: 'vendor', value: 'high', normalized: 'High' },
    });
    assert.equal(affected('CVE-2008-7220', 'prototypejs', 'debian:unstable').state, 'fixed');
  });

  test('resolved with fixed_version 0 is not_affected; unimportant is Negligible', () => {
    const p = affected('CVE-2007-2383', 'prototypejs', 'debian:8');
    assert.equal(p.state, 'not_affected');
    assert.deepEqual(p.ranges, []);
    assert.equal(p.vendorStatus, undefined);
    assert.deepEqual(p.severity, { source: 'debian', type: 'vendor', value: 'unimportant', normalized: 'Negligible' });
  });

  test('open with urgency end-of-life is unfixed/end-of-life, without a severity', () => {
    const p = affected('CVE-2022-0456', 'chromium', 'debian:10');
    assert.equal(p.state, 'unfixed');
    assert.equal(p.vendorStatus, 'end-of-life');
    assert.deepEqual(p.ranges, openRange);
    assert.equal(p.severity, undefined);
  });

  test('`not yet assigned` urgency is Unknown; bookworm is debian:12, trixie debian:13', () => {
    const p = affected('CVE-2022-0456', 'chromium', 'debian:12');
    assert.deepEqual(p.ranges, fixedRange('98.0.4758.80-1'));
    assert.deepEqual(p.severity, { source: 'debian', type: 'vendor', value: 'not yet assigned', normalized: 'Unknown' });
    assert.deepEqual(affected('CVE-2025-53603', 'sope', 'debian:13').ranges, fixedRange('5.12.1-2'));
    assert.deepEqual(affected('CVE-2025-53603', 'sope', 'debian:11').ranges, fixedRange('5.0.1-2+deb11u1'));
  });

  test('description, bug reference, and an id with `"releases": []`', () => {
    const a = result.advisories.find((x) => x.id === 'CVE-2013-1444') as Advisory;
    assert.match(a.description ?? '', /^A certain Debian patch for txt2man 1\.5\.5/);
    assert.deepEqual(a.references, ['https://security-tracker.debian.org/tracker/CVE-2013-1444', 'https://bugs.debian.org/724614']);
    const empty = result.advisories.find((x) => x.id === 'CVE-2022-0358') as Advisory;
    assert.deepEqual(empty.affected, []);
  });

  test('nodsa reasons, plain no-dsa, open and undetermined', () => {
    const doc = {
      pkg: {
        'CVE-2024-0001': {
          releases: {
            bookworm: { status: 'open', urgency: 'low', nodsa: 'Minor issue', nodsa_reason: 'postponed' },
            bullseye: { status: 'open', urgency: 'low', nodsa: 'Minor issue', nodsa_reason: '' },
            trixie: { status: 'open', urgency: 'medium**' },
            sid: { status: 'undetermined', urgency: 'not yet assigned' },
            experimental: { status: 'open' },
          },
        },
        'TEMP-0000000-ABCDEF': { releases: { buster: { status: 'open', nodsa: 'x', nodsa_reason: 'ignored' } } },
      },
    };
    const r = parseDebianTracker([{ name: 'json', bytes: Buffer.from(JSON.stringify(doc)) }]);
    assert.equal(r.skipped.length, 0);
    const cve = r.advisories.find((a) => a.id === 'CVE-2024-0001');
    assert.deepEqual(
      cve?.affected.map((p) => [p.namespace, p.state, p.vendorStatus, p.severity?.normalized]),
      [
        ['debian:12', 'unfixed', 'postponed', 'Low'],
        ['debian:11', 'unfixed', 'no-dsa', 'Low'],
        ['debian:13', 'unfixed', 'open', 'Medium'],
        ['debian:unstable', 'unfixed', 'undetermined', 'Unknown'],
      ],
    );
    const temp = r.advisories.find((a) => a.id === 'TEMP-0000000-ABCDEF');
    assert.equal(temp?.affected[0]?.vendorStatus, 'ignored');
  });

  test('a malformed entry in the middle is skipped and counted, the rest loads', () => {
    const entries = Object.entries(raw);
    const mid = Math.floor(entries.length / 2);
    const bad = ['broken', { 'CVE-2020-0001': { releases: { buster: { status: 'fixed-ish' } } } }] as const;
    const doc = Object.fromEntries([...entries.slice(0, mid), bad, ...entries.slice(mid)]);
    const r = parseDebianTracker([{ name: 'json', bytes: Buffer.from(JSON.stringify(doc)) }]);
    assert.equal(r.skipped.length, 1);
    assert.equal(r.skipped[0]?.record, 'broken/CVE-2020-0001');
    assert.deepEqual(r.advisories, result.advisories);
  });

  test('a file that is not JSON is one skipped record; {} gives nothing', () => {
    assert.equal(parseDebianTracker([{ name: 'json', bytes: Buffer.from('{"a": ') }]).skipped.length, 1);
    assert.deepEqual(parseDebianTracker([{ name: 'json', bytes: Buffer.from('{}') }]), { advisories: [], skipped: [] });
  });

  test('recognizes the export by its first bytes', () => {
    assert.equal(debianTrackerFeed.recognizes({ name: 'tracker.json', bytes }), true);
    assert.equal(debianTrackerFeed.recognizes({ name: 'tracker.txt', bytes }), false);
    assert.equal(debianTrackerFeed.recognizes({ name: 'x.json', bytes: Buffer.from('{"vulnerabilities": []}') }), false);
  });
});
