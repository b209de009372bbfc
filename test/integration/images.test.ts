// Sanity checks of the real test images built by test/harness/prepare.ts, made with the real tools
// (skopeo, tar, gzip) rather than with the project's own readers, so a broken harness shows up here
// and not as a mysterious failure in some scanner test.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyOciLayout, loadTestImages, testImages, TEST_IMAGE_NAMES, type TestImage } from '../harness/images.js';

const images = testImages();
const { minbase, lang } = images.images;

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
}

interface SkopeoInspect {
  Digest: string;
  Layers: string[];
  Architecture: string;
  Os: string;
}

function inspect(ref: string): SkopeoInspect {
  return JSON.parse(sh('skopeo', ['--insecure-policy', 'inspect', ref])) as SkopeoInspect;
}

function entries(img: TestImage, index: number): string[] {
  const layer = img.layers[index];
  assert.ok(layer, `${img.name} has layer ${index}`);
  return readFileSync(layer.entriesFile, 'utf8').split('\n').filter((l) => l !== '');
}

function dpkgStatus(img: TestImage): Map<string, string> {
  const lines = readFileSync(img.oracles.dpkg, 'utf8').split('\n').filter((l) => l !== '');
  return new Map(lines.map((l) => [l.split('\t')[0] ?? '', l.split('\t')[2] ?? ''] as const));
}

function layerIndex(img: TestImage, role: keyof TestImage['roleIndex']): number {
  const i = img.roleIndex[role];
  assert.ok(i !== undefined, `${img.name} has a ${role} layer`);
  return i;
}

describe('test images: every form, read by skopeo', () => {
  for (const name of TEST_IMAGE_NAMES) {
    const img = images.images[name];

    test(`${name}: gzip OCI layout matches the manifest`, () => {
      const raw = sh('skopeo', ['--insecure-policy', 'inspect', '--raw', img.ociReference]);
      assert.equal(`sha256:${createHash('sha256').update(raw).digest('hex')}`, img.manifestDigest);
      const info = inspect(img.ociReference);
      assert.ok(info.Layers.length >= 3, `${name} has ${info.Layers.length} layers`);
      assert.deepEqual(info.Layers, img.layers.map((l) => l.digest));
      const manifest = JSON.parse(raw) as { config: { digest: string }; layers: { mediaType: string }[] };
      assert.equal(manifest.config.digest, img.configDigest);
      assert.deepEqual(
        manifest.layers.map((l) => l.mediaType),
        img.layers.map(() => 'application/vnd.oci.image.layer.v1.tar+gzip'),
      );
      assert.equal(info.Os, 'linux');
      assert.equal(info.Architecture, 'amd64');
    });

    test(`${name}: zstd OCI layout has the same layers, zstd-compressed`, () => {
      const raw = sh('skopeo', ['--insecure-policy', 'inspect', '--raw', img.zstdReference]);
      assert.equal(`sha256:${createHash('sha256').update(raw).digest('hex')}`, img.zstdManifestDigest);
      const manifest = JSON.parse(raw) as { layers: { mediaType: string; digest: string }[] };
      assert.deepEqual(
        manifest.layers.map((l) => [l.mediaType, l.digest]),
        img.layers.map((l) => ['application/vnd.oci.image.layer.v1.tar+zstd', l.zstdDigest]),
      );
      // Same uncompressed content: the zstd blob decompresses to the layer's diff_id.
      const small = img.layers.reduce((a, b) => (b.zstdSize < a.zstdSize ? b : a));
      const blob = join(img.zstdOciLayout, 'blobs', ...small.zstdDigest.split(':'));
      const tar = execFileSync('zstd', ['-dc', blob], { maxBuffer: 512 * 1024 * 1024 });
      assert.equal(`sha256:${createHash('sha256').update(tar).digest('hex')}`, small.diffId);
    });

    test(`${name}: docker-archive holds the uncompressed layers (diff_ids)`, () => {
      const info = inspect(`docker-archive:${img.dockerArchive}`);
      assert.deepEqual(info.Layers, img.layers.map((l) => l.diffId));
      const manifest = JSON.parse(sh('tar', ['-xOf', img.dockerArchive, 'manifest.json'])) as { RepoTags: string[] }[];
      assert.deepEqual(manifest[0]?.RepoTags, [img.dockerArchiveRef]);
    });

    test(`${name}: the gzip docker-archive is the same archive, gzip-compressed`, () => {
      const plain = sh('sh', ['-c', 'sha256sum < "$1"', 'sh', img.dockerArchive]).split(' ')[0];
      const unzipped = sh('sh', ['-c', 'gzip -dc < "$1" | sha256sum', 'sh', img.dockerArchiveGzip]).split(' ')[0];
      assert.equal(unzipped, plain);
      assert.deepEqual([...readFileSync(img.dockerArchiveGzip).subarray(0, 2)], [0x1f, 0x8b]);
    });

    test(`${name}: layer listings are those of the blobs`, () => {
      const last = img.layers.length - 1;
      const listed = sh('tar', ['--list', '--quoting-style=literal', '--gzip', '--file', join(img.ociLayout, 'blobs', ...(img.layers[last]?.digest ?? '').split(':'))]);
      assert.deepEqual(listed.split('\n').filter((l) => l !== ''), entries(img, last));
    });
  }
});

