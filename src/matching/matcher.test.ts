import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Advisory } from '../domain/advisory.js';
import { isPortcullisError } from '../domain/errors.js';
import type { PackageRecord } from '../domain/package.js';
import { debianDsaFeed, debianTrackerFeed } from '../feeds/debian/index.js';
import { epssFeed, kevFeed, nvdFeed } from '../feeds/enrichment/index.js';
import { osvFeed } from '../feeds/osv/index.js';
import { rubysecFeed } from '../feeds/rubysec/index.js';
import { ubuntuUctFeed } from '../feeds/ubuntu/index.js';
import { chooseSeverity, isNonSecurityAdvisory, matchInventory } from './matcher.js';
import { debianDlaFeed } from '../feeds/debian/index.js';
import { memorySource } from './test-support/memory-source.js';
import { FETCHED_AT, feedFiles, inventoryOf } from './test-support/real-data.js';

const debian = (versionId: string) => ({ id: 'debian', versionId, source: 'etc/os-release' });
const bionic = { id: 'ubuntu', versionId: '18.04', versionCodename: 'bionic', source: 'etc/os-release' };
const deb = (name: string, version: string, sourceName = name, sourceVersion = version): PackageRecord => ({
  ecosystem: 'deb',
  name,
  version,
  sourceName,
  sourceVersion,
  arch: 'amd64',
  path: 'var/lib/dpkg/status',
});

// Parsed once: the real DSA list (5406 advisories) and the tracker excerpt.
const dsa = debianDsaFeed.parse(feedFiles('debian', 'DSA-list')).advisories;
const tracker = debianTrackerFeed.parse(feedFiles('debian', 'tracker-json')).advisories;
const enrichment = [
  ...nvdFeed.parse(feedFiles('enrichment', 'nvd-cve-2.0-sample.json')).records,
  ...epssFeed.parse(feedFiles('enrichment', 'epss-sample.csv')).records,
  ...kevFeed.parse(feedFiles('enrichment', 'kev-sample.json')).records,
];

