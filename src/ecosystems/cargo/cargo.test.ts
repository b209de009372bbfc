import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { isPortcullisError } from '../../domain/errors.js';
import type { DetectorOutput } from '../../detectors/types.js';
import { buildElf } from '../binary/elf-builder.js';
import { cargoAuditableDetector, MAX_AUDIT_JSON_BYTES } from './auditable-detector.js';
import { cargoLockDetector, cargoSourceKind } from './cargo-lock-detector.js';
import { skipWithout } from '../../../test/support/tools.js';

const lockPath = new URL('./testdata/Cargo.lock', import.meta.url);

function lockOutput(text: string, path = 'app/Cargo.lock'): DetectorOutput {
  const bytes = Buffer.from(text);
  return cargoLockDetector.parse({ path, size: bytes.length, mode: 0o644, bytes }) as DetectorOutput;
}

describe('cargo-lock detector', () => {
  test('every [[package]] of a version-3 lockfile', () => {
    const text = readFileSync(lockPath, 'utf8');
    const out = lockOutput(text);
    // Independent count: the number of [[package]] headers in the file.
    assert.equal(out.packages?.length, text.match(/^\[\[package\]\]$/gm)?.length);
    assert.deepEqual(
      out.packages?.map((p) => `${p.name}@${p.version}:${p.attributes?.['source']}`),
      [
        'aho-corasick@1.1.2:crates.io',
        'demo-cli@0.4.0:local',
        'demo-core@0.4.0:local',
        'internal-utils@3.1.0:registry',
        'memchr@2.7.1:crates.io',
        'regex@1.10.3:crates.io',
        'serde@1.0.196:crates.io',
        'syn@1.0.109:crates.io',
        'syn@2.0.48:crates.io',
        'tiny-git-dep@0.1.0:git',
      ],
    );
    const memchr = out.packages?.find((p) => p.name === 'memchr');
    assert.deepEqual(memchr, {
      ecosystem: 'cargo',
      name: 'memchr',
      version: '2.7.1',
      path: 'app/Cargo.lock',
      attributes: {
        source: 'crates.io',
        sourceUrl: 'registry+https://github.com/rust-lang/crates.io-index',
        checksum: '523dc4f511e55ab87b694dc30d0f820d60906ef06413f93d4d7a1385599cc149',
      },
    });
    assert.equal(out.warnings, undefined);
  });

  test('source kinds', () => {
    assert.equal(cargoSourceKind(undefined), 'local');
    assert.equal(cargoSourceKind('registry+https://github.com/rust-lang/crates.io-index'), 'crates.io');
    assert.equal(cargoSourceKind('sparse+https://index.crates.io/'), 'crates.io');
    assert.equal(cargoSourceKind('sparse+https://my.registry/index/'), 'registry');
    assert.equal(cargoSourceKind('git+https://x/y#abc'), 'git');
    assert.equal(cargoSourceKind('path+file:///x'), 'other');
  });

  test('a table without a version is a warning; the rest is kept', () => {
    const out = lockOutput('[[package]]\nname = "a"\nversion = "1.0.0"\n\n[[package]]\nname = "b"\n\n[[package]]\nversion = 3\n');
    assert.deepEqual(
      out.packages?.map((p) => p.name),
      ['a'],
    );
    assert.equal(out.warnings?.length, 2);
    assert.equal(out.warnings?.[0]?.code, 'malformed-record');
  });

  test('no packages, garbage and truncation', () => {
    assert.deepEqual(lockOutput('version = 3\n'), {});
    for (const bad of ['[[package]\nname = "x"', '\u0000\u0001\u0002', 'package = 5', 'x = "unterminated']) {
      assert.throws(() => lockOutput(bad), (err) => isPortcullisError(err, 'E_INPUT') && err.message.startsWith('cargo-lock: '));
    }
    const text = readFileSync(lockPath, 'utf8');
    for (let cut = 0; cut < text.length; cut += 97) {
      try {
        lockOutput(text.slice(0, cut));
      } catch (err) {
        assert.ok(isPortcullisError(err, 'E_INPUT'), String(err));
      }
    }
  });

  test('wants only Cargo.lock files', () => {
    assert.ok(cargoLockDetector.wants({ path: 'Cargo.lock', size: 10, mode: 0o644 }));
    assert.ok(cargoLockDetector.wants({ path: 'srv/app/Cargo.lock', size: 10, mode: 0o644 }));
    assert.ok(!cargoLockDetector.wants({ path: 'srv/app/Cargo.lock.bak', size: 10, mode: 0o644 }));
    assert.ok(!cargoLockDetector.wants({ path: 'srv/app/NotCargo.lock', size: 10, mode: 0o644 }));
  });
});

/** What cargo-auditable embeds for a small binary (a newer writer: lowercase kinds, root flag, object source). */
const AUDIT_JSON = {
  packages: [
    { name: 'adler', version: '1.0.2', source: 'crates.io' },
    { name: 'cc', version: '1.0.83', source: 'crates.io', kind: 'build' },
    { name: 'hello', version: '0.1.0', source: 'local', dependencies: [0, 1, 3], root: true },
    { name: 'private-dep', version: '2.0.0', source: { kind: 'git', rev: 'abc' } },
    { name: 'old-writer', version: '0.3.0', source: 'registry', kind: 'Runtime' },
  ],
};

