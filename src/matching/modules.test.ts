/**
 * rpm module streams (RHEL-family AppStream modules) against real AlmaLinux OSV records and Red Hat
 * CSAF advisories. A build carries a modularity label (`name:stream:version:context`, read by the
 * rpm detector from RPMTAG_MODULARITYLABEL); a statement may name a stream (`AffectedPackage.module`).
 * A build is judged only by statements about its own stream, and a build outside modules only by
 * statements outside modules, as claircore (its `PackageModule` constraint) and Red Hat read them.
 *
 * The inventories are hand-built: real package names, versions chosen against the real records'
 * fixed versions (the releases and labels of the installed builds are made up in the Alma/RHEL
 * spelling). Each expected finding is derived by hand from the record cited beside it; "by version
 * alone" notes say what the version comparison without the stream rule would have reported.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Distro } from '../domain/distro.js';
import type { Finding } from '../domain/finding.js';
import type { PackageRecord } from '../domain/package.js';
import { osvFeed } from '../feeds/osv/index.js';
import { matchInventory } from './matcher.js';
import { memorySource } from './test-support/memory-source.js';
import { buildRealDb, feedFiles, inventoryOf, type RealDb } from './test-support/real-data.js';

const rpm = (name: string, version: string, sourceName: string, modularityLabel?: string, arch = 'x86_64'): PackageRecord => ({
  ecosystem: 'rpm',
  name,
  version,
  sourceName,
  sourceVersion: version,
  arch,
  ...(modularityLabel !== undefined ? { modularityLabel } : {}),
  path: 'var/lib/rpm/rpmdb.sqlite',
});

/** Per package (name and version): the advisories its findings came from, and how many findings. */
function summary(findings: Finding[]): Record<string, { advisories: string[]; findings: number }> {
  const out: Record<string, { advisories: string[]; findings: number }> = {};
  for (const f of findings) {
    const key = `${f.package.name} ${f.package.version}`;
    const entry = (out[key] ??= { advisories: [], findings: 0 });
    entry.findings++;
    // Distribution fix advisories are reported per CVE, the advisory id first among the aliases.
    for (const id of f.aliases) if (!id.startsWith('CVE-') && !entry.advisories.includes(id)) entry.advisories.push(id);
  }
  for (const entry of Object.values(out)) entry.advisories.sort();
  return out;
}

const alma = (versionId: string): Distro => ({ id: 'almalinux', versionId, source: 'etc/os-release' });

