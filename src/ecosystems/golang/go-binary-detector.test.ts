import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { debianDockerRegistryBinary, sharedData } from '../../../test/support/shared-data.js';
import { isPortcullisError } from '../../domain/errors.js';
import type { PackageRecord } from '../../domain/package.js';
import type { CapturedFile, DetectorOutput } from '../../detectors/types.js';
import { buildElf } from '../binary/elf-builder.js';
import { GO_BUILDINFO_MAGIC, readGoBuildInfo } from './buildinfo.js';
import { goBinaryDetector, goVersionToSemver, isLocalPath, ldflagsVersion } from './go-binary-detector.js';
import { parseModInfo, unquoteGo } from './modinfo.js';
import { skipWithout } from '../../../test/support/tools.js';

const SENTINEL_START = Buffer.from('3077af0c9274080241e1c107e6d618e6', 'hex');
const SENTINEL_END = Buffer.from('f932433186182072008242104116d8f2', 'hex');

function captured(path: string, bytes: Buffer, mode = 0o755): CapturedFile {
  return { path, size: bytes.length, mode, bytes };
}

async function parse(bytes: Buffer, path = 'usr/bin/app'): Promise<DetectorOutput> {
  return goBinaryDetector.parse(captured(path, bytes));
}

interface Expected {
  toolchain: string;
  records: { name: string; version: string }[];
  settings: [string, string][];
  path?: string;
}

/**
 * An independent reading of `go version -m` output, kept deliberately simple: it is the oracle the
 * detector is checked against.
 */
function parseGoVersionM(text: string): Expected {
  const lines = text.split('\n');
  const toolchain = (lines[0] ?? '').split(': ')[1]?.trim() ?? '';
  const records: { name: string; version: string }[] = [];
  const settings: [string, string][] = [];
  let path: string | undefined;
  let pending: { name: string; version: string } | undefined;
  const flush = (): void => {
    if (pending) records.push(pending);
    pending = undefined;
  };
  for (const line of lines.slice(1)) {
    const f = line.split('\t').slice(1);
    if (f[0] === 'path') path = f[1];
    if (f[0] === 'mod' || f[0] === 'dep') {
      flush();
      pending = { name: f[1] ?? '', version: f[2] ?? '' };
    }
    if (f[0] === '=>' && pending && !(f[1] ?? '').startsWith('.') && !(f[1] ?? '').startsWith('/')) {
      pending = { name: f[1] ?? '', version: f[2] ?? '' };
    }
    if (f[0] === 'build') {
      const kv = f.slice(1).join('\t');
      const eq = kv.indexOf('=');
      const v = kv.slice(eq + 1);
      settings.push([kv.slice(0, eq), v.startsWith('"') ? (JSON.parse(v) as string) : v]);
    }
  }
  flush();
  records.push({ name: 'stdlib', version: `v${toolchain.slice(2)}` });
  const out: Expected = { toolchain, records, settings };
  if (path !== undefined) out.path = path;
  return out;
}

function assertMatchesOracle(out: DetectorOutput, expected: Expected): void {
  const pkgs = out.packages ?? [];
  assert.deepEqual(
    pkgs.map((p) => ({ name: p.name, version: p.version })),
    expected.records,
  );
  assert.ok(pkgs.every((p) => p.ecosystem === 'golang'));
  const stdlib = pkgs.find((p) => p.name === 'stdlib');
  assert.equal(stdlib?.attributes?.['toolchain'], expected.toolchain);
  assert.equal(stdlib?.attributes?.['role'], 'stdlib');
  assert.equal(stdlib?.attributes?.['mainPackage'], expected.path);
  const builds = Object.entries(stdlib?.attributes ?? {})
    .filter(([k]) => k.startsWith('build.'))
    .map(([k, v]) => [k.slice('build.'.length), v]);
  assert.deepEqual(builds, expected.settings);
  assert.equal(out.warnings, undefined);
}