describe('test images: layering', () => {
  test('lang is built on minbase: same base layer blobs, in both layouts', () => {
    assert.ok(lang.layers.length > minbase.layers.length);
    assert.deepEqual(
      lang.layers.slice(0, minbase.layers.length).map((l) => [l.digest, l.diffId, l.zstdDigest]),
      minbase.layers.map((l) => [l.digest, l.diffId, l.zstdDigest]),
    );
    assert.equal(lang.ociLayout, minbase.ociLayout);
    assert.deepEqual(Object.keys(lang.roleIndex), ['debootstrap', 'removals', 'packages', 'opaque', 'lang-packages', 'npm-app']);
  });

  test('the removals layer really holds whiteouts of files the base layer added', () => {
    const removals = layerIndex(minbase, 'removals');
    const layer = entries(minbase, removals);
    const wh = layer.filter((e) => /(^|\/)\.wh\.[^/]+$/.test(e));
    assert.ok(wh.length > 0);
    assert.ok(layer.includes('usr/share/.wh.man'), 'rm -rf /usr/share/man is one whiteout of the directory');
    assert.deepEqual(minbase.layers[removals]?.whiteouts.length, wh.length);
    assert.equal(wh.filter((e) => e.endsWith('/.wh..wh..opq')).length, 0, 'umoci emits no opaque markers');
    const base = new Set(entries(minbase, 0).map((e) => e.replace(/\/$/, '')));
    const finalPaths = new Set(
      readFileSync(minbase.oracles.files, 'utf8')
        .split('\n')
        .map((l) => l.split('\t')[0]),
    );
    const readded = new Set(
      minbase.layers.slice(removals + 1).flatMap((_l, i) => entries(minbase, removals + 1 + i).map((e) => e.replace(/\/$/, ''))),
    );
    for (const target of minbase.layers[removals]?.whiteouts ?? []) {
      assert.ok(base.has(target), `whited-out ${target} was added by the base layer`);
      assert.ok(!finalPaths.has(target) || readded.has(target), `whited-out ${target} is gone from the final rootfs`);
    }
  });

  test('the hand-made layer holds opaque markers that hide lower-layer files', () => {
    const opaque = layerIndex(minbase, 'opaque');
    const layer = entries(minbase, opaque);
    for (const dir of minbase.facts.opaqueDirs) {
      assert.ok(layer.includes(`${dir}/.wh..wh..opq`), `${dir} is marked opaque`);
      const lower = minbase.layers
        .slice(0, opaque)
        .flatMap((_l, i) => entries(minbase, i))
        .filter((e) => e.startsWith(`${dir}/`) && !e.includes('/.wh.'));
      const kept = readdirSync(join(minbase.rootfs, dir));
      const added = layer.filter((e) => e.startsWith(`${dir}/`) && !e.includes('/.wh.')).map((e) => e.slice(dir.length + 1).split('/')[0])
        .filter((n) => n !== '');
      assert.ok(lower.length > 0, `lower layers put files in ${dir}`);
      assert.deepEqual(kept.sort(), [...new Set(added)].sort(), `only the opaque layer's files remain in ${dir}`);
    }
    for (const file of minbase.facts.handWhiteouts) {
      assert.ok(layer.includes(file.replace(/([^/]+)$/, '.wh.$1')));
      assert.equal(existsSync(join(minbase.rootfs, file)), false);
    }
  });

  test('history created_by lines line up with the layers', () => {
    const config = JSON.parse(
      readFileSync(join(lang.ociLayout, 'blobs', ...lang.configDigest.split(':')), 'utf8'),
    ) as { history: { created_by?: string; empty_layer?: boolean }[] };
    assert.deepEqual(
      config.history.filter((h) => h.empty_layer !== true).map((h) => h.created_by),
      lang.layers.map((l) => l.createdBy),
    );
    assert.ok(config.history.some((h) => h.empty_layer === true), 'config has empty-layer history entries');
  });
});

