import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { sharedData } from '../../test/support/shared-data.js';
import type { Distro } from '../domain/distro.js';
import { chooseDistro } from './choose.js';
import { osReleaseDetector } from './detector.js';
import { distroNamespace } from './namespace.js';
import { parseKeyValueFile, parseReleaseFile } from './release-files.js';
import * as S from './test-support/release-samples.js';
import { DEBIAN_RELEASES, debianNamespace } from '../feeds/debian/releases.js';

const read = (path: string, text: string): Distro => {
  const d = parseReleaseFile(path, text);
  assert.ok(d, `${path} names a release`);
  return d;
};

describe('os-release of each distribution', () => {
  const cases: { name: string; text: string; id: string; versionId?: string; codename?: string; variantId?: string; ns: string }[] = [
    { name: 'Debian 12', text: S.DEBIAN_12, id: 'debian', versionId: '12', codename: 'bookworm', ns: 'debian:12' },
    { name: 'Debian 9 (codename from VERSION)', text: S.DEBIAN_9, id: 'debian', versionId: '9', codename: 'stretch', ns: 'debian:9' },
    { name: 'Debian testing/sid', text: S.DEBIAN_TRIXIE_SID, id: 'debian', codename: 'trixie', ns: 'debian:13' },
    { name: 'distroless Debian 12', text: S.DISTROLESS_DEBIAN_12, id: 'debian', versionId: '12', codename: 'bookworm', variantId: 'distroless', ns: 'debian:12' },
    { name: 'Ubuntu 22.04', text: S.UBUNTU_2204, id: 'ubuntu', versionId: '22.04', codename: 'jammy', ns: 'ubuntu:22.04' },
    { name: 'UBI 9', text: S.UBI_9, id: 'rhel', versionId: '9.4', ns: 'rhel:9' },
    { name: 'Rocky 9', text: S.ROCKY_9, id: 'rocky', versionId: '9.3', ns: 'rocky:9' },
    { name: 'AlmaLinux 9', text: S.ALMA_9, id: 'almalinux', versionId: '9.4', ns: 'almalinux:9' },
    { name: 'CentOS 7', text: S.CENTOS_7, id: 'centos', versionId: '7', ns: 'centos:7' },
    { name: 'Fedora 40', text: S.FEDORA_40, id: 'fedora', versionId: '40', variantId: 'container', ns: 'fedora:40' },
    { name: 'Amazon Linux 2023', text: S.AMAZON_LINUX_2023, id: 'amzn', versionId: '2023', ns: 'amzn:2023' },
    { name: 'Amazon Linux 2', text: S.AMAZON_LINUX_2, id: 'amzn', versionId: '2', ns: 'amzn:2' },
    { name: 'SLES 15 SP5', text: S.SLES_15_SP5, id: 'sles', versionId: '15.5', ns: 'sles:15.5' },
    { name: 'openSUSE Leap 15.5', text: S.OPENSUSE_LEAP_15_5, id: 'opensuse-leap', versionId: '15.5', ns: 'opensuse-leap:15.5' },
    { name: 'Wolfi', text: S.WOLFI, id: 'wolfi', versionId: '20230201', ns: 'wolfi:rolling' },
  ];
  for (const c of cases) {
    test(`${c.name}: ${c.ns}`, () => {
      const d = read('etc/os-release', c.text);
      assert.equal(d.id, c.id);
      assert.equal(d.versionId, c.versionId);
      assert.equal(d.versionCodename, c.codename);
      assert.equal(d.variantId, c.variantId);
      assert.equal(d.source, 'etc/os-release');
      assert.equal(distroNamespace(d), c.ns);
    });
  }

  test('all fields of a full file', () => {
    assert.deepEqual(read('usr/lib/os-release', S.UBI_9), {
      id: 'rhel',
      versionId: '9.4',
      name: 'Red Hat Enterprise Linux',
      prettyName: 'Red Hat Enterprise Linux 9.4 (Plow)',
      idLike: ['fedora'],
      cpe: 'cpe:/o:redhat:enterprise_linux:9::baseos',
      source: 'usr/lib/os-release',
    });
    assert.deepEqual(read('etc/os-release', S.ROCKY_9).idLike, ['rhel', 'centos', 'fedora']);
    // Fedora writes VERSION_CODENAME="" : an empty value is no codename.
    assert.equal(read('etc/os-release', S.FEDORA_40).versionCodename, undefined);
  });
});

