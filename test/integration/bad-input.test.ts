import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildTar, type TarEntry } from '../../src/test-support/tar-builder.js';
import { freePort, startRegistry, type RunningRegistry } from '../harness/registry.js';
import { runCli } from '../support/run-cli.js';
import { testImages } from '../harness/images.js';
import { pushImage } from '../harness/registry.js';

const digestOf = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/**
 * Writes an OCI layout whose one layer blob is exactly `layer` (any bytes, even broken ones), so
 * each bad-input case controls what the scanner is fed. Manifest and config can be overridden too.
 */
async function layoutWith(dir: string, layer: Buffer, opts: { mediaType?: string; manifest?: Buffer; config?: Buffer } = {}): Promise<string> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const put = async (b: Buffer): Promise<string> => {
    const d = digestOf(b);
    await writeFile(join(blobs, d.slice(7)), b);
    return d;
  };
  const config = opts.config ?? Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digestOf(layer)] }, history: [{ created_by: 'test' }] }));
  const configDigest = await put(config);
  const layerDigest = await put(layer);
  const manifest =
    opts.manifest ??
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
        layers: [{ mediaType: opts.mediaType ?? 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.length }],
      }),
    );
  const manifestDigest = await put(manifest);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }],
    }),
  );
  return `oci:${dir}:latest`;
}

const STATUS = 'Package: base-files\nStatus: install ok installed\nVersion: 12.4+deb12u5\nArchitecture: amd64\n\n';

