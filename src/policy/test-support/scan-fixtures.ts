/**
 * Test fixtures shared by the policy, report and SBOM tests: a Debian 11 image with real package
 * names and versions (bullseye releases before the DSAs below) and findings for real advisories
 * (DSA list entries of /work/shared/data/feeds/debian/DSA-list, Go vulndb GO-2020-0014, PyPA
 * PYSEC-2021-1). Each call returns fresh objects so tests may mutate them.
 */
import { SCAN_REPORT_SCHEMA_VERSION, type Finding, type ScanReport } from '../../domain/finding.js';
import { INVENTORY_SCHEMA, INVENTORY_SCHEMA_VERSION, type Inventory } from '../../domain/inventory.js';
import type { InventoryPackage } from '../../domain/package.js';

export const IMAGE_NAME = 'localhost:5000/team/web:1.4.2';
export const LAYER0 = 'sha256:a2318d6c47ec9cac5acc500c47c79602bcf953cec711a18bc898911a0984365b';
export const LAYER1 = 'sha256:3f4ca61aafcd4fc07267a105067db35c0f0ac630e1970f3cd0c7bf552780e985';
export const MANIFEST_DIGEST = 'sha256:9b2a28eb47540823042a2ba401386845089bb7b62a9637d55816132c4c3c36eb';

const DISTRO = { id: 'debian', versionId: '11', versionCodename: 'bullseye', name: 'Debian GNU/Linux', prettyName: 'Debian GNU/Linux 11 (bullseye)', source: 'etc/os-release' };

export function fixturePackages(): InventoryPackage[] {
  return [
    { ecosystem: 'deb', name: 'libssl1.1', version: '1.1.1n-0+deb11u3', sourceName: 'openssl', arch: 'amd64', path: 'var/lib/dpkg/status', purl: 'pkg:deb/debian/libssl1.1@1.1.1n-0%2Bdeb11u3?arch=amd64&distro=debian-11&upstream=openssl', layer: LAYER0, layerIndex: 0, license: 'OpenSSL' },
    { ecosystem: 'deb', name: 'zlib1g', version: '1:1.2.11.dfsg-2+deb11u1', sourceName: 'zlib', sourceVersion: '1:1.2.11.dfsg-2+deb11u1', arch: 'amd64', path: 'var/lib/dpkg/status', purl: 'pkg:deb/debian/zlib1g@1:1.2.11.dfsg-2%2Bdeb11u1?arch=amd64&distro=debian-11&upstream=zlib', layer: LAYER0, layerIndex: 0 },
    { ecosystem: 'deb', name: 'libcurl4', version: '7.74.0-1.3+deb11u3', sourceName: 'curl', arch: 'amd64', path: 'var/lib/dpkg/status', purl: 'pkg:deb/debian/libcurl4@7.74.0-1.3%2Bdeb11u3?arch=amd64&distro=debian-11&upstream=curl', layer: LAYER1, layerIndex: 1 },
    { ecosystem: 'deb', name: 'libtinfo6', version: '6.2+20201114-2', sourceName: 'ncurses', arch: 'amd64', path: 'var/lib/dpkg/status', purl: 'pkg:deb/debian/libtinfo6@6.2%2B20201114-2?arch=amd64&distro=debian-11&upstream=ncurses', layer: LAYER0, layerIndex: 0 },
    { ecosystem: 'deb', name: 'base-files', version: '11.1+deb11u5', arch: 'amd64', path: 'var/lib/dpkg/status', purl: 'pkg:deb/debian/base-files@11.1%2Bdeb11u5?arch=amd64&distro=debian-11', layer: LAYER0, layerIndex: 0 },
    { ecosystem: 'golang', name: 'golang.org/x/net', version: 'v0.0.0-20180724234803-3673e40ba225', path: 'usr/local/bin/web', purl: 'pkg:golang/golang.org/x/net@v0.0.0-20180724234803-3673e40ba225', layer: LAYER1, layerIndex: 1, attributes: { role: 'dependency', main: 'example.test/web' } },
    { ecosystem: 'pypi', name: 'ansible', version: '2.9.10', path: 'usr/lib/python3/dist-packages/ansible-2.9.10.dist-info/METADATA', purl: 'pkg:pypi/ansible@2.9.10', layer: LAYER1, layerIndex: 1, license: 'GPL-3.0-or-later' },
  ];
}

