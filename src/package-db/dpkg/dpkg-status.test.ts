import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedData } from '../../../test/support/shared-data.js';
import type { PackageRecord } from '../../domain/package.js';
import { DPKG_ABSENT_STATES, DPKG_PRESENT_STATES, dpkgVersionError, parseDpkgStatus } from './dpkg-status.js';
import { dpkgDetector } from './detector.js';
import { skipWithout } from '../../../test/support/tools.js';

/** One line per package as the real dpkg-query prints it: name, version, arch, source name, source version. */
interface OracleRow {
  line: string;
  state: string;
}

/**
 * Runs the real dpkg-query on `statusText` (a throw-away admindir holding it as `status`) and returns
 * its rows with the dpkg state, so the test can apply the documented state filter to dpkg's own answer.
 */
function dpkgQuery(statusText: string): OracleRow[] {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-dpkg-'));
  try {
    mkdirSync(join(dir, 'info'));
    mkdirSync(join(dir, 'updates'));
    writeFileSync(join(dir, 'status'), statusText);
    const out = execFileSync(
      'dpkg-query',
      [`--admindir=${dir}`, '-W', '-f=${Package}\\t${Version}\\t${Architecture}\\t${source:Package}\\t${source:Version}\\t${db:Status-Status}\\n'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    return out
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        const cols = l.split('\t');
        return { line: cols.slice(0, 5).join('\t'), state: cols[5] ?? '' };
      });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** dpkg-query's list filtered the way the parser documents (config-files and not-installed dropped). */
function oracle(statusText: string): string[] {
  const absent = new Set<string>(DPKG_ABSENT_STATES);
  return dpkgQuery(statusText)
    .filter((r) => !absent.has(r.state))
    .map((r) => r.line)
    .sort();
}

function rows(packages: PackageRecord[]): string[] {
  return packages.map((p) => [p.name, p.version, p.arch ?? '', p.sourceName ?? '', p.sourceVersion ?? ''].join('\t')).sort();
}

const STATUS_FILES = readdirSync(sharedData('pkgdb', 'dpkg')).filter((n) => n.endsWith('.status'));

/**
 * Files dpkg-query refuses whole: the real syft fixture opens with an empty `Package:` stanza and
 * lacks the final newline. The parser skips that stanza with one warning and accepts the missing
 * newline; dpkg-query is asked about the file with both repaired.
 */
const REFUSED_BY_DPKG: Record<string, { warnings: number; repair: (text: string) => string }> = {
  'syft-image-dpkg.status': { warnings: 1, repair: (t) => `${t.replace(/^Package:\n\n/, '')}\n` },
};

describe('dpkg status parsing against dpkg-query', () => {
  test('the data set holds the status files this suite is about', () => {
    assert.ok(STATUS_FILES.includes('debian12-machine.status'));
    assert.ok(STATUS_FILES.includes('claircore-texlive.status'));
    assert.ok(STATUS_FILES.length >= 6);
  });

  for (const name of STATUS_FILES) {
    test(`${name}: name, version, arch and source equal dpkg-query's`, { skip: skipWithout('dpkg-query', 'dpkg') }, () => {
      const path = sharedData('pkgdb', 'dpkg', name);
      const text = readFileSync(path, 'utf8');
      const result = parseDpkgStatus(readFileSync(path), 'var/lib/dpkg/status');
      const refused = REFUSED_BY_DPKG[name];
      if (refused) {
        assert.throws(() => dpkgQuery(text));
        assert.equal(result.warnings.length, refused.warnings);
        assert.ok(result.warnings.every((w) => w.code === 'dpkg-malformed-stanza'));
        assert.deepEqual(rows(result.packages), oracle(refused.repair(text)));
        return;
      }
      assert.deepEqual(result.warnings, []);
      assert.deepEqual(rows(result.packages), oracle(text));
    });
  }

  test('the Debian 12 machine database has its 732 packages', () => {
    const result = parseDpkgStatus(readFileSync(sharedData('pkgdb', 'dpkg', 'debian12-machine.status')), 'var/lib/dpkg/status');
    assert.equal(result.packages.length, 732);
    assert.ok(result.packages.every((p) => p.ecosystem === 'deb' && p.path === 'var/lib/dpkg/status'));
  });

  test('the texlive database has its 357 packages', () => {
    const result = parseDpkgStatus(readFileSync(sharedData('pkgdb', 'dpkg', 'claircore-texlive.status')), 'var/lib/dpkg/status');
    assert.equal(result.packages.length, 357);
  });

  test('every dpkg state is kept or dropped exactly as documented, checked by dpkg-query on the same file', { skip: skipWithout('dpkg-query', 'dpkg') }, () => {
    // Real stanzas from the Debian 12 database, each given a different Status word in turn.
    const text = readFileSync(sharedData('pkgdb', 'dpkg', 'debian12-machine.status'), 'utf8');
    const stanzas = text.split(/\n\n+/).filter((s) => s.trim() !== '');
    const wants = ['install', 'hold', 'deinstall', 'purge'];
    const states = [...DPKG_PRESENT_STATES, ...DPKG_ABSENT_STATES];
    const rewritten = stanzas.map((s, i) => {
      const state = states[i % states.length] ?? 'installed';
      const want = wants[Math.floor(i / states.length) % wants.length] ?? 'install';
      const eflag = state === 'half-installed' ? 'reinstreq' : 'ok';
      // dpkg insists that these two states name what is awaited or pending.
      const triggers =
        state === 'triggers-awaited' ? '\nTriggers-Awaited: libc-bin' : state === 'triggers-pending' ? '\nTriggers-Pending: ldconfig' : '';
      return s.replace(/^Status: .*$/m, `Status: ${want} ${eflag} ${state}${triggers}`);
    });
    const mixed = `${rewritten.join('\n\n')}\n`;
    const result = parseDpkgStatus(mixed, 'var/lib/dpkg/status');
    assert.deepEqual(result.warnings, []);
    const expected = oracle(mixed);
    // dpkg-query really did report packages in every kept state, so the comparison covers them all.
    const seen = new Set(dpkgQuery(mixed).map((r) => r.state));
    for (const s of DPKG_PRESENT_STATES) assert.ok(seen.has(s), `dpkg-query listed no ${s} package`);
    assert.ok(seen.has('config-files'));
    assert.deepEqual(rows(result.packages), expected);
    assert.ok(result.packages.length < stanzas.length);
  });

  test('a stanza without Status in the status file is not installed, as for dpkg-query', { skip: skipWithout('dpkg-query', 'dpkg') }, () => {
    const text = 'Package: foo\nVersion: 1.0\nArchitecture: all\n\nPackage: bar\nStatus: install ok installed\nVersion: 2.0\nArchitecture: all\n';
    const result = parseDpkgStatus(text, 'var/lib/dpkg/status');
    assert.deepEqual(rows(result.packages), oracle(text));
    assert.deepEqual(
      result.packages.map((p) => p.name),
      ['bar'],
    );
  });

  test("versions dpkg only warns about are kept, like dpkg-query lists them", { skip: skipWithout('dpkg-query', 'dpkg') }, () => {
    const text = [
      'Package: a\nStatus: install ok installed\nVersion: abc\nArchitecture: all',
      'Package: b\nStatus: install ok installed\nVersion: 1.0_x\nArchitecture: all',
      'Package: c\nStatus: install ok installed\nVersion: 2:1.0-1_y\nArchitecture: all\n',
    ].join('\n\n');
    const result = parseDpkgStatus(text, 'var/lib/dpkg/status');
    assert.deepEqual(result.warnings, []);
    assert.deepEqual(rows(result.packages), oracle(text));
  });
});

describe('dpkg source package', () => {
  const result = parseDpkgStatus(readFileSync(sharedData('pkgdb', 'dpkg', 'debian12-machine.status')), 'var/lib/dpkg/status');
  const byName = (n: string): PackageRecord | undefined => result.packages.find((p) => p.name === n);

  test('Source with a version gives a distinct source version (binNMU and epoch cases)', () => {
    // bash 5.2.15-2+b8 is a binNMU of source bash 5.2.15-2; bsdutils carries an epoch its source lacks.
    assert.deepEqual(
      [byName('bash')?.sourceName, byName('bash')?.version, byName('bash')?.sourceVersion],
      ['bash', '5.2.15-2+b8', '5.2.15-2'],
    );
    assert.deepEqual(
      [byName('bsdutils')?.sourceName, byName('bsdutils')?.version, byName('bsdutils')?.sourceVersion],
      ['util-linux', '1:2.38.1-5+deb12u3', '2.38.1-5+deb12u3'],
    );
  });

  test('Source without a version takes the binary version; no Source means the package is its own source', { skip: skipWithout('dpkg-query', 'dpkg') }, () => {
    const text =
      'Package: libfoo1\nStatus: install ok installed\nSource: foo\nVersion: 1:2.0-3\nArchitecture: amd64\n\n' +
      'Package: bar\nStatus: install ok installed\nVersion: 4.5-6\nArchitecture: all\n';
    const parsed = parseDpkgStatus(text, 'var/lib/dpkg/status');
    assert.deepEqual(rows(parsed.packages), oracle(text));
    assert.deepEqual(rows(parsed.packages), ['bar\t4.5-6\tall\tbar\t4.5-6', 'libfoo1\t1:2.0-3\tamd64\tfoo\t1:2.0-3']);
  });
});

describe('dpkg tolerance', () => {
  const original = readFileSync(sharedData('pkgdb', 'dpkg', 'claircore-postgresql.status'), 'utf8');

  test('CRLF line ends, several blank lines and whitespace-only separators give the same packages', () => {
    const mangled = original
      .split('\n\n')
      .join('\n\n \t\n\n')
      .replace(/\n/g, '\r\n');
    const clean = parseDpkgStatus(original, 'var/lib/dpkg/status');
    const result = parseDpkgStatus(mangled, 'var/lib/dpkg/status');
    assert.deepEqual(result.warnings, []);
    assert.deepEqual(result.packages, clean.packages);
    assert.equal(clean.packages.length, 3);
  });

  test('malformed stanzas are skipped with a warning each and the rest is kept', { skip: skipWithout('dpkg-query', 'dpkg') }, () => {
    const bad = [
      'Status: install ok installed\nVersion: 1.0\nArchitecture: all', // no Package
      'Package: noversion\nStatus: install ok installed\nArchitecture: all', // no Version
      'Package: spaced\nStatus: install ok installed\nVersion: 1.0 beta\nArchitecture: all', // dpkg: embedded spaces
      'Package: badepoch\nStatus: install ok installed\nVersion: x:1.0\nArchitecture: all', // dpkg: epoch is empty
      'Package: weird\nStatus: install ok sideways\nVersion: 1.0\nArchitecture: all', // unknown state
    ];
    const stanzas = original.split('\n\n').filter((s) => s.trim() !== '');
    const text = [stanzas[0], bad[0], bad[1], stanzas[1], bad[2], bad[3], bad[4], stanzas[2]].join('\n\n');
    const result = parseDpkgStatus(text, 'var/lib/dpkg/status');
    assert.deepEqual(rows(result.packages), oracle(original));
    assert.equal(result.warnings.length, 5);
    assert.ok(result.warnings.every((w) => w.code === 'dpkg-malformed-stanza' && w.message.startsWith('dpkg: ') && w.path === 'var/lib/dpkg/status'));
    assert.match(result.warnings[2]?.message ?? '', /spaced.*embedded spaces/);
  });

  test('bytes (read line by line) give what their decoded text gives: BOM, CRLF, invalid UTF-8 in a description', () => {
    const text = `\uFEFF${original.replace(/\n/g, '\r\n')}`;
    const at = text.indexOf('Description: ') + 'Description: '.length;
    const bytes = Buffer.concat([Buffer.from(text.slice(0, at), 'utf8'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(text.slice(at), 'utf8')]);
    const fromBytes = parseDpkgStatus(bytes, 'var/lib/dpkg/status');
    assert.deepEqual(fromBytes, parseDpkgStatus(new TextDecoder().decode(bytes), 'var/lib/dpkg/status'));
    assert.deepEqual(fromBytes.packages, parseDpkgStatus(original, 'var/lib/dpkg/status').packages);
  });

  test('an empty file has no packages and no warnings', () => {
    assert.deepEqual(parseDpkgStatus(Buffer.alloc(0), 'var/lib/dpkg/status'), { packages: [], warnings: [] });
    assert.deepEqual(parseDpkgStatus('\n\n  \n', 'var/lib/dpkg/status'), { packages: [], warnings: [] });
  });

  test('a package repeated with the same architecture keeps the later stanza, with a warning', () => {
    const text =
      'Package: foo\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n\n' +
      'Package: foo\nStatus: install ok installed\nVersion: 2\nArchitecture: amd64\n\n' +
      'Package: foo\nStatus: install ok installed\nVersion: 2\nArchitecture: i386\n';
    const result = parseDpkgStatus(text, 'var/lib/dpkg/status');
    assert.deepEqual(rows(result.packages), ['foo\t2\tamd64\tfoo\t2', 'foo\t2\ti386\tfoo\t2']);
    assert.equal(result.warnings.length, 1);
    assert.equal(result.warnings[0]?.code, 'dpkg-duplicate-package');
  });

  test('dpkgVersionError rejects exactly what dpkg rejects as an error (checked against dpkg-query)', { skip: skipWithout('dpkg-query', 'dpkg') }, () => {
    const cases = ['1.0 beta', 'a:1.0', '1:', '1.0-', '-1:2', '99999999999:1', ':1.0', '1.0-1_x', '1:abc', '0:1.0-1', '2147483647:1', '-1'];
    for (const v of cases) {
      const text = `Package: probe\nStatus: install ok installed\nVersion: ${v}\nArchitecture: all\nMaintainer: x\nDescription: y\n`;
      let dpkgAccepts = true;
      try {
        dpkgQuery(text);
      } catch {
        dpkgAccepts = false;
      }
      assert.equal(dpkgVersionError(v) === undefined, dpkgAccepts, `version ${JSON.stringify(v)}`);
    }
  });
});

describe('distroless status.d', () => {
  const path = 'var/lib/dpkg/status.d/libsqlite3-0';
  const bytes = readFileSync(sharedData('pkgdb', 'dpkg', 'distroless-status.d', 'libsqlite3-0'));

  test('a status.d entry without Status is an installed package', () => {
    const out = dpkgDetector.parse({ path, size: bytes.length, mode: 0o644, bytes });
    assert.ok(!(out instanceof Promise));
    assert.deepEqual(out.warnings, []);
    assert.deepEqual(out.packages, [
      { ecosystem: 'deb', name: 'libsqlite3-0', version: '3.34.1-3', arch: 'arm64', sourceName: 'sqlite3', sourceVersion: '3.34.1-3', path },
    ]);
  });

  test('its fields read the same as dpkg-query reads them once a Status line is supplied', { skip: skipWithout('dpkg-query', 'dpkg') }, () => {
    const text = readFileSync(sharedData('pkgdb', 'dpkg', 'distroless-status.d', 'libsqlite3-0'), 'utf8');
    const withStatus = text.replace(/^Package: .*$/m, (l) => `${l}\nStatus: install ok installed`);
    const out = dpkgDetector.parse({ path, size: bytes.length, mode: 0o644, bytes });
    assert.ok(!(out instanceof Promise));
    assert.deepEqual(rows(out.packages ?? []), oracle(withStatus));
  });

  test('a status.d entry that does carry a Status is filtered like the status file', () => {
    const text = 'Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0\nArchitecture: all\n';
    const out = dpkgDetector.parse({ path: 'var/lib/dpkg/status.d/gone', size: text.length, mode: 0o644, bytes: Buffer.from(text) });
    assert.ok(!(out instanceof Promise));
    assert.deepEqual(out.packages, []);
  });
});

describe('dpkgDetector.wants', () => {
  const wants = (path: string): boolean => dpkgDetector.wants({ path, size: 1, mode: 0o644 });

  test('takes the status file and distroless status.d entries only', () => {
    assert.equal(wants('var/lib/dpkg/status'), true);
    assert.equal(wants('var/lib/dpkg/status.d/libc6'), true);
    assert.equal(wants('var/lib/dpkg/status.d/libssl1.1'), true);
    assert.equal(wants('var/lib/dpkg/status.d/libc6.md5sums'), false);
    assert.equal(wants('var/lib/dpkg/status-old'), false);
    assert.equal(wants('var/lib/dpkg/status.d/sub/x'), false);
    assert.equal(wants('var/lib/dpkg/available'), false);
    assert.equal(wants('usr/var/lib/dpkg/status'), false);
  });
});
