import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { OciLayoutWriter, SAMPLE_LAYERS, sha256, writeTinyLayout, type WrittenImage } from '../../test/harness/tiny-image.js';
import { isPortcullisError } from '../domain/errors.js';
import { openImage } from './open-image.js';
import type { LayerProgress, ResolvedImage } from './types.js';

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function only(images: unknown[]): ResolvedImage {
  assert.equal(images.length, 1);
  return images[0] as ResolvedImage;
}

describe('oci: image layouts', () => {
  let root: string;
  let single: string;
  let written: WrittenImage;
  let multi: string;
  let multiImages: { amd64: WrittenImage; arm64: WrittenImage; armv7: WrittenImage; index: string };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'portcullis-oci-test-'));
    single = join(root, 'single');
    written = await writeTinyLayout(single, {
      layers: SAMPLE_LAYERS,
      labels: { 'org.example.team': 'scanners' },
      env: ['PATH=/bin', 'LANG=C'],
      createdBy: ['ADD rootfs.tar /', 'COPY hello.txt /app/'],
    });

    // One index holding three platforms and an attestation manifest, tagged "multi".
    multi = join(root, 'multi');
    const w = await OciLayoutWriter.create(multi);
    const amd64 = await w.addImage({ layers: [[{ path: 'arch', content: 'amd64\n' }]], architecture: 'amd64' });
    const arm64 = await w.addImage({ layers: [[{ path: 'arch', content: 'arm64\n' }]], architecture: 'arm64', variant: 'v8' });
    const armv7 = await w.addImage({ layers: [[{ path: 'arch', content: 'armv7\n' }]], architecture: 'arm', variant: 'v7' });
    const att = await w.addImage({ layers: [[{ path: 'att', content: '{}' }]], os: 'unknown', architecture: 'unknown' });
    const index = await w.addIndex([amd64.manifest, arm64.manifest, armv7.manifest, att.manifest]);
    w.tag(index, 'multi');
    // A second, single-platform tag in the same layout.
    const other = await w.addImage({ layers: [[{ path: 'other', content: 'x' }]] });
    w.tag(other.manifest, 'other');
    await w.finish();
    multiImages = { amd64, arm64, armv7, index: index.digest };
  });

  // Guarded: when before() failed the value was never set, and a TypeError here would hide that failure.
  after(async () => {
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  test('reads manifest, config summary and layers of a tagged image', async () => {
    const opened = await openImage(`oci:${single}:latest`);
    const img = only(opened.images);
    assert.equal(img.transport, 'oci');
    assert.equal(img.reference, `oci:${single}:latest`);
    assert.equal(img.manifestDigest, written.manifest.digest);
    assert.equal(img.indexDigest, undefined);
    assert.equal(img.configDigest, written.config.digest);
    assert.deepEqual(img.platform, { os: 'linux', architecture: 'amd64' });
    assert.deepEqual(img.config?.labels, { 'org.example.team': 'scanners' });
    assert.deepEqual(img.config?.env, ['PATH=/bin', 'LANG=C']);
    assert.deepEqual(img.config?.diffIds, written.diffIds);
    assert.deepEqual(
      img.layers,
      written.layers.map((l, i) => ({ index: i, digest: l.digest, size: l.size, mediaType: l.mediaType, diffId: written.diffIds[i], createdBy: ['ADD rootfs.tar /', 'COPY hello.txt /app/'][i] })),
    );
    for (const layer of img.layers) {
      const stored = await readAll(await img.openLayer(layer));
      assert.equal(sha256(stored), layer.digest);
      assert.equal(sha256(gunzipSync(stored)), layer.diffId);
    }
    await opened.close();
  });

  test('the only image is used when no tag is given; an unknown tag is E_NOT_FOUND listing the names', async () => {
    const img = only((await openImage(`oci:${single}`)).images);
    assert.equal(img.manifestDigest, written.manifest.digest);
    await assert.rejects(openImage(`oci:${single}:nope`), (err: unknown) => {
      assert.ok(isPortcullisError(err, 'E_NOT_FOUND'));
      assert.match(err.message, /names: latest$/);
      return true;
    });
  });

  test('a layout with several images needs a name (E_REFERENCE)', async () => {
    await assert.rejects(openImage(`oci:${multi}`), (err: unknown) => {
      assert.ok(isPortcullisError(err, 'E_REFERENCE'));
      assert.match(err.message, /multi, other/);
      return true;
    });
    const other = only((await openImage(`oci:${multi}:other`)).images);
    assert.equal(other.indexDigest, undefined);
  });

  test('an index picks the requested platform, with the index digest reported', async () => {
    const arm = only((await openImage(`oci:${multi}:multi`, { platform: { os: 'linux', architecture: 'arm64' } })).images);
    assert.equal(arm.manifestDigest, multiImages.arm64.manifest.digest);
    assert.equal(arm.indexDigest, multiImages.index);
    assert.deepEqual(arm.platform, { os: 'linux', architecture: 'arm64', variant: 'v8' });
    const armv7 = only((await openImage(`oci:${multi}:multi`, { platform: { os: 'linux', architecture: 'arm', variant: 'v7' } })).images);
    assert.equal(armv7.manifestDigest, multiImages.armv7.manifest.digest);
  });

  test("platform 'all' gives every platform but not the attestation manifest", async () => {
    const all = (await openImage(`oci:${multi}:multi`, { platform: 'all' })).images as ResolvedImage[];
    assert.deepEqual(
      all.map((i) => i.manifestDigest),
      [multiImages.amd64.manifest.digest, multiImages.arm64.manifest.digest, multiImages.armv7.manifest.digest],
    );
    assert.ok(all.every((i) => i.indexDigest === multiImages.index));
  });

  test('a missing platform is E_PLATFORM naming the available ones', async () => {
    await assert.rejects(openImage(`oci:${multi}:multi`, { platform: { os: 'linux', architecture: 's390x' } }), (err: unknown) => {
      assert.ok(isPortcullisError(err, 'E_PLATFORM'));
      assert.match(err.message, /available: linux\/amd64, linux\/arm64\/v8, linux\/arm\/v7$/);
      return true;
    });
  });

  test('an explicit platform that a single-platform image does not have is E_PLATFORM; the host default is not enforced', async () => {
    await assert.rejects(openImage(`oci:${single}`, { platform: { os: 'linux', architecture: 'arm64' } }), (err: unknown) => isPortcullisError(err, 'E_PLATFORM'));
    assert.equal((await openImage(`oci:${single}`, { platform: 'all' })).images.length, 1);
  });

  test('progress reports the bytes of each layer as they are read', async () => {
    const events: LayerProgress[] = [];
    const img = only((await openImage(`oci:${single}`, { onProgress: (p) => events.push({ ...p }) })).images);
    const layer = img.layers[0]!;
    await readAll(await img.openLayer(layer));
    assert.ok(events.length >= 1);
    assert.deepEqual(events.at(-1), { layer, bytes: layer.size, total: layer.size });
  });

  test('nested indexes are followed', async () => {
    const dir = join(root, 'nested');
    const w = await OciLayoutWriter.create(dir);
    const a = await w.addImage({ layers: [[{ path: 'a', content: 'a' }]], architecture: 'amd64' });
    const b = await w.addImage({ layers: [[{ path: 'b', content: 'b' }]], architecture: 'arm64' });
    const inner = await w.addIndex([a.manifest, b.manifest]);
    const outer = await w.addIndex([inner]);
    w.tag(outer, 'n');
    await w.finish();
    const img = only((await openImage(`oci:${dir}:n`, { platform: { os: 'linux', architecture: 'arm64' } })).images);
    assert.equal(img.manifestDigest, b.manifest.digest);
    assert.equal(img.indexDigest, inner.digest);
  });

  test('a corrupted layer blob fails with E_DIGEST_MISMATCH when read to the end', async () => {
    const dir = join(root, 'corrupt-layer');
    const img = await writeTinyLayout(dir, { layers: SAMPLE_LAYERS, compression: 'none' });
    const path = join(dir, 'blobs', 'sha256', img.layers[1]!.digest.slice(7));
    const bytes = await readFile(path);
    bytes[600] = bytes[600]! ^ 0x01;
    await writeFile(path, bytes);
    const opened = only((await openImage(`oci:${dir}`)).images);
    await readAll(await opened.openLayer(opened.layers[0]!));
    await assert.rejects(readAll(await opened.openLayer(opened.layers[1]!)), (err: unknown) => {
      assert.ok(isPortcullisError(err, 'E_DIGEST_MISMATCH'));
      assert.equal(err.details['expected'], img.layers[1]!.digest);
      return true;
    });
  });

  test('a corrupted config or manifest fails opening with E_DIGEST_MISMATCH', async () => {
    for (const which of ['config', 'manifest'] as const) {
      const dir = join(root, `corrupt-${which}`);
      const img = await writeTinyLayout(dir, { layers: SAMPLE_LAYERS });
      const digest = which === 'config' ? img.config.digest : img.manifest.digest;
      const path = join(dir, 'blobs', 'sha256', digest.slice(7));
      const text = (await readFile(path, 'utf8')).replace('"schemaVersion":2', '"schemaVersion":2 ').replace('"os":"linux"', '"os":"linux" ');
      assert.notEqual(text, await readFile(path, 'utf8'));
      await writeFile(path, text);
      await assert.rejects(openImage(`oci:${dir}`), (err: unknown) => isPortcullisError(err, 'E_DIGEST_MISMATCH'), which);
    }
  });

  test('an appended byte is refused by size before the digest is even checked', async () => {
    const dir = join(root, 'longer');
    const img = await writeTinyLayout(dir, { layers: SAMPLE_LAYERS });
    const path = join(dir, 'blobs', 'sha256', img.layers[0]!.digest.slice(7));
    await writeFile(path, Buffer.concat([await readFile(path), Buffer.from([0])]));
    const opened = only((await openImage(`oci:${dir}`)).images);
    await assert.rejects(readAll(await opened.openLayer(opened.layers[0]!)), (err: unknown) => {
      assert.ok(isPortcullisError(err, 'E_DIGEST_MISMATCH'));
      assert.match(err.message, /longer than its declared size/);
      return true;
    });
  });

  test('an unknown layer media type is E_MEDIA_TYPE', async () => {
    const dir = join(root, 'media-type');
    await writeTinyLayout(dir, { layers: SAMPLE_LAYERS, layerMediaType: 'application/vnd.example.weird.layer' });
    await assert.rejects(openImage(`oci:${dir}`), (err: unknown) => isPortcullisError(err, 'E_MEDIA_TYPE'));
  });

  test('a missing blob is E_NOT_FOUND; a directory without oci-layout is E_REFERENCE; a missing directory E_NOT_FOUND', async () => {
    const dir = join(root, 'missing-blob');
    const img = await writeTinyLayout(dir, { layers: SAMPLE_LAYERS });
    await rm(join(dir, 'blobs', 'sha256', img.config.digest.slice(7)));
    await assert.rejects(openImage(`oci:${dir}`), (err: unknown) => isPortcullisError(err, 'E_NOT_FOUND'));
    await assert.rejects(openImage(`oci:${root}`), (err: unknown) => isPortcullisError(err, 'E_REFERENCE'));
    await assert.rejects(openImage(`oci:${join(root, 'nowhere')}`), (err: unknown) => isPortcullisError(err, 'E_NOT_FOUND'));
  });

  test('malformed index.json is E_MANIFEST', async () => {
    const dir = join(root, 'bad-index');
    await writeTinyLayout(dir, { layers: SAMPLE_LAYERS });
    await writeFile(join(dir, 'index.json'), '{"schemaVersion":2,"manifests":[{"digest":42}]}');
    await assert.rejects(openImage(`oci:${dir}`), (err: unknown) => isPortcullisError(err, 'E_MANIFEST'));
  });

  test('dir: gives a root filesystem image', async () => {
    const opened = await openImage(`dir:${single}`);
    assert.deepEqual(opened.images, [{ reference: `dir:${single}`, transport: 'dir', root: single }]);
    await assert.rejects(openImage(`dir:${join(single, 'index.json')}`), (err: unknown) => isPortcullisError(err, 'E_REFERENCE'));
    await assert.rejects(openImage(`dir:${join(root, 'absent')}`), (err: unknown) => isPortcullisError(err, 'E_NOT_FOUND'));
  });
});