describe('test images: oracles from real tools', () => {
  test('dpkg: purged package gone, removed package left as config-files, added packages installed', () => {
    for (const img of [minbase, lang]) {
      const status = dpkgStatus(img);
      for (const p of minbase.facts.purgedPackages) assert.equal(status.has(p), false, `${img.name}: ${p} purged`);
      for (const p of minbase.facts.configFilesPackages) assert.equal(status.get(p), 'config-files');
      for (const p of minbase.facts.aptRequested) assert.equal(status.get(p), 'installed', `${img.name}: ${p}`);
    }
    for (const p of lang.facts.aptRequested) {
      assert.equal(dpkgStatus(lang).get(p), 'installed');
      assert.equal(dpkgStatus(minbase).has(p), false);
    }
    // The oracle describes the rootfs kept on disk (the dir: source), not some other tree.
    const onDisk = execFileSync('dpkg-query', [`--admindir=${join(minbase.rootfs, 'var/lib/dpkg')}`, '-W', '-f=${Package}\n'], { encoding: 'utf8' });
    assert.deepEqual(onDisk.split('\n').filter(Boolean).sort(), [...dpkgStatus(minbase).keys()].sort());
  });

  test('dpkg by layer: each package first appears in the layer that installed it', () => {
    const byLayer = (img: TestImage): Map<string, string>[] =>
      img.oracles.dpkgByLayer.map((f) => {
        const lines = readFileSync(f, 'utf8').split('\n').filter((l) => l !== '');
        return new Map(lines.map((l) => [l.split('\t')[0] ?? '', l.split('\t')[2] ?? ''] as const));
      });
    const mb = byLayer(minbase);
    const lg = byLayer(lang);
    assert.equal(mb.length, minbase.layers.length);
    assert.equal(lg.length, lang.layers.length);
    assert.deepEqual(lg.slice(0, mb.length), mb, 'the shared layers have the same history');
    assert.equal(readFileSync(lang.oracles.dpkgByLayer.at(-1) ?? '', 'utf8'), readFileSync(lang.oracles.dpkg, 'utf8'));
    const removals = layerIndex(minbase, 'removals');
    for (const p of minbase.facts.purgedPackages) {
      assert.equal(mb[removals - 1]?.get(p), 'installed');
      assert.equal(mb[removals]?.has(p), false);
    }
    for (const p of minbase.facts.configFilesPackages) {
      assert.equal(mb[removals - 1]?.get(p), 'installed');
      assert.equal(mb[removals]?.get(p), 'config-files');
    }
    const firstLayer = (layers: Map<string, string>[], pkg: string): number => layers.findIndex((m) => m.get(pkg) === 'installed');
    for (const p of minbase.facts.aptRequested) assert.equal(firstLayer(lg, p), layerIndex(minbase, 'packages'), p);
    for (const p of lang.facts.aptRequested) assert.equal(firstLayer(lg, p), layerIndex(lang, 'lang-packages'), p);
  });

  test('npm: lockfile kept in the image and npm ls agrees with it', () => {
    const prefix = lang.facts.npmPrefix ?? '';
    const lock = JSON.parse(readFileSync(join(lang.rootfs, prefix, 'package-lock.json'), 'utf8')) as {
      lockfileVersion: number;
      packages: Record<string, { version?: string }>;
    };
    assert.equal(lock.lockfileVersion, 3);
    const ls = JSON.parse(readFileSync(lang.oracles.npmLs ?? '', 'utf8')) as { dependencies: Record<string, { version: string }> };
    for (const spec of lang.facts.npmRequested) {
      const at = spec.lastIndexOf('@');
      const pkg = spec.slice(0, at);
      assert.equal(ls.dependencies[pkg]?.version, spec.slice(at + 1));
      assert.equal(lock.packages[`node_modules/${pkg}`]?.version, spec.slice(at + 1));
    }
    const nested = Object.keys(lock.packages).filter((k) => k.split('node_modules/').length > 2);
    assert.ok(nested.length > 0, 'node_modules has nested duplicates');
  });

  test('python, java and go oracles name what the recipe installed', () => {
    const dists = JSON.parse(readFileSync(lang.oracles.python ?? '', 'utf8')) as { name: string; path: string }[];
    assert.ok(dists.some((d) => d.name === 'PyYAML'));
    for (const d of dists) assert.ok(existsSync(join(lang.rootfs, d.path)), `${d.path} exists in the rootfs`);
    const jars = JSON.parse(readFileSync(lang.oracles.jars ?? '', 'utf8')) as { path: string; pomProperties: { artifactId: string }[] }[];
    assert.ok(jars.some((j) => j.pomProperties.some((p) => p.artifactId === 'commons-lang3')));
    const go = readFileSync(lang.oracles.goVersionM, 'utf8');
    for (const bin of lang.facts.goBinaries) assert.match(go, new RegExp(`^${bin}: go1\\.`, 'm'));
    assert.equal(readFileSync(minbase.oracles.goVersionM, 'utf8'), '');
  });
});