describe('go-binary detector on real binaries', () => {
  test('the Debian docker-registry binary equals its `go version -m` output', async () => {
    const bytes = debianDockerRegistryBinary();
    const expected = parseGoVersionM(readFileSync(sharedData('pkgdb', 'go-binaries', 'docker-registry', 'docker-registry.go-version-m.txt'), 'utf8'));
    const info = readGoBuildInfo(bytes);
    assert.equal(info?.format, 'inline');
    assert.equal(info?.container, 'elf');
    const out = await parse(bytes, 'usr/bin/docker-registry');
    assertMatchesOracle(out, expected);
    // Built without module mode: no main module, only the standard library.
    assert.deepEqual(
      out.packages?.map((p) => [p.name, p.version, p.arch, p.path]),
      [['stdlib', 'v1.19.8', 'amd64', 'usr/bin/docker-registry']],
    );
  });

  // The go tool comes from Debian's golang-go, which .ci/run installs (and requires there).
  test('a freshly built module binary equals `go version -m` (needs the go tool)', { skip: skipWithout('go', 'golang-go', ['version']) }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-gobin-'));
    try {
      const files: Record<string, string> = {
        'go.mod': [
          'module example.com/app',
          'go 1.18',
          'require (',
          '\texample.com/dep1 v1.2.3',
          '\texample.com/dep3 v1.0.0',
          '\texample.com/dep4 v0.9.1-0.20220101000000-abcdefabcdef',
          ')',
          'replace example.com/dep1 v1.2.3 => ./localdep',
          'replace example.com/dep3 v1.0.0 => example.com/dep3fork v1.1.0',
          '',
        ].join('\n'),
        'localdep/go.mod': 'module example.com/dep1\n',
        'vendor/modules.txt': [
          '# example.com/dep1 v1.2.3 => ./localdep',
          '## explicit',
          'example.com/dep1',
          '# example.com/dep3 v1.0.0 => example.com/dep3fork v1.1.0',
          '## explicit',
          'example.com/dep3',
          '# example.com/dep4 v0.9.1-0.20220101000000-abcdefabcdef',
          '## explicit',
          'example.com/dep4/sub',
          '',
        ].join('\n'),
        'vendor/example.com/dep1/d.go': 'package dep1\nfunc Hello() string { return "1" }\n',
        'vendor/example.com/dep3/d.go': 'package dep3\nfunc Hello() string { return "3" }\n',
        'vendor/example.com/dep4/sub/d.go': 'package sub\nfunc Hello() string { return "4" }\n',
        'main.go':
          'package main\nimport (\n"fmt"\n"example.com/dep1"\n"example.com/dep3"\n"example.com/dep4/sub"\n)\nvar version = "dev"\nfunc main() { fmt.Println(dep1.Hello(), dep3.Hello(), sub.Hello(), version) }\n',
      };
      for (const [name, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, name)), { recursive: true });
        writeFileSync(join(dir, name), text);
      }
      const env = { ...process.env, GOFLAGS: '-mod=vendor', GOPROXY: 'off', GOTOOLCHAIN: 'local', GOWORK: 'off' };
      const build = spawnSync('go', ['build', '-ldflags=-s -w -X main.version=v2.3.4', '-o', 'app', '.'], { cwd: dir, env, encoding: 'utf8' });
      assert.equal(build.status, 0, build.stderr);
      const oracle = spawnSync('go', ['version', '-m', 'app'], { cwd: dir, env, encoding: 'utf8' });
      assert.equal(oracle.status, 0, oracle.stderr);
      const expected = parseGoVersionM(oracle.stdout);
      const out = await parse(readFileSync(join(dir, 'app')));
      assertMatchesOracle(out, expected);

      const byName = new Map((out.packages ?? []).map((p) => [p.name, p]));
      assert.deepEqual(byName.get('example.com/app')?.attributes, { role: 'main', devel: 'true', ldflagsVersion: 'v2.3.4' });
      assert.equal(byName.get('example.com/app')?.version, '(devel)');
      // A module replacement names the replacement; a directory replacement keeps the original.
      assert.deepEqual(byName.get('example.com/dep3fork')?.attributes, { role: 'dep', replaces: 'example.com/dep3@v1.0.0' });
      assert.deepEqual(byName.get('example.com/dep1')?.attributes, { role: 'dep', localReplacement: './localdep' });
      assert.equal(byName.get('example.com/dep1')?.version, 'v1.2.3');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Inline (Go >= 1.18) build info blob: header, varint strings, sentinel-wrapped modinfo. */
function inlineBlob(goVersion: string, modinfo: string): Buffer {
  const header = Buffer.alloc(32);
  GO_BUILDINFO_MAGIC.copy(header);
  header[14] = 8;
  header[15] = 2;
  const mod = Buffer.concat([SENTINEL_START, Buffer.from(modinfo), SENTINEL_END]);
  return Buffer.concat([header, varint(Buffer.byteLength(goVersion)), Buffer.from(goVersion), varint(mod.length), mod]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

const MODINFO = [
  'path\texample.com/tool/cmd/tool',
  'mod\texample.com/tool\tv0.3.1\th1:main=',
  'dep\tgithub.com/a/b\tv1.0.0\th1:ab=',
  'dep\tgolang.org/x/net\tv0.0.0-20220722155237-a158d28d115b\th1:net=',
  '=>\tgithub.com/fork/net\tv0.1.0\th1:fork=',
  'dep\tgopkg.in/yaml.v2\tv2.4.0\th1:yaml=',
  'build\t-ldflags="-X \\"main.Version=1.0\\" -s"',
  'build\tGOARCH=arm64',
  'build\tvcs.revision=0123abcd',
  '',
].join('\n');

describe('go-binary detector on constructed binaries', () => {
  test('inline layout in an ELF .go.buildinfo section', async () => {
    const elf = buildElf([
      { name: '.text', data: Buffer.alloc(64, 0x90), addr: 0x401000, segmentFlags: 5 },
      { name: '.go.buildinfo', data: inlineBlob('go1.21rc2', MODINFO), addr: 0x500000, segmentFlags: 6 },
    ]);
    const out = await parse(elf);
    assert.deepEqual(
      out.packages?.map((p) => [p.name, p.version, p.arch]),
      [
        ['example.com/tool', 'v0.3.1', 'arm64'],
        ['github.com/a/b', 'v1.0.0', 'arm64'],
        ['github.com/fork/net', 'v0.1.0', 'arm64'],
        ['gopkg.in/yaml.v2', 'v2.4.0', 'arm64'],
        ['stdlib', 'v1.21.0-rc.2', 'arm64'],
      ],
    );
    const byName = new Map((out.packages ?? []).map((p) => [p.name, p]));
    assert.deepEqual(byName.get('example.com/tool')?.attributes, { role: 'main', sum: 'h1:main=', ldflagsVersion: '1.0' });
    assert.deepEqual(byName.get('github.com/fork/net')?.attributes, {
      role: 'dep',
      replaces: 'golang.org/x/net@v0.0.0-20220722155237-a158d28d115b',
      sum: 'h1:fork=',
    });
    assert.equal(byName.get('stdlib')?.attributes?.['build.-ldflags'], '-X "main.Version=1.0" -s');
    assert.equal(byName.get('stdlib')?.attributes?.['build.vcs.revision'], '0123abcd');
  });

  for (const layout of [
    { class: 64 as const, littleEndian: true, ptr: 8 },
    { class: 32 as const, littleEndian: false, ptr: 4 },
  ]) {
    test(`pre-1.18 pointer layout, ELF${layout.class} ${layout.littleEndian ? 'little' : 'big'}-endian`, async () => {
      const version = Buffer.from('go1.16.15');
      const mod = Buffer.concat([SENTINEL_START, Buffer.from('path\tex.com/m\nmod\tex.com/m\tv1.2.3\t\n'), SENTINEL_END]);
      // .rodata at 0x600000 holds the string bytes; .data at 0x700000 holds two string headers.
      const rodata = Buffer.concat([version, Buffer.alloc(16 - (version.length % 16)), mod]);
      const versionAddr = 0x600000;
      const modAddr = 0x600000 + version.length + (16 - (version.length % 16));
      const data = Buffer.alloc(layout.ptr * 4);
      const put = (v: number, i: number): void => {
        if (layout.ptr === 8) {
          if (layout.littleEndian) data.writeBigUInt64LE(BigInt(v), i * 8);
          else data.writeBigUInt64BE(BigInt(v), i * 8);
        } else if (layout.littleEndian) data.writeUInt32LE(v, i * 4);
        else data.writeUInt32BE(v, i * 4);
      };
      put(versionAddr, 0);
      put(version.length, 1);
      put(modAddr, 2);
      put(mod.length, 3);
      const header = Buffer.alloc(32);
      GO_BUILDINFO_MAGIC.copy(header);
      header[14] = layout.ptr;
      header[15] = layout.littleEndian ? 0 : 1;
      const pointers = Buffer.alloc(16);
      if (layout.ptr === 8) {
        if (layout.littleEndian) {
          pointers.writeBigUInt64LE(0x700000n, 0);
          pointers.writeBigUInt64LE(0x700000n + 16n, 8);
        } else {
          pointers.writeBigUInt64BE(0x700000n, 0);
          pointers.writeBigUInt64BE(0x700000n + 16n, 8);
        }
      } else {
        pointers.writeUInt32BE(0x700000, 0);
        pointers.writeUInt32BE(0x700000 + 8, 4);
      }
      pointers.copy(header, 16);
      const elf = buildElf(
        [
          { name: '.rodata', data: rodata, addr: versionAddr },
          { name: '.data', data, addr: 0x700000, segmentFlags: 6 },
          { name: '.go.buildinfo', data: header, addr: 0x800000, segmentFlags: 6 },
        ],
        { class: layout.class, littleEndian: layout.littleEndian },
      );
      assert.equal(readGoBuildInfo(elf)?.format, 'pointer');
      const out = await parse(elf);
      assert.deepEqual(
        out.packages?.map((p) => [p.name, p.version, p.attributes?.['role']]),
        [
          ['ex.com/m', 'v1.2.3', 'main'],
          ['stdlib', 'v1.16.15', 'stdlib'],
        ],
      );
    });
  }

  test('without .go.buildinfo, the first writable data segment is searched', async () => {
    const elf = buildElf([
      { name: '.text', data: Buffer.concat([Buffer.alloc(16), inlineBlob('go1.20', 'path\tdecoy\n')]), addr: 0x401000, segmentFlags: 5 },
      { name: '.data', data: Buffer.concat([Buffer.alloc(48), inlineBlob('go1.20', '')]), addr: 0x500000, segmentFlags: 6 },
    ]);
    const out = await parse(elf);
    assert.deepEqual(
      out.packages?.map((p) => [p.name, p.version]),
      [['stdlib', 'v1.20.0']],
    );
  });

  test('the magic string outside the data region (as inside the go tool) is not build info', async () => {
    const elf = buildElf([{ name: '.rodata', data: Buffer.concat([Buffer.alloc(16), inlineBlob('go1.20', '')]), addr: 0x401000, segmentFlags: 4 }]);
    assert.deepEqual(await parse(elf), {});
  });

  test('PE files with the inline layout are read by scanning', async () => {
    const pe = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(126), Buffer.alloc(128), inlineBlob('go1.22.3', MODINFO)]);
    const out = await parse(pe, 'app.exe');
    assert.equal(out.packages?.find((p) => p.name === 'stdlib')?.version, 'v1.22.3');
    assert.equal(out.packages?.length, 5);
  });

  test('module info longer than the 64 KiB search window is read whole', async () => {
    const deps = Array.from({ length: 1500 }, (_, i) => `dep\tgithub.com/org${i}/module-with-a-long-name-${i}\tv1.${i}.0\th1:${'x'.repeat(44)}=`);
    const modinfo = ['path\tex.com/big', 'mod\tex.com/big\tv1.0.0\t', ...deps, ''].join('\n');
    assert.ok(modinfo.length > 128 * 1024);
    const out = await parse(buildElf([{ name: '.go.buildinfo', data: inlineBlob('go1.22.0', modinfo), addr: 0x500000, segmentFlags: 6 }]));
    assert.equal(out.packages?.length, 1502);
    assert.deepEqual(
      out.packages?.slice(-2).map((p) => [p.name, p.version]),
      [
        ['github.com/org1499/module-with-a-long-name-1499', 'v1.1499.0'],
        ['stdlib', 'v1.22.0'],
      ],
    );
  });

  test('in PE files a decoy magic (as in the go tool) is passed over', async () => {
    const decoy = Buffer.concat([GO_BUILDINFO_MAGIC, Buffer.from([8, 2]), Buffer.alloc(16), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])]);
    const pe = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(126), decoy, Buffer.alloc(128 - decoy.length), inlineBlob('go1.22.3', MODINFO)]);
    const out = await parse(pe, 'app.exe');
    assert.equal(out.packages?.find((p) => p.name === 'stdlib')?.version, 'v1.22.3');
  });

  test('non-Go executables yield nothing', async () => {
    assert.deepEqual(await parse(Buffer.from('#!/bin/sh\necho hello\n'.padEnd(200, ' '))), {});
    assert.deepEqual(await parse(buildElf([{ name: '.text', data: Buffer.alloc(256), addr: 0x400000 }])), {});
  });
});

