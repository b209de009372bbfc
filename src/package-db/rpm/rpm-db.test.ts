import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { sharedData } from '../../../test/support/shared-data.js';
import { isPortcullisError } from '../../domain/errors.js';
import type { PackageRecord } from '../../domain/package.js';
import type { PackageDbResult } from '../common.js';
import { readBdbBlobs } from './bdb.js';
import { RPMTAG, RPM_TYPE, headerRegion, headerString, parseRpmHeader } from './header.js';
import { rpmHeaderToPackage } from './rpm-package.js';
import { adler32, readNdbBlobs, readNdbSlots } from './ndb.js';
import { detectRpmDbFormat, parseRpmDatabase, readRpmBlobs } from './rpm-db.js';
import { rpmDetector } from './detector.js';
import { skipWithout } from '../../../test/support/tools.js';
import { buildHeaderBlob, rpmQueryBlobs } from './test-support/rpm-test-helpers.js';

const rpmData = (...parts: string[]): Buffer => readFileSync(sharedData('pkgdb', 'rpm', ...parts));

/** Reads an expected.tsv written by `rpm -qa --qf` (comment line, header line, rows). */
function expectedRows(...parts: string[]): { columns: string[]; rows: string[] } {
  const lines = readFileSync(sharedData('pkgdb', 'rpm', ...parts), 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'));
  const [header, ...rows] = lines;
  return { columns: (header ?? '').split('\t'), rows: rows.sort() };
}

/** A record in expected.tsv's columns. rpm prints EPOCHNUM 0 and "(none)" for what a header lacks. */
function recordRow(p: PackageRecord, columns: string[]): string {
  const evr = p.epoch === undefined ? p.version : p.version.slice(`${p.epoch}:`.length);
  const dash = evr.lastIndexOf('-');
  const values: Record<string, string> = {
    name: p.name,
    epoch: String(p.epoch ?? 0),
    version: evr.slice(0, dash),
    release: evr.slice(dash + 1),
    arch: p.arch ?? '(none)',
    sourcerpm: p.attributes?.sourceRpm ?? '(none)',
  };
  return columns.map((c) => values[c] ?? `?${c}`).join('\t');
}

/**
 * Rewrites a little-endian BDB hash file as a big-endian host would have written it: the integer
 * fields rpm's bdb_ro.cc byte-swaps (metadata words, page header numbers, item offsets, off-page
 * references) plus the 4-byte record-number keys, which rpm stores in host order.
 */
function bdbToBigEndian(le: Buffer): Buffer {
  const b = Buffer.from(le);
  const pageSize = le.readUInt32LE(20);
  const swap32 = (off: number): void => void b.writeUInt32BE(le.readUInt32LE(off), off);
  const swap16 = (off: number): void => void b.writeUInt16BE(le.readUInt16LE(off), off);
  for (let off = 8; off < 224; off += 4) if (off !== 24) swap32(off); // bytes 24..27 are single-byte fields
  for (let at = pageSize; at + pageSize <= le.length; at += pageSize) {
    const type = le[at + 25];
    for (const off of [8, 12, 16]) swap32(at + off);
    swap16(at + 20);
    swap16(at + 22);
    if (type !== 13 && type !== 2) continue;
    const entries = le.readUInt16LE(at + 20);
    for (let i = 0; i < entries; i++) {
      swap16(at + 26 + 2 * i);
      const off = le.readUInt16LE(at + 26 + 2 * i);
      const end = i === 0 ? pageSize : le.readUInt16LE(at + 26 + 2 * (i - 1));
      if (le[at + off] === 3) {
        swap32(at + off + 4);
        swap32(at + off + 8);
      } else if (le[at + off] === 1 && i % 2 === 0 && end - off === 5) {
        swap32(at + off + 1);
      }
    }
  }
  return b;
}

function parse(bytes: Uint8Array, path: string): PackageDbResult {
  return parseRpmDatabase(bytes, path);
}

describe('rpm databases against rpm -qa (expected.tsv written by rpm 4.18.0)', () => {
  const cases: { name: string; file: string[]; expected: string[]; format: string; count: number }[] = [
    { name: 'CBL-Mariner 2.0 SQLite', file: ['cbl-mariner-2.0', 'rpmdb.sqlite'], expected: ['cbl-mariner-2.0', 'expected.tsv'], format: 'sqlite', count: 129 },
    { name: 'syft Berkeley DB', file: ['syft-bdb', 'Packages'], expected: ['syft-bdb', 'expected.tsv'], format: 'bdb', count: 1 },
    { name: 'UBI 9 SQLite', file: ['generated-ubi9-amd64', 'rpmdb.sqlite'], expected: ['generated-ubi9-amd64', 'expected.tsv'], format: 'sqlite', count: 181 },
    { name: 'UBI 9 Berkeley DB', file: ['generated-ubi9-amd64', 'Packages'], expected: ['generated-ubi9-amd64', 'expected.tsv'], format: 'bdb', count: 181 },
  ];
  for (const c of cases) {
    test(`${c.name}: every package, exactly as rpm lists it`, () => {
      const bytes = rpmData(...c.file);
      assert.equal(detectRpmDbFormat(bytes), c.format);
      const path = `var/lib/rpm/${c.file[1]}`;
      const result = parse(bytes, path);
      assert.deepEqual(result.warnings, []);
      const expected = expectedRows(...c.expected);
      assert.equal(expected.rows.length, c.count);
      assert.deepEqual(result.packages.map((p) => recordRow(p, expected.columns)).sort(), expected.rows);
      assert.ok(result.packages.every((p) => p.ecosystem === 'rpm' && p.path === path));
    });
  }

  test('epochs are written into the version and kept as a number', () => {
    const result = parse(rpmData('cbl-mariner-2.0', 'rpmdb.sqlite'), 'var/lib/rpm/rpmdb.sqlite');
    const ca = result.packages.find((p) => p.name === 'ca-certificates-base');
    assert.equal(ca?.version, '1:2.0.0-1.cm2');
    assert.equal(ca?.epoch, 1);
    // The source rpm file name has no epoch; the subpackage's epoch is the spec's.
    assert.equal(ca?.sourceName, 'ca-certificates');
    assert.equal(ca?.sourceVersion, '1:2.0.0-1.cm2');
    const bash = result.packages.find((p) => p.name === 'bash');
    assert.equal(bash?.version, '5.1.8-1.cm2');
    assert.equal(bash?.epoch, undefined);
  });

  test('source name and version come from SOURCERPM, also when the binary is named differently', () => {
    const result = parse(rpmData('cbl-mariner-2.0', 'rpmdb.sqlite'), 'var/lib/rpm/rpmdb.sqlite');
    const plugin = result.packages.find((p) => p.name === 'tdnf-plugin-repogpgcheck');
    assert.deepEqual([plugin?.sourceName, plugin?.sourceVersion, plugin?.attributes?.sourceRpm], ['tdnf', '2.1.0-8.cm2', 'tdnf-2.1.0-8.cm2.src.rpm']);
  });

  test('the SQLite and Berkeley DB copies of the same UBI 9 database give the same records', () => {
    const key = (p: PackageRecord) => JSON.stringify({ ...p, path: '' });
    const sqlite = parse(rpmData('generated-ubi9-amd64', 'rpmdb.sqlite'), 'x').packages.map(key).sort();
    const bdb = parse(rpmData('generated-ubi9-amd64', 'Packages'), 'x').packages.map(key).sort();
    assert.deepEqual(bdb, sqlite);
  });

  test('a big-endian Berkeley DB (written on s390x or ppc64) reads the same as the little-endian one', () => {
    const le = rpmData('generated-ubi9-amd64', 'Packages');
    const be = bdbToBigEndian(le);
    assert.notDeepEqual(be, le);
    const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    const fromLe = readBdbBlobs(le, 'x').blobs.map((b) => `${b.key} ${digest(b.blob)}`).sort();
    const fromBe = readBdbBlobs(be, 'x');
    assert.deepEqual(fromBe.warnings, []);
    assert.deepEqual(fromBe.blobs.map((b) => `${b.key} ${digest(b.blob)}`).sort(), fromLe);
  });

  test('the Berkeley DB reader returns exactly the header blobs the SQLite database holds', () => {
    const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    const fromSqlite = readRpmBlobs(rpmData('generated-ubi9-amd64', 'rpmdb.sqlite'), 'x').blobs.map((b) => digest(b.blob)).sort();
    const fromBdb = readBdbBlobs(rpmData('generated-ubi9-amd64', 'Packages'), 'x').blobs.map((b) => digest(b.blob)).sort();
    assert.equal(fromBdb.length, 181);
    assert.deepEqual(fromBdb, fromSqlite);
  });
});

describe('SUSE ndb database (no oracle reads ndb: checked for internal consistency and by rpm on the extracted headers)', () => {
  const bytes = rpmData('sle15-bci', 'Packages.db');
  const path = 'usr/lib/sysimage/rpm/Packages.db';
  const result = parse(bytes, path);

  test('one package per used slot, counted independently from the raw slot table', () => {
    // Scan the slot pages by hand: 16-byte slots after the 32-byte file header; offset 0 = free.
    const slotPages = bytes.readUInt32LE(12);
    let used = 0;
    for (let off = 32; off < slotPages * 4096; off += 16) {
      assert.equal(bytes.toString('latin1', off, off + 4), 'Slot');
      if (bytes.readUInt32LE(off + 8) !== 0) used += 1;
    }
    assert.equal(used, 35);
    assert.equal(readNdbSlots(bytes, path).slots.length, used);
    assert.deepEqual(result.warnings, []);
    assert.equal(result.packages.length, used);
  });

  test("every blob passes rpm's own Adler-32 check and every header parses", () => {
    const { blobs, warnings } = readNdbBlobs(bytes, path);
    assert.deepEqual(warnings, []);
    assert.equal(blobs.length, 35);
    for (const { blob } of blobs) parseRpmHeader(blob);
  });

  test("every header's immutable region matches its own SHA1HEADER and SHA256HEADER digests", () => {
    const { blobs } = readNdbBlobs(bytes, path);
    for (const { key, blob } of blobs) {
      const header = parseRpmHeader(blob);
      const region = headerRegion(header);
      assert.ok(region, `package ${key} has an immutable region`);
      const ildl = Buffer.alloc(8);
      ildl.writeUInt32BE(region.ril, 0);
      ildl.writeUInt32BE(region.rdl, 4);
      const parts = [Buffer.from([0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0]), ildl, blob.subarray(8, 8 + region.ril * 16), header.data.subarray(0, region.rdl)];
      const sha1 = createHash('sha1');
      const sha256 = createHash('sha256');
      for (const p of parts) {
        sha1.update(p);
        sha256.update(p);
      }
      assert.equal(headerString(header, RPMTAG.SHA1HEADER), sha1.digest('hex'), `package ${key} SHA1HEADER`);
      assert.equal(headerString(header, RPMTAG.SHA256HEADER), sha256.digest('hex'), `package ${key} SHA256HEADER`);
    }
  });

  test('the base system of a SUSE image is there, with SUSE release numbers', () => {
    const names = new Set(result.packages.map((p) => p.name));
    for (const n of ['filesystem', 'glibc', 'bash', 'coreutils', 'sles-release', 'rpm-ndb']) assert.ok(names.has(n), n);
    assert.equal(result.packages.find((p) => p.name === 'sles-release')?.version.startsWith('15.3-'), true);
    assert.ok(result.packages.every((p) => p.sourceName && p.attributes?.sourceRpm && p.arch));
  });

  test('the real rpm reads the extracted headers (verifying their digests and signatures) and lists the same packages', { skip: skipWithout('rpm', 'rpm') }, () => {
    const { blobs } = readNdbBlobs(bytes, path);
    const { lines, stderr } = rpmQueryBlobs(
      blobs.map((b) => b.blob),
      '%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{SOURCERPM}\\n',
    );
    assert.equal(stderr, '');
    const columns = ['name', 'epoch', 'version', 'release', 'arch', 'sourcerpm'];
    assert.deepEqual(result.packages.map((p) => recordRow(p, columns)).sort(), lines.sort());
  });
});

describe('the single header blob of the corpus', () => {
  // Its stored SHA1HEADER/SHA256HEADER do not match its immutable region (rpm computes the same
  // digest as headerRegion gives and refuses the header), so rpm is asked not to check them.
  test('decodes as rpm decodes it', { skip: skipWithout('rpm', 'rpm') }, () => {
    const blob = rpmData('header-blob.bin');
    const fmt = '%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{SOURCERPM}\\t%{LICENSE}\\n';
    assert.equal(rpmQueryBlobs([blob], fmt).lines.length, 0);
    const { lines } = rpmQueryBlobs([blob], fmt, { verify: false });
    assert.equal(lines.length, 1);
    const h = parseRpmHeader(blob);
    const fields = [RPMTAG.NAME, RPMTAG.EPOCH, RPMTAG.VERSION, RPMTAG.RELEASE, RPMTAG.ARCH, RPMTAG.SOURCERPM, RPMTAG.LICENSE];
    const ours = fields.map((t) => (t === RPMTAG.EPOCH ? '0' : (headerString(h, t) ?? '(none)'))).join('\t');
    assert.equal(ours, lines[0]);
  });
});

/** Deterministic pseudo-random numbers (mulberry32), so a failing mutation can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Parses damaged bytes: the only acceptable outcomes are a typed error or a result (maybe with warnings). */
function parseDamaged(bytes: Uint8Array, label: string): PackageDbResult | 'typed-error' {
  try {
    const result = parse(bytes, 'var/lib/rpm/x');
    for (const p of result.packages) assert.ok(p.name !== '' && p.version !== '', `${label}: empty name or version`);
    return result;
  } catch (err) {
    assert.ok(isPortcullisError(err), `${label}: threw an untyped ${String(err)}`);
    assert.match(err.message, /^rpm: /);
    return 'typed-error';
  }
}

describe('damaged rpm databases give warnings or a typed error, never a crash or a hang', () => {
  const formats: { name: string; bytes: Buffer; count: number }[] = [
    { name: 'SQLite', bytes: rpmData('generated-ubi9-amd64', 'rpmdb.sqlite'), count: 181 },
    { name: 'Berkeley DB', bytes: rpmData('generated-ubi9-amd64', 'Packages'), count: 181 },
    { name: 'ndb', bytes: rpmData('sle15-bci', 'Packages.db'), count: 35 },
  ];

  for (const f of formats) {
    test(`${f.name}: truncated copies`, { timeout: 120_000 }, () => {
      for (const fraction of [0, 0.001, 0.05, 0.2, 0.5, 0.8, 0.95, 0.999]) {
        const cut = f.bytes.subarray(0, Math.floor(f.bytes.length * fraction));
        const outcome = parseDamaged(cut, `${f.name} cut at ${fraction}`);
        // Either the loss shows (fewer packages or a warning), or nothing that mattered was cut
        // (SQLite's last pages may be index pages) and the packages are exactly the original ones.
        if (outcome !== 'typed-error' && outcome.warnings.length === 0 && outcome.packages.length === f.count) {
          assert.deepEqual(outcome.packages, parse(f.bytes, 'var/lib/rpm/x').packages, `${f.name} cut at ${fraction}`);
        }
      }
    });

    test(`${f.name}: copies with random bytes overwritten`, { timeout: 300_000 }, () => {
      const random = prng(0x5eed + f.count);
      for (let round = 0; round < 60; round++) {
        const copy = Buffer.from(f.bytes);
        const flips = 1 + Math.floor(random() * 16);
        for (let i = 0; i < flips; i++) copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256);
        parseDamaged(copy, `${f.name} round ${round}`);
      }
    });
  }

  test('Berkeley DB: an overflow chain that loops onto itself is cut with a warning and costs one package', () => {
    const bytes = Buffer.from(rpmData('generated-ubi9-amd64', 'Packages'));
    const pageSize = bytes.readUInt32LE(20);
    // Find the first off-page value (item type 3) on a hash page (type 13), make it claim more bytes
    // than its overflow page holds, and chain that page to itself.
    let done = false;
    for (let pg = 1; !done && pg * pageSize < bytes.length; pg++) {
      const at = pg * pageSize;
      if (bytes[at + 25] !== 13) continue;
      const entries = bytes.readUInt16LE(at + 20);
      for (let i = 1; i < entries; i += 2) {
        const item = at + bytes.readUInt16LE(at + 26 + 2 * i);
        if (bytes[item] !== 3) continue;
        const overflowPage = bytes.readUInt32LE(item + 4);
        bytes.writeUInt32LE(bytes.readUInt32LE(item + 8) + 100, item + 8);
        bytes.writeUInt32LE(overflowPage, overflowPage * pageSize + 16);
        done = true;
        break;
      }
    }
    assert.ok(done, 'the database has an off-page value');
    const result = parse(bytes, 'var/lib/rpm/Packages');
    assert.equal(result.packages.length, 180);
    assert.ok(result.warnings.some((w) => w.code === 'rpm-corrupt-database' && /reached twice/.test(w.message)));
  });

  test('Berkeley DB: a bucket page chained to itself ends with a warning', () => {
    const bytes = Buffer.from(rpmData('syft-bdb', 'Packages'));
    const pageSize = bytes.readUInt32LE(20);
    let hashPage = -1;
    for (let pg = 1; pg * pageSize < bytes.length; pg++) if (bytes[pg * pageSize + 25] === 13) hashPage = pg;
    assert.ok(hashPage > 0);
    bytes.writeUInt32LE(hashPage, hashPage * pageSize + 16);
    const result = parse(bytes, 'var/lib/rpm/Packages');
    assert.ok(result.warnings.some((w) => /reached twice/.test(w.message)));
  });

  test('ndb: a blob whose bytes changed fails its checksum and only that package is lost', () => {
    const bytes = Buffer.from(rpmData('sle15-bci', 'Packages.db'));
    const { slots } = readNdbSlots(bytes, 'x');
    const victim = slots[5];
    assert.ok(victim);
    const at = victim.blkOff * 16 + 16 + 100;
    bytes[at] = (bytes[at] ?? 0) ^ 0xff;
    const result = parse(bytes, 'usr/lib/sysimage/rpm/Packages.db');
    assert.equal(result.packages.length, 34);
    assert.equal(result.warnings.length, 1);
    assert.match(result.warnings[0]?.message ?? '', /Adler-32/);
  });

  test('files that are no rpm database are a typed error', () => {
    for (const bytes of [Buffer.alloc(0), Buffer.from('hello world'), Buffer.alloc(8192)]) {
      assert.throws(() => parse(bytes, 'var/lib/rpm/Packages'), (err: unknown) => isPortcullisError(err, 'E_INPUT'));
    }
  });

  test('a Berkeley DB btree is refused as unsupported', () => {
    const bytes = Buffer.alloc(8192);
    bytes.writeUInt32LE(0x00053162, 12);
    assert.throws(() => parse(bytes, 'var/lib/rpm/Packages'), (err: unknown) => isPortcullisError(err, 'E_UNSUPPORTED'));
  });

  test('an SQLite file without a Packages table is a typed error', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE Other (x INTEGER)');
    const bytes = db.serialize();
    db.close();
    assert.throws(() => parse(bytes, 'var/lib/rpm/rpmdb.sqlite'), (err: unknown) => isPortcullisError(err, 'E_INPUT') && /Packages/.test(err.message));
  });

  test('SQLite rows that hold no blob are skipped with a warning, the others kept', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)');
    const good = readRpmBlobs(rpmData('syft-bdb', 'Packages'), 'x').blobs[0]?.blob;
    assert.ok(good);
    db.prepare('INSERT INTO Packages (hnum, blob) VALUES (?, ?)').run(1, 'not a blob');
    db.prepare('INSERT INTO Packages (hnum, blob) VALUES (?, ?)').run(2, Buffer.from(good));
    db.prepare('INSERT INTO Packages (hnum, blob) VALUES (?, ?)').run(3, Buffer.from([0, 0, 0, 1]));
    const bytes = db.serialize();
    db.close();
    const result = parse(bytes, 'var/lib/rpm/rpmdb.sqlite');
    assert.deepEqual(
      result.packages.map((p) => p.name),
      ['dive'],
    );
    assert.deepEqual(
      result.warnings.map((w) => w.code),
      ['rpm-corrupt-header', 'rpm-corrupt-header'],
    );
  });
});

