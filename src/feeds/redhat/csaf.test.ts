import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sharedData } from '../../../test/support/shared-data.js';
import type { Advisory, AffectedPackage } from '../../domain/advisory.js';
import type { FeedFile } from '../types.js';
import { parseRedhatCsaf, redhatCsafFeed } from './csaf.js';

function load(folder: string): FeedFile[] {
  const dir = sharedData('feeds', 'rhel', folder);
  return readdirSync(dir)
    .sort()
    .map((n) => ({ name: `${folder}/${n}`, bytes: readFileSync(join(dir, n)) }));
}
const files = [...load('csaf'), ...load('vex')];
const result = redhatCsafFeed.parse(files);

function advisory(id: string): Advisory {
  const a = result.advisories.find((x) => x.id === id);
  assert.ok(a, id);
  return a;
}
function find(id: string, namespace: string, name: string, kind: 'source' | 'binary', state?: string): AffectedPackage | undefined {
  return advisory(id).affected.find((p) => p.namespace === namespace && p.packageName === name && p.nameKind === kind && (state === undefined || p.state === state));
}
const fixed = (v: string) => [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: v }] }];
const ARCHES = ['aarch64', 'ppc64le', 's390x', 'x86_64'];

describe('Red Hat CSAF VEX and advisories', () => {
  test('every real document parses: one advisory per VEX vulnerability and per RHSA', () => {
    assert.equal(result.skipped.length, 0);
    const expected = files.reduce((n, f) => {
      const doc = JSON.parse(f.bytes.toString('utf8')) as { document: { category: string }; vulnerabilities: unknown[] };
      return n + (doc.document.category === 'csaf_vex' ? doc.vulnerabilities.length : 1);
    }, 0);
    assert.equal(result.advisories.length, expected);
    assert.equal(result.newestRecord, '2026-03-26T18:50:03+00:00');
  });

  test('RHSA-2024:0811: binary fixes per stream, EUS streams apart from the main stream', () => {
    const a = advisory('RHSA-2024:0811');
    assert.deepEqual(a.aliases, ['CVE-2023-28486', 'CVE-2023-28487', 'CVE-2023-42465']);
    assert.equal(a.published, '2024-02-14T00:54:45+00:00');
    assert.deepEqual(a.severities[0], { source: 'redhat', type: 'vendor', value: 'Moderate', normalized: 'Medium' });
    assert.deepEqual(find('RHSA-2024:0811', 'rhel:9', 'sudo', 'binary'), {
      ecosystem: 'rpm',
      namespace: 'rhel:9',
      packageName: 'sudo',
      nameKind: 'binary',
      scheme: 'rpm',
      state: 'fixed',
      ranges: fixed('1.9.5p2-10.el9_3'),
      versions: [],
      severity: { source: 'redhat', type: 'vendor', value: 'Moderate', normalized: 'Medium' },
      arches: ARCHES,
    });
    assert.deepEqual(find('RHSA-2024:0811', 'rhel:9.0:eus', 'sudo', 'binary')?.ranges, fixed('1.9.5p2-7.el9_0.4'));
    assert.deepEqual(find('RHSA-2024:0811', 'rhel:9.2:eus', 'sudo', 'binary')?.ranges, fixed('1.9.5p2-9.el9_2.2'));
    assert.deepEqual(find('RHSA-2024:0811', 'rhel:8', 'sudo', 'binary')?.ranges, fixed('1.9.5p2-1.el8_9'));
    // The .src of a build whose binaries are listed adds nothing.
    assert.ok(!a.affected.some((p) => p.nameKind === 'source'));
  });

  test('RHSA-2023:3821: module stream from rpmmod', () => {
    const p = find('RHSA-2023:3821', 'rhel:8', 'ruby', 'binary');
    assert.equal(p?.module, 'ruby:2.7');
    assert.deepEqual(p?.ranges, fixed('2.7.8-139.module+el8.8.0+18745+f1bef313'));
    assert.deepEqual(p?.arches, ['aarch64', 'i686', 'ppc64le', 's390x', 'x86_64']);
    assert.deepEqual(find('RHSA-2023:3821', 'rhel:8', 'rubygems', 'binary')?.arches, ['noarch']);
    assert.ok(advisory('RHSA-2023:3821').affected.every((x) => x.module === 'ruby:2.7'));
  });

  test('RHSA-2025:23414: epoch from the purl; the build\'s .src listed as not affected is dropped', () => {
    const p = find('RHSA-2025:23414', 'rhel:6:els', 'bind', 'binary');
    assert.deepEqual(p?.ranges, fixed('32:9.8.2-0.68.rc1.el6_10.17'));
    assert.deepEqual(p?.severity, { source: 'redhat', type: 'vendor', value: 'Important', normalized: 'High' });
    assert.equal(find('RHSA-2025:23414', 'rhel:6:els', 'bind', 'source'), undefined);
    assert.equal(find('RHSA-2025:23414', 'rhel:6:els', 'bind-devel', 'binary')?.state, 'not_affected');
  });

  test('RHSA-2022:0011: no purls, NEVRA read from the product id', () => {
    const p = find('RHSA-2022:0011', 'rhel:7.6:aus', 'telnet', 'binary');
    assert.deepEqual(p?.ranges, fixed('1:0.17-65.el7_6'));
    assert.deepEqual(p?.arches, ['x86_64']);
    assert.deepEqual(find('RHSA-2022:0011', 'rhel:7.6:e4s', 'telnet-server', 'binary')?.arches, ['ppc64le', 'x86_64']);
  });

  test('RHSA-2024:6163: only the .src is listed, so the fix is keyed by source name', () => {
    assert.deepEqual(
      advisory('RHSA-2024:6163').affected.map((p) => [p.namespace, p.packageName, p.nameKind, p.state, p.ranges]),
      [['rhel:9', 'python3.9', 'source', 'fixed', fixed('3.9.18-3.el9_4.5')]],
    );
  });

  test('CVE-2023-38545 VEX: newest main-stream minor wins; layered products left out; not-affected components', () => {
    const a = advisory('CVE-2023-38545');
    assert.equal(a.aliases.length, 0);
    assert.match(a.description ?? '', /^A heap-based buffer overflow flaw was found in the SOCKS5 proxy handshake/);
    assert.deepEqual(
      a.severities.map((s) => [s.type, s.value, s.score, s.normalized]),
      [
        ['vendor', 'Important', undefined, 'High'],
        ['CVSS_V3', 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H', 8.1, 'High'],
      ],
    );
    // 9.2 (MAIN.EUS, CPE enterprise_linux:9) shipped -23.el9_2.4, 9.3 (MAIN) -26.el9_3.2: rhel:9 keeps 9.3's.
    const curl = a.affected.filter((p) => p.namespace === 'rhel:9' && p.packageName === 'curl');
    assert.deepEqual(curl.map((p) => p.ranges), [fixed('7.76.1-26.el9_3.2')]);
    assert.deepEqual(find('CVE-2023-38545', 'rhel:9.0:eus', 'libcurl-minimal', 'binary')?.ranges, fixed('7.76.1-14.el9_0.9'));
    assert.ok(!a.affected.some((p) => /puppet|jbcs|foreman/.test(p.packageName)));
    assert.equal(find('CVE-2023-38545', 'rhel:8', 'curl', 'source')?.state, 'not_affected');
    assert.equal(find('CVE-2023-38545', 'rhel:8', 'libcurl-minimal', 'binary')?.state, 'not_affected');
    assert.deepEqual(
      [...new Set(a.affected.map((p) => p.namespace))].sort(),
      ['rhel:6', 'rhel:7', 'rhel:8', 'rhel:9', 'rhel:9.0:eus'],
    );
  });

  test('CVE-2021-0084 VEX: unversioned components without purls are not affected', () => {
    assert.deepEqual(
      advisory('CVE-2021-0084').affected.map((p) => [p.namespace, p.packageName, p.state]),
      [
        ['rhel:5', 'kernel', 'not_affected'],
        ['rhel:6', 'kernel', 'not_affected'],
        ['rhel:7', 'kernel', 'not_affected'],
        ['rhel:7', 'kernel-alt', 'not_affected'],
        ['rhel:7', 'kernel-rt', 'not_affected'],
        ['rhel:8', 'kernel', 'not_affected'],
        ['rhel:8', 'kernel-rt', 'not_affected'],
        ['rhel:9', 'kernel', 'not_affected'],
      ],
    );
  });

  test('known_affected: source name, unfixed, the remediation details as vendor status', () => {
    // CVE-2024-22047 is about a Satellite component; re-homed on RHEL 9 it exercises the unfixed path.
    const original = files.find((f) => f.name.endsWith('cve-2024-22047.json'));
    assert.ok(original);
    assert.deepEqual(advisory('CVE-2024-22047').affected, []);
    const text = original.bytes
      .toString('utf8')
      .replace('cpe:/a:redhat:satellite:6', 'cpe:/o:redhat:enterprise_linux:9')
      .replace('"details": "Affected"', '"details": "Will not fix"');
    const r = parseRedhatCsaf([{ name: 'x.json', bytes: Buffer.from(text) }]);
    assert.deepEqual(r.advisories[0]?.affected, [
      {
        ecosystem: 'rpm',
        namespace: 'rhel:9',
        packageName: 'rubygem-audited',
        nameKind: 'source',
        scheme: 'rpm',
        state: 'unfixed',
        vendorStatus: 'Will not fix',
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }],
        versions: [],
        severity: { source: 'redhat', type: 'vendor', value: 'Low', normalized: 'Low' },
      },
    ]);
  });

  test('a malformed document among good ones is skipped and counted', () => {
    const broken = { name: 'vex/broken.json', bytes: Buffer.from('{"document": {"category": "csaf_vex"}, "vulnerabilities": []}') };
    const mid = Math.floor(files.length / 2);
    const r = parseRedhatCsaf([...files.slice(0, mid), broken, ...files.slice(mid)]);
    assert.equal(r.skipped.length, 1);
    assert.equal(r.skipped[0]?.record, 'vex/broken.json');
    assert.deepEqual(r.advisories, result.advisories);
  });

  test('recognizes CSAF documents only', () => {
    assert.ok(files.every((f) => redhatCsafFeed.recognizes(f)));
    const api = sharedData('feeds', 'rhel', 'security-data-api-cve', 'CVE-2023-4863.json');
    assert.equal(redhatCsafFeed.recognizes({ name: 'CVE-2023-4863.json', bytes: readFileSync(api) }), false);
  });
});
