import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sharedData } from '../../../test/support/shared-data.js';
import type { Advisory } from '../../domain/advisory.js';
import { debianDlaFeed, debianDsaFeed, parseDebianAdvisoryList } from './dsa-list.js';

const dsaText = readFileSync(sharedData('feeds', 'debian', 'DSA-list'), 'utf8');
const dlaText = readFileSync(sharedData('feeds', 'debian', 'DLA-list'), 'utf8');
const dsa = debianDsaFeed.parse([{ name: 'DSA-list', bytes: Buffer.from(dsaText) }]);
const dla = debianDlaFeed.parse([{ name: 'DLA-list', bytes: Buffer.from(dlaText) }]);

function byId(advisories: Advisory[], id: string): Advisory {
  const a = advisories.find((x) => x.id === id);
  assert.ok(a, `${id} parsed`);
  return a;
}

// Counted straight from the text, independently of the parser.
const headerCount = (text: string) => text.split('\n').filter((l) => l.startsWith('[')).length;
const releaseLineCount = (text: string) => text.split('\n').filter((l) => /^\s+\[[a-z]+\] - \S+ /.test(l)).length;

describe('DSA / DLA lists', () => {
  test('every block of the real DSA and DLA lists parses', () => {
    assert.equal(dsa.skipped.length, 0);
    assert.equal(dsa.advisories.length, headerCount(dsaText));
    assert.equal(dla.skipped.length, 0);
    assert.equal(dla.advisories.length, headerCount(dlaText));
  });

  test('every release line becomes one affected package', () => {
    const sum = (as: Advisory[]) => as.reduce((n, a) => n + a.affected.length, 0);
    assert.equal(sum(dsa.advisories), releaseLineCount(dsaText));
    assert.equal(sum(dla.advisories), releaseLineCount(dlaText));
  });

  test('newest record is the date of the latest advisory', () => {
    assert.equal(dsa.newestRecord, '2023-03-29');
    assert.equal(dla.newestRecord, '2023-04-01');
  });

  test('DSA-5380-1: header, CVE aliases and fixed version', () => {
    assert.deepEqual(byId(dsa.advisories, 'DSA-5380-1'), {
      id: 'DSA-5380-1',
      aliases: ['CVE-2023-1393'],
      feed: 'debian-dsa',
      published: '2023-03-29',
      title: 'xorg-server - security update',
      severities: [],
      references: ['https://security-tracker.debian.org/tracker/DSA-5380-1'],
      affected: [
        {
          ecosystem: 'deb',
          namespace: 'debian:11',
          packageName: 'xorg-server',
          nameKind: 'source',
          scheme: 'dpkg',
          state: 'fixed',
          ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '2:1.20.11-1+deb11u6' }] }],
          versions: [],
        },
      ],
    });
  });

  test('DSA-1419-1: several packages and releases, <not-affected> with a note', () => {
    const a = byId(dsa.advisories, 'DSA-1419-1');
    assert.equal(a.title, 'openoffice.org');
    assert.deepEqual(
      a.affected.map((x) => [x.namespace, x.packageName, x.state, x.vendorStatus, x.ranges]),
      [
        ['debian:4', 'openoffice.org', 'fixed', undefined, [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '2.0.4.dfsg.2-7etch4' }] }]],
        ['debian:4', 'hsqldb', 'fixed', undefined, [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.8.0.7-1etch1' }] }]],
        ['debian:3.1', 'openoffice.org', 'not_affected', undefined, []],
        ['debian:3.1', 'hsqldb', 'not_affected', undefined, []],
      ],
    );
  });

  test('DSA-3699-1: <end-of-life> is unfixed with the marker as vendor status', () => {
    const a = byId(dsa.advisories, 'DSA-3699-1');
    assert.deepEqual(a.aliases, []);
    assert.equal(a.affected.length, 1);
    const [x] = a.affected;
    assert.equal(x?.namespace, 'debian:8');
    assert.equal(x?.state, 'unfixed');
    assert.equal(x?.vendorStatus, 'end-of-life');
    assert.deepEqual(x?.ranges, [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }]);
  });

  test('DSA-827-1: an urgency in the notes becomes the package severity', () => {
    const [x] = byId(dsa.advisories, 'DSA-827-1').affected;
    assert.equal(x?.namespace, 'debian:3.1');
    assert.deepEqual(x?.ranges, [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '0.5-3sarge1' }] }]);
    assert.deepEqual(x?.severity, { source: 'debian', type: 'vendor', value: 'medium', normalized: 'Medium' });
  });

  test('DLA-3380-1: eleven CVEs, buster', () => {
    const a = byId(dla.advisories, 'DLA-3380-1');
    assert.equal(a.aliases.length, 11);
    assert.equal(a.aliases[0], 'CVE-2020-12362');
    assert.equal(a.affected[0]?.namespace, 'debian:10');
    assert.equal(a.affected[0]?.packageName, 'firmware-nonfree');
  });

  test('a malformed block in the middle is skipped and counted, the rest loads', () => {
    const lines = dsaText.split('\n');
    const mid = lines.findIndex((l, i) => i > lines.length / 2 && l.startsWith('['));
    const broken = ['[31 Foo 2015] DSA-9999-1 broken - bad date', '\t[jessie] - broken 1.0-1'];
    const badLine = ['[01 Jan 2015] DSA-9998-1 broken - bad release line', '\t{CVE-2015-0001}', '\t[jessie] broken 1.0-1'];
    const text = [...lines.slice(0, mid), ...broken, ...badLine, ...lines.slice(mid)].join('\n');
    const r = parseDebianAdvisoryList(text, 'debian-dsa');
    assert.equal(r.skipped.length, 2);
    assert.equal(r.advisories.length, headerCount(dsaText));
    assert.ok(!r.advisories.some((a) => a.id === 'DSA-9999-1' || a.id === 'DSA-9998-1'));
  });

  test('text before the first header counts as one skipped record', () => {
    const r = parseDebianAdvisoryList('\tstray\n[29 Mar 2023] DSA-5380-1 xorg-server - security update\n\t[bullseye] - xorg-server 2:1.20.11-1+deb11u6\n', 'debian-dsa');
    assert.equal(r.skipped.length, 1);
    assert.equal(r.advisories.length, 1);
  });

  test('an empty list gives nothing', () => {
    assert.deepEqual(parseDebianAdvisoryList('', 'debian-dsa'), { advisories: [], skipped: [] });
  });

  test('recognizes the DSA list only as DSA and the DLA list only as DLA', () => {
    const dsaFile = { name: 'data/DSA/list', bytes: Buffer.from(dsaText) };
    const dlaFile = { name: 'DLA-list', bytes: Buffer.from(dlaText) };
    assert.equal(debianDsaFeed.recognizes(dsaFile), true);
    assert.equal(debianDlaFeed.recognizes(dsaFile), false);
    assert.equal(debianDlaFeed.recognizes(dlaFile), true);
    assert.equal(debianDsaFeed.recognizes(dlaFile), false);
    assert.equal(debianDsaFeed.recognizes({ name: 'notes.txt', bytes: Buffer.from(dsaText) }), false);
  });
});