describe('matcher: one finding per vulnerability and package', () => {
  test('a DSA and the tracker record of a CVE it fixes give one finding, led by the CVE record', async () => {
    // DSA-list: "[07 Feb 2022] DSA-5068-1 chromium", {CVE-2022-0452 ... CVE-2022-0456 ... CVE-2022-4025}
    // (20 ids), "[bullseye] - chromium 98.0.4758.80-1~deb11u1".
    // tracker-json/vunnel-debian-tracker-excerpt.json: chromium / CVE-2022-0456 / bullseye:
    // resolved, fixed_version 98.0.4758.80-1~deb11u1, urgency "not yet assigned".
    // A bullseye chromium at 97.0.4692.99-1~deb11u2 (the version DSA-5054-1 shipped) is below both.
    const dsa5068 = dsa.find((a) => a.id === 'DSA-5068-1') as Advisory;
    assert.equal(dsa5068.aliases.length, 20);
    const source = memorySource([dsa5068, ...tracker]);
    const inv = inventoryOf([deb('chromium', '97.0.4692.99-1~deb11u2')], debian('11'));
    const { findings } = await matchInventory(inv, source);
    assert.equal(findings.length, 20, 'one finding per CVE the DSA fixes');
    assert.deepEqual(findings.map((f) => f.id).sort(), [...dsa5068.aliases].sort());
    const f = findings.find((x) => x.id === 'CVE-2022-0456');
    assert.ok(f);
    assert.equal(f.feed.id, 'debian-tracker', 'the record keyed by the CVE leads');
    assert.deepEqual(f.aliases, ['DSA-5068-1']);
    assert.equal(f.state, 'fixed');
    assert.deepEqual(f.fixedVersions, ['98.0.4758.80-1~deb11u1']);
    assert.equal(
      f.why.advisory,
      'debian-tracker CVE-2022-0456 debian:11 chromium (source): fixed in 98.0.4758.80-1~deb11u1; debian-dsa DSA-5068-1 (fixes CVE-2022-0456) debian:11 chromium (source): fixed in 98.0.4758.80-1~deb11u1',
    );
    assert.equal(f.why.rule, 'dpkg: 97.0.4692.99-1~deb11u2 is in [0, 98.0.4758.80-1~deb11u1) (fixed in 98.0.4758.80-1~deb11u1)');
    // Another CVE of the same DSA is not merged into it (the DSA id is no link between CVEs).
    const other = findings.find((x) => x.id === 'CVE-2022-0452');
    assert.deepEqual(other?.aliases, ['DSA-5068-1']);
    assert.equal(other?.feed.id, 'debian-dsa');
    assert.equal(other?.title, 'chromium - security update');
    assert.deepEqual(other?.links, ['https://security-tracker.debian.org/tracker/DSA-5068-1']);
  });

  test('the installed fixed version gives no finding; an older one gives the DSA CVE (Log4Shell, with KEV)', async () => {
    // DSA-list: "[11 Dec 2021] DSA-5020-1 apache-log4j2", {CVE-2021-44228}, "[buster] - apache-log4j2 2.15.0-1~deb10u1".
    // kev-sample.json lists CVE-2021-44228, dateAdded 2021-12-10, dueDate 2021-12-24.
    const source = memorySource(dsa, enrichment);
    const old = (await matchInventory(inventoryOf([deb('liblog4j2-java', '2.11.1-2', 'apache-log4j2')], debian('10')), source)).findings;
    const f = old.find((x) => x.id === 'CVE-2021-44228');
    assert.ok(f);
    assert.deepEqual(f.fixedVersions, ['2.15.0-1~deb10u1']);
    assert.deepEqual(f.kev, { dateAdded: '2021-12-10', dueDate: '2021-12-24', knownRansomware: true });
    // DSA-5022-1 (CVE-2021-45046, 2.16.0-1~deb10u1) and DSA-5024-1 (CVE-2021-45105, 2.17.0-1~deb10u1)
    // are the other buster apache-log4j2 lines of the list.
    assert.deepEqual(old.map((x) => `${x.id} ${x.fixedVersions.join()}`).sort(), [
      'CVE-2021-44228 2.15.0-1~deb10u1',
      'CVE-2021-45046 2.16.0-1~deb10u1',
      'CVE-2021-45105 2.17.0-1~deb10u1',
    ]);
    const patched = (await matchInventory(inventoryOf([deb('liblog4j2-java', '2.17.0-1~deb10u1', 'apache-log4j2')], debian('10')), source)).findings;
    assert.deepEqual(patched, []);
  });

  test('records of one vulnerability under other ids fold through aliases (PYSEC and its CVE)', async () => {
    // feeds/osv/PyPI/requests/PYSEC-2023-74.json: aliases CVE-2023-32681, GHSA-j8r2-6x86-q33q.
    const pysec = osvFeed.parse(feedFiles('osv', 'PyPI', 'requests', 'PYSEC-2023-74.json')).advisories;
    const ghsa: Advisory = { ...(pysec[0] as Advisory), id: 'GHSA-j8r2-6x86-q33q', aliases: ['CVE-2023-32681'], feed: 'another-feed' };
    const rec: PackageRecord = { ecosystem: 'pypi', name: 'requests', version: '2.30.0', path: 'usr/lib/python3/site-packages/requests-2.30.0.dist-info/METADATA' };
    const { findings } = await matchInventory(inventoryOf([rec]), memorySource([...pysec, ghsa]));
    assert.equal(findings.length, 1);
    assert.equal(findings[0]?.id, 'PYSEC-2023-74');
    assert.deepEqual(findings[0]?.aliases.sort(), ['CVE-2023-32681', 'GHSA-j8r2-6x86-q33q']);
  });
});

describe('matcher: enrichment by CVE', () => {
  test('EPSS attaches through an alias (epss-sample.csv: CVE-2022-34665 0.00042, percentile 0.05099)', async () => {
    const advisory: Advisory = {
      id: 'GHSA-test-0000-0000',
      aliases: ['CVE-2022-34665'],
      feed: 'test',
      severities: [],
      references: [],
      affected: [{ ecosystem: 'npm', namespace: 'npm', packageName: 'left-pad', nameKind: 'binary', scheme: 'npm', state: 'fixed', ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '2.0.0' }] }], versions: [] }],
    };
    const rec: PackageRecord = { ecosystem: 'npm', name: 'left-pad', version: '1.0.0', path: 'app/package-lock.json' };
    const [f] = (await matchInventory(inventoryOf([rec]), memorySource([advisory], enrichment))).findings;
    assert.deepEqual(f?.epss, { score: 0.00042, percentile: 0.05099, date: '2024-10-25' });
    assert.equal(f?.kev, undefined);
  });
});