describe('go-binary detector on garbage', () => {
  const real = debianDockerRegistryBinary();
  const at = real.indexOf(GO_BUILDINFO_MAGIC);

  async function neverCrashes(bytes: Buffer): Promise<DetectorOutput | 'typed-error'> {
    try {
      return await parse(bytes);
    } catch (err) {
      assert.ok(isPortcullisError(err, 'E_INPUT'), `unexpected ${String(err)}`);
      return 'typed-error';
    }
  }

  test('truncations of a real binary give a typed error or nothing', async () => {
    for (const cut of [4, 40, 63, 64, 100, 4096, at + 20, at + 33, at + 45, at + 100]) {
      await neverCrashes(real.subarray(0, cut));
    }
    // Truncated inside the varint strings: a typed error, not an exception.
    assert.equal(await neverCrashes(real.subarray(0, at + 45)), 'typed-error');
  });

  test('hostile header fields are bounds-checked', async () => {
    const hugeLength = buildElf([
      { name: '.go.buildinfo', data: Buffer.concat([inlineBlob('go1.20', '').subarray(0, 32), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])]), addr: 0x500000 },
    ]);
    assert.equal(await neverCrashes(hugeLength), 'typed-error');
    const badPointers = Buffer.alloc(32);
    GO_BUILDINFO_MAGIC.copy(badPointers);
    badPointers[14] = 8;
    badPointers.fill(0xff, 16);
    assert.equal(await neverCrashes(buildElf([{ name: '.go.buildinfo', data: badPointers, addr: 0x500000 }])), 'typed-error');
    badPointers[14] = 3;
    assert.equal(await neverCrashes(buildElf([{ name: '.go.buildinfo', data: badPointers, addr: 0x500000 }])), 'typed-error');
  });

  test('random bytes behind real headers never crash', async () => {
    let seed = 7;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 300; i++) {
      const len = 64 + (rand() % 2048);
      const bytes = Buffer.alloc(len);
      for (let j = 0; j < len; j++) bytes[j] = rand() & 0xff;
      bytes.set([0x7f, 0x45, 0x4c, 0x46, 1 + (rand() % 2), 1 + (rand() % 2)], 0);
      GO_BUILDINFO_MAGIC.copy(bytes, 16 * Math.floor((rand() % (len - 48)) / 16));
      await neverCrashes(bytes);
      // Mutate a real section-bearing file too.
      const elf = buildElf([{ name: '.go.buildinfo', data: inlineBlob('go1.20', MODINFO), addr: 0x500000 }]);
      for (let k = 0; k < 8; k++) elf[rand() % elf.length] = rand() & 0xff;
      await neverCrashes(elf);
    }
  });

  test('a malformed modinfo line is a warning, the rest is kept', async () => {
    const elf = buildElf([{ name: '.go.buildinfo', data: inlineBlob('go1.20.1', 'dep\tex.com/d\tv1.0.0\nbogus line\n=>\tex.com/x\tv1\n=>\tex.com/y\tv2\ndep\t\tv1\n'), addr: 0x500000 }]);
    const out = await parse(elf);
    assert.deepEqual(
      out.packages?.map((p: PackageRecord) => [p.name, p.version]),
      [
        ['ex.com/x', 'v1'],
        ['stdlib', 'v1.20.1'],
      ],
    );
    assert.equal(out.warnings?.length, 3);
    assert.ok(out.warnings?.every((w) => w.code === 'malformed-record' && w.message.startsWith('go-binary: ')));
  });
});

