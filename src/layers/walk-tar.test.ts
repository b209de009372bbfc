import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { PortcullisError } from '../domain/errors.js';
import { buildTar, gzip, lineDetector } from '../test-support/tar-builder.js';
import { decompressLayer } from './decompress.js';
import { walkTar } from './walk-tar.js';

async function walkBuffer(buf: Buffer, detectors = [lineDetector()], limits?: Parameters<typeof walkTar>[2]) {
  const { tar } = decompressLayer(Readable.from([buf]));
  return walkTar(tar, detectors, limits);
}

describe('walkTar', () => {
  test('routes wanted files to detectors and records whiteouts and opaque dirs', async () => {
    const tar = await buildTar([
      { name: './', type: 'directory' },
      { name: './app/a.pkgs', content: 'left 1.0\nright 2.0\n' },
      { name: './app/readme.txt', content: 'not wanted' },
      { name: './etc/.wh.gone', content: '' },
      { name: './opt/.wh..wh..opq', content: '' },
    ]);
    const detector = lineDetector();
    const result = await walkBuffer(tar, [detector]);
    assert.deepEqual(result.whiteouts, ['etc/gone']);
    assert.deepEqual(result.opaqueDirs, ['opt']);
    assert.deepEqual(detector.seen.map((f) => f.path), ['app/a.pkgs']);
    assert.deepEqual(
      result.detectors[0]?.files[0]?.output.packages?.map((p) => `${p.name}@${p.version}`),
      ['left@1.0', 'right@2.0'],
    );
  });

  test('reads gzip layers the same as plain ones', async () => {
    const tar = await buildTar([{ name: 'x.pkgs', content: 'a 1\n' }]);
    const plain = await walkBuffer(tar);
    const zipped = await walkBuffer(gzip(tar));
    assert.deepEqual(zipped.detectors, plain.detectors);
  });

  test('hardlinks reuse the output of the file they point to', async () => {
    const tar = await buildTar([
      { name: 'a.pkgs', content: 'a 1\n' },
      { name: 'b.pkgs', type: 'link', linkname: 'a.pkgs' },
    ]);
    const result = await walkBuffer(tar);
    assert.deepEqual(
      result.detectors[0]?.files.map((f) => [f.path, f.output.packages?.[0]?.path]),
      [
        ['a.pkgs', 'a.pkgs'],
        ['b.pkgs', 'b.pkgs'],
      ],
    );
  });

  test('symlinks at wanted paths are recorded, not followed', async () => {
    const tar = await buildTar([{ name: 'etc/x.pkgs', type: 'symlink', linkname: '../usr/x.pkgs' }]);
    const result = await walkBuffer(tar);
    assert.deepEqual(result.detectors[0]?.links, [{ path: 'etc/x.pkgs', target: '../usr/x.pkgs', kind: 'symlink' }]);
  });

  for (const name of ['../evil.pkgs', 'a/../../evil.pkgs', '/etc/passwd']) {
    test(`refuses the unsafe entry name ${name}`, async () => {
      const tar = await buildTar([{ name, content: 'x 1\n' }]);
      await assert.rejects(walkBuffer(tar), (err: unknown) => err instanceof PortcullisError && err.code === 'E_UNSAFE_PATH');
    });
  }

  test('a truncated tar is E_LAYER_CORRUPT', async () => {
    const tar = await buildTar([{ name: 'a.pkgs', content: 'a 1\n'.repeat(1000) }]);
    await assert.rejects(walkBuffer(tar.subarray(0, 1500)), (err: unknown) => err instanceof PortcullisError && err.code === 'E_LAYER_CORRUPT');
  });

  test('a truncated gzip stream is E_LAYER_CORRUPT', async () => {
    const tar = await buildTar([{ name: 'a.pkgs', content: 'a 1\n'.repeat(1000) }]);
    const zipped = gzip(tar);
    await assert.rejects(walkBuffer(zipped.subarray(0, zipped.length - 20)), (err: unknown) => err instanceof PortcullisError && err.code === 'E_LAYER_CORRUPT');
  });

  test('corrupt gzip data is E_LAYER_CORRUPT', async () => {
    const tar = await buildTar([{ name: 'a.pkgs', content: 'a 1\n'.repeat(1000) }]);
    const zipped = Buffer.from(gzip(tar));
    for (let i = 20; i < 60; i++) zipped[i] = 0xff;
    await assert.rejects(walkBuffer(zipped), (err: unknown) => err instanceof PortcullisError && err.code === 'E_LAYER_CORRUPT');
  });

  test('a wanted file over its detector cap is E_TOO_LARGE', async () => {
    const tar = await buildTar([{ name: 'a.pkgs', content: Buffer.alloc(5000, 0x61) }]);
    await assert.rejects(walkBuffer(tar, [lineDetector('lines', 1, 1000)]), (err: unknown) => err instanceof PortcullisError && err.code === 'E_TOO_LARGE');
  });

  test('a layer expanding past the byte limit (decompression bomb) is E_TOO_LARGE', async () => {
    const bomb = gzip(await buildTar([{ name: 'zeros', content: Buffer.alloc(8 * 1024 * 1024) }]));
    assert.ok(bomb.length < 64 * 1024, 'the bomb is small compressed');
    await assert.rejects(
      walkBuffer(bomb, [lineDetector()], { maxLayerBytes: 1024 * 1024, maxEntries: 100 }),
      (err: unknown) => err instanceof PortcullisError && err.code === 'E_TOO_LARGE',
    );
  });
});
