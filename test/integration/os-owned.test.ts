/**
 * Language packages installed by an OS package, end to end through the real CLI: the dpkg file
 * lists are read in the layer walk, the owner is shown in every report, and `--os-owned` decides
 * whether the distribution's records judge them. Feeds: the real DB built from shared/data/feeds.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Finding } from '../../src/domain/finding.js';
import { importFeeds } from '../../src/vulndb/index.js';
import { testImages } from '../harness/images.js';
import { runCli } from '../support/run-cli.js';
import { sharedData } from '../support/shared-data.js';

interface JsonReport {
  report: { findings: Finding[]; notAffected?: Finding[] };
}

const lang = testImages().images.lang;
const pypi = (findings: Finding[] | undefined): string[] => (findings ?? []).filter((f) => f.package.ecosystem === 'pypi').map((f) => f.id).sort();

describe('portcullis scan --os-owned', () => {
  let dir: string;
  let db: string;
  let stretch: string;
  // The real feeds are a 2026 snapshot: older than --offline's default 7-day limit, so accept any age.
  const common = (): string[] => ['--db', db, '--offline', '--max-db-age', '36500d', '--no-cache'];
  const scan = async (ref: string, ...args: string[]): Promise<JsonReport> => {
    const res = await runCli(['scan', ref, '--format', 'json', ...args, ...common()]);
    assert.ok(res.code === 0 || res.code === 1, res.stderr);
    return JSON.parse(res.stdout) as JsonReport;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-os-owned-'));
    db = join(dir, 'vuln.db');
    await importFeeds([sharedData('feeds')], { target: db });
    // A Debian 9 root filesystem this test builds: python3-urllib3 1.19.1-1+deb9u1 (the version
    // debian/DLA-list's DLA-2686-1 fixed CVE-2018-20060, CVE-2019-11236, CVE-2019-11324 and
    // CVE-2020-26137 in, for stretch) holding urllib3 1.19.1's egg-info, as its dpkg file list says.
    // PyPI (osv/PyPI/urllib3): PYSEC-2018-32, PYSEC-2019-133 and PYSEC-2021-108 (CVE-2021-33503,
    // which DLA-2686-1 does not name) affect 1.19.1.
    stretch = join(dir, 'stretch');
    const files: Record<string, string> = {
      'etc/os-release': 'PRETTY_NAME="Debian GNU/Linux 9 (stretch)"\nNAME="Debian GNU/Linux"\nVERSION_ID="9"\nVERSION="9 (stretch)"\nID=debian\n',
      'var/lib/dpkg/status':
        'Package: python3-urllib3\nStatus: install ok installed\nPriority: optional\nSection: python\nMaintainer: Debian Python Modules Team <python-modules-team@lists.alioth.debian.org>\nArchitecture: all\nSource: python-urllib3\nVersion: 1.19.1-1+deb9u1\nDescription: HTTP library with thread-safe connection pooling for Python3\n\n',
      'var/lib/dpkg/info/python3-urllib3.list': '/.\n/usr\n/usr/lib\n/usr/lib/python3\n/usr/lib/python3/dist-packages\n/usr/lib/python3/dist-packages/urllib3-1.19.1.egg-info\n/usr/lib/python3/dist-packages/urllib3-1.19.1.egg-info/PKG-INFO\n',
      'usr/lib/python3/dist-packages/urllib3-1.19.1.egg-info/PKG-INFO': 'Metadata-Version: 1.1\nName: urllib3\nVersion: 1.19.1\nSummary: HTTP library with thread-safe connection pooling, file post, and more.\nLicense: MIT\n',
    };
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(stretch, path)), { recursive: true });
      await writeFile(join(stretch, path), text);
    }
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('distro (default): the fixes DLA-2686-1 backported clear their PyPI findings; the rest stay, with the owner', async () => {
    const doc = await scan(`dir:${stretch}`, '--include-not-affected');
    assert.deepEqual(pypi(doc.report.findings), ['PYSEC-2021-108']);
    const kept = doc.report.findings.find((f) => f.id === 'PYSEC-2021-108');
    assert.deepEqual(kept?.package.osOwner, { ecosystem: 'deb', name: 'python3-urllib3', version: '1.19.1-1+deb9u1', sourceName: 'python-urllib3', sourceVersion: '1.19.1-1+deb9u1', arch: 'all' });
    assert.match(kept?.why.distro ?? '', /debian:9 has no record of CVE-2021-33503/);
    const cleared = (doc.report.notAffected ?? []).filter((f) => f.why.distro !== undefined);
    assert.deepEqual(pypi(cleared), ['PYSEC-2018-32', 'PYSEC-2019-133']);
    for (const f of cleared) assert.match(f.why.distro ?? '', /not affected per debian-dla DLA-2686-1 debian:9 python-urllib3 \(source\): fixed in 1\.19\.1-1\+deb9u1/);
  });

  test('report keeps all three PyPI findings; skip leaves urllib3 to its deb package', async () => {
    assert.deepEqual(pypi((await scan(`dir:${stretch}`, '--os-owned', 'report')).report.findings), ['PYSEC-2018-32', 'PYSEC-2019-133', 'PYSEC-2021-108']);
    assert.deepEqual(pypi((await scan(`dir:${stretch}`, '--os-owned', 'skip')).report.findings), []);
  });

  test('the table names the owner after the location; --why adds the distribution verdict', async () => {
    const res = await runCli(['scan', `dir:${stretch}`, '--why', ...common()]);
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stdout, /^urllib3 +1\.19\.1 +\/usr\/lib\/python3\/dist-packages\/urllib3-1\.19\.1\.egg-info\/PKG-INFO \(deb python3-urllib3\) +PYSEC-2021-108 .*; distro: deb python3-urllib3 1\.19\.1-1\+deb9u1 \(source python-urllib3\): debian:9 has no record of CVE-2021-33503 for it; kept$/m);
  });

  test('scan sbom:FILE of the SBOM portcullis made gives the same verdicts', async () => {
    const sbom = join(dir, 'stretch.cdx.json');
    const made = await runCli(['sbom', `dir:${stretch}`, '--format', 'cyclonedx', '--output', sbom]);
    assert.equal(made.code, 0, made.stderr);
    assert.deepEqual(pypi((await scan(`sbom:${sbom}`)).report.findings), ['PYSEC-2021-108']);
  });

  test('an unknown mode is a usage error (exit 2), before any image is read', async () => {
    const res = await runCli(['scan', `dir:${stretch}`, '--os-owned', 'ignore', ...common()]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /os-owned/);
    assert.match(res.stderr, /report, distro, skip/);
  });

  test('lang image: findings of Debian-installed packages name their owner; skip drops exactly those', async () => {
    const base = ['--platform', 'linux/amd64'];
    const distro = await scan(lang.ociReference, ...base);
    const owned = distro.report.findings.filter((f) => f.package.osOwner !== undefined);
    // python3-requests 2.28.1+dfsg-1 holds requests 2.28.1 (PYSEC-2023-74: fixed 2.31.0), fzf holds a Go 1.19.8 stdlib.
    const requests = owned.find((f) => f.package.name === 'requests');
    assert.equal(requests?.id, 'PYSEC-2023-74');
    assert.equal(requests?.package.osOwner?.name, 'python3-requests');
    assert.match(requests?.why.distro ?? '', /^deb python3-requests 2\.28\.1\+dfsg-1 \(source requests\): debian:12 has no record of CVE-2023-32681 for it; kept$/);
    assert.ok(owned.some((f) => f.package.name === 'stdlib' && f.package.osOwner?.name === 'fzf'));
    const skip = await scan(lang.ociReference, ...base, '--os-owned', 'skip');
    const key = (f: Finding): string => `${f.id} ${f.package.purl} ${f.package.path}`;
    assert.deepEqual(skip.report.findings.map(key).sort(), distro.report.findings.filter((f) => f.package.osOwner === undefined).map(key).sort());
  });
});