describe('matcher: severity, vendor first', () => {
  test('the distribution priority wins over a higher CVSS (UCT CVE-2019-9169: low vs NVD 9.8)', async () => {
    // ubuntu/uct-active/CVE-2019-9169: "Priority: low", "CVSS: nvd: CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    // (9.8, Critical), "bionic_glibc: needed".
    const uct = ubuntuUctFeed.parse(feedFiles('ubuntu', 'uct-active', 'CVE-2019-9169')).advisories;
    const { findings } = await matchInventory(inventoryOf([deb('libc6', '2.27-3ubuntu1', 'glibc')], bionic), memorySource(uct));
    assert.equal(findings.length, 1);
    const f = findings[0];
    assert.equal(f?.severity, 'Low');
    assert.equal(f?.severitySource, 'ubuntu (low)');
    assert.equal(f?.state, 'unfixed');
    assert.equal(f?.vendorStatus, 'needed');
    assert.deepEqual(f?.ratings.map((r) => `${r.source} ${r.type} ${r.normalized}`), ['ubuntu vendor Low', 'nvd CVSS_V3 Critical']);
  });

  test('without a vendor rating, CVSS of the newest version decides (DSA-3575-1 + NVD CVE-2016-3674)', async () => {
    // DSA-list: "[12 May 2016] DSA-3575-1 libxstream-java", {CVE-2016-3674}, "[jessie] - libxstream-java 1.4.7-2+deb8u1"
    // (no urgency). nvd-cve-2.0-sample.json: CVE-2016-3674 v3.1 7.5 (High), v2 5.0 (Medium).
    const source = memorySource(dsa, enrichment);
    const { findings } = await matchInventory(inventoryOf([deb('libxstream-java', '1.4.7-1')], debian('8')), source);
    const f = findings.find((x) => x.id === 'CVE-2016-3674');
    assert.ok(f);
    assert.equal(f.severity, 'High');
    assert.equal(f.severitySource, 'nvd@nist.gov CVSS_V3 7.5');
    // DSA-3841-1 (CVE-2017-7957, jessie 1.4.7-2+deb8u2) is the other jessie line: no rating anywhere.
    assert.deepEqual(findings.map((x) => `${x.id} ${x.severity}`), ['CVE-2016-3674 High', 'CVE-2017-7957 Unknown']);
  });

  test('chooseSeverity: vendor Unknown is skipped; v3 before v2 whatever the scores', async () => {
    assert.deepEqual(
      chooseSeverity([
        { source: 'debian', type: 'vendor', value: 'not yet assigned', normalized: 'Unknown' },
        { source: 'nvd', type: 'CVSS_V2', value: 'AV:N/AC:L/Au:N/C:C/I:C/A:C', score: 10, normalized: 'High' },
        { source: 'nvd', type: 'CVSS_V3', value: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N', score: 4.6, normalized: 'Medium' },
      ]),
      { severity: 'Medium', source: 'nvd CVSS_V3 4.6' },
    );
    assert.deepEqual(chooseSeverity([]), { severity: 'Unknown', source: 'none' });
  });
});

describe('matcher: what is never reported', () => {
  test('withdrawn advisories (RUSTSEC-2021-0135, withdrawn 2022-08-14)', async () => {
    // crates.io/RUSTSEC-2021-0135.json: tower-http [0.0.0-0, 0.1.3) ∪ [0.2.0, 0.2.1), withdrawn.
    const rustsec = osvFeed.parse(feedFiles('osv', 'crates.io', 'RUSTSEC-2021-0135.json')).advisories;
    assert.ok(rustsec[0]?.withdrawn);
    const rec: PackageRecord = { ecosystem: 'cargo', name: 'tower-http', version: '0.2.0', path: 'app/Cargo.lock' };
    const result = await matchInventory(inventoryOf([rec]), memorySource(rustsec), { includeNotAffected: true });
    assert.deepEqual(result.findings, []);
    assert.deepEqual(result.notAffected, []);
    // The same record without its withdrawal would match: the guard is what keeps it out.
    const live = { ...(rustsec[0] as Advisory) };
    delete live.withdrawn;
    assert.equal((await matchInventory(inventoryOf([rec]), memorySource([live]))).findings.length, 1);
  });

  test('an installed version the scheme cannot read: one warning per package, no finding', async () => {
    const uct = ubuntuUctFeed.parse([...feedFiles('ubuntu', 'uct-active', 'CVE-2019-9169'), ...feedFiles('ubuntu', 'uct-active', 'CVE-2019-9674')]).advisories;
    const bad = deb('libc6', 'not a version!', 'glibc', 'not a version!');
    const result = await matchInventory(inventoryOf([bad]), memorySource(uct));
    assert.deepEqual(result.findings, []);
    assert.equal(result.warnings.length, 1, 'the package has no namespace (no distro): one no-namespace warning');
    const withDistro = await matchInventory(inventoryOf([bad], bionic), memorySource(uct));
    assert.deepEqual(withDistro.findings, []);
    assert.deepEqual(
      withDistro.warnings.map((w) => w.code),
      ['invalid-version'],
    );
  });

  test('bug-fix and enhancement errata naming no CVE (ALBA-2020:4538 logrotate) are no vulnerability', async () => {
    // osv/AlmaLinux/almalinux8/ALBA-2020_4538.json: "logrotate bug fix and enhancement update", fixed
    // 3.14.0-4.el8, no CVE anywhere. ALBA-2025:20841 (almalinux9, open-vm-tools) references CVE-2025-22247.
    const alba = osvFeed.parse([...feedFiles('osv', 'AlmaLinux', 'almalinux8', 'ALBA-2020_4538.json'), ...feedFiles('osv', 'AlmaLinux', 'almalinux9', 'ALBA-2025_20841.json')]).advisories;
    const rpm = (name: string, version: string, sourceName = name): PackageRecord => ({ ecosystem: 'rpm', name, version, sourceName, sourceVersion: version, arch: 'x86_64', path: 'var/lib/rpm/rpmdb.sqlite' });
    const el8 = await matchInventory(inventoryOf([rpm('logrotate', '3.14.0-3.el8')], { id: 'almalinux', versionId: '8.2', source: 'etc/os-release' }), memorySource(alba));
    assert.deepEqual(el8.findings, []);
    const el9 = await matchInventory(inventoryOf([rpm('open-vm-tools-desktop', '12.5.0-1.el9', 'open-vm-tools')], { id: 'almalinux', versionId: '9.6', source: 'etc/os-release' }), memorySource(alba));
    assert.deepEqual(el9.findings.map((f) => [f.id, f.aliases, f.fixedVersions]), [['CVE-2025-22247', ['ALBA-2025:20841'], ['13.0.0-1.el9_7.1']]]);
  });
});

describe('matcher: distribution advisories that fix no vulnerability', () => {
  const dla = debianDlaFeed.parse(feedFiles('debian', 'DLA-list')).advisories;
  const byId = (id: string) => dla.find((a) => a.id === id) as Advisory;

  test('Debian bug-fix, new-upstream, end-of-life and regression updates are left out; security updates stay', async () => {
    // DLA-list: "DLA-3189-1 postgresql-11 - bugfix update" (no ids); "DLA-3316-1 postgresql-11 - security
    // update" (no ids); "DLA-3315-2 sox - regression update" (no ids); "DLA-3331-2 ... - regression update"
    // (with CVE ids); "DLA-3220-1 ... - new upstream version"; "DLA-3067-1 ... - end-of-life".
    assert.equal(byId('DLA-3189-1').title, 'postgresql-11 - bugfix update');
    assert.equal(isNonSecurityAdvisory(byId('DLA-3189-1')), true);
    assert.equal(isNonSecurityAdvisory(byId('DLA-3316-1')), false);
    assert.equal(isNonSecurityAdvisory(byId('DLA-3315-2')), true);
    assert.ok(byId('DLA-3331-2').aliases.length > 0);
    assert.equal(isNonSecurityAdvisory(byId('DLA-3331-2')), true);
    assert.equal(isNonSecurityAdvisory(byId('DLA-3220-1')), true);
    assert.equal(isNonSecurityAdvisory(byId('DLA-3067-1')), true);
    const pg = deb('postgresql-client-11', '11.17-0+deb10u1', 'postgresql-11');
    assert.deepEqual((await matchInventory(inventoryOf([pg], debian('10')), memorySource(dla))).findings.map((f) => f.id), ['DLA-3316-1']);
  });
});

describe('matcher: binary and source names, arches, module streams', () => {
  const rpm = (name: string, version: string, sourceName: string, extra: Partial<PackageRecord> = {}): PackageRecord => ({
    ecosystem: 'rpm',
    name,
    version,
    sourceName,
    sourceVersion: version,
    arch: 'x86_64',
    path: 'var/lib/rpm/rpmdb.sqlite',
    ...extra,
  });
  const alma9 = { id: 'almalinux', versionId: '9.4', source: 'etc/os-release' };
  const stmt = (packageName: string, nameKind: 'source' | 'binary', extra: Record<string, unknown> = {}): Advisory => ({
    id: 'CVE-2099-0001',
    aliases: [],
    feed: 'test',
    severities: [],
    references: [],
    affected: [{ ecosystem: 'rpm', namespace: 'almalinux:9', packageName, nameKind, scheme: 'rpm', state: 'fixed', ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '2.0-1.el9' }] }], versions: [], ...extra }],
  });

  test('a binary statement meets the binary name even when source and binary share it; a source statement the source name', async () => {
    const libxml2 = rpm('libxml2', '1.0-1.el9', 'libxml2');
    assert.equal((await matchInventory(inventoryOf([libxml2], alma9), memorySource([stmt('libxml2', 'binary')]))).findings.length, 1);
    assert.equal((await matchInventory(inventoryOf([libxml2], alma9), memorySource([stmt('libxml2', 'source')]))).findings.length, 1);
    const python3 = rpm('python3', '1.0-1.el9', 'python3.9');
    assert.equal((await matchInventory(inventoryOf([python3], alma9), memorySource([stmt('python3.9', 'source')]))).findings.length, 1);
    assert.equal((await matchInventory(inventoryOf([python3], alma9), memorySource([stmt('python3.9', 'binary')]))).findings.length, 0, 'a binary statement never meets a source name');
    assert.equal((await matchInventory(inventoryOf([python3], alma9), memorySource([stmt('python3', 'source')]))).findings.length, 0, 'a source statement never meets a binary name');
  });

  test('arches and module streams limit a statement', async () => {
    const p = rpm('nodejs', '1.5-1.module_el9.1.0+1+abc', 'nodejs', { modularityLabel: 'nodejs:18:9010020221005:abc' });
    assert.equal((await matchInventory(inventoryOf([p], alma9), memorySource([stmt('nodejs', 'binary', { arches: ['aarch64'], module: 'nodejs:18' })]))).findings.length, 0);
    assert.equal((await matchInventory(inventoryOf([p], alma9), memorySource([stmt('nodejs', 'binary', { arches: ['x86_64'], module: 'nodejs:18' })]))).findings.length, 1);
    assert.equal((await matchInventory(inventoryOf([p], alma9), memorySource([stmt('nodejs', 'binary', { module: 'nodejs:20' })]))).findings.length, 0);
    assert.equal((await matchInventory(inventoryOf([p], alma9), memorySource([stmt('nodejs', 'binary', { module: 'nodejs:18' })]))).findings.length, 1);
    assert.equal((await matchInventory(inventoryOf([p], alma9), memorySource([stmt('nodejs', 'binary')]))).findings.length, 0, 'a statement outside modules needs a build outside modules');
    const plain = rpm('nodejs', '1.5-1.el9', 'nodejs');
    assert.equal((await matchInventory(inventoryOf([plain], alma9), memorySource([stmt('nodejs', 'binary', { module: 'nodejs:18' })]))).findings.length, 0, 'a module statement needs a module build');
    assert.equal((await matchInventory(inventoryOf([plain], alma9), memorySource([stmt('nodejs', 'binary', { arches: ['x86_64'] })]))).findings.length, 1);
  });
});

