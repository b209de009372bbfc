import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { sharedData } from '../../../test/support/shared-data.js';
import { parseApkInstalled } from './apk-installed.js';
import { apkDetector } from './detector.js';

const PATH = 'lib/apk/db/installed';

/**
 * An independent, deliberately naive reading of the same file, the way `awk` would do it: remember
 * the last `P:` line and emit it with each `V:` line. Good enough as an oracle for name=version
 * pairs because every real record has P before V.
 */
function naiveNameVersions(text: string): string[] {
  const out: string[] = [];
  let name = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('P:')) name = line.slice(2);
    if (line.startsWith('V:')) out.push(`${name}=${line.slice(2)}`);
  }
  return out;
}

/** Package counts of each official minirootfs, counted by hand from the files. */
const MINIROOTFS_COUNTS: Record<string, number> = {
  '3.6.5': 13,
  '3.8.5': 13,
  '3.10.9': 14,
  '3.12.12': 14,
  '3.14.10': 14,
  '3.16.9': 14,
  '3.18.9': 15,
  '3.20.3': 14,
  '20240923': 14,
};

describe('apk installed database: official Alpine minirootfs releases', () => {
  const releases = readdirSync(sharedData('pkgdb', 'apk', 'alpine-minirootfs'));

  test('every release of the corpus is covered', () => {
    assert.deepEqual([...releases].sort(), Object.keys(MINIROOTFS_COUNTS).sort());
  });

  for (const release of Object.keys(MINIROOTFS_COUNTS)) {
    test(`${release}: exact name=version list, in file order, and the package count`, () => {
      const bytes = readFileSync(sharedData('pkgdb', 'apk', 'alpine-minirootfs', release, 'installed'));
      const result = parseApkInstalled(bytes, PATH);
      assert.deepEqual(result.warnings, []);
      assert.equal(result.packages.length, MINIROOTFS_COUNTS[release]);
      assert.deepEqual(
        result.packages.map((p) => `${p.name}=${p.version}`),
        naiveNameVersions(bytes.toString('utf8')),
      );
      for (const p of result.packages) {
        assert.equal(p.ecosystem, 'apk');
        assert.equal(p.arch, 'x86_64');
        assert.equal(p.path, PATH);
        assert.equal(p.sourceVersion, p.version);
        assert.ok(p.sourceName);
        assert.ok(p.license);
      }
    });
  }

  test('3.20.3: whole records checked by hand against the file', () => {
    const result = parseApkInstalled(readFileSync(sharedData('pkgdb', 'apk', 'alpine-minirootfs', '3.20.3', 'installed')), PATH);
    const get = (n: string) => result.packages.find((p) => p.name === n);
    assert.deepEqual(get('libssl3'), {
      ecosystem: 'apk',
      name: 'libssl3',
      version: '3.3.2-r0',
      sourceName: 'openssl',
      sourceVersion: '3.3.2-r0',
      arch: 'x86_64',
      license: 'Apache-2.0',
      path: PATH,
    });
    assert.deepEqual(get('ca-certificates-bundle'), {
      ecosystem: 'apk',
      name: 'ca-certificates-bundle',
      version: '20240705-r0',
      sourceName: 'ca-certificates',
      sourceVersion: '20240705-r0',
      arch: 'x86_64',
      license: 'MPL-2.0 AND MIT',
      path: PATH,
    });
    assert.equal(get('scanelf')?.sourceName, 'pax-utils');
    assert.equal(get('busybox-binsh')?.sourceName, 'busybox');
  });

  test('3.6.5 and edge: hand-checked versions of the same packages across releases', () => {
    const read = (r: string) => parseApkInstalled(readFileSync(sharedData('pkgdb', 'apk', 'alpine-minirootfs', r, 'installed')), PATH).packages;
    const old = read('3.6.5');
    const edge = read('20240923');
    assert.equal(old.find((p) => p.name === 'musl')?.version, '1.1.16-r15');
    assert.equal(old.find((p) => p.name === 'libressl2.5-libcrypto')?.sourceName, 'libressl');
    assert.equal(edge.find((p) => p.name === 'musl')?.version, '1.2.5-r3');
    assert.equal(edge.find((p) => p.name === 'libcrypto3')?.version, '3.3.2-r1');
  });
});