describe('Alpine minirootfs release files from the corpus', () => {
  const releases = readdirSync(sharedData('pkgdb', 'apk', 'alpine-minirootfs'));
  test('each release: os-release and alpine-release agree and give alpine:major.minor', () => {
    assert.equal(releases.length, 9);
    for (const r of releases) {
      const osRelease = read('etc/os-release', readFileSync(sharedData('pkgdb', 'apk', 'alpine-minirootfs', r, 'os-release'), 'utf8'));
      const alpineRelease = read('etc/alpine-release', readFileSync(sharedData('pkgdb', 'apk', 'alpine-minirootfs', r, 'alpine-release'), 'utf8'));
      assert.equal(osRelease.id, 'alpine');
      assert.equal(alpineRelease.id, 'alpine');
      assert.equal(osRelease.versionId, alpineRelease.versionId);
      const expected = r === '20240923' ? 'alpine:edge' : `alpine:${r.split('.').slice(0, 2).join('.')}`;
      assert.equal(distroNamespace(osRelease), expected, `${r} os-release`);
      if (r === '20240923') {
        // alpine-release alone says 3.21.0_alpha20240923: still the development branch.
        assert.equal(distroNamespace(alpineRelease), 'alpine:edge');
      } else {
        assert.equal(distroNamespace(alpineRelease), expected, `${r} alpine-release`);
      }
    }
  });

  test('3.20.3 in full', () => {
    const d = read('etc/os-release', readFileSync(sharedData('pkgdb', 'apk', 'alpine-minirootfs', '3.20.3', 'os-release'), 'utf8'));
    assert.deepEqual(d, { id: 'alpine', versionId: '3.20.3', name: 'Alpine Linux', prettyName: 'Alpine Linux v3.20', source: 'etc/os-release' });
  });
});

describe('legacy release files alone', () => {
  const cases: [string, string, string, string][] = [
    // path, text, id, namespace
    ['etc/debian_version', S.LEGACY.debian12, 'debian', 'debian:12'],
    ['etc/debian_version', S.LEGACY.debianTesting, 'debian', 'debian:13'],
    ['etc/lsb-release', S.UBUNTU_1404_LSB, 'ubuntu', 'ubuntu:14.04'],
    ['etc/centos-release', S.LEGACY.centos7, 'centos', 'centos:7'],
    ['etc/centos-release', S.LEGACY.centosStream9, 'centos', 'centos:9'],
    ['etc/redhat-release', S.LEGACY.rhel7, 'rhel', 'rhel:7'],
    ['etc/redhat-release', S.LEGACY.ubi9RedHatRelease, 'rhel', 'rhel:9'],
    ['etc/rocky-release', S.LEGACY.rocky9, 'rocky', 'rocky:9'],
    ['etc/almalinux-release', S.LEGACY.alma9, 'almalinux', 'almalinux:9'],
    ['etc/fedora-release', S.LEGACY.fedora40, 'fedora', 'fedora:40'],
    ['etc/oracle-release', S.LEGACY.oracle8, 'ol', 'ol:8'],
    ['etc/system-release', S.LEGACY.amazon2, 'amzn', 'amzn:2'],
    ['etc/system-release', S.LEGACY.amazon2023, 'amzn', 'amzn:2023'],
    ['etc/system-release', S.LEGACY.amazon1, 'amzn', 'amzn:2018.03'],
    ['etc/SuSE-release', S.LEGACY.sles12sp3, 'sles', 'sles:12.3'],
    ['etc/SuSE-release', S.LEGACY.leap423, 'opensuse-leap', 'opensuse-leap:42.3'],
  ];
  for (const [path, text, id, ns] of cases) {
    test(`${path} "${text.split('\n')[0]}" -> ${ns}`, () => {
      const d = chooseDistro([read(path, text)]);
      assert.equal(d?.id, id);
      assert.equal(d?.source, path);
      assert.equal(d && distroNamespace(d), ns);
    });
  }

  test('a Debian image with only debian_version gets id debian and the major version', () => {
    assert.deepEqual(read('etc/debian_version', '11.9\n'), { id: 'debian', versionId: '11', name: 'Debian GNU/Linux', source: 'etc/debian_version' });
  });

  test('Amazon Linux 2023 system-release gives the same versionId as its os-release', () => {
    assert.equal(read('etc/system-release', S.LEGACY.amazon2023).versionId, read('etc/os-release', S.AMAZON_LINUX_2023).versionId);
  });

  test('texts that name no release give nothing', () => {
    assert.equal(parseReleaseFile('etc/os-release', 'NAME=nothing\n'), undefined);
    assert.equal(parseReleaseFile('etc/os-release', ''), undefined);
    assert.equal(parseReleaseFile('etc/redhat-release', 'Some Other Linux release 1.0\n'), undefined);
    assert.equal(parseReleaseFile('etc/debian_version', '\n'), undefined);
    assert.equal(parseReleaseFile('etc/alpine-release', 'not a version\n'), undefined);
    assert.equal(parseReleaseFile('etc/lsb-release', 'LSB_VERSION=base-4.0-amd64\n'), undefined);
    assert.equal(parseReleaseFile('etc/passwd', S.DEBIAN_12), undefined);
  });
});

