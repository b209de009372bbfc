/**
 * The layer readers on the real test images (built by the harness: debootstrap, umoci, skopeo):
 * the docker-archive's header-only tar index against tar-stream's full read, and the zstd OCI
 * layout's layers decoded by both zstd back-ends to their diff_ids. Integration tier: they need the
 * built images, which the unit tier does not.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { TarIndex } from '../../src/image/tar-index.js';
import type { ZstdBackend } from '../../src/layers/decompress.js';
import { testImages } from '../harness/images.js';
import { decodeAll, tarStreamView } from '../../src/test-support/layer-oracles.js';

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;


const BACKENDS: readonly ZstdBackend[] = ['native', 'fzstd'];


describe('TarIndex on the real docker-archives of the test images', () => {
  for (const [name, img] of Object.entries(testImages().images)) {
    test(`${name}: the header-only index equals tar-stream's full read, and its offsets hold the layers`, async () => {
      const index = await TarIndex.build(img.dockerArchive);
      const expected = await tarStreamView(img.dockerArchive);
      assert.ok(expected.length > img.layers.length, 'the oracle saw the archive');
      assert.deepEqual(index.entries(), expected);
      assert.deepEqual(index.names(), expected.map((e) => e.name));

      // skopeo names each layer by its diff_id: reading by offset must give exactly those bytes.
      const manifest = JSON.parse((await index.readAll('manifest.json', 1 << 20)).toString('utf8')) as { Config: string; Layers: string[] }[];
      assert.equal(manifest.length, 1);
      const layers = manifest[0]!.Layers;
      assert.equal(layers.length, img.layers.length);
      for (const [i, layer] of layers.entries()) {
        const member = index.member(layer);
        assert.ok(member, layer);
        const bytes = await index.readAll(layer, member.size);
        assert.equal(sha256(bytes), img.layers[i]!.diffId, layer);
        assert.deepEqual(await index.readHead(layer, 4), bytes.subarray(0, 4));
      }
      assert.equal(sha256(await index.readAll(manifest[0]!.Config, 1 << 20)), img.configDigest);
    });
  }
});

describe('the real zstd layers of the test images decode to their diff_ids', () => {
  const layers = new Map<string, { path: string; diffId: string }>();
  for (const img of Object.values(testImages().images)) {
    for (const layer of img.layers) {
      const [alg, hex] = layer.zstdDigest.split(':') as [string, string];
      layers.set(layer.zstdDigest, { path: join(img.zstdOciLayout, 'blobs', alg, hex), diffId: layer.diffId });
    }
  }
  for (const backend of BACKENDS) {
    test(`${backend}: ${layers.size} distinct blobs`, async () => {
      assert.ok(layers.size >= 6, `expected the 6 distinct zstd blobs of the two images, got ${layers.size}`);
      for (const [digest, { path, diffId }] of layers) {
        const got = await decodeAll(createReadStream(path), backend);
        assert.equal(got.sha256, diffId, `${digest} decoded by ${backend}`);
      }
    });
  }
});