describe('adler32', () => {
  test('matches the RFC 1950 reference values', () => {
    assert.equal(adler32(Buffer.from('')), 1);
    assert.equal(adler32(Buffer.from('Wikipedia')), 0x11e60398);
    // Long input crosses the 5552-byte reduction boundary several times.
    assert.equal(adler32(Buffer.alloc(100_000, 0xff)), adler32Reference(Buffer.alloc(100_000, 0xff)));
  });
});

function adler32Reference(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

describe('rpmDetector', () => {
  test('wants the three database files in both rpm database directories', () => {
    const wants = (path: string): boolean => rpmDetector.wants({ path, size: 1, mode: 0o644 });
    for (const dir of ['var/lib/rpm/', 'usr/lib/sysimage/rpm/']) {
      assert.equal(wants(`${dir}Packages`), true);
      assert.equal(wants(`${dir}Packages.db`), true);
      assert.equal(wants(`${dir}rpmdb.sqlite`), true);
      assert.equal(wants(`${dir}rpmdb.sqlite-wal`), false);
      assert.equal(wants(`${dir}Name`), false);
      assert.equal(wants(`${dir}Index.db`), false);
      assert.equal(wants(`${dir}sub/Packages`), false);
    }
    assert.equal(wants('Packages'), false);
    assert.equal(wants('opt/var/lib/rpm/Packages'), false);
  });

  test('parses a database handed to it', async () => {
    const bytes = rpmData('syft-bdb', 'Packages');
    const out = await rpmDetector.parse({ path: 'var/lib/rpm/Packages', size: bytes.length, mode: 0o644, bytes });
    assert.deepEqual(
      out.packages?.map((p) => `${p.name} ${p.version} ${p.arch}`),
      ['dive 0.9.2-1 x86_64'],
    );
  });
});

describe('rpm file lists (ownedFiles)', () => {
  // The files each package installed, as the real rpm lists them (`[%{FILENAMES}]`) for the same header blobs.
  for (const [label, parts] of [
    ['SQLite (CBL-Mariner 2.0)', ['cbl-mariner-2.0', 'rpmdb.sqlite']],
    ['NDB (SLE 15 BCI)', ['sle15-bci', 'Packages.db']],
  ] as const) {
    test(`${label}: every package's files are those rpm -ql gives`, { skip: skipWithout('rpm', 'rpm') }, () => {
      const bytes = rpmData(...parts);
      const { blobs } = readRpmBlobs(bytes, 'var/lib/rpm/x');
      const { lines, stderr } = rpmQueryBlobs(
        blobs.map((b) => b.blob),
        '%{NAME}\\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}[\\t%{FILENAMES}]\\n',
      );
      assert.equal(stderr, '');
      const result = parseRpmDatabase(bytes, 'var/lib/rpm/x');
      const ours = result.packages.map((p) => {
        const list = result.ownedFiles.find((l) => l.name === p.name && l.version === p.version);
        const evr = p.epoch === undefined ? `0:${p.version}` : p.version;
        return [p.name, evr, ...(list?.files ?? []).map((f) => `/${f}`)].join('\t');
      });
      assert.deepEqual(ours.sort(), lines.sort());
      assert.ok(result.ownedFiles.length >= 30, `${result.ownedFiles.length} file lists`);
      assert.deepEqual(result.warnings, []);
    });
  }

  test('a damaged file list costs the list, not the package', () => {
    const blob = buildHeaderBlob([
      { tag: RPMTAG.NAME, string: 'python3-requests' },
      { tag: RPMTAG.VERSION, string: '2.25.1' },
      { tag: RPMTAG.RELEASE, string: '1.el9' },
      { tag: RPMTAG.DIRINDEXES, int32: 7 },
      { tag: RPMTAG.BASENAMES, type: RPM_TYPE.STRING_ARRAY, raw: Buffer.from('PKG-INFO\0') },
      { tag: RPMTAG.DIRNAMES, type: RPM_TYPE.STRING_ARRAY, raw: Buffer.from('/usr/lib/python3.9/site-packages/requests-2.25.1-py3.9.egg-info/\0') },
    ]);
    const found = rpmHeaderToPackage(blob, 'var/lib/rpm/rpmdb.sqlite');
    assert.equal(found?.record.name, 'python3-requests');
    assert.deepEqual(found?.files, []);
    assert.match(found?.filesError ?? '', /DIRINDEXES\[0\] points past the 1 DIRNAMES/);
    const good = rpmHeaderToPackage(
      buildHeaderBlob([
        { tag: RPMTAG.NAME, string: 'python3-requests' },
        { tag: RPMTAG.VERSION, string: '2.25.1' },
        { tag: RPMTAG.RELEASE, string: '1.el9' },
        { tag: RPMTAG.DIRINDEXES, int32: 0 },
        { tag: RPMTAG.BASENAMES, type: RPM_TYPE.STRING_ARRAY, raw: Buffer.from('PKG-INFO\0') },
        { tag: RPMTAG.DIRNAMES, type: RPM_TYPE.STRING_ARRAY, raw: Buffer.from('/usr/lib/python3.9/site-packages/requests-2.25.1-py3.9.egg-info/\0') },
      ]),
      'var/lib/rpm/rpmdb.sqlite',
    );
    assert.deepEqual(good?.files, ['usr/lib/python3.9/site-packages/requests-2.25.1-py3.9.egg-info/PKG-INFO']);
  });
});