describe('apk installed database: other real databases', () => {
  const cases: Record<string, number> = {
    'osv-scalibr-apkfilter.installed': 15,
    'syft-image-pkg-coverage.installed': 2,
    'syft-multiple-2.installed': 14,
  };
  for (const [name, count] of Object.entries(cases)) {
    test(`${name}: ${count} packages, same pairs as the naive scan`, () => {
      const bytes = readFileSync(sharedData('pkgdb', 'apk', name));
      const result = parseApkInstalled(bytes, PATH);
      assert.deepEqual(result.warnings, []);
      assert.equal(result.packages.length, count);
      assert.deepEqual(
        result.packages.map((p) => `${p.name}=${p.version}`),
        naiveNameVersions(bytes.toString('utf8')),
      );
    });
  }
});

describe('apk tolerance', () => {
  const real = readFileSync(sharedData('pkgdb', 'apk', 'alpine-minirootfs', '3.18.9', 'installed'), 'utf8');
  const clean = parseApkInstalled(real, PATH);

  test('CRLF line ends and extra blank lines change nothing', () => {
    const mangled = real.replace(/\n\n/g, '\n\n\n').replace(/\n/g, '\r\n');
    const result = parseApkInstalled(mangled, PATH);
    assert.deepEqual(result.warnings, []);
    assert.deepEqual(result.packages, clean.packages);
  });

  test('bytes (read line by line) give what the text gives: a byte-order mark and invalid UTF-8 in a value', () => {
    const at = real.indexOf('\nT:') + 3;
    const bytes = Buffer.concat([Buffer.from(`\uFEFF${real.slice(0, at)}`, 'utf8'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(real.slice(at), 'utf8')]);
    const result = parseApkInstalled(bytes, PATH);
    assert.deepEqual(result.warnings, []);
    assert.deepEqual(result.packages, clean.packages);
  });

  test('a record without a name or version is skipped with a warning, the rest kept', () => {
    const records = real.split('\n\n').filter((r) => r.trim() !== '');
    const noVersion = (records[1] ?? '').replace(/^V:.*\n/m, '');
    const noName = (records[2] ?? '').replace(/^P:.*\n/m, '');
    const text = [records[0], noVersion, noName, ...records.slice(3)].join('\n\n');
    const result = parseApkInstalled(text, PATH);
    assert.equal(result.packages.length, clean.packages.length - 2);
    assert.deepEqual(result.packages, clean.packages.filter((_, i) => i !== 1 && i !== 2));
    assert.deepEqual(
      result.warnings.map((w) => w.code),
      ['apk-malformed-record', 'apk-malformed-record'],
    );
    assert.ok(result.warnings.every((w) => w.message.startsWith('apk: ')));
  });

  test('an unknown key is ignored and a garbage line is skipped with a warning', () => {
    const text = 'C:Q1abc=\nP:foo\nV:1.0-r0\nX:some future key\nthis is not a field\no:foo-src\n';
    const result = parseApkInstalled(text, PATH);
    assert.deepEqual(result.packages, [{ ecosystem: 'apk', name: 'foo', version: '1.0-r0', sourceName: 'foo-src', sourceVersion: '1.0-r0', path: PATH }]);
    assert.equal(result.warnings.length, 1);
    assert.equal(result.warnings[0]?.code, 'apk-malformed-line');
  });

  test('a record without origin is its own source', () => {
    const result = parseApkInstalled('P:bar\nV:2-r1\nA:aarch64\n', PATH);
    assert.equal(result.packages[0]?.sourceName, 'bar');
  });

  test('an empty database has no packages, no file lists and no warnings', () => {
    assert.deepEqual(parseApkInstalled(Buffer.alloc(0), PATH), { packages: [], warnings: [], ownedFiles: [] });
  });
});

describe('apkDetector', () => {
  test('wants the installed database only', () => {
    const wants = (path: string): boolean => apkDetector.wants({ path, size: 1, mode: 0o644 });
    assert.equal(wants('lib/apk/db/installed'), true);
    assert.equal(wants('usr/lib/apk/db/installed'), true);
    assert.equal(wants('lib/apk/db/triggers'), false);
    assert.equal(wants('lib/apk/db/installed.old'), false);
    assert.equal(wants('x/lib/apk/db/installed'), false);
  });

  test('parse reports the records with the file path', async () => {
    const bytes = readFileSync(sharedData('pkgdb', 'apk', 'alpine-minirootfs', '3.10.9', 'installed'));
    const out = await apkDetector.parse({ path: PATH, size: bytes.length, mode: 0o644, bytes });
    assert.equal(out.packages?.length, 14);
    assert.equal(out.packages?.find((p) => p.name === 'libcrypto1.1')?.sourceName, 'openssl');
  });
});

describe('apk installed database: the files each package installed', () => {
  /** An independent reading of the F:/R: lines, `awk`-style: the folder of the last F: line joined to each R: name, per P: record. */
  function naiveFiles(text: string): Map<string, string[]> {
    const out = new Map<string, string[]>();
    let name = '';
    let folder = '';
    for (const line of text.split('\n')) {
      if (line.startsWith('P:')) {
        name = line.slice(2);
        out.set(name, []);
      }
      if (line.startsWith('F:')) {
        folder = line.slice(2);
        out.get(name)?.push(folder);
      }
      if (line.startsWith('R:')) out.get(name)?.push(`${folder}/${line.slice(2)}`);
    }
    return out;
  }

  for (const release of Object.keys(MINIROOTFS_COUNTS)) {
    test(`${release}: every F:/R: line becomes an owned path of its own package, with its version`, () => {
      const text = readFileSync(sharedData('pkgdb', 'apk', 'alpine-minirootfs', release, 'installed'), 'utf8');
      const { packages, ownedFiles } = parseApkInstalled(text, PATH);
      const expected = naiveFiles(text);
      for (const list of ownedFiles) {
        const p = packages.find((x) => x.name === list.name);
        assert.equal(list.version, p?.version);
        assert.equal(list.ecosystem, 'apk');
        assert.deepEqual(list.files, expected.get(list.name), list.name);
      }
      const withFiles = [...expected].filter(([, files]) => files.length > 0).map(([n]) => n);
      assert.deepEqual(ownedFiles.map((l) => l.name).sort(), withFiles.sort());
    });
  }

  test('3.20.3: musl owns its loader and libc, busybox owns bin/busybox (checked by hand in the file)', () => {
    const { ownedFiles } = parseApkInstalled(readFileSync(sharedData('pkgdb', 'apk', 'alpine-minirootfs', '3.20.3', 'installed')), PATH);
    const owner = (path: string) => ownedFiles.filter((l) => l.files.includes(path)).map((l) => `${l.name} ${l.version ?? ''}`);
    assert.deepEqual(owner('lib/ld-musl-x86_64.so.1'), ['musl 1.2.5-r0']);
    assert.deepEqual(owner('lib/libc.musl-x86_64.so.1'), ['musl 1.2.5-r0']);
    assert.deepEqual(owner('bin/busybox'), ['busybox 1.36.1-r29']);
  });

  test('the detector hands the lists on; a list climbing out of the root owns nothing there', () => {
    const text = 'P:evil\nV:1-r0\nF:../etc\nR:passwd\nF:usr/lib\nR:x.so\n';
    const out = apkDetector.parse({ path: PATH, size: text.length, mode: 0o644, bytes: Buffer.from(text) });
    assert.ok(!(out instanceof Promise));
    assert.deepEqual(out.ownedFiles, [{ ecosystem: 'apk', name: 'evil', version: '1-r0', files: ['usr/lib', 'usr/lib/x.so'] }]);
  });
});
