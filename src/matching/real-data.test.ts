/**
 * Matching real package databases (shared/data/pkgdb, parsed by the real detectors' parsers)
 * against a real vulnerability DB (buildVulnDb over every feed sample in shared/data/feeds).
 * Every expected finding below was derived by hand from the feed record it cites.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { debianDockerRegistryBinary, sharedData } from '../../test/support/shared-data.js';
import type { Finding } from '../domain/finding.js';
import type { PackageRecord } from '../domain/package.js';
import { parseGemspec } from '../ecosystems/gem/gemspec-detector.js';
import { readGoBuildInfo } from '../ecosystems/golang/buildinfo.js';
import { goBinaryRecords } from '../ecosystems/golang/go-binary-detector.js';
import { parsePackageLock } from '../ecosystems/npm/package-lock-detector.js';
import { parsePythonMetadata } from '../ecosystems/pypi/metadata-detector.js';
import { parseApkInstalled } from '../package-db/apk/apk-installed.js';
import { parseDpkgStatus } from '../package-db/dpkg/dpkg-status.js';
import { parseRpmDatabase } from '../package-db/rpm/rpm-db.js';
import { matchInventory, type MatchResult } from './matcher.js';
import { FETCHED_AT, buildRealDb, distroFromFile, inventoryOf, type RealDb } from './test-support/real-data.js';

let real: RealDb;
before(async () => {
  real = await buildRealDb();
});
// Guarded: when before() failed the value was never set, and a TypeError here would hide that failure.
after(() => real?.dispose());

const pairs = (findings: Finding[] | undefined): string[] => (findings ?? []).map((f) => `${f.package.name} ${f.id}`).sort();

function apkRecords(release: string): PackageRecord[] {
  return parseApkInstalled(readFileSync(sharedData('pkgdb', 'apk', 'alpine-minirootfs', release, 'installed')), 'lib/apk/db/installed').packages;
}
function minirootfs(release: string) {
  return inventoryOf(apkRecords(release), distroFromFile('etc/os-release', 'pkgdb', 'apk', 'alpine-minirootfs', release, 'os-release'), `alpine:${release}`);
}
function dpkgRecords(file: string): PackageRecord[] {
  return parseDpkgStatus(readFileSync(sharedData('pkgdb', 'dpkg', file)), 'var/lib/dpkg/status').packages;
}

describe('real DB', () => {
  test('was built from every feed sample, nothing skipped', async () => {
    assert.deepEqual(
      real.summary.built.map((b) => [b.feed, b.skipped]),
      [
        ['osv', 0],
        ['alpine-secdb', 0],
        ['wolfi-secdb', 0],
        ['npm-security-wg', 0],
        ['rubysec', 0],
        ['debian-tracker', 0],
        ['debian-dsa', 0],
        ['debian-dla', 0],
        ['ubuntu-uct', 0],
        ['ubuntu-vex', 0],
        ['redhat-csaf', 0],
        ['redhat-security-data', 0],
        ['nvd', 0],
        ['epss', 0],
        ['kev', 0],
      ],
    );
  });
});

describe('Alpine minirootfs 3.6 ... 3.20 and edge vs alpine-secdb', () => {
  // alpine-secdb covers v3.3 ... v3.11 (no v3.9) fully and v3.15 by an excerpt (samples/vunnel-v3.15-*).
  test('3.6.5: every secdb fix for its packages is already installed', async () => {
    // v3.6/main.json: musl {"1.1.15-r4": [CVE-2016-8859], "1.1.16-r14": [CVE-2017-15650]}; installed musl
    // 1.1.16-r15 (> r14). busybox {"1.26.2-r9": [CVE-2017-15873, CVE-2017-16544]}; installed 1.26.2-r11.
    // libressl {"2.5.3-r1": [CVE-2017-8301]}; installed 2.5.5-r2. No entry for zlib, apk-tools,
    // alpine-baselayout, alpine-keys, pax-utils, libc-dev. -> not affected.
    const result = await matchInventory(minirootfs('3.6.5'), real.db, { includeNotAffected: true });
    assert.deepEqual(result.findings, []);
    assert.deepEqual(result.warnings, []);
    assert.deepEqual(result.coverage, [{ ecosystem: 'apk', namespace: 'alpine:3.6', packages: 13, hasData: true }]);
    assert.deepEqual(pairs(result.notAffected), [
      'busybox CVE-2017-15873',
      'busybox CVE-2017-16544',
      'libressl2.5-libcrypto CVE-2017-8301',
      'libressl2.5-libssl CVE-2017-8301',
      'libressl2.5-libtls CVE-2017-8301',
      'musl CVE-2016-8859',
      'musl CVE-2017-15650',
      'musl-utils CVE-2016-8859',
      'musl-utils CVE-2017-15650',
      'ssl_client CVE-2017-15873',
      'ssl_client CVE-2017-16544',
    ]);
  });

  test('3.8.5: musl 1.1.19-r11 is exactly the CVE-2019-14697 fix, so not affected', async () => {
    // v3.8/main.json: musl {"1.1.19-r11": [CVE-2019-14697], "1.1.15-r4": [CVE-2016-8859]}; installed
    // 1.1.19-r11 == fixed -> not affected ("fixed" is exclusive). busybox 1.28.4-r3 > 1.27.2-r4
    // (CVE-2017-16544, -15873, -15874); libressl 2.7.5-r0 > 2.7.4-r0 (CVE-2018-0732, -0495) and > 2.5.3-r1.
    const result = await matchInventory(minirootfs('3.8.5'), real.db, { includeNotAffected: true });
    assert.deepEqual(result.findings, []);
    const musl = result.notAffected?.find((f) => f.package.name === 'musl' && f.id === 'CVE-2019-14697');
    assert.ok(musl);
    assert.equal(musl.why.rule, 'apk: 1.1.19-r11 is not in [0, 1.1.19-r11)');
    assert.equal(musl.why.advisory, 'alpine-secdb CVE-2019-14697 alpine:3.8 musl (source): fixed in 1.1.19-r11');
    assert.equal(result.notAffected?.length, 19, 'musl 2 + musl-utils 2 + busybox 3 + ssl_client 3 + three libressl2.7 binaries x 3');
  });

  test('3.8 built before the musl fix (1.1.19-r10): CVE-2019-14697 with the secdb fix', async () => {
    const records = apkRecords('3.8.5').map((r) => (r.sourceName === 'musl' ? { ...r, version: '1.1.19-r10', sourceVersion: '1.1.19-r10' } : r));
    const inv = inventoryOf(records, distroFromFile('etc/os-release', 'pkgdb', 'apk', 'alpine-minirootfs', '3.8.5', 'os-release'));
    const { findings } = await matchInventory(inv, real.db);
    assert.deepEqual(pairs(findings), ['musl CVE-2019-14697', 'musl-utils CVE-2019-14697']);
    const f = findings.find((x) => x.package.name === 'musl-utils') as Finding;
    assert.equal(f.state, 'fixed');
    assert.deepEqual(f.fixedVersions, ['1.1.19-r11']);
    assert.equal(f.namespace, 'alpine:3.8');
    assert.equal(f.feed.id, 'alpine-secdb');
    assert.equal(f.feed.fetchedAt, FETCHED_AT);
    assert.deepEqual(f.links, ['https://security.alpinelinux.org/vuln/CVE-2019-14697']);
    assert.equal(f.why.package, 'apk musl-utils 1.1.19-r10, source musl 1.1.19-r10 from lib/apk/db/installed (layer 0 sha256:1111111111111111111111111111111111111111111111111111111111111111)');
    // The same evidence as data: the package record, the secdb record (keyed by the source package) and the interval that held.
    assert.deepEqual(f.evidence, {
      package: { file: 'lib/apk/db/installed', layer: 'sha256:1111111111111111111111111111111111111111111111111111111111111111', layerIndex: 0 },
      matches: [
        {
          advisory: { feed: 'alpine-secdb', id: 'CVE-2019-14697', namespace: 'alpine:3.8', packageName: 'musl', nameKind: 'source', state: 'fixed' },
          rule: { scheme: 'apk', installed: '1.1.19-r10', basis: { kind: 'range', introduced: '0', fixed: '1.1.19-r11' }, text: f.why.rule },
        },
      ],
    });
  });

  test('3.10.9: musl 1.1.22-r4 is above the 3.10 fix 1.1.22-r3', async () => {
    // v3.10/main.json: musl {"1.1.22-r3": [CVE-2019-14697]}; busybox {"1.30.1-r2": [CVE-2019-5747], "1.29.3-r10":
    // [CVE-2018-20679, CVE-2019-5747], ...}, installed 1.30.1-r5; openssl {"1.1.1d-r0": [...]}, installed 1.1.1k-r0.
    const result = await matchInventory(minirootfs('3.10.9'), real.db, { includeNotAffected: true });
    assert.deepEqual(result.findings, []);
    assert.equal(result.notAffected?.find((f) => f.package.name === 'musl' && f.id === 'CVE-2019-14697')?.why.rule, 'apk: 1.1.22-r4 is not in [0, 1.1.22-r3)');
    // CVE-2019-5747 is listed under two fixed versions: both ranges are shown.
    assert.equal(result.notAffected?.find((f) => f.package.name === 'busybox' && f.id === 'CVE-2019-5747')?.why.rule, 'apk: 1.30.1-r5 is not in [0, 1.30.1-r2) or [0, 1.29.3-r10)');
  });

  for (const [release, namespace] of [
    ['3.12.12', 'alpine:3.12'],
    ['3.14.10', 'alpine:3.14'],
    ['3.16.9', 'alpine:3.16'],
    ['3.18.9', 'alpine:3.18'],
    ['3.20.3', 'alpine:3.20'],
    ['20240923', 'alpine:edge'],
  ] as const) {
    test(`${release}: no secdb covers ${namespace}: zero findings, and the report says it was not checked`, async () => {
      const inv = minirootfs(release);
      const result = await matchInventory(inv, real.db);
      assert.deepEqual(result.findings, []);
      assert.deepEqual(result.coverage, [{ ecosystem: 'apk', namespace, packages: inv.packages.length, hasData: false }]);
      assert.deepEqual(result.warnings, [
        { code: 'no-vulnerability-data', message: `matcher: the vulnerability database has no data for ${namespace}; its ${inv.packages.length} apk package(s) were not checked` },
      ]);
    });
  }
});

describe('dpkg status files vs the Debian and Ubuntu feeds', () => {
  test('Ubuntu 18.04 (claircore-texlive.status) vs the Ubuntu CVE Tracker: every unfixed status, per binary', async () => {
    // The status file is bionic's (base-files 10.1ubuntu2.8, "~18.04" versions); it has no os-release.
    // ubuntu/uct-active, bionic_<source> lines of sources installed here (binaries from their Source:):
    //  CVE-2018-20002 binutils needed, CVE-2018-9138 binutils needed -> binutils, binutils-common,
    //    binutils-x86-64-linux-gnu, libbinutils
    //  CVE-2019-13050 gnupg2 deferred -> gpgv
    //  CVE-2019-9169 glibc needed -> libc-bin, libc-dev-bin, libc6, libc6-dev, locales, multiarch-support
    //  CVE-2019-16707 enchant needs-triage, hunspell needs-triage -> libenchant1c2a, libhunspell-1.6-0
    //  CVE-2019-12360 texlive-bin deferred -> libkpathsea6, libptexenc1, libsynctex1, libtexlua52,
    //    libtexluajit2, texlive-binaries (poppler is not-affected there)
    //  CVE-2019-17543 lz4 needed -> liblz4-1
    //  CVE-2019-9674 python2.7 needed -> libpython2.7{,-dev,-minimal,-stdlib}, python2.7{,-dev,-minimal}
    //  CVE-2018-7169 shadow needed -> login, passwd
    //  CVE-2020-11494 linux needs-triage -> linux-libc-dev
    //  CVE-2019-9543 poppler deferred -> libpoppler-glib8, libpoppler73
    //  CVE-2018-1000654 libtasn1-6 deferred -> libtasn1-6
    // Released ones are below the installed versions: CVE-2016-9401 bash 4.4-5ubuntu1 < 4.4.18-2ubuntu1.2,
    // CVE-2018-12020 gnupg2 2.2.4-1ubuntu1.1 < 2.2.4-1ubuntu1.2, CVE-2019-17056 linux 4.15.0-69.78 <
    // 4.15.0-101.102, CVE-2019-9740 python2.7 2.7.15-4ubuntu4~18.04.1 < 2.7.17-1~18.04ubuntu1.
    const bionic = { id: 'ubuntu', versionId: '18.04', versionCodename: 'bionic', source: 'etc/os-release' };
    const result = await matchInventory(inventoryOf(dpkgRecords('claircore-texlive.status'), bionic), real.db, { includeNotAffected: true });
    const expected: Record<string, string[]> = {
      'CVE-2018-20002': ['binutils', 'binutils-common', 'binutils-x86-64-linux-gnu', 'libbinutils'],
      'CVE-2018-9138': ['binutils', 'binutils-common', 'binutils-x86-64-linux-gnu', 'libbinutils'],
      'CVE-2019-13050': ['gpgv'],
      'CVE-2019-9169': ['libc-bin', 'libc-dev-bin', 'libc6', 'libc6-dev', 'locales', 'multiarch-support'],
      'CVE-2019-16707': ['libenchant1c2a', 'libhunspell-1.6-0'],
      'CVE-2019-12360': ['libkpathsea6', 'libptexenc1', 'libsynctex1', 'libtexlua52', 'libtexluajit2', 'texlive-binaries'],
      'CVE-2019-17543': ['liblz4-1'],
      'CVE-2019-9674': ['libpython2.7', 'libpython2.7-dev', 'libpython2.7-minimal', 'libpython2.7-stdlib', 'python2.7', 'python2.7-dev', 'python2.7-minimal'],
      'CVE-2018-7169': ['login', 'passwd'],
      'CVE-2020-11494': ['linux-libc-dev'],
      'CVE-2019-9543': ['libpoppler-glib8', 'libpoppler73'],
      'CVE-2018-1000654': ['libtasn1-6'],
    };
    assert.deepEqual(pairs(result.findings), Object.entries(expected).flatMap(([cve, bins]) => bins.map((b) => `${b} ${cve}`)).sort());
    assert.equal(result.findings.length, 37);
    assert.ok(result.findings.every((f) => f.state === 'unfixed' && f.fixedVersions.length === 0 && f.namespace === 'ubuntu:18.04' && f.feed.id === 'ubuntu-uct'));
    const status = (bin: string, cve: string) => result.findings.find((f) => f.package.name === bin && f.id === cve)?.vendorStatus;
    assert.equal(status('gpgv', 'CVE-2019-13050'), 'deferred');
    assert.equal(status('libhunspell-1.6-0', 'CVE-2019-16707'), 'needs-triage');
    assert.equal(status('login', 'CVE-2018-7169'), 'needed');
    // Severity: UCT priority (vendor) first: CVE-2020-11494 "Priority: medium", CVE-2019-9543 "negligible".
    assert.equal(result.findings[0]?.id, 'CVE-2020-11494');
    assert.equal(result.findings[0]?.severity, 'Medium');
    assert.equal(result.findings.find((f) => f.id === 'CVE-2019-9543')?.severity, 'Negligible');
    // The fixed ones, and the vendor's not-affected statements, are reported apart on request.
    const na = pairs(result.notAffected);
    for (const p of ['bash CVE-2016-9401', 'gpgv CVE-2018-12020', 'linux-libc-dev CVE-2019-17056', 'python2.7 CVE-2019-9740', 'unzip CVE-2014-9913']) assert.ok(na.includes(p), p);
    assert.equal(result.notAffected?.find((f) => f.package.name === 'unzip')?.why.rule, 'vendor states not affected');
  });

  test('Debian 10 (claircore-postgresql.status) vs DSA/DLA: every fix already installed', async () => {
    // DSA-list: DSA-5135-1 postgresql-11 [buster] 11.16-0+deb10u1, DSA-5006-1 11.14-0+deb10u1, DSA-4915-1
    // 11.12-0+deb10u1, DSA-4623-1 11.7-0+deb10u1, DSA-4493-1 11.5-1+deb10u1; DSA-4568-1 postgresql-common
    // [buster] 200+deb10u3. DLA-list: DLA-3072-1 11.17-0+deb10u1, DLA-3316-1 11.19-0+deb10u1 (no CVE id,
    // a security update: reported by its own id). DLA-3189-1 "postgresql-11 - bugfix update" is no
    // vulnerability. Installed: postgresql-client-11 11.22-0+deb10u2, postgresql-common 200+deb10u5.
    const result = await matchInventory(inventoryOf(dpkgRecords('claircore-postgresql.status'), { id: 'debian', versionId: '10', source: 'etc/os-release' }), real.db, { includeNotAffected: true });
    assert.deepEqual(result.findings, []);
    assert.deepEqual(pairs(result.notAffected), [
      'postgresql-client CVE-2019-3466',
      'postgresql-client-11 CVE-2019-10208',
      'postgresql-client-11 CVE-2019-10209',
      'postgresql-client-11 CVE-2020-1720',
      'postgresql-client-11 CVE-2021-23214',
      'postgresql-client-11 CVE-2021-23222',
      'postgresql-client-11 CVE-2021-32027',
      'postgresql-client-11 CVE-2021-32028',
      'postgresql-client-11 CVE-2021-32029',
      'postgresql-client-11 CVE-2022-1552',
      'postgresql-client-11 CVE-2022-2625',
      'postgresql-client-11 DLA-3316-1',
      'postgresql-client-common CVE-2019-3466',
    ]);
  });

  test('Debian 12 machine (732 packages): the DSA/DLA lists end before bookworm, the tracker excerpt knows 2 bookworm packages', async () => {
    // DSA-list and DLA-list name no [bookworm] line; tracker-json names bookworm only for chromium and
    // sope, neither installed. debian:12 has data (the excerpt), so coverage says so.
    const result = await matchInventory(inventoryOf(dpkgRecords('debian12-machine.status'), { id: 'debian', versionId: '12', source: 'etc/os-release' }), real.db);
    assert.deepEqual(result.findings, []);
    assert.deepEqual(result.coverage, [{ ecosystem: 'deb', namespace: 'debian:12', packages: 732, hasData: true }]);
  });

  test('Debian 11 chromium at the DSA-5054-1 version: one finding per CVE of every later DSA, the tracker leads CVE-2022-0456', async () => {
    // DSA-list, bullseye chromium lines above 97.0.4692.99-1~deb11u2 (compared with dpkg
    // --compare-versions): 37 DSAs, DSA-5068-1 (98.0.4758.80-1~deb11u1) ... DSA-5377-1, naming 377
    // distinct CVEs. tracker-json: chromium CVE-2022-0456 bullseye resolved 98.0.4758.80-1~deb11u1.
    const chromium: PackageRecord = { ecosystem: 'deb', name: 'chromium', version: '97.0.4692.99-1~deb11u2', sourceName: 'chromium', sourceVersion: '97.0.4692.99-1~deb11u2', arch: 'amd64', path: 'var/lib/dpkg/status' };
    const { findings } = await matchInventory(inventoryOf([chromium], { id: 'debian', versionId: '11', source: 'etc/os-release' }), real.db);
    assert.equal(findings.length, 377);
    assert.equal(new Set(findings.map((f) => f.id)).size, 377);
    const f = findings.find((x) => x.id === 'CVE-2022-0456') as Finding;
    assert.equal(f.feed.id, 'debian-tracker');
    assert.deepEqual(f.aliases, ['DSA-5068-1']);
    assert.deepEqual(f.fixedVersions, ['98.0.4758.80-1~deb11u1']);
    assert.ok(!findings.some((x) => x.id === 'CVE-2022-0289'), 'DSA-5054-1 CVEs are fixed in the installed version');
  });

  test('Debian 10 Log4Shell: DSA-5020-1 through the DB, KEV from the DB', async () => {
    const log4j: PackageRecord = { ecosystem: 'deb', name: 'liblog4j2-java', version: '2.11.1-2', sourceName: 'apache-log4j2', sourceVersion: '2.11.1-2', arch: 'all', path: 'var/lib/dpkg/status' };
    const { findings } = await matchInventory(inventoryOf([log4j], { id: 'debian', versionId: '10', source: 'etc/os-release' }), real.db);
    assert.deepEqual(findings.map((f) => `${f.id} ${f.aliases.join()} ${f.fixedVersions.join()}`).sort(), [
      'CVE-2021-44228 DSA-5020-1 2.15.0-1~deb10u1',
      'CVE-2021-45046 DSA-5022-1 2.16.0-1~deb10u1',
      'CVE-2021-45105 DSA-5024-1 2.17.0-1~deb10u1',
    ]);
    assert.equal(findings.find((f) => f.id === 'CVE-2021-44228')?.kev?.dateAdded, '2021-12-10');
  });
});

describe('rpm vs AlmaLinux OSV and Red Hat CSAF', () => {
  /** The generated UBI 9 rpmdb (real NEVRAs), with the real source rpm names of its manifest. */
  function ubi9(): PackageRecord[] {
    const records = parseRpmDatabase(readFileSync(sharedData('pkgdb', 'rpm', 'generated-ubi9-amd64', 'rpmdb.sqlite')), 'var/lib/rpm/rpmdb.sqlite').packages;
    const manifest = JSON.parse(readFileSync(sharedData('pkgdb', 'rpm', 'generated-ubi9-amd64', 'source-manifest.json'), 'utf8')) as { rpms: { name: string; srpm_name: string }[] };
    const srpm = new Map(manifest.rpms.map((r) => [r.name, r.srpm_name]));
    // The generated database's SOURCERPM tags are not the real ones (see shared/data README).
    return records.map((r) => ({ ...r, sourceName: srpm.get(r.name) ?? r.name }));
  }

  test('UBI 9.0 packages as an AlmaLinux 9 image: binary names, per CVE', async () => {
    // osv/AlmaLinux/almalinux9 records naming installed binaries with a fixed EVR above them (rpm
    // vercmp): ALSA-2022:8299 curl-minimal, libcurl-minimal 7.76.1-14.el9 < 7.76.1-19.el9 (CVE-2022-27775);
    // ALSA-2023:0336 systemd, -libs, -pam, -rpm-macros 250-6.el9_0 < 250-12.el9_1.1 (CVE-2022-3821);
    // ALSA-2023:1141 gnutls 3.7.3-9.el9 < 3.7.6-18.el9_1 (CVE-2023-0361); ALSA-2023:6685 tpm2-tss
    // 3.0.3-7.el9 < 3.2.2-2.el9 (CVE-2023-22745); ALSA-2025:10699 libxml2, python3-libxml2 2.9.13-1.el9 <
    // 2.9.13-10.el9_6 (CVE-2025-49794, -49796, -6021); ALSA-2025:13428 same < 2.9.13-12.el9_6
    // (CVE-2025-32414, -32415); ALSA-2026:19224 and :22717 vim-minimal 2:8.2.2637-15.el9 <
    // 2:8.2.2637-26.el9_8.4 / .5 (CVE-2026-34982, CVE-2026-35177); ALSA-2026:39798 python3, python3-libs
    // 3.9.10-2.el9 < 3.9.25-7.el9_8.2 (CVE-2026-15308; source python3.9, which the record never names);
    // ALSA-2026:42736 acl, libacl 2.3.1-3.el9 < 2.4.0-1.el9_8 (CVE-2026-54369, -54370).
    const { findings, warnings } = await matchInventory(inventoryOf(ubi9(), { id: 'almalinux', versionId: '9.0', source: 'etc/os-release' }), real.db);
    assert.deepEqual(warnings, []);
    assert.deepEqual(pairs(findings), [
      'acl CVE-2026-54369',
      'acl CVE-2026-54370',
      'curl-minimal CVE-2022-27775',
      'gnutls CVE-2023-0361',
      'libacl CVE-2026-54369',
      'libacl CVE-2026-54370',
      'libcurl-minimal CVE-2022-27775',
      'libxml2 CVE-2025-32414',
      'libxml2 CVE-2025-32415',
      'libxml2 CVE-2025-49794',
      'libxml2 CVE-2025-49796',
      'libxml2 CVE-2025-6021',
      'python3 CVE-2026-15308',
      'python3-libs CVE-2026-15308',
      'python3-libxml2 CVE-2025-32414',
      'python3-libxml2 CVE-2025-32415',
      'python3-libxml2 CVE-2025-49794',
      'python3-libxml2 CVE-2025-49796',
      'python3-libxml2 CVE-2025-6021',
      'systemd CVE-2022-3821',
      'systemd-libs CVE-2022-3821',
      'systemd-pam CVE-2022-3821',
      'systemd-rpm-macros CVE-2022-3821',
      'tpm2-tss CVE-2023-22745',
      'vim-minimal CVE-2026-34982',
      'vim-minimal CVE-2026-35177',
    ]);
    const vim = findings.find((f) => f.id === 'CVE-2026-34982') as Finding;
    assert.deepEqual(vim.aliases, ['ALSA-2026:19224']);
    assert.deepEqual(vim.fixedVersions, ['2:8.2.2637-26.el9_8.4']);
    assert.equal(vim.severity, 'High');
    assert.equal(vim.severitySource, 'almalinux (Important)');
    assert.equal(vim.why.rule, 'rpm: 2:8.2.2637-15.el9 is in [0, 2:8.2.2637-26.el9_8.4) (fixed in 2:8.2.2637-26.el9_8.4)');
  });

  test('the same packages as a RHEL 9 image vs the Red Hat CSAF samples', async () => {
    // rhel/vex/cve-2023-38545.json: fixed BaseOS-9.3.0.Z.MAIN curl-minimal / libcurl-minimal
    // 0:7.76.1-26.el9_3.2 (the 9.0/9.2 EUS builds belong to rhel:9.0:eus / rhel:9.2:eus).
    // rhel/csaf/rhsa-2024_6163.json (RHSA-2024:6163, CVE-2024-8088): python3.9-0:3.9.18-3.el9_4.5.src only,
    // so the source package python3.9 -> python3, python3-libs 3.9.10-2.el9.
    const { findings } = await matchInventory(inventoryOf(ubi9(), { id: 'rhel', versionId: '9.0', source: 'etc/os-release' }), real.db);
    assert.deepEqual(
      findings.map((f) => `${f.package.name} ${f.id} ${f.aliases.join()} ${f.fixedVersions.join()} ${f.severity}`).sort(),
      [
        'curl-minimal CVE-2023-38545  7.76.1-26.el9_3.2 High',
        'libcurl-minimal CVE-2023-38545  7.76.1-26.el9_3.2 High',
        'python3 CVE-2024-8088 RHSA-2024:6163 3.9.18-3.el9_4.5 Medium',
        'python3-libs CVE-2024-8088 RHSA-2024:6163 3.9.18-3.el9_4.5 Medium',
      ],
    );
  });
});