describe('chooseDistro precedence', () => {
  const ubuntuImage = [
    read('etc/debian_version', S.LEGACY.ubuntu2204DebianVersion),
    read('etc/lsb-release', S.UBUNTU_2204_LSB),
    read('usr/lib/os-release', S.UBUNTU_2204),
  ];

  test('Ubuntu ships a debian_version naming Debian; os-release wins whatever the order', () => {
    assert.equal(chooseDistro(ubuntuImage)?.id, 'ubuntu');
    assert.equal(chooseDistro([...ubuntuImage].reverse())?.id, 'ubuntu');
    assert.equal(chooseDistro(ubuntuImage)?.source, 'usr/lib/os-release');
  });

  test('without os-release, lsb-release beats debian_version', () => {
    const d = chooseDistro(ubuntuImage.slice(0, 2));
    assert.equal(d?.id, 'ubuntu');
    assert.equal(d && distroNamespace(d), 'ubuntu:22.04');
  });

  test('etc/os-release beats usr/lib/os-release (a derived image may override the vendor file)', () => {
    const d = chooseDistro([read('etc/os-release', S.DISTROLESS_DEBIAN_12), read('usr/lib/os-release', S.DEBIAN_12)]);
    assert.equal(d?.variantId, 'distroless');
    assert.equal(chooseDistro([read('usr/lib/os-release', S.DEBIAN_12), read('etc/os-release', S.UBUNTU_2204)])?.id, 'ubuntu');
  });

  test('os-release beats every legacy file', () => {
    const candidates = [read('etc/redhat-release', S.LEGACY.rhel7), read('usr/lib/os-release', S.ROCKY_9), read('etc/system-release', S.LEGACY.amazon2)];
    assert.equal(chooseDistro(candidates)?.id, 'rocky');
  });

  test('a vendor-specific legacy file beats redhat-release and system-release', () => {
    const centos = [read('etc/system-release', S.LEGACY.centos7), read('etc/redhat-release', S.LEGACY.rhel7), read('etc/centos-release', S.LEGACY.centos7)];
    assert.equal(chooseDistro(centos)?.source, 'etc/centos-release');
    const oracle = [read('etc/redhat-release', S.LEGACY.rhel7), read('etc/oracle-release', S.LEGACY.oracle8)];
    assert.equal(chooseDistro(oracle)?.id, 'ol');
  });

  test('equally ranked candidates: the last one given wins', () => {
    const first = read('etc/os-release', S.DEBIAN_12);
    const second = read('etc/os-release', S.DEBIAN_9);
    assert.equal(chooseDistro([first, second])?.versionId, '9');
  });

  test('no candidate, no distribution', () => {
    assert.equal(chooseDistro([]), undefined);
  });
});