describe('rpm module streams: AlmaLinux OSV', () => {
  // Every AlmaLinux sample record (8, 9 and 10): the other records must not meet these packages either.
  const source = memorySource(osvFeed.parse(feedFiles('osv', 'AlmaLinux')).advisories);

  test('AlmaLinux 9 nodejs: the default stream meets the plain records, the nodejs:18 build the module record only', async () => {
    // almalinux9/ALSA-2023_2655.json (6 CVEs in its references), ALSA-2023_5532.json (3) and
    // ALSA-2023_5765.json (1): "nodejs ... security update" of the default stream (Node 16, outside
    // modules): nodejs fixed 1:16.19.1-1.el9_2 / 1:16.20.2-1.el9_2 / 1:16.20.2-3.el9_2, npm fixed
    // 1:8.19.3-1.16.19.1.1.el9_2 / 1:8.19.4-1.16.20.2.1.el9_2 / 1:8.19.4-1.16.20.2.3.el9_2.
    // almalinux9/ALSA-2024_1503.json "Important: nodejs:18 security update" (CVE-2023-46809,
    // CVE-2024-21892, CVE-2024-22019): nodejs fixed 1:18.19.1-1.module_el9.3.0+59+28b95644, npm fixed
    // 1:10.2.4-1.18.19.1.1.module_el9.3.0+59+28b95644; the parser gives these statements module nodejs:18.
    const inventory = inventoryOf(
      [
        // Outside modules, below every Node 16 fix: the three plain records (10 CVEs each package);
        // not ALSA-2024:1503, a nodejs:18 record (by version alone 1:16.18.1 < 1:18.19.1: 3 more).
        rpm('nodejs', '1:16.18.1-3.el9_1', 'nodejs'),
        rpm('npm', '1:8.19.2-1.16.18.1.3.el9_1', 'nodejs'),
        // nodejs:18 builds below the module fix: ALSA-2024:1503 only (3 CVEs each). The plain records'
        // fixes are Node 16 builds: not its stream (and below it).
        rpm('nodejs', '1:18.14.2-2.module_el9.2.0+32+ab0ee9e9', 'nodejs', 'nodejs:18:9020020230413131800:rhel9'),
        rpm('npm', '1:9.5.0-1.18.14.2.2.module_el9.2.0+32+ab0ee9e9', 'nodejs', 'nodejs:18:9020020230413131800:rhel9'),
        // A nodejs:20 build: no record in the samples is about nodejs:20, and the plain records are
        // not about a module build.
        rpm('nodejs', '1:20.5.1-1.module_el9.2.0+38+2da1e8d7', 'nodejs', 'nodejs:20:9020020230801111520:rhel9'),
      ],
      alma('9.2'),
    );
    const { findings, warnings } = await matchInventory(inventory, source);
    assert.deepEqual(warnings, []);
    assert.deepEqual(summary(findings), {
      'nodejs 1:16.18.1-3.el9_1': { advisories: ['ALSA-2023:2655', 'ALSA-2023:5532', 'ALSA-2023:5765'], findings: 10 },
      'npm 1:8.19.2-1.16.18.1.3.el9_1': { advisories: ['ALSA-2023:2655', 'ALSA-2023:5532', 'ALSA-2023:5765'], findings: 10 },
      'nodejs 1:18.14.2-2.module_el9.2.0+32+ab0ee9e9': { advisories: ['ALSA-2024:1503'], findings: 3 },
      'npm 1:9.5.0-1.18.14.2.2.module_el9.2.0+32+ab0ee9e9': { advisories: ['ALSA-2024:1503'], findings: 3 },
    });
    const module18 = findings.filter((f) => f.package.version === '1:18.14.2-2.module_el9.2.0+32+ab0ee9e9');
    assert.deepEqual(module18.map((f) => f.id).sort(), ['CVE-2023-46809', 'CVE-2024-21892', 'CVE-2024-22019']);
    assert.deepEqual(module18[0]?.fixedVersions, ['1:18.19.1-1.module_el9.3.0+59+28b95644']);
    // The stream is part of the evidence.
    assert.match(module18[0]?.why.advisory ?? '', /^osv ALSA-2024:1503 \(fixes CVE-\S+\) almalinux:9 nodejs \(binary, module nodejs:18\): fixed in 1:18\.19\.1-1\.module_el9\.3\.0\+59\+28b95644$/);
  });

  test('a record outside modules does not meet a module build, even one below its fix', async () => {
    // almalinux9/ALSA-2023_2655.json (nodejs of the default stream, outside modules; CVE-2022-4904,
    // CVE-2022-25881, CVE-2023-23918, CVE-2023-23920, CVE-2023-23936, CVE-2023-24807): nodejs fixed
    // 1:16.19.1-1.el9_2. AlmaLinux 9 ships Node 16 outside modules only, so the module build below is
    // made up (a nodejs:16 stream as RHEL 8 has one) to put a module build under a plain record's fix:
    // by version alone (1:16.14.0 < 1:16.19.1) it would get the record's 6 CVEs; it is another build.
    const inventory = inventoryOf(
      [
        rpm('nodejs', '1:16.14.0-5.module_el9.0.0+9+5d4fa1c3', 'nodejs', 'nodejs:16:9000020220601000000:rhel9'),
        // The same version outside modules: the record applies.
        rpm('nodejs', '1:16.14.0-5.el9_0', 'nodejs'),
      ],
      alma('9.0'),
    );
    const { findings } = await matchInventory(inventory, source);
    assert.deepEqual(summary(findings), { 'nodejs 1:16.14.0-5.el9_0': { advisories: ['ALSA-2023:2655', 'ALSA-2023:5532', 'ALSA-2023:5765'], findings: 10 } });
  });

  test('AlmaLinux 9 ruby: each build meets its own stream only; the default ruby none of the module records', async () => {
    // almalinux9/ALSA-2024_10860.json "ruby:3.1 security update" (CVE-2024-49761): ruby-libs fixed
    // 3.1.5-145.module_el9.5.0+129+9ba7e8b1. ALSA-2024_3671.json "ruby:3.3 ..." (CVE-2024-27280,
    // -27281, -27282): ruby-libs fixed 3.3.1-2.module_el9.4.0+102+68a93853. ALSA-2026_20596.json
    // "ruby:4.0 ..." (CVE-2026-33210, CVE-2026-41316): ruby-libs fixed 4.0.3-32.module_el9.8.0+251+5fdbd96b.
    // The samples hold no record about the default ruby (3.0, outside modules).
    const inventory = inventoryOf(
      [
        // Default stream: none (by version alone below all three fixes: 6 findings).
        rpm('ruby-libs', '3.0.4-160.el9_0', 'ruby'),
        // ruby:3.1 build below its fix: ALSA-2024:10860 only (by version alone also ALSA-2024:3671
        // and ALSA-2026:20596: 3.1.2 < 3.3.1 < 4.0.3).
        rpm('ruby-libs', '3.1.2-141.module_el9.1.0+13+7f2a8a4c', 'ruby', 'ruby:3.1:9010020221119221829:rhel9'),
        // ruby:3.3 build at its fix: none (by version alone ALSA-2026:20596).
        rpm('ruby-libs', '3.3.1-2.module_el9.4.0+102+68a93853', 'ruby', 'ruby:3.3:9040020240508110525:rhel9'),
      ],
      alma('9.4'),
    );
    const { findings } = await matchInventory(inventory, source);
    assert.deepEqual(
      findings.map((f) => [f.package.version, f.id, f.aliases, f.fixedVersions]),
      [['3.1.2-141.module_el9.1.0+13+7f2a8a4c', 'CVE-2024-49761', ['ALSA-2024:10860'], ['3.1.5-145.module_el9.5.0+129+9ba7e8b1']]],
    );
  });

  test('AlmaLinux 8: a record naming two streams (pki-core:10.6 and pki-deps:10.6) meets builds of those streams only', async () => {
    // almalinux8/ALSA-2020_1644.json "Moderate: pki-core:10.6 and pki-deps:10.6 security, bug fix, and
    // enhancement update": xalan-j2 fixed 2.7.1-38.module_el8.5.0+2577+9e95fe00; 12 CVEs in its
    // related ids and references. The record does not say which stream holds xalan-j2 (pki-deps
    // does), so the parser states it for both streams.
    // almalinux8/ALSA-2026_41948.json "Important: javapackages-tools:201801 security update"
    // (CVE-2025-67030): xalan-j2 fixed 2.7.1-38.module_el8.0.0+6004+2fc32706 (an older module build
    // number than the pki-deps one: rpm orders `module_el8.0.0` below `module_el8.5.0`).
    const inventory = inventoryOf(
      [
        // The javapackages-tools build named by ALSA-2026:41948 (installed = fixed): nothing. By
        // version alone ALSA-2020:1644 (el8.0.0 < el8.5.0) would report its 12 CVEs: it is about pki-*.
        rpm('xalan-j2', '2.7.1-38.module_el8.0.0+6004+2fc32706', 'xalan-j2', 'javapackages-tools:201801:8000020190628172923:b07bea58', 'noarch'),
        // An earlier pki-deps:10.6 build: ALSA-2020:1644's 12 CVEs, not ALSA-2026:41948 (other stream).
        rpm('xalan-j2', '2.7.1-38.module_el8.3.0+530+9e7a2b1c', 'xalan-j2', 'pki-deps:10.6:8030020201102145434:9edba152', 'noarch'),
        // Outside modules: neither record.
        rpm('xalan-j2', '2.7.1-30.el8', 'xalan-j2', undefined, 'noarch'),
      ],
      alma('8.3'),
    );
    const { findings } = await matchInventory(inventory, source);
    assert.deepEqual(summary(findings), { 'xalan-j2 2.7.1-38.module_el8.3.0+530+9e7a2b1c': { advisories: ['ALSA-2020:1644'], findings: 12 } });
    assert.deepEqual(
      findings.map((f) => f.id).sort(),
      [
        'CVE-2019-14540',
        'CVE-2019-16335',
        'CVE-2019-16942',
        'CVE-2019-16943',
        'CVE-2019-17531',
        'CVE-2019-20330',
        'CVE-2020-10672',
        'CVE-2020-10673',
        'CVE-2020-8840',
        'CVE-2020-9546',
        'CVE-2020-9547',
        'CVE-2020-9548',
      ],
    );
    assert.ok(findings.every((f) => f.fixedVersions.join() === '2.7.1-38.module_el8.5.0+2577+9e95fe00'));
    assert.ok(findings.every((f) => f.why.advisory.includes('xalan-j2 (binary, module pki-deps:10.6)')), 'the stream that matched is the evidence');
  });
});