export function fixtureInventory(): Inventory {
  const packages = fixturePackages();
  return {
    schema: INVENTORY_SCHEMA,
    schemaVersion: INVENTORY_SCHEMA_VERSION,
    tool: { name: 'portcullis', version: '0.1.0' },
    createdAt: '2026-11-23T10:00:00.000Z',
    image: {
      reference: IMAGE_NAME,
      transport: 'registry',
      manifestDigest: MANIFEST_DIGEST,
      configDigest: 'sha256:4f1f5b2bd0e8cc0b5c0b1b8dfac1e4ec4b5b45d22bd3c0c9c6b0a1f1d1c2e3f4',
      platform: { os: 'linux', architecture: 'amd64' },
      registry: 'localhost:5000',
      repository: 'team/web',
      tag: '1.4.2',
    },
    distro: { ...DISTRO },
    layers: [
      { index: 0, digest: LAYER0, diffId: 'sha256:d310e774110ab038b30c6a5f7b7f7dd1c3cb38f7e1f4bb2c1a5b9b0c4a6d2f10', size: 31414263, mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', createdBy: '/bin/sh -c #(nop) ADD file:5d68d27cc15a80653c93d3a0b262a28112d47a46326ff5fc2dfbf7fa3b9a0ce8 in / ', packageCount: 5, readFrom: 'blob' },
      { index: 1, digest: LAYER1, size: 18764, mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', packageCount: 3, readFrom: 'cache' },
    ],
    packages,
    detectors: [
      { id: 'dpkg', version: 1 },
      { id: 'go-binary', version: 1 },
      { id: 'python-dist-info', version: 1 },
    ],
    warnings: [{ code: 'W_UNREADABLE', message: 'dpkg: status.d entry without Package field', layer: LAYER1, path: 'var/lib/dpkg/status.d/broken', detector: 'dpkg' }],
    stats: { layersRead: 1, layersFromCache: 1, bytesRead: 31414263 },
  };
}

function pkgOf(name: string): Finding['package'] {
  const p = fixturePackages().find((x) => x.name === name);
  if (!p) throw new Error(`fixture package ${name} missing`);
  const out: Finding['package'] = { ecosystem: p.ecosystem, name: p.name, version: p.version, purl: p.purl, path: p.path, layer: p.layer, layerIndex: p.layerIndex };
  if (p.sourceName !== undefined) out.sourceName = p.sourceName;
  if (p.sourceVersion !== undefined) out.sourceVersion = p.sourceVersion;
  if (p.arch !== undefined) out.arch = p.arch;
  return out;
}

function debianFinding(id: string, pkg: string, severity: Finding['severity'], fixed: string | undefined, dsa: string | undefined, score?: number): Finding {
  const p = pkgOf(pkg);
  const f: Finding = {
    id,
    aliases: dsa ? [dsa] : [],
    package: p,
    state: fixed ? 'fixed' : 'unfixed',
    fixedVersions: fixed ? [fixed] : [],
    severity,
    severitySource: 'debian',
    ratings: [{ source: 'debian', type: 'vendor', value: severity.toLowerCase(), normalized: severity }],
    namespace: 'debian:11',
    feed: { id: 'debian-tracker', fetchedAt: '2026-11-22T00:00:00Z' },
    description: `${id} in ${p.sourceName ?? p.name}`,
    links: [`https://security-tracker.debian.org/tracker/${id}`],
    why: {
      package: `deb ${p.name} ${p.version} from ${p.path}, source ${p.sourceName ?? p.name}`,
      advisory: `debian-tracker ${id} ${p.sourceName ?? p.name} debian:11: ${fixed ? `fixed ${fixed}` : 'unfixed'}`,
      rule: fixed ? `dpkg: ${p.version} < ${fixed} (fixed)` : 'dpkg: no fix (unfixed)',
    },
    evidence: {
      package: { file: p.path, layer: p.layer, layerIndex: p.layerIndex },
      matches: [
        {
          advisory: { feed: 'debian-tracker', id, namespace: 'debian:11', packageName: p.sourceName ?? p.name, nameKind: 'source', state: fixed ? 'fixed' : 'unfixed' },
          rule: { scheme: 'dpkg', installed: p.sourceVersion ?? p.version, basis: fixed ? { kind: 'range', introduced: '0', fixed } : { kind: 'every-version' }, text: fixed ? `dpkg: ${p.version} < ${fixed} (fixed)` : 'dpkg: no fix (unfixed)' },
        },
      ],
    },
  };
  if (!fixed) f.vendorStatus = 'postponed';
  if (score !== undefined) f.ratings.push({ source: 'nvd', type: 'CVSS_V3', value: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', score, normalized: severity });
  return f;
}

/** Evidence of an OSV record matched by an interval that a fixed version closes. */
function osvEvidence(p: Finding['package'], id: string, namespace: string, scheme: 'go' | 'pep440', introduced: string, fixed: string, text: string): Finding['evidence'] {
  return {
    package: { file: p.path, layer: p.layer, layerIndex: p.layerIndex },
    matches: [{ advisory: { feed: 'osv', id, namespace, packageName: p.name, nameKind: 'binary', state: 'fixed' }, rule: { scheme, installed: p.version, basis: { kind: 'range', introduced, fixed }, text } }],
  };
}

export function fixtureFindings(): Finding[] {
  const goNet = pkgOf('golang.org/x/net');
  const ansible = pkgOf('ansible');
  return [
    debianFinding('CVE-2022-37434', 'zlib1g', 'Critical', '1:1.2.11.dfsg-2+deb11u2', 'DSA-5218-1', 9.8),
    debianFinding('CVE-2023-0286', 'libssl1.1', 'High', '1.1.1n-0+deb11u4', 'DSA-5343-1', 7.4),
    debianFinding('CVE-2022-32221', 'libcurl4', 'Critical', '7.74.0-1.3+deb11u5', 'DSA-5330-1', 9.8),
    debianFinding('CVE-2023-23916', 'libcurl4', 'Medium', '7.74.0-1.3+deb11u7', 'DSA-5365-1'),
    debianFinding('CVE-2023-50495', 'libtinfo6', 'Low', undefined, undefined),
    {
      id: 'GHSA-vfw5-hrgq-h5wf',
      aliases: ['CVE-2018-17846', 'GO-2020-0014'],
      package: goNet,
      state: 'fixed',
      fixedVersions: ['v0.0.0-20190125091013-d26f9f9a57f3'],
      severity: 'High',
      severitySource: 'nvd',
      ratings: [{ source: 'nvd', type: 'CVSS_V3', value: 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', score: 7.5, normalized: 'High' }],
      namespace: 'Go',
      feed: { id: 'osv' },
      title: 'Infinite loop due to improper handling of "select" tags in golang.org/x/net/html',
      description: 'html.Parse does not properly handle "select" tags, which can lead to an infinite loop. If parsing user supplied input, this may be used as a denial of service vector.',
      links: ['https://pkg.go.dev/vuln/GO-2020-0014'],
      why: { package: `golang ${goNet.name} ${goNet.version} from ${goNet.path}`, advisory: 'osv GO-2020-0014 golang.org/x/net Go', rule: 'go: v0.0.0-20180724234803-3673e40ba225 < v0.0.0-20190125091013-d26f9f9a57f3 (fixed)' },
      evidence: osvEvidence(goNet, 'GO-2020-0014', 'Go', 'go', '0', 'v0.0.0-20190125091013-d26f9f9a57f3', 'go: v0.0.0-20180724234803-3673e40ba225 < v0.0.0-20190125091013-d26f9f9a57f3 (fixed)'),
    },
    {
      id: 'PYSEC-2021-1',
      aliases: ['CVE-2021-20228', 'GHSA-5rrg-rr89-x9mv'],
      package: ansible,
      state: 'fixed',
      fixedVersions: ['2.9.19'],
      severity: 'Unknown',
      severitySource: 'osv',
      ratings: [],
      namespace: 'PyPI',
      feed: { id: 'osv' },
      description:
        'A flaw was found in the Ansible Engine 2.9.18, where sensitive info is not masked by default and is not protected by the no_log feature when using the sub-option feature of the basic.py module. This flaw allows an attacker to obtain sensitive information. The highest threat from this vulnerability is to confidentiality.',
      links: ['https://bugzilla.redhat.com/show_bug.cgi?id=1925002', 'https://github.com/ansible/ansible/pull/73487', 'https://github.com/advisories/GHSA-5rrg-rr89-x9mv'],
      why: { package: `pypi ansible 2.9.10 from ${ansible.path}`, advisory: 'osv PYSEC-2021-1 ansible PyPI', rule: 'pep440: 2.9.10 < 2.9.19 (fixed)' },
      evidence: osvEvidence(ansible, 'PYSEC-2021-1', 'PyPI', 'pep440', '0', '2.9.19', 'pep440: 2.9.10 < 2.9.19 (fixed)'),
    },
  ];
}

export function fixtureReport(withInventory = true): ScanReport {
  const inventory = fixtureInventory();
  const report: ScanReport = {
    schema: 'https://portcullis.dev/schemas/scan-report/v1',
    schemaVersion: SCAN_REPORT_SCHEMA_VERSION,
    tool: { name: 'portcullis', version: '0.1.0' },
    createdAt: '2026-11-23T10:00:05.000Z',
    image: inventory.image,
    distro: inventory.distro,
    packageCount: inventory.packages.length,
    findings: fixtureFindings(),
    db: { builtAt: '2026-11-22T00:00:00Z', feeds: [{ feed: 'debian-tracker', source: 'https://security-tracker.debian.org/tracker/data/json', fetchedAt: '2026-11-22T00:00:00Z', recordCount: 1234, skipped: 0 }] },
  };
  if (withInventory) report.inventory = inventory;
  return report;
}