describe('matcher: includeNotAffected', () => {
  test('not-affected statements and fixed versions already installed are reported apart, with why', async () => {
    // ubuntu/uct-active/CVE-2014-9913: "bionic_unzip: not-affected (6.0-21ubuntu1)";
    // CVE-2016-9401: "bionic_bash: released (4.4-5ubuntu1)"; CVE-2019-9169: "bionic_glibc: needed".
    const uct = ubuntuUctFeed.parse(['CVE-2014-9913', 'CVE-2016-9401', 'CVE-2019-9169'].flatMap((c) => feedFiles('ubuntu', 'uct-active', c))).advisories;
    const inv = inventoryOf([deb('unzip', '6.0-21ubuntu1'), deb('bash', '4.4.18-2ubuntu1.2'), deb('libc6', '2.27-3ubuntu1', 'glibc')], bionic);
    const plain = await matchInventory(inv, memorySource(uct));
    assert.equal(plain.notAffected, undefined);
    assert.deepEqual(plain.findings.map((f) => `${f.package.name} ${f.id}`), ['libc6 CVE-2019-9169']);
    const full = await matchInventory(inv, memorySource(uct), { includeNotAffected: true });
    assert.deepEqual(full.findings, plain.findings);
    assert.deepEqual(
      full.notAffected?.map((f) => [f.package.name, f.id, f.state, f.why.rule]),
      [
        ['bash', 'CVE-2016-9401', 'not_affected', 'dpkg: 4.4.18-2ubuntu1.2 is not in [0, 4.4-5ubuntu1)'],
        ['unzip', 'CVE-2014-9913', 'not_affected', 'vendor states not affected'],
      ],
    );
  });
});

