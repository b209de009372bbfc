import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isPortcullisError } from '../domain/errors.js';
import { layerCreatedBy, parseImageConfig } from './image-config.js';
import { parseManifest } from './manifest.js';
import { MEDIA_TYPES } from './media-types.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

function manifest(overrides: Record<string, unknown> = {}, layerType: string = MEDIA_TYPES.ociLayerGzip): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.ociConfig, digest: D1, size: 10 },
    layers: [{ mediaType: layerType, digest: D2, size: 20 }],
    ...overrides,
  };
}

describe('parseManifest', () => {
  test('reads an OCI image manifest', () => {
    const m = parseManifest(json(manifest()), { what: 'm' });
    assert.equal(m.kind, 'image');
    assert.ok(m.kind === 'image');
    assert.deepEqual(m.config, { mediaType: MEDIA_TYPES.ociConfig, digest: D1, size: 10 });
    assert.deepEqual(m.layers, [{ mediaType: MEDIA_TYPES.ociLayerGzip, digest: D2, size: 20 }]);
  });

  test('accepts every supported layer media type', () => {
    for (const t of [
      MEDIA_TYPES.dockerLayerGzip,
      MEDIA_TYPES.dockerForeignLayerGzip,
      MEDIA_TYPES.ociLayer,
      MEDIA_TYPES.ociLayerGzip,
      MEDIA_TYPES.ociLayerZstd,
      MEDIA_TYPES.ociLayerNondistributable,
      MEDIA_TYPES.ociLayerNondistributableGzip,
      MEDIA_TYPES.ociLayerNondistributableZstd,
    ]) {
      assert.equal(parseManifest(json(manifest({}, t)), { what: 'm' }).kind, 'image', t);
    }
  });

  test('infers the type when mediaType is absent (optional in OCI)', () => {
    const { mediaType: _drop, ...noType } = manifest();
    assert.equal(parseManifest(json(noType), { what: 'm' }).mediaType, MEDIA_TYPES.ociManifest);
    const idx = parseManifest(json({ schemaVersion: 2, manifests: [{ mediaType: MEDIA_TYPES.ociManifest, digest: D1, size: 1, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }] }), {
      what: 'i',
    });
    assert.equal(idx.kind, 'index');
    assert.ok(idx.kind === 'index');
    assert.deepEqual(idx.manifests[0]?.platform, { os: 'linux', architecture: 'arm64', variant: 'v8' });
    // Docker manifest served with its Content-Type but without the field
    assert.equal(parseManifest(json(noType), { what: 'm', contentType: `${MEDIA_TYPES.dockerManifest}; charset=utf-8` }).mediaType, MEDIA_TYPES.dockerManifest);
  });

  test('schema 1 is E_UNSUPPORTED, by body or by content type', () => {
    const schema1 = { schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [{ blobSum: D1 }], history: [] };
    for (const [bytes, contentType] of [
      [json(schema1), undefined],
      [json(schema1), MEDIA_TYPES.dockerSchema1Signed],
      [Buffer.from('not even json'), MEDIA_TYPES.dockerSchema1],
    ] as const) {
      assert.throws(
        () => parseManifest(bytes, { what: 'm', contentType }),
        (err: unknown) => isPortcullisError(err, 'E_UNSUPPORTED') && err.message === 'image: Docker schema 1 manifests are not supported',
      );
    }
  });

  test('malformed JSON and wrong shapes are E_MANIFEST', () => {
    for (const bytes of [
      Buffer.from('{"schemaVersion": 2, "config": '),
      json([1, 2]),
      json(manifest({ layers: 'nope' })),
      json(manifest({ schemaVersion: 3 })),
      json(manifest({ config: { mediaType: MEDIA_TYPES.ociConfig, digest: 'sha256:xyz', size: 1 } })),
      json(manifest({ config: { mediaType: MEDIA_TYPES.ociConfig, digest: D1, size: -1 } })),
    ]) {
      assert.throws(() => parseManifest(bytes, { what: 'm' }), (err: unknown) => isPortcullisError(err, 'E_MANIFEST'), bytes.toString());
    }
  });

  test('unknown manifest, config and layer media types are E_MEDIA_TYPE', () => {
    assert.throws(
      () => parseManifest(json(manifest({}, 'application/vnd.example.layer.v1+tar')), { what: 'm' }),
      (err: unknown) => isPortcullisError(err, 'E_MEDIA_TYPE') && /application\/vnd\.example\.layer\.v1\+tar/.test(err.message),
    );
    assert.throws(
      () => parseManifest(json(manifest({ config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: D1, size: 1 } })), { what: 'm' }),
      (err: unknown) => isPortcullisError(err, 'E_MEDIA_TYPE') && /not a container image/.test(err.message),
    );
    assert.throws(
      () => parseManifest(json(manifest({ mediaType: 'application/vnd.oci.artifact.manifest.v1+json' })), { what: 'm' }),
      (err: unknown) => isPortcullisError(err, 'E_MEDIA_TYPE'),
    );
    assert.throws(() => parseManifest(json({ hello: 'world' }), { what: 'm', contentType: 'text/plain' }), (err: unknown) => isPortcullisError(err, 'E_MEDIA_TYPE'));
  });
});

describe('parseImageConfig', () => {
  const config = {
    architecture: 'arm',
    os: 'linux',
    variant: 'v7',
    created: '2024-01-01T00:00:00Z',
    config: { Env: ['PATH=/bin', 7], Labels: { a: 'b', n: 1 } },
    rootfs: { type: 'layers', diff_ids: [D1, D2] },
    history: [
      { created_by: 'ADD base' },
      { created_by: 'ENV X=1', empty_layer: true },
      { created_by: 'RUN build' },
      { created_by: 'CMD ["sh"]', empty_layer: true },
    ],
  };

  test('summarises platform, diff_ids, env, labels and history', () => {
    const s = parseImageConfig(json(config));
    assert.deepEqual(s, {
      architecture: 'arm',
      os: 'linux',
      variant: 'v7',
      created: '2024-01-01T00:00:00Z',
      diffIds: [D1, D2],
      env: ['PATH=/bin'],
      labels: { a: 'b' },
      history: [
        { createdBy: 'ADD base', emptyLayer: false },
        { createdBy: 'ENV X=1', emptyLayer: true },
        { createdBy: 'RUN build', emptyLayer: false },
        { createdBy: 'CMD ["sh"]', emptyLayer: true },
      ],
    });
    assert.deepEqual(layerCreatedBy(s, 2), ['ADD base', 'RUN build']);
  });

  test('null Labels/Env and missing history give empty collections; a mismatched history maps nothing', () => {
    const s = parseImageConfig(json({ rootfs: { type: 'layers', diff_ids: [D1] }, config: { Labels: null, Env: null } }));
    assert.deepEqual(s, { diffIds: [D1], labels: {}, env: [], history: [] });
    assert.deepEqual(layerCreatedBy(s, 1), [undefined]);
  });

  test('missing rootfs or bad diff_ids are E_MANIFEST', () => {
    assert.throws(() => parseImageConfig(json({ os: 'linux' })), (err: unknown) => isPortcullisError(err, 'E_MANIFEST'));
    assert.throws(() => parseImageConfig(json({ rootfs: { type: 'layers', diff_ids: ['nope'] } })), (err: unknown) => isPortcullisError(err, 'E_MANIFEST'));
    assert.throws(() => parseImageConfig(Buffer.from('{')), (err: unknown) => isPortcullisError(err, 'E_MANIFEST'));
  });
});