describe('test images: harness helpers', () => {
  test('copyOciLayout makes an independent copy a test may corrupt', () => {
    const dir = copyOciLayout('minbase');
    try {
      assert.deepEqual(inspect(`oci:${dir}:${minbase.ociTag}`).Layers, minbase.layers.map((l) => l.digest));
      const opaque = minbase.layers[layerIndex(minbase, 'opaque')];
      assert.ok(opaque);
      const blob = join(dir, 'blobs', ...opaque.digest.split(':'));
      const bytes = readFileSync(blob);
      bytes[bytes.length - 10] = (bytes[bytes.length - 10] ?? 0) ^ 0xff;
      writeFileSync(blob, bytes);
      const dest = join(dir, 'copy-out');
      assert.throws(
        () => execFileSync('skopeo', ['--insecure-policy', 'copy', '--quiet', `oci:${dir}:${minbase.ociTag}`, `dir:${dest}`], { stdio: 'pipe' }),
        /digest|checksum|gzip|invalid/i,
      );
      // The cached original is untouched.
      const original = readFileSync(join(minbase.ociLayout, 'blobs', ...opaque.digest.split(':')));
      assert.equal(`sha256:${createHash('sha256').update(original).digest('hex')}`, opaque.digest);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('loadTestImages fails loudly on a directory without a manifest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-noimages-'));
    try {
      assert.throws(() => loadTestImages(dir), /test images: no manifest/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