function auditableElf(payload: Buffer, options: { class?: 32 | 64; littleEndian?: boolean } = {}): Buffer {
  return buildElf(
    [
      { name: '.text', data: Buffer.alloc(128, 0xc3), addr: 0x401000, segmentFlags: 5 },
      { name: '.dep-v0', data: payload },
    ],
    options,
  );
}

async function parseBinary(bytes: Buffer): Promise<DetectorOutput> {
  return cargoAuditableDetector.parse({ path: 'usr/local/bin/hello', size: bytes.length, mode: 0o755, bytes });
}

describe('cargo-auditable detector', () => {
  const expected = [
    ['adler', '1.0.2', { source: 'crates.io', kind: 'runtime' }],
    ['cc', '1.0.83', { source: 'crates.io', kind: 'build' }],
    ['hello', '0.1.0', { source: 'local', kind: 'runtime', role: 'root' }],
    ['private-dep', '2.0.0', { source: 'git', kind: 'runtime' }],
    ['old-writer', '0.3.0', { source: 'registry', kind: 'runtime' }],
  ];

  for (const options of [{}, { class: 32 as const, littleEndian: false }]) {
    test(`reads the .dep-v0 section of a constructed ELF ${JSON.stringify(options)}`, async () => {
      const out = await parseBinary(auditableElf(deflateSync(JSON.stringify(AUDIT_JSON)), options));
      assert.deepEqual(
        out.packages?.map((p) => [p.name, p.version, p.attributes]),
        expected,
      );
      assert.ok(out.packages?.every((p) => p.ecosystem === 'cargo' && p.path === 'usr/local/bin/hello'));
    });
  }

  const trueBin = ['/usr/bin/true', '/bin/true'].find((p) => existsSync(p));
  // objcopy comes from binutils, which .ci/run installs (and requires there).
  test('reads a section added to a real system binary by objcopy', { skip: skipWithout('objcopy', 'binutils') }, async () => {
    assert.ok(trueBin, '/usr/bin/true is needed');
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-auditable-'));
    try {
      const bin = join(dir, 'true');
      copyFileSync(trueBin ?? '', bin);
      writeFileSync(join(dir, 'deps.z'), deflateSync(JSON.stringify(AUDIT_JSON)));
      const r = spawnSync('objcopy', ['--add-section', `.dep-v0=${join(dir, 'deps.z')}`, '--set-section-flags', '.dep-v0=noload,readonly', bin], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const out = await parseBinary(readFileSync(bin));
      assert.deepEqual(
        out.packages?.map((p) => [p.name, p.version, p.attributes]),
        expected,
      );
      // The unmodified binary has no dependency list.
      assert.deepEqual(await parseBinary(readFileSync(trueBin ?? '')), {});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('malformed entries are warnings', async () => {
    const json = { packages: [{ name: 'ok', version: '1.0.0', source: 'crates.io' }, { name: 'nover' }, 17] };
    const out = await parseBinary(auditableElf(deflateSync(JSON.stringify(json))));
    assert.deepEqual(
      out.packages?.map((p) => p.name),
      ['ok'],
    );
    assert.equal(out.warnings?.length, 2);
  });

  test('garbage, truncation and a zlib bomb give typed errors', async () => {
    const typed = async (bytes: Buffer): Promise<void> => {
      await assert.rejects(
        async () => parseBinary(bytes),
        (err) => isPortcullisError(err, 'E_INPUT'),
      );
    };
    await typed(auditableElf(Buffer.from('not zlib at all')));
    await typed(auditableElf(deflateSync('{"packages": ')));
    await typed(auditableElf(deflateSync('{"nothing": []}')));
    await typed(auditableElf(deflateSync(JSON.stringify(AUDIT_JSON)).subarray(0, 20)));
    // 64 MiB of spaces compress to ~64 KiB; the inflate cap stops it at 8 MiB.
    const bomb = deflateSync(Buffer.alloc(MAX_AUDIT_JSON_BYTES * 8, 0x20));
    assert.ok(bomb.length < 200_000);
    await typed(auditableElf(bomb));
    // Truncating the file cuts off the section table.
    const whole = auditableElf(deflateSync(JSON.stringify(AUDIT_JSON)));
    for (let cut = 0; cut < whole.length; cut += 13) {
      try {
        await parseBinary(whole.subarray(0, cut));
      } catch (err) {
        assert.ok(isPortcullisError(err, 'E_INPUT'), String(err));
      }
    }
  });

  test('executables without the section yield nothing', async () => {
    assert.deepEqual(await parseBinary(buildElf([{ name: '.text', data: Buffer.alloc(64), addr: 0x400000 }])), {});
    assert.deepEqual(await parseBinary(Buffer.from('#!/bin/sh\n# mentions .dep-v0 in a comment\n')), {});
  });
});
