import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { layerTar, SAMPLE_LAYERS, sha256, writeTinyLayout, type WrittenImage } from '../../test/harness/tiny-image.js';
import { isPortcullisError } from '../domain/errors.js';
import { gunzipCap, openArchive } from './docker-archive.js';
import { openImage } from './open-image.js';
import type { ResolvedImage } from './types.js';

const run = promisify(execFile);

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The uncompressed tar of every layer, whatever the source stored. */
async function layerContents(img: ResolvedImage): Promise<string[]> {
  const out: string[] = [];
  for (const layer of img.layers) {
    const stored = await readAll(await img.openLayer(layer));
    out.push(sha256(stored[0] === 0x1f && stored[1] === 0x8b ? gunzipSync(stored) : stored));
  }
  return out;
}

async function writeTar(file: string, members: { name: string; content?: Buffer; linkname?: string; type?: 'symlink' | 'file' }[]): Promise<void> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    p.on('data', (c: unknown) => chunks.push(c as Buffer));
    p.on('end', () => resolve());
    p.on('error', reject);
  });
  for (const m of members) {
    if (m.type === 'symlink') p.entry({ name: m.name, type: 'symlink', linkname: m.linkname ?? '' });
    else p.entry({ name: m.name, size: m.content!.length }, m.content!);
  }
  p.finalize();
  await done;
  await writeFile(file, Buffer.concat(chunks));
}

function only(images: unknown[]): ResolvedImage {
  assert.equal(images.length, 1);
  return images[0] as ResolvedImage;
}