describe('language packages vs their OSV ecosystems', () => {
  test('PyPI: the 40 installed METADATA files, none affected (PyPA ranges)', async () => {
    // osv/PyPI has records for three installed names: cryptography 48.0.0 vs PYSEC-2021-63 [3.1, 3.3.2);
    // ipython 8.12.3 vs PYSEC-2014-21 [0.12, 1.2.0); requests 2.34.2 vs PYSEC-2023-74 [2.3.0, 2.31.0)
    // (and neither is in their versions lists).
    const root = sharedData('pkgdb', 'python');
    const records = readdirSync(root).flatMap((d) => parsePythonMetadata(`usr/local/lib/python3.11/site-packages/${d}/METADATA`, readFileSync(`${root}/${d}/METADATA`)).packages ?? []);
    assert.equal(records.length, 40);
    const result = await matchInventory(inventoryOf(records), real.db, { includeNotAffected: true });
    assert.deepEqual(result.findings, []);
    assert.deepEqual(pairs(result.notAffected), ['cryptography PYSEC-2021-63', 'ipython PYSEC-2014-21', 'requests PYSEC-2023-74']);
    // The same requests METADATA at a version the record lists: affected, with its aliases.
    const old = records.map((r) => (r.name === 'requests' ? { ...r, version: '2.30.0' } : r));
    const hit = (await matchInventory(inventoryOf(old), real.db)).findings;
    assert.deepEqual(hit.map((f) => [f.id, f.aliases, f.fixedVersions, f.why.rule]), [
      ['PYSEC-2023-74', ['CVE-2023-32681', 'GHSA-j8r2-6x86-q33q'], ['2.31.0'], 'pep440: 2.30.0 is in [2.3.0, 2.31.0) (fixed in 2.31.0)'],
    ]);
  });

  test('npm lockfiles vs npm-security-wg: the four advisories of installed names are all patched', async () => {
    // npm-security-wg: 338 brace-expansion "<=1.1.6" (installed 1.1.11), 28 qs "<1.0.0" (6.5.3),
    // 31 semver "<4.3.2" (4.3.6), 130 tough-cookie ">=0.9.7 <=2.2.2" (2.5.0).
    const records = ['osv-scanner-in-place-npm', 'osv-scalibr-v1'].flatMap(
      (l) => parsePackageLock(`app/${l}/package-lock.json`, readFileSync(sharedData('pkgdb', 'npm', l, 'package-lock.json'), 'utf8')).packages ?? [],
    );
    const result = await matchInventory(inventoryOf(records), real.db, { includeNotAffected: true });
    assert.deepEqual(result.findings, []);
    assert.deepEqual(pairs(result.notAffected), ['brace-expansion NSWG-ECO-338', 'qs NSWG-ECO-28', 'semver NSWG-ECO-31', 'tough-cookie NSWG-ECO-130']);
  });

  test('Go binary (docker-registry, go1.19.8) vs the Go vulndb stdlib records', async () => {
    // The binary's build info: "go1.19.8", GOPATH mode (no mod/dep lines): one record, stdlib v1.19.8.
    // osv/Go records of module "stdlib" (12): affected are those whose first interval [0, fix) has a fix
    // above 1.19.8: GO-2025-3373 (fixed 1.22.11), GO-2025-3956 (1.23.12), GO-2025-4015 (1.24.8),
    // GO-2025-4155 (1.24.11), GO-2026-4601 (1.25.8), GO-2026-4870 (1.25.9). Not: GO-2021-0243 (1.15.14;
    // 1.16.0-0..1.16.6), GO-2022-0273 (1.16.8; 1.17.1), GO-2022-1037 (1.18.7; 1.19.0-0..1.19.2),
    // GO-2022-1143 (..1.19.4), GO-2023-1570 (1.19.6), GO-2023-1621 (1.19.7).
    const bytes = debianDockerRegistryBinary();
    const info = readGoBuildInfo(bytes);
    assert.ok(info);
    const records = goBinaryRecords('usr/bin/docker-registry', info.goVersion, info.modinfo).packages ?? [];
    assert.deepEqual(records.map((r) => `${r.name} ${r.version}`), ['stdlib v1.19.8']);
    const expected = [
      'GO-2025-3373 CVE-2024-45341 v1.22.11',
      'GO-2025-3956 CVE-2025-47906 v1.23.12',
      'GO-2025-4015 CVE-2025-61724 v1.24.8',
      'GO-2025-4155 CVE-2025-61729 v1.24.11',
      'GO-2026-4601 CVE-2026-25679 v1.25.8',
      'GO-2026-4870 CVE-2026-32283 v1.25.9',
    ];
    const asFound = (r: MatchResult) => r.findings.map((f) => `${f.id} ${f.aliases.join()} ${f.fixedVersions.join()}`).sort();
    assert.deepEqual(asFound(await matchInventory(inventoryOf(records), real.db)), expected);
    // An inventory that spells the toolchain as Go does (`go1.19.8`, e.g. from an SBOM) meets the same records.
    const spelled = records.map((r) => ({ ...r, version: 'go1.19.8' }));
    const result = await matchInventory(inventoryOf(spelled), real.db);
    assert.deepEqual(asFound(result), expected);
    assert.equal(result.findings[0]?.why.package, 'golang stdlib go1.19.8 (go v1.19.8) from usr/bin/docker-registry (layer 0 sha256:1111111111111111111111111111111111111111111111111111111111111111)');
  });

  test('gems vs rubysec: rack 2.2.22 is below the 2.2.23 fix of CVE-2026-34830 only; json 2.6.3 predates its flaw', async () => {
    // rubysec/gems/rack: every other advisory has a patched requirement 2.2.22 satisfies (">= 1.4.2",
    // "~> 2.2.6, >= 2.2.6.1", "~> 2.0, >= 2.2.6.4", "~> 2.2.8, >= 2.2.8.1", "~> 2.2.13", "~> 2.2.19",
    // "~> 2.2.20"); CVE-2026-34830.yml patched "~> 2.2.23", "~> 3.1.21", ">= 3.2.6", cvss_v3 5.9.
    // rubysec/gems/json/CVE-2026-33210.yml: unaffected "< 2.14.0".
    const gems = ['rack-2.2.22.gemspec', 'json-2.6.3.gemspec'].flatMap(
      (g) => parseGemspec(`usr/lib/ruby/gems/3.1.0/specifications/${g}`, readFileSync(sharedData('pkgdb', 'ruby', g))).packages ?? [],
    );
    const { findings } = await matchInventory(inventoryOf(gems), real.db);
    assert.deepEqual(
      findings.map((f) => [f.package.name, f.id, f.aliases, f.state, f.fixedVersions, f.severity, f.severitySource]),
      [['rack', 'CVE-2026-34830', ['GHSA-qv7j-4883-hwh7'], 'fixed', ['2.2.23', '3.1.21', '3.2.6'], 'Medium', 'rubysec CVSS_V3 5.9']],
    );
    // The same specification where Debian installs it (ruby-rack; no file lists, so the path heuristic
    // marks it): `skip` leaves it to its deb package; `distro` has no owner to ask and keeps the finding.
    const debian = gems.map((g) => ({ ...g, path: g.path.replace('usr/lib/ruby/gems/3.1.0', 'usr/share/rubygems-integration/all'), attributes: { ...g.attributes, distroPackaged: 'debian' } }));
    const deb: PackageRecord = { ecosystem: 'deb', name: 'ruby-rack', version: '2.2.22-0+deb12u2', sourceName: 'ruby-rack', sourceVersion: '2.2.22-0+deb12u2', arch: 'all', path: 'var/lib/dpkg/status' };
    const inDebian = inventoryOf([deb, ...debian], { id: 'debian', versionId: '12', source: 'etc/os-release' });
    const skipped = await matchInventory(inDebian, real.db, { osOwned: 'skip' });
    assert.deepEqual(skipped.findings, []);
    assert.deepEqual(skipped.coverage, [
      { ecosystem: 'deb', namespace: 'debian:12', packages: 1, hasData: true },
      { ecosystem: 'gem', namespace: 'RubyGems', packages: 0, hasData: true, distroPackaged: 2 },
    ]);
    assert.deepEqual(pairs((await matchInventory(inDebian, real.db)).findings), ['rack CVE-2026-34830']);
  });
});