describe('go helpers', () => {
  test('toolchain versions convert to semver', () => {
    const cases: [string, string | undefined][] = [
      ['go1.19.8', 'v1.19.8'],
      ['go1.21', 'v1.21.0'],
      ['go1.21.0', 'v1.21.0'],
      ['go1', 'v1.0.0'],
      ['go1.21rc2', 'v1.21.0-rc.2'],
      ['go1.9beta1', 'v1.9.0-beta.1'],
      ['go1.22.1 X:boringcrypto', 'v1.22.1'],
      ['devel go1.22-abc123 Tue', undefined],
      ['', undefined],
    ];
    for (const [input, want] of cases) assert.equal(goVersionToSemver(input), want, input);
  });

  test('local replacement paths', () => {
    for (const p of ['./x', '../x', '.', '..', '/abs/x', 'C:\\src', '.\\x']) assert.ok(isLocalPath(p), p);
    for (const p of ['example.com/x', 'github.com/a/b', '.hidden.com/x']) assert.ok(!isLocalPath(p), p);
  });

  test('ldflags version stamps', () => {
    assert.equal(ldflagsVersion('-s -w -X main.version=1.2.3'), '1.2.3');
    assert.equal(ldflagsVersion("-X 'github.com/a/b/pkg/version.Version=v0.9.0-rc1' -s"), 'v0.9.0-rc1');
    assert.equal(ldflagsVersion('-X=main.Version=v2'), 'v2');
    assert.equal(ldflagsVersion('-X main.commit=abc -X main.version=dev'), undefined);
    assert.equal(ldflagsVersion(''), undefined);
  });

  test('Go string unquoting', () => {
    assert.equal(unquoteGo('"a b"'), 'a b');
    assert.equal(unquoteGo('"\\"q\\" \\t\\x41\\u00e9\\101"'), '"q" \tAéA');
    assert.equal(unquoteGo('`raw \\n`'), 'raw \\n');
    assert.equal(unquoteGo('"unterminated'), undefined);
    assert.equal(unquoteGo('"bad \\q"'), undefined);
  });

  test('modinfo parsing keeps order and replacement pairing', () => {
    const info = parseModInfo(MODINFO);
    assert.equal(info.path, 'example.com/tool/cmd/tool');
    assert.deepEqual(info.main, { path: 'example.com/tool', version: 'v0.3.1', sum: 'h1:main=' });
    assert.deepEqual(info.deps[1], {
      path: 'golang.org/x/net',
      version: 'v0.0.0-20220722155237-a158d28d115b',
      sum: 'h1:net=',
      replace: { path: 'github.com/fork/net', version: 'v0.1.0', sum: 'h1:fork=' },
    });
    assert.deepEqual(parseModInfo(''), { deps: [], settings: [], problems: [] });
  });

  test('wants: executables only', () => {
    assert.ok(goBinaryDetector.wants({ path: 'usr/bin/x', size: 10_000, mode: 0o755 }));
    assert.ok(goBinaryDetector.wants({ path: 'app/x', size: 10_000, mode: 0o100 }));
    assert.ok(!goBinaryDetector.wants({ path: 'usr/bin/x', size: 10_000, mode: 0o644 }));
    assert.ok(!goBinaryDetector.wants({ path: 'usr/bin/x', size: 10, mode: 0o755 }));
    assert.equal(goBinaryDetector.oversize, 'skip');
  });
});
