import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sharedData } from '../../../test/support/shared-data.js';
import { evaluatePolicy } from '../../policy/evaluate.js';
import { fixtureReport } from '../../policy/test-support/scan-fixtures.js';
import { toClairScannerReport } from '../../report/clair-scanner.js';
import { clairIds, vulnerabilityReportToFindings } from './convert.js';
import { clairVulnerabilityReport } from './schemas.js';

function load(name: string) {
  return clairVulnerabilityReport.parse(JSON.parse(readFileSync(sharedData('api-samples', 'quay', name), 'utf8')));
}

const UBI_LAYER = 'sha256:e623cf60cbc41de800d3ca5284181bd9168fc0be44b2fbfc05ba78cefcf315b1';
const CLAIR_LAYER = 'sha256:bf37973863bc7ec2cc3e205b757acfa6e3fcef098621b34848275960bf2aa8cb';

describe('vulnerabilityReportToFindings on the recorded Quay/Clair reports', () => {
  const ubi = load('vulnerabilityreport.json');
  const findings = vulnerabilityReportToFindings(ubi, { layers: [UBI_LAYER, CLAIR_LAYER], fetchedAt: '2026-11-23T10:00:00Z' });

  test('one finding per package and vulnerability: 177 package/vulnerability pairs, 89 after merging repository repeats', () => {
    const pairs = Object.values(ubi.package_vulnerabilities).reduce((n, v) => n + v.length, 0);
    assert.equal(pairs, 177);
    assert.equal(findings.length, 89);
    assert.equal(vulnerabilityReportToFindings(load('vulnerabilityreport_withenrichments.json')).length, 26);
  });

  test('an RHSA: id, CVE alias, fix, severity, namespace, package placement and ratings', () => {
    const f = findings.find((x) => x.package.name === 'libnghttp2');
    assert.ok(f);
    assert.equal(f.id, 'RHSA-2023:5837');
    assert.deepEqual(f.aliases, ['CVE-2023-44487']);
    assert.equal(f.title, 'RHSA-2023:5837: nghttp2 security update (Important)');
    assert.deepEqual(f.fixedVersions, ['0:1.33.0-5.el8_8']);
    assert.equal(f.state, 'fixed');
    assert.equal(f.severity, 'High');
    assert.equal(f.namespace, 'rhel:8');
    assert.deepEqual(f.package, {
      ecosystem: 'rpm',
      name: 'libnghttp2',
      version: '1.33.0-3.el8_2.1',
      purl: 'pkg:rpm/rhel/libnghttp2@1.33.0-3.el8_2.1?arch=aarch64&distro=rhel-8&upstream=nghttp2%401.33.0-3.el8_2.1',
      path: 'var/lib/rpm',
      layer: UBI_LAYER,
      layerIndex: 0,
      sourceName: 'nghttp2',
      sourceVersion: '1.33.0-3.el8_2.1',
      arch: 'aarch64',
    });
    assert.deepEqual(f.ratings, [
      { source: 'RHEL8-rhel-8', type: 'vendor', value: 'Important', normalized: 'High' },
      { source: 'nvd', type: 'CVSS_V3', value: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', score: 7.5, normalized: 'High' },
    ]);
    assert.deepEqual(f.links, ['https://access.redhat.com/errata/RHSA-2023:5837', 'https://access.redhat.com/security/cve/CVE-2023-44487']);
    assert.deepEqual(f.feed, { id: 'clair:RHEL8-rhel-8', fetchedAt: '2026-11-23T10:00:00Z' });
  });

  test('rpm epochs go to the purl qualifier; unpatched entries take the CVE of their link', () => {
    const ssl = findings.filter((x) => x.package.name === 'openssl-libs');
    assert.equal(ssl[0]?.package.purl, 'pkg:rpm/rhel/openssl-libs@1.1.1k-9.el8_7?arch=aarch64&distro=rhel-8&epoch=1&upstream=openssl%401.1.1k-9.el8_7');
    assert.deepEqual(ssl.map((x) => [x.id, x.state, x.fixedVersions[0] ?? null]), [
      ['RHSA-2023:7877', 'fixed', '1:1.1.1k-12.el8_9'],
      ['CVE-2023-0464', 'unfixed', null],
      ['CVE-2023-0465', 'unfixed', null],
      ['CVE-2023-0466', 'unfixed', null],
      ['CVE-2023-2650', 'unfixed', null],
      ['CVE-2024-0727', 'unfixed', null],
    ]);
    assert.deepEqual(ssl[0]?.aliases, ['CVE-2023-3446', 'CVE-2023-3817', 'CVE-2023-5678']);
    assert.equal(ssl[1]?.vendorStatus, 'unpatched');
  });

  test('language packages: Go module from a binary, PyPI from site-packages', () => {
    const go = findings.find((x) => x.id === 'GHSA-jq35-85cj-fj4p');
    assert.ok(go);
    assert.deepEqual([go.package.ecosystem, go.package.name, go.package.version, go.package.purl, go.package.path, go.package.layerIndex, go.namespace, go.severity], ['golang', 'github.com/docker/docker', 'v23.0.5+incompatible', 'pkg:golang/github.com/docker/docker@v23.0.5+incompatible', 'usr/bin/clairctl', 1, 'Go', 'Unknown']);
    const py = vulnerabilityReportToFindings(load('vulnerabilityreport_withenrichments.json')).find((x) => x.id === 'pyup.io-39606');
    assert.ok(py);
    assert.deepEqual([py.aliases, py.package.ecosystem, py.package.purl, py.namespace, py.package.layerIndex], [['CVE-2020-36242'], 'pypi', 'pkg:pypi/cryptography@2.2.2', 'PyPI', -1]);
  });

  test('severity counts follow normalized_severity', () => {
    const counts: Record<string, number> = {};
    for (const f of findings) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
    assert.deepEqual(counts, { Medium: 19, Low: 68, High: 1, Unknown: 1 });
  });

  test('clair-scanner report from Clair findings', () => {
    const report = fixtureReport(false);
    report.findings = findings;
    const policy = evaluatePolicy(report, { imageName: 'ubi8/ubi-minimal:8.8', threshold: 'High' });
    const out = toClairScannerReport({ report, policy, imageName: 'ubi8/ubi-minimal:8.8' });
    assert.deepEqual(out.unapproved, ['RHSA-2023:5837']);
    assert.deepEqual(out.vulnerabilities[0], {
      featurename: 'libnghttp2',
      featureversion: '1.33.0-3.el8_2.1',
      vulnerability: 'RHSA-2023:5837',
      namespace: 'rhel:8',
      description: findings.find((x) => x.id === 'RHSA-2023:5837')?.description,
      link: 'https://access.redhat.com/errata/RHSA-2023:5837',
      severity: 'High',
      fixedby: '0:1.33.0-5.el8_8',
    });
  });

  test('an empty report gives no findings', () => {
    assert.deepEqual(vulnerabilityReportToFindings(clairVulnerabilityReport.parse({ manifest_hash: 'sha256:4fd9553ca70c7ed6cbb466573fed2d03b0a8dd2c2eba9febf2ce30f8d537ba17', package_vulnerabilities: null })), []);
  });
});

describe('clairIds', () => {
  const cases: [string, string, string, string[]][] = [
    ['RHSA-2023:5837: nghttp2 security update (Important)', 'https://access.redhat.com/errata/RHSA-2023:5837 https://access.redhat.com/security/cve/CVE-2023-44487', 'RHSA-2023:5837', ['CVE-2023-44487']],
    ['CVE-2018-1000654 libtasn1: Infinite loop in _asn1_expand_object_id(ptr', 'https://access.redhat.com/security/cve/CVE-2018-1000654', 'CVE-2018-1000654', []],
    ['ncurses: Heap buffer overflow in one_one_mapping function in progs/dump_entry.c:1373 (low)', 'https://access.redhat.com/security/cve/CVE-2020-19185', 'CVE-2020-19185', []],
    ['systemd-resolved: Unsigned name response in signed zone is not refused when DNSSEC=yes (low)', 'https://access.redhat.com/security/cve/CVE-2023-7008', 'CVE-2023-7008', []],
    ['GHSA-jq35-85cj-fj4p', 'https://github.com/moby/moby/security/advisories/GHSA-jq35-85cj-fj4p', 'GHSA-jq35-85cj-fj4p', []],
    ['pyup.io-39606 (CVE-2020-36242)', '', 'pyup.io-39606', ['CVE-2020-36242']],
    ['CVE-2018-1060', 'https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2018-1060', 'CVE-2018-1060', []],
    ['1116 (low)', 'https://access.redhat.com/security/cve/CVE-2020-19188', 'CVE-2020-19188', []],
    ['no id at all', '', 'no id at all', []],
  ];
  for (const [name, links, id, aliases] of cases) {
    test(name, () => assert.deepEqual(clairIds({ name, links }), { id, aliases }));
  }
});