describe('language packages an OS package installed (--os-owned) vs the distribution feed', () => {
  // Debian 9's python3-urllib3 (source python-urllib3) holds urllib3 1.19.1's egg-info. Real records:
  // osv/PyPI/urllib3: PYSEC-2018-32 (CVE-2018-20060, fixed 1.23), PYSEC-2019-133 (CVE-2019-11324,
  // fixed 1.24.2), PYSEC-2021-108 (CVE-2021-33503, fixed 1.26.5) affect 1.19.1; PYSEC-2020-149
  // ([1.25.2, 1.25.8)) does not. debian/DLA-list: DLA-2686-1 python-urllib3 {CVE-2018-20060
  // CVE-2019-11236 CVE-2019-11324 CVE-2020-26137} [stretch] - python-urllib3 1.19.1-1+deb9u1:
  // Debian backported those fixes without changing the upstream version 1.19.1. It has no record of CVE-2021-33503.
  const stretch = { id: 'debian', versionId: '9', source: 'etc/os-release' };
  const urllib3 = (debVersion: string) => {
    const deb: PackageRecord = { ecosystem: 'deb', name: 'python3-urllib3', version: debVersion, sourceName: 'python-urllib3', sourceVersion: debVersion, arch: 'all', path: 'var/lib/dpkg/status' };
    const py: PackageRecord = { ecosystem: 'pypi', name: 'urllib3', version: '1.19.1', path: 'usr/lib/python3/dist-packages/urllib3-1.19.1.egg-info', attributes: { displayName: 'urllib3' } };
    const inv = inventoryOf([deb, py], stretch);
    const osOwner = { ecosystem: 'deb' as const, name: 'python3-urllib3', version: debVersion, sourceName: 'python-urllib3', sourceVersion: debVersion, arch: 'all' };
    inv.packages = inv.packages.map((p) => (p.ecosystem === 'pypi' ? { ...p, osOwner } : p));
    return inv;
  };
  const pypi = (findings: Finding[] | undefined) => pairs((findings ?? []).filter((f) => f.package.ecosystem === 'pypi'));

  test('distro (default): the fixes DLA-2686-1 backported clear their PyPI findings, with the record as the reason', async () => {
    const result = await matchInventory(urllib3('1.19.1-1+deb9u1'), real.db, { includeNotAffected: true });
    assert.deepEqual(pypi(result.findings), ['urllib3 PYSEC-2021-108']);
    const kept = result.findings.find((f) => f.id === 'PYSEC-2021-108');
    assert.equal(kept?.why.distro, 'deb python3-urllib3 1.19.1-1+deb9u1 (source python-urllib3): debian:9 has no record of CVE-2021-33503 for it; kept');
    assert.equal(kept?.package.osOwner?.name, 'python3-urllib3');
    assert.match(kept?.why.package ?? '', /installed by deb python3-urllib3 1\.19\.1-1\+deb9u1/);
    const cleared = (result.notAffected ?? []).filter((f) => f.package.ecosystem === 'pypi' && f.id !== 'PYSEC-2020-149');
    assert.deepEqual(pairs(cleared), ['urllib3 PYSEC-2018-32', 'urllib3 PYSEC-2019-133']);
    for (const f of cleared) {
      assert.equal(f.state, 'not_affected');
      assert.equal(
        f.why.distro,
        'deb python3-urllib3 1.19.1-1+deb9u1 (source python-urllib3): not affected per debian-dla DLA-2686-1 debian:9 python-urllib3 (source): fixed in 1.19.1-1+deb9u1: dpkg: 1.19.1-1+deb9u1 is not in [0, 1.19.1-1+deb9u1)',
      );
    }
    // Without includeNotAffected the cleared findings are simply gone.
    assert.deepEqual(pypi((await matchInventory(urllib3('1.19.1-1+deb9u1'), real.db)).findings), ['urllib3 PYSEC-2021-108']);
  });

  test('distro: an owner installed before the DLA is still affected, and says so', async () => {
    const result = await matchInventory(urllib3('1.19.1-1'), real.db, { osOwned: 'distro' });
    assert.deepEqual(pypi(result.findings), ['urllib3 PYSEC-2018-32', 'urllib3 PYSEC-2019-133', 'urllib3 PYSEC-2021-108']);
    assert.match(result.findings.find((f) => f.id === 'PYSEC-2018-32')?.why.distro ?? '', /: still affected per debian-dla DLA-2686-1 .*fixed in 1\.19\.1-1\+deb9u1/);
  });

  test('report keeps every PyPI finding and shows the owner; skip leaves the package to its deb', async () => {
    const report = await matchInventory(urllib3('1.19.1-1+deb9u1'), real.db, { osOwned: 'report' });
    assert.deepEqual(pypi(report.findings), ['urllib3 PYSEC-2018-32', 'urllib3 PYSEC-2019-133', 'urllib3 PYSEC-2021-108']);
    for (const f of report.findings) assert.equal(f.why.distro, undefined);
    assert.ok(report.findings.every((f) => f.package.ecosystem !== 'pypi' || f.package.osOwner?.name === 'python3-urllib3'));
    const skip = await matchInventory(urllib3('1.19.1-1+deb9u1'), real.db, { osOwned: 'skip' });
    assert.deepEqual(pypi(skip.findings), []);
    assert.deepEqual(skip.coverage.find((c) => c.ecosystem === 'pypi'), { ecosystem: 'pypi', namespace: 'PyPI', packages: 0, hasData: true, distroPackaged: 1 });
  });
});