describe('distroNamespace edge cases', () => {
  test('missing release numbers and unknown distributions give undefined', () => {
    assert.equal(distroNamespace({ id: 'debian', source: 'x' }), undefined);
    assert.equal(distroNamespace({ id: 'ubuntu', source: 'x' }), undefined);
    assert.equal(distroNamespace({ id: 'rhel', source: 'x' }), undefined);
    assert.equal(distroNamespace({ id: 'gentoo', versionId: '2.14', source: 'x' }), undefined);
  });

  test('Debian codenames land where the Debian feed files the same codename', () => {
    for (const [codename, number] of Object.entries(DEBIAN_RELEASES)) {
      if (!/^\d+$/.test(number)) continue; // pre-etch releases never appear as codename-only images
      assert.equal(distroNamespace({ id: 'debian', versionCodename: codename, source: 'x' }), debianNamespace(codename), codename);
    }
    assert.equal(distroNamespace({ id: 'debian', versionCodename: 'sid', source: 'x' }), debianNamespace('sid'));
    assert.equal(distroNamespace({ id: 'debian', versionCodename: 'nosuchname', source: 'x' }), undefined);
  });

  test('rolling and other covered distributions', () => {
    assert.equal(distroNamespace({ id: 'chainguard', versionId: '20230214', source: 'x' }), 'chainguard:rolling');
    assert.equal(distroNamespace({ id: 'mariner', versionId: '2.0', source: 'x' }), 'mariner:2.0');
    assert.equal(distroNamespace({ id: 'azurelinux', versionId: '3.0', source: 'x' }), 'azurelinux:3.0');
    assert.equal(distroNamespace({ id: 'sles', versionId: '15', source: 'x' }), 'sles:15');
  });
});

describe('parseKeyValueFile', () => {
  test('quoting, escapes, comments, CRLF and spaces around =', () => {
    const kv = parseKeyValueFile(
      '# comment\r\nA="x \\"y\\" \\$z \\\\ w"\r\nB=\'single # not a comment\'\r\nC=plain\r\n\r\nD = spaced\r\nE="unterminated\r\nnot a line\r\n',
    );
    assert.deepEqual(Object.fromEntries(kv), { A: 'x "y" $z \\ w', B: 'single # not a comment', C: 'plain', D: 'spaced', E: 'unterminated' });
  });
});

describe('osReleaseDetector', () => {
  test('wants the release files and nothing else', () => {
    const wants = (path: string): boolean => osReleaseDetector.wants({ path, size: 100, mode: 0o644 });
    for (const p of ['etc/os-release', 'usr/lib/os-release', 'etc/lsb-release', 'etc/debian_version', 'etc/alpine-release', 'etc/redhat-release', 'etc/centos-release', 'etc/rocky-release', 'etc/almalinux-release', 'etc/fedora-release', 'etc/system-release', 'etc/SuSE-release', 'etc/oracle-release']) {
      assert.equal(wants(p), true, p);
    }
    for (const p of ['etc/os-release.d/x', 'usr/etc/os-release', 'etc/issue', 'etc/suse-release', 'os-release']) assert.equal(wants(p), false, p);
  });

  test('parse returns the distro, or nothing for a file naming none', async () => {
    const bytes = Buffer.from(S.DISTROLESS_DEBIAN_12);
    const out = await osReleaseDetector.parse({ path: 'etc/os-release', size: bytes.length, mode: 0o644, bytes });
    assert.equal(out.distro?.id, 'debian');
    assert.equal(out.distro?.variantId, 'distroless');
    const none = await osReleaseDetector.parse({ path: 'etc/os-release', size: 0, mode: 0o644, bytes: Buffer.alloc(0) });
    assert.deepEqual(none, {});
  });
});