describe('matcher: coverage and warnings', () => {
  test('a namespace without data is flagged; language namespaces too', async () => {
    const uct = ubuntuUctFeed.parse(feedFiles('ubuntu', 'uct-active', 'CVE-2019-9169')).advisories;
    const jar: PackageRecord = { ecosystem: 'maven', name: 'org.slf4j:slf4j-api', version: '1.7.32', path: 'usr/share/java/slf4j-api.jar' };
    const inv = inventoryOf([deb('libc6', '2.27-3ubuntu1', 'glibc'), jar], { id: 'ubuntu', versionId: '20.04', source: 'etc/os-release' });
    const result = await matchInventory(inv, memorySource(uct));
    assert.deepEqual(result.findings, []);
    assert.deepEqual(result.coverage, [
      { ecosystem: 'deb', namespace: 'ubuntu:20.04', packages: 1, hasData: false },
      { ecosystem: 'maven', namespace: 'Maven', packages: 1, hasData: false },
    ]);
    assert.deepEqual(result.warnings.map((w) => w.message), [
      'matcher: the vulnerability database has no data for ubuntu:20.04; its 1 deb package(s) were not checked',
      'matcher: the vulnerability database has no data for Maven; its 1 maven package(s) were not checked',
    ]);
  });

  test('OS packages of a distribution no feed knows', async () => {
    const inv = inventoryOf([deb('libc6', '2.27-3ubuntu1', 'glibc')], { id: 'gentoo', source: 'etc/os-release' });
    const result = await matchInventory(inv, memorySource([]));
    assert.deepEqual(result.warnings.map((w) => w.code), ['no-namespace']);
    assert.deepEqual(result.coverage, []);
  });

  test('an empty inventory: nothing at all, and no query', async () => {
    const source = memorySource(tracker);
    assert.deepEqual(await matchInventory(inventoryOf([]), source), { findings: [], warnings: [], coverage: [] });
    assert.equal(source.queries, 0);
  });

  test('the store is asked in one batch for every group, and an abort stops the match with E_CANCELLED', async () => {
    const uct = ubuntuUctFeed.parse(feedFiles('ubuntu', 'uct-active', 'CVE-2019-9169')).advisories;
    // Written from OSV's schema: below 9.9.9 affected.
    const advisoryOf = (ecosystem: 'npm' | 'pypi', namespace: string, packageName: string): Advisory => ({
      id: `TEST-${ecosystem}`,
      aliases: [],
      feed: 'osv',
      severities: [],
      references: [],
      affected: [{ ecosystem, namespace, packageName, nameKind: 'binary', scheme: ecosystem === 'npm' ? 'npm' : 'pep440', state: 'fixed', ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '9.9.9' }] }], versions: [] }],
    });
    const inv = inventoryOf([deb('libc6', '2.27-3ubuntu1', 'glibc'), { ecosystem: 'npm', name: 'left-pad', version: '1.0.0', path: 'app/node_modules' }, { ecosystem: 'pypi', name: 'requests', version: '2.0.0', path: 'app/site-packages' }], bionic);
    const source = memorySource([...uct, advisoryOf('npm', 'npm', 'left-pad'), advisoryOf('pypi', 'PyPI', 'requests')]);
    const result = await matchInventory(inv, source);
    assert.deepEqual(result.coverage.map((c) => c.namespace), ['ubuntu:18.04', 'npm', 'PyPI']);
    assert.deepEqual(result.findings.map((f) => f.id).sort(), ['CVE-2019-9169', 'TEST-npm', 'TEST-pypi']);
    assert.deepEqual([source.batches, source.queries], [1, 3], 'three groups, one call');
    const controller = new AbortController();
    controller.abort(new Error('job lease lost'));
    await assert.rejects(matchInventory(inv, source, { signal: controller.signal }), (err) => isPortcullisError(err, 'E_CANCELLED') && /matching: cancelled \(job lease lost\)/.test(err.message));
  });
});