describe('bad input: a typed error, a clear message, exit 2, no partial output, no temp files left', () => {
  let work: string;
  let privateTmp: string;
  let n = 0;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'portcullis-bad-'));
    privateTmp = join(work, 'tmp');
    await mkdir(privateTmp);
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  const fresh = async (): Promise<string> => {
    const d = join(work, `case-${n++}`);
    await mkdir(d);
    return d;
  };

  async function expectError(reference: string, code: string, message: RegExp, extra: string[] = []): Promise<void> {
    const out = join(work, `out-${n++}.json`);
    const res = await runCli(['sbom', reference, '--no-cache', '--output', out, ...extra], { env: { TMPDIR: privateTmp } });
    assert.equal(res.code, 2, `${reference}: exit code; stderr: ${res.stderr}`);
    assert.match(res.stderr, new RegExp(`\\[${code}\\]`), res.stderr);
    assert.match(res.stderr, message);
    assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(existsSync(out), false, 'no partial output');
    // tsx (which runs the CLI from source in tests) keeps its own compile cache there; ours must be gone.
    assert.deepEqual((await readdir(privateTmp)).filter((f) => !f.startsWith('tsx-')), [], 'temporary files removed');
  }

  const tarOf = (entries: TarEntry[]): Promise<Buffer> => buildTar(entries);

  test('unknown layer media type', async () => {
    const ref = await layoutWith(await fresh(), gzipSync(await tarOf([{ name: 'a', content: 'x' }])), { mediaType: 'application/x-unknown-layer' });
    await expectError(ref, 'E_MEDIA_TYPE', /application\/x-unknown-layer/);
  });

  test('digest mismatch: a blob whose bytes changed after it was stored', async () => {
    const dir = await fresh();
    const layer = gzipSync(await tarOf([{ name: 'var/lib/dpkg/status', content: STATUS }]));
    const ref = await layoutWith(dir, layer);
    const tampered = Buffer.from(layer);
    tampered[tampered.length - 10] = (tampered[tampered.length - 10] ?? 0) ^ 0xff;
    await writeFile(join(dir, 'blobs', 'sha256', digestOf(layer).slice(7)), tampered);
    await expectError(ref, 'E_DIGEST_MISMATCH', /digest/i);
  });

  test('truncated gzip layer', async () => {
    const full = gzipSync(await tarOf([{ name: 'var/lib/dpkg/status', content: STATUS.repeat(200) }]));
    await expectError(await layoutWith(await fresh(), full.subarray(0, full.length - 40)), 'E_LAYER_CORRUPT', /gzip/);
  });

  test('corrupt zstd layer', async () => {
    const zstdMagic = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
    const garbage = Buffer.concat([zstdMagic, Buffer.from('this is not a zstd frame at all, just bytes'.repeat(8))]);
    await expectError(await layoutWith(await fresh(), garbage, { mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd' }), 'E_LAYER_CORRUPT', /zstd/);
  });

  test('truncated tar', async () => {
    const tar = await tarOf([{ name: 'var/lib/dpkg/status', content: STATUS.repeat(200) }]);
    await expectError(await layoutWith(await fresh(), tar.subarray(0, 3000), { mediaType: 'application/vnd.oci.image.layer.v1.tar' }), 'E_LAYER_CORRUPT', /tar/);
  });

  test("tar entries with '..' or absolute paths", async () => {
    for (const name of ['../../etc/cron.d/evil', 'usr/../../escape', '/etc/passwd']) {
      const ref = await layoutWith(await fresh(), gzipSync(await tarOf([{ name, content: 'x' }])));
      await expectError(ref, 'E_UNSAFE_PATH', /path|escapes/);
    }
  });

  test('symlinks out of the root or in loops', async () => {
    const escape = await layoutWith(await fresh(), gzipSync(await tarOf([{ name: 'etc/os-release', type: 'symlink', linkname: '../../../../../etc/os-release' }])));
    await expectError(escape, 'E_SYMLINK', /outside the image root/);
    // Links are followed only at paths some detector reads: two release files pointing at each other.
    const both = await layoutWith(
      await fresh(),
      gzipSync(
        await tarOf([
          { name: 'etc/os-release', type: 'symlink', linkname: '../usr/lib/os-release' },
          { name: 'usr/lib/os-release', type: 'symlink', linkname: '../../etc/os-release' },
        ]),
      ),
    );
    await expectError(both, 'E_SYMLINK', /loop/);
  });

  test('a package database over its cap (decompression bomb) is refused, not buffered', async () => {
    const huge = Buffer.alloc(65 * 1024 * 1024, 0x41);
    const bomb = gzipSync(await tarOf([{ name: 'var/lib/dpkg/status', content: huge }]));
    assert.ok(bomb.length < 1024 * 1024, 'the layer is tiny compressed');
    await expectError(await layoutWith(await fresh(), bomb), 'E_TOO_LARGE', /cap/);
  });

  test('malformed manifest and malformed config', async () => {
    const layer = gzipSync(await tarOf([{ name: 'a', content: 'x' }]));
    await expectError(await layoutWith(await fresh(), layer, { manifest: Buffer.from('{"schemaVersion": 2, "layers": "nope"') }), 'E_MANIFEST', /manifest/i);
    await expectError(await layoutWith(await fresh(), layer, { config: Buffer.from('{"rootfs": 7}') }), 'E_MANIFEST', /config/i);
  });

  test('a malformed record in a package database is skipped and reported; the rest is kept', async () => {
    const status = `${STATUS}Package: broken\nStatus: install ok installed\nVersion: !!not a version!!\n\nPackage: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13.dfsg-1\nArchitecture: amd64\n\n`;
    const ref = await layoutWith(await fresh(), gzipSync(await tarOf([{ name: 'var/lib/dpkg/status', content: status }])));
    const res = await runCli(['sbom', ref, '--no-cache']);
    assert.equal(res.code, 0, res.stderr);
    const inv = JSON.parse(res.stdout) as { packages: { name: string }[]; warnings: { message: string; path?: string }[] };
    assert.deepEqual(inv.packages.map((p) => p.name).sort(), ['base-files', 'zlib1g']);
    assert.ok(inv.warnings.some((w) => w.path === 'var/lib/dpkg/status' && /broken|version/i.test(w.message)), JSON.stringify(inv.warnings));
  });

  describe('registries', () => {
    let registry: RunningRegistry;
    before(async () => {
      registry = await startRegistry({ auth: 'basic' });
      await pushImage(testImages().images.minbase.ociReference, `${registry.host}/team/minbase:1`, { username: registry.username ?? '', password: registry.password ?? '' });
    });
    after(async () => registry?.stop());

    test('unreachable registry', async () => {
      const port = await freePort();
      await expectError(`127.0.0.1:${port}/team/app:1`, 'E_UNREACHABLE', new RegExp(`127\\.0\\.0\\.1:${port}`), ['--insecure']);
    });

    test('401: wrong credentials', async () => {
      await expectError(`${registry.host}/team/minbase:1`, 'E_AUTH', /auth|credential|401/i, ['--insecure', '--username', registry.username ?? '', '--password', 'wrong']);
    });

    test('404: unknown tag and unknown repository', async () => {
      const creds = ['--insecure', '--username', registry.username ?? '', '--password', registry.password ?? ''];
      await expectError(`${registry.host}/team/minbase:no-such-tag`, 'E_NOT_FOUND', /no-such-tag|not found/i, creds);
    });
  });
});