describe('rpm module streams: Red Hat CSAF, through the real vulnerability DB', () => {
  let real: RealDb;
  before(async () => {
    real = await buildRealDb();
  });
  // Guarded: when before() failed the value was never set, and a TypeError here would hide that failure.
  after(() => real?.dispose());

  test('RHEL 8 ruby:2.5 and ruby:2.7 builds meet their own RHSA only; a build outside modules neither', async () => {
    // rhel/csaf/rhsa-2023_7025.json RHSA-2023:7025 "ruby:2.5 security update" (CVE-2021-33621,
    // CVE-2022-28739, CVE-2023-28755, CVE-2023-28756): ruby-libs fixed 2.5.9-111.module+el8.9.0+19193+435404ae,
    // purl qualifier rpmmod=ruby:2.5:... -> module ruby:2.5.
    // rhel/csaf/rhsa-2023_3821.json RHSA-2023:3821 "ruby:2.7 security, bug fix, and enhancement update"
    // (CVE-2021-33621, CVE-2023-28755, CVE-2023-28756): ruby-libs fixed 2.7.8-139.module+el8.8.0+18745+f1bef313,
    // module ruby:2.7. No other sample speaks of ruby-libs in rhel:8.
    const inventory = inventoryOf(
      [
        // ruby:2.5 build below its fix: RHSA-2023:7025's 4 CVEs. By version alone RHSA-2023:3821 too
        // (2.5.9 < 2.7.8): it would have added its id and its ruby:2.7 fix to three of those findings.
        rpm('ruby-libs', '2.5.9-110.module+el8.6.0+15956+aa803fc1', 'ruby', 'ruby:2.5:8060020220204080000:b4937e53'),
        // ruby:2.7 build below its fix: RHSA-2023:3821's 3 CVEs.
        rpm('ruby-libs', '2.7.6-138.module+el8.7.0+15051+ed4dbb9a', 'ruby', 'ruby:2.7:8070020220726113553:63b34585'),
        // Outside modules (a rebuild without a label): neither (by version alone both: 2.5.1 < 2.5.9).
        rpm('ruby-libs', '2.5.1-1.el8', 'ruby'),
      ],
      { id: 'rhel', versionId: '8.8', source: 'etc/os-release' },
    );
    const { findings } = await matchInventory(inventory, real.db);
    assert.deepEqual(
      findings.map((f) => [f.package.version, f.id, f.aliases, f.fixedVersions]).sort((a, b) => `${a[0]} ${a[1]}`.localeCompare(`${b[0]} ${b[1]}`)),
      [
        ['2.5.9-110.module+el8.6.0+15956+aa803fc1', 'CVE-2021-33621', ['RHSA-2023:7025'], ['2.5.9-111.module+el8.9.0+19193+435404ae']],
        ['2.5.9-110.module+el8.6.0+15956+aa803fc1', 'CVE-2022-28739', ['RHSA-2023:7025'], ['2.5.9-111.module+el8.9.0+19193+435404ae']],
        ['2.5.9-110.module+el8.6.0+15956+aa803fc1', 'CVE-2023-28755', ['RHSA-2023:7025'], ['2.5.9-111.module+el8.9.0+19193+435404ae']],
        ['2.5.9-110.module+el8.6.0+15956+aa803fc1', 'CVE-2023-28756', ['RHSA-2023:7025'], ['2.5.9-111.module+el8.9.0+19193+435404ae']],
        ['2.7.6-138.module+el8.7.0+15051+ed4dbb9a', 'CVE-2021-33621', ['RHSA-2023:3821'], ['2.7.8-139.module+el8.8.0+18745+f1bef313']],
        ['2.7.6-138.module+el8.7.0+15051+ed4dbb9a', 'CVE-2023-28755', ['RHSA-2023:3821'], ['2.7.8-139.module+el8.8.0+18745+f1bef313']],
        ['2.7.6-138.module+el8.7.0+15051+ed4dbb9a', 'CVE-2023-28756', ['RHSA-2023:3821'], ['2.7.8-139.module+el8.8.0+18745+f1bef313']],
      ],
    );
  });
});