describe('matcher: language packages the distribution installed, known by the path heuristic only', () => {
  test('skip leaves them to their distribution package; distro (no owner to ask) and report match them', async () => {
    // rubysec/gems/rack/CVE-2026-34830.yml: patched "~> 2.2.23", "~> 3.1.21", ">= 3.2.6".
    const rubysec = rubysecFeed.parse(feedFiles('rubysec', 'gems', 'rack', 'CVE-2026-34830.yml')).advisories;
    const gem: PackageRecord = { ecosystem: 'gem', name: 'rack', version: '2.2.22', path: 'usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec', attributes: { distroPackaged: 'debian' } };
    const inv = inventoryOf([deb('ruby-rack', '2.2.22-0+deb12u2'), gem], debian('12'));
    const source = memorySource([...rubysec, ...tracker]);
    assert.equal((await matchInventory(inv, source)).findings.length, 1);
    assert.equal((await matchInventory(inv, source)).findings[0]?.why.distro, undefined, 'no owner: nothing to ask');
    assert.equal((await matchInventory(inv, source, { osOwned: 'report' })).findings.length, 1);
    const skipped = await matchInventory(inv, source, { osOwned: 'skip' });
    assert.deepEqual(skipped.findings, []);
    assert.deepEqual(skipped.coverage.find((c) => c.ecosystem === 'gem'), { ecosystem: 'gem', namespace: 'RubyGems', packages: 0, hasData: true, distroPackaged: 1 });
  });
});

describe('matcher: purity', () => {
  test('the same stored inventory, re-read from JSON, gives the same findings and is not modified', async () => {
    const source = memorySource(dsa, enrichment);
    const inv = inventoryOf([deb('liblog4j2-java', '2.11.1-2', 'apache-log4j2'), deb('libxstream-java', '1.4.7-1')], debian('10'));
    const before = JSON.stringify(inv);
    const first = await matchInventory(inv, source);
    assert.equal(JSON.stringify(inv), before);
    const stored = JSON.parse(before) as typeof inv;
    assert.deepEqual(await matchInventory(stored, source), first);
    assert.equal(first.findings[0]?.feed.fetchedAt, undefined, 'no feed metadata in this source');
    const dated = memorySource(dsa, enrichment, [{ feed: 'debian-dsa', source: 'test', fetchedAt: FETCHED_AT, recordCount: dsa.length, skipped: 0 }]);
    assert.equal((await matchInventory(inv, dated)).findings[0]?.feed.fetchedAt, FETCHED_AT);
  });
});