describe('docker-archive: and oci-archive:', () => {
  let root: string;
  let layout: string;
  let written: WrittenImage;
  let plainTar: string;
  let gzTar: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'portcullis-archive-test-'));
    layout = join(root, 'layout');
    written = await writeTinyLayout(layout, { layers: SAMPLE_LAYERS, createdBy: ['ADD base', 'COPY app'] }, 'v1');
    // The real tool writes the docker-archive (legacy `docker save` layout with manifest.json).
    plainTar = join(root, 'image.tar');
    await run('skopeo', ['copy', '--quiet', '--insecure-policy', `oci:${layout}:v1`, `docker-archive:${plainTar}:tiny/app:v1`]);
    gzTar = join(root, 'image.tar.gz');
    await writeFile(gzTar, gzipSync(await readFile(plainTar)));
  });

  // Guarded: when before() failed the value was never set, and a TypeError here would hide that failure.
  after(async () => {
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  test('OCI layout, docker-archive (plain and gzip) and oci-archive give the same layers', async () => {
    const ociImg = only((await openImage(`oci:${layout}:v1`)).images);
    const expected = await layerContents(ociImg);
    assert.deepEqual(expected, written.diffIds);

    const ociArchive = join(root, 'image.oci.tar');
    await run('skopeo', ['copy', '--quiet', '--insecure-policy', `oci:${layout}:v1`, `oci-archive:${ociArchive}:v1`]);

    for (const ref of [`docker-archive:${plainTar}`, `docker-archive:${gzTar}`, `docker-archive:${plainTar}:tiny/app:v1`, `oci-archive:${ociArchive}:v1`]) {
      const opened = await openImage(ref);
      const img = only(opened.images);
      assert.equal(img.reference, ref);
      assert.equal(img.transport, ref.startsWith('oci-archive') ? 'oci' : 'docker-archive');
      assert.deepEqual(img.config?.diffIds, written.diffIds, ref);
      assert.deepEqual(img.layers.map((l) => l.diffId), written.diffIds, ref);
      assert.deepEqual(img.layers.map((l) => l.createdBy), ['ADD base', 'COPY app'], ref);
      assert.deepEqual(await layerContents(img), expected, ref);
      assert.deepEqual(img.platform, { os: 'linux', architecture: 'amd64' });
      if (ref.startsWith('docker-archive')) {
        // docker save stores uncompressed layer tars: the digest is the diff_id
        assert.deepEqual(img.layers.map((l) => l.digest), written.diffIds, ref);
        assert.deepEqual(img.layers.map((l) => l.mediaType), ['application/vnd.oci.image.layer.v1.tar', 'application/vnd.oci.image.layer.v1.tar'], ref);
        assert.equal(img.configDigest, written.config.digest);
      }
      await opened.close();
    }
  });

  test('a gzip archive is unpacked into tempDir and removed by close()', async () => {
    const temp = join(root, 'temp');
    await mkdir(temp);
    const opened = await openImage(`docker-archive:${gzTar}`, { tempDir: temp });
    assert.equal((await readdir(temp)).length, 1);
    await opened.close();
    assert.deepEqual(await readdir(temp), []);
    await opened.close();
  });

  test('a gzip archive expanding past its cap (a bomb) is E_TOO_LARGE, and no partial copy is left in tempDir', async () => {
    const temp = join(root, 'temp-bomb');
    await mkdir(temp);
    const bomb = join(root, 'bomb.tar.gz');
    await writeFile(bomb, gzipSync(Buffer.alloc(8 * 1024 * 1024)));
    await assert.rejects(
      openArchive(bomb, undefined, 'docker', { reference: `docker-archive:${bomb}`, transport: 'docker-archive', selector: { os: 'linux', architecture: 'amd64' }, explicitPlatform: false }, { tempDir: temp, maxGunzippedBytes: 1024 * 1024 }),
      (err) => isPortcullisError(err, 'E_TOO_LARGE') && /expands past 1048576 bytes when gunzipped/.test(err.message),
    );
    assert.deepEqual(await readdir(temp), []);
    assert.equal(gunzipCap(10), 1024 ** 3, 'small archives may expand to 1 GiB');
    assert.equal(gunzipCap(100 * 1024 ** 2), 200 * 100 * 1024 ** 2, 'larger ones to 200 times their size');
  });

  test('a Docker 25+ save (an OCI layout inside the tar, with manifest.json) is read through its index', async () => {
    // Docker 25 stores uncompressed layers as OCI blobs and names the image in index.json annotations.
    const tars = await Promise.all(SAMPLE_LAYERS.map((files) => layerTar(files)));
    const layers = tars.map((t) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(t), size: t.length }));
    const config = Buffer.from(
      JSON.stringify({ architecture: 'arm64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) }, config: { Labels: { x: 'y' } } }),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
        layers,
      }),
    );
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: sha256(manifest),
          size: manifest.length,
          annotations: { 'io.containerd.image.name': 'docker.io/library/tiny:1', 'org.opencontainers.image.ref.name': '1' },
        },
      ],
    };
    const blob = (b: Buffer): string => `blobs/sha256/${sha256(b).slice(7)}`;
    const file = join(root, 'docker25.tar');
    await writeTar(file, [
      ...tars.map((t) => ({ name: blob(t), content: t })),
      { name: blob(config), content: config },
      { name: blob(manifest), content: manifest },
      { name: 'index.json', content: Buffer.from(JSON.stringify(index)) },
      { name: 'manifest.json', content: Buffer.from(JSON.stringify([{ Config: blob(config), RepoTags: ['tiny:1'], Layers: tars.map(blob) }])) },
      { name: 'oci-layout', content: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
    ]);
    for (const ref of [`docker-archive:${file}`, `docker-archive:${file}:tiny:1`]) {
      const img = only((await openImage(ref)).images);
      assert.equal(img.manifestDigest, sha256(manifest));
      assert.equal(img.configDigest, sha256(config));
      assert.deepEqual(img.layers.map((l) => l.digest), layers.map((l) => l.digest));
      assert.deepEqual(await layerContents(img), written.diffIds);
      assert.deepEqual(img.platform, { os: 'linux', architecture: 'arm64' });
      assert.deepEqual(img.config?.labels, { x: 'y' });
    }
  });

  test('legacy archives with several images: symlinked duplicate layers, selection by tag or @N, ambiguity', async () => {
    const base = await layerTar(SAMPLE_LAYERS[0]!);
    const app = await layerTar(SAMPLE_LAYERS[1]!);
    const cfg = (diffIds: string[]): Buffer => Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: diffIds } }));
    const c1 = cfg([sha256(base)]);
    const c2 = cfg([sha256(base), sha256(app)]);
    const file = join(root, 'legacy-multi.tar');
    await writeTar(file, [
      { name: 'aaaa/layer.tar', content: base },
      { name: 'bbbb/layer.tar', type: 'symlink', linkname: '../aaaa/layer.tar' },
      { name: 'cccc/layer.tar', content: app },
      { name: `${sha256(c1).slice(7)}.json`, content: c1 },
      { name: `${sha256(c2).slice(7)}.json`, content: c2 },
      {
        name: 'manifest.json',
        content: Buffer.from(
          JSON.stringify([
            { Config: `${sha256(c1).slice(7)}.json`, RepoTags: ['base:1'], Layers: ['aaaa/layer.tar'] },
            { Config: `${sha256(c2).slice(7)}.json`, RepoTags: ['example.com/app:2'], Layers: ['bbbb/layer.tar', 'cccc/layer.tar'] },
          ]),
        ),
      },
    ]);
    await assert.rejects(openImage(`docker-archive:${file}`), (err: unknown) => {
      assert.ok(isPortcullisError(err, 'E_REFERENCE'));
      assert.match(err.message, /tags: base:1, example.com\/app:2/);
      return true;
    });
    const appImg = only((await openImage(`docker-archive:${file}:example.com/app:2`)).images);
    assert.deepEqual(appImg.layers.map((l) => l.digest), [sha256(base), sha256(app)]);
    assert.deepEqual(await layerContents(appImg), [sha256(base), sha256(app)]);
    const byIndex = only((await openImage(`docker-archive:${file}:@0`)).images);
    assert.equal(byIndex.configDigest, sha256(c1));
    // docker.io normalisation: `base:1` is docker.io/library/base:1
    assert.equal(only((await openImage(`docker-archive:${file}:docker.io/library/base:1`)).images).configDigest, sha256(c1));
    await assert.rejects(openImage(`docker-archive:${file}:nope:1`), (err: unknown) => isPortcullisError(err, 'E_NOT_FOUND'));
    await assert.rejects(openImage(`docker-archive:${file}:@5`), (err: unknown) => isPortcullisError(err, 'E_NOT_FOUND'));
  });

  test('a corrupted layer inside the archive is E_DIGEST_MISMATCH', async () => {
    const bytes = await readFile(plainTar);
    const at = bytes.indexOf('hello\n');
    assert.ok(at > 0);
    bytes[at] = 'j'.charCodeAt(0);
    const file = join(root, 'corrupt.tar');
    await writeFile(file, bytes);
    const img = only((await openImage(`docker-archive:${file}`)).images);
    await readAll(await img.openLayer(img.layers[0]!));
    await assert.rejects(readAll(await img.openLayer(img.layers[1]!)), (err: unknown) => isPortcullisError(err, 'E_DIGEST_MISMATCH'));
  });

  test('bad inputs: missing file, not a tar, bad gzip, xz-compressed, no manifest.json', async () => {
    await assert.rejects(openImage(`docker-archive:${join(root, 'absent.tar')}`), (err: unknown) => isPortcullisError(err, 'E_NOT_FOUND'));
    const garbage = join(root, 'garbage.tar');
    await writeFile(garbage, Buffer.alloc(1024, 0x41));
    await assert.rejects(openImage(`docker-archive:${garbage}`), (err: unknown) => isPortcullisError(err, 'E_INPUT'));
    const badGz = join(root, 'bad.tar.gz');
    await writeFile(badGz, Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.alloc(100, 7)]));
    await assert.rejects(openImage(`docker-archive:${badGz}`), (err: unknown) => isPortcullisError(err, 'E_INPUT'));
    const xz = join(root, 'image.tar.xz');
    await writeFile(xz, Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 0]));
    await assert.rejects(openImage(`docker-archive:${xz}`), (err: unknown) => isPortcullisError(err, 'E_UNSUPPORTED'));
    const noManifest = join(root, 'no-manifest.tar');
    await writeTar(noManifest, [{ name: 'hello.txt', content: Buffer.from('hi') }]);
    await assert.rejects(openImage(`docker-archive:${noManifest}`), (err: unknown) => isPortcullisError(err, 'E_MANIFEST'));
  });
});
