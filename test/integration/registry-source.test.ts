// The registry source against a REAL Docker Distribution registry (test/harness/registry.ts):
// anonymous, Basic and token auth, platform selection on a pushed index, corruption in the
// registry's own storage, and the catalog/tag listings.
import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { isPortcullisError } from '../../src/domain/errors.js';
import { openImage, type OpenImageOptions } from '../../src/image/open-image.js';
import { silentEngineContext, type CredentialSource, type EngineContext, type RegistrySecret } from '../../src/engine/context.js';
import { listRepositories, listTags, RegistryClient } from '../../src/image/registry/client.js';
import type { ResolvedImage } from '../../src/image/types.js';
import { freePort, pushImage, putBlob, putManifest, startRegistry, type RunningRegistry } from '../harness/registry.js';
import { OciLayoutWriter, SAMPLE_LAYERS, sha256, writeTinyLayout, type WrittenImage } from '../harness/tiny-image.js';

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Options and a context that keep the test independent of the machine's docker config and environment. */
function isolated(extra: OpenImageOptions & { credentials?: RegistrySecret; env?: NodeJS.ProcessEnv; dockerConfigPath?: string } = {}): [OpenImageOptions, EngineContext] {
  const { credentials: given, env, dockerConfigPath, ...options } = extra;
  const credentials: CredentialSource = { kind: 'host', env: env ?? {}, dockerConfigPath: dockerConfigPath ?? '/nonexistent/config.json', ...(given ? { given } : {}) };
  return [{ insecure: true, retry: { attempts: 2, baseDelayMs: 10 }, ...options }, silentEngineContext({ credentials })];
}

async function pullAll(ref: string, options: OpenImageOptions, context: EngineContext): Promise<ResolvedImage> {
  const opened = await openImage(ref, options, context);
  try {
    assert.equal(opened.images.length, 1);
    const img = opened.images[0] as ResolvedImage;
    for (const layer of img.layers) {
      const stored = await readAll(await img.openLayer(layer));
      assert.equal(sha256(stored), layer.digest);
      assert.equal(sha256(gunzipSync(stored)), layer.diffId);
    }
    return img;
  } finally {
    await opened.close();
  }
}

/**
 * The header pullAuthorization gives, used by a third party (as Clair v2 would) to fetch one of
 * the repository's blobs with plain fetch; returns the header and the status.
 */
async function thirdPartyBlobFetch(reg: RunningRegistry, credentials: { username: string; password: string } | undefined, digest: string): Promise<{ authorization: string | undefined; status: number }> {
  const client = new RegistryClient(reg.host, { insecure: true, ...(credentials ? { credentials } : {}) });
  try {
    const authorization = await client.pullAuthorization('tiny/app');
    const res = await fetch(`${reg.url}/v2/tiny/app/blobs/${digest}`, { headers: authorization !== undefined ? { authorization } : {} });
    await res.arrayBuffer();
    return { authorization, status: res.status };
  } finally {
    await client.close();
  }
}

describe('registry source against a real registry', () => {
  let work: string;
  let layout: string;
  let written: WrittenImage;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'portcullis-registry-it-'));
    layout = join(work, 'tiny');
    written = await writeTinyLayout(layout, { layers: SAMPLE_LAYERS, labels: { team: 'scan' } }, 'v1');
  });
  // Guarded: when before() failed the value was never set, and a TypeError here would hide that failure.
  after(async () => {
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  describe('anonymous', () => {
    let reg: RunningRegistry;
    before(async () => {
      reg = await startRegistry({ auth: 'none' });
      await pushImage(`oci:${layout}:v1`, `${reg.host}/tiny/app:v1`);
    });
    after(async () => {
      await reg?.stop();
    });

    test('pulls manifest, config and layers, verified, reading each blob once', async () => {
      const before = (await reg.blobGets()).length;
      const opened = await openImage(`${reg.host}/tiny/app:v1`, ...isolated());
      const img = opened.images[0] as ResolvedImage;
      assert.equal(img.transport, 'registry');
      assert.equal(img.registry, reg.host);
      assert.equal(img.repository, 'tiny/app');
      assert.equal(img.tag, 'v1');
      assert.equal(img.manifestDigest, written.manifest.digest);
      assert.equal(img.configDigest, written.config.digest);
      assert.deepEqual(img.config?.labels, { team: 'scan' });
      assert.deepEqual(img.layers.map((l) => l.digest), written.layers.map((l) => l.digest));
      assert.deepEqual(img.layers.map((l) => l.diffId), written.diffIds);
      // opening read the config blob only
      assert.deepEqual((await reg.blobGets()).slice(before), [`/v2/tiny/app/blobs/${written.config.digest}`]);
      for (const layer of img.layers) assert.equal(sha256(gunzipSync(await readAll(await img.openLayer(layer)))), layer.diffId);
      assert.deepEqual(
        (await reg.blobGets()).slice(before + 1),
        written.layers.map((l) => `/v2/tiny/app/blobs/${l.digest}`),
      );
      await opened.close();
    });

    test('by digest and through docker://', async () => {
      const img = await pullAll(`docker://${reg.host}/tiny/app@${written.manifest.digest}`, ...isolated());
      assert.equal(img.manifestDigest, written.manifest.digest);
      assert.equal(img.tag, undefined);
    });

    test('unknown repository or tag is E_NOT_FOUND', async () => {
      await assert.rejects(openImage(`${reg.host}/no/such:v1`, ...isolated()), (err: unknown) => isPortcullisError(err, 'E_NOT_FOUND'));
      await assert.rejects(openImage(`${reg.host}/tiny/app:nope`, ...isolated()), (err: unknown) => isPortcullisError(err, 'E_NOT_FOUND'));
    });

    test('a closed port is E_UNREACHABLE', async () => {
      const port = await freePort();
      await assert.rejects(openImage(`127.0.0.1:${port}/tiny/app:v1`, ...isolated()), (err: unknown) => isPortcullisError(err, 'E_UNREACHABLE'));
    });

    test('a manifest list pushed with skopeo --all: one platform, all platforms, a missing platform', async () => {
      const dir = join(work, 'multi');
      const w = await OciLayoutWriter.create(dir);
      const amd64 = await w.addImage({ layers: [[{ path: 'etc/arch', content: 'amd64\n' }]], architecture: 'amd64' });
      const arm64 = await w.addImage({ layers: [[{ path: 'etc/arch', content: 'arm64\n' }]], architecture: 'arm64', variant: 'v8' });
      const index = await w.addIndex([amd64.manifest, arm64.manifest]);
      w.tag(index, 'multi');
      await w.finish();
      await pushImage(`oci:${dir}:multi`, `${reg.host}/tiny/multi:1`, undefined, { all: true });

      const arm = await pullAll(`${reg.host}/tiny/multi:1`, ...isolated({ platform: { os: 'linux', architecture: 'arm64' } }));
      assert.equal(arm.manifestDigest, arm64.manifest.digest);
      assert.equal(arm.indexDigest, index.digest);
      assert.deepEqual(arm.platform, { os: 'linux', architecture: 'arm64', variant: 'v8' });

      const all = await openImage(`${reg.host}/tiny/multi:1`, ...isolated({ platform: 'all' }));
      assert.deepEqual(
        (all.images as ResolvedImage[]).map((i) => [i.manifestDigest, i.platform?.architecture]),
        [
          [amd64.manifest.digest, 'amd64'],
          [arm64.manifest.digest, 'arm64'],
        ],
      );
      await all.close();

      await assert.rejects(openImage(`${reg.host}/tiny/multi:1`, ...isolated({ platform: { os: 'linux', architecture: 'ppc64le' } })), (err: unknown) => {
        assert.ok(isPortcullisError(err, 'E_PLATFORM'));
        assert.match(err.message, /available: linux\/amd64, linux\/arm64\/v8$/);
        return true;
      });
    });

    test('a byte flipped in the registry storage is E_DIGEST_MISMATCH (layer when read, config when opened)', async () => {
      const dir = join(work, 'corrupt');
      // unique content: blobs are shared by digest across repositories
      const img = await writeTinyLayout(dir, { layers: [[{ path: 'corrupt/me', content: 'x'.repeat(2000) }]], compression: 'none', labels: { unique: 'corrupt' } });
      await pushImage(`oci:${dir}:latest`, `${reg.host}/tiny/corrupt:1`, undefined, { format: 'oci' });
      const pushed = await openImage(`${reg.host}/tiny/corrupt:1`, ...isolated());
      const resolved = pushed.images[0] as ResolvedImage;
      await pushed.close();
      const layerPath = reg.blobDataPath(resolved.layers[0]!.digest);
      const bytes = await readFile(layerPath);
      const at = Math.floor(bytes.length / 2);
      bytes[at] = bytes[at]! ^ 0xff;
      await writeFile(layerPath, bytes);
      const opened = await openImage(`${reg.host}/tiny/corrupt:1`, ...isolated());
      const image = opened.images[0] as ResolvedImage;
      await assert.rejects(readAll(await image.openLayer(image.layers[0]!)), (err: unknown) => isPortcullisError(err, 'E_DIGEST_MISMATCH'));
      await opened.close();

      const configPath = reg.blobDataPath(img.config.digest);
      const config = await readFile(configPath, 'utf8');
      await writeFile(configPath, config.replace('"corrupt"', '"CORRUPT"'));
      await assert.rejects(openImage(`${reg.host}/tiny/corrupt:1`, ...isolated()), (err: unknown) => isPortcullisError(err, 'E_DIGEST_MISMATCH'));
    });

    test('an image whose layer has an unknown media type is E_MEDIA_TYPE', async () => {
      const layer = Buffer.from('not a tar at all');
      const config = Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [sha256(layer)] } }));
      await putBlob(reg, 'tiny/weird', layer);
      await putBlob(reg, 'tiny/weird', config);
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
          layers: [{ mediaType: 'application/vnd.example.strange.layer', digest: sha256(layer), size: layer.length }],
        }),
      );
      await putManifest(reg, 'tiny/weird', '1', manifest, 'application/vnd.oci.image.manifest.v1+json');
      await assert.rejects(openImage(`${reg.host}/tiny/weird:1`, ...isolated()), (err: unknown) => {
        assert.ok(isPortcullisError(err, 'E_MEDIA_TYPE'));
        assert.match(err.message, /application\/vnd\.example\.strange\.layer/);
        return true;
      });
    });

    test('listTags and listRepositories (catalog pages followed)', async () => {
      await pushImage(`oci:${layout}:v1`, `${reg.host}/tiny/app:v2`);
      await pushImage(`oci:${layout}:v1`, `${reg.host}/tiny/app:v3`);
      const opts = { insecure: true, env: {}, dockerConfigPath: '/nonexistent', pageSize: 1 };
      assert.deepEqual(await listTags(`${reg.host}/tiny/app`, opts), ['v1', 'v2', 'v3']);
      const repos = await listRepositories(reg.host, opts);
      assert.deepEqual(
        repos.filter((r) => ['tiny/app', 'tiny/multi'].includes(r)),
        ['tiny/app', 'tiny/multi'],
      );
      assert.deepEqual(repos, [...repos].sort());
      const log = await reg.accessLog();
      // Distribution 2.8 pages the catalog but answers tags/list in one page whatever `n` says;
      // tag paging is covered against a fake server in src/image/registry/client.test.ts.
      assert.deepEqual(
        log.filter((e) => e.uri.startsWith('/v2/_catalog')).map((e) => e.uri).slice(0, 2),
        ['/v2/_catalog?n=1', '/v2/_catalog?last=tiny%2Fapp&n=1'],
      );
    });
  });

  describe('basic auth (htpasswd)', () => {
    let reg: RunningRegistry;
    before(async () => {
      reg = await startRegistry({ auth: 'basic' });
      await pushImage(`oci:${layout}:v1`, `${reg.host}/tiny/app:v1`, { username: reg.username!, password: reg.password! });
    });
    after(async () => {
      await reg?.stop();
    });

    test('credentials from options, environment or docker config', async () => {
      const creds = { username: reg.username!, password: reg.password! };
      assert.equal((await pullAll(`${reg.host}/tiny/app:v1`, ...isolated({ credentials: creds }))).manifestDigest, written.manifest.digest);
      const env = { PORTCULLIS_REGISTRY_USERNAME: creds.username, PORTCULLIS_REGISTRY_PASSWORD: creds.password };
      assert.equal((await pullAll(`${reg.host}/tiny/app:v1`, ...isolated({ env }))).manifestDigest, written.manifest.digest);
      const config = join(work, 'docker-config.json');
      await writeFile(config, JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') } } }));
      assert.equal((await pullAll(`${reg.host}/tiny/app:v1`, ...isolated({ dockerConfigPath: config }))).manifestDigest, written.manifest.digest);
      // options win over a wrong environment
      const wrongEnv = { PORTCULLIS_REGISTRY_USERNAME: creds.username, PORTCULLIS_REGISTRY_PASSWORD: 'wrong' };
      await pullAll(`${reg.host}/tiny/app:v1`, ...isolated({ env: wrongEnv, credentials: creds }));
    });

    test('pullAuthorization: the Basic credentials, which let a third party fetch the blobs', async () => {
      const creds = { username: reg.username!, password: reg.password! };
      const layer = written.layers[0]?.digest ?? '';
      assert.deepEqual(await thirdPartyBlobFetch(reg, creds, layer), { authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`, status: 200 });
    });

    test('a wrong password or no credentials is E_AUTH', async () => {
      await assert.rejects(openImage(`${reg.host}/tiny/app:v1`, ...isolated({ credentials: { username: reg.username!, password: 'wrong' } })), (err: unknown) =>
        isPortcullisError(err, 'E_AUTH'),
      );
      await assert.rejects(openImage(`${reg.host}/tiny/app:v1`, ...isolated()), (err: unknown) => {
        assert.ok(isPortcullisError(err, 'E_AUTH'));
        assert.match(err.message, /no credentials were found/);
        return true;
      });
    });
  });

  describe('token auth', () => {
    let reg: RunningRegistry;
    before(async () => {
      reg = await startRegistry({ auth: 'token' });
      await pushImage(`oci:${layout}:v1`, `${reg.host}/tiny/app:v1`, { username: reg.username!, password: reg.password! });
    });
    after(async () => {
      await reg?.stop();
    });

    test('pulls with a bearer token fetched once per scope', async () => {
      const creds = { username: reg.username!, password: reg.password! };
      const issuedBefore = reg.tokensIssued();
      const img = await pullAll(`${reg.host}/tiny/app:v1`, ...isolated({ credentials: creds }));
      assert.equal(img.manifestDigest, written.manifest.digest);
      assert.equal(reg.tokensIssued() - issuedBefore, 1);
      assert.deepEqual(await listTags(`${reg.host}/tiny/app`, { insecure: true, credentials: creds }), ['v1']);
      assert.deepEqual(await listRepositories(reg.host, { insecure: true, credentials: creds }), ['tiny/app']);
    });

    test('pullAuthorization: a Bearer token scoped to pull the repository, which lets a third party fetch the blobs', async () => {
      const layer = written.layers[0]?.digest ?? '';
      const { authorization, status } = await thirdPartyBlobFetch(reg, { username: reg.username!, password: reg.password! }, layer);
      assert.match(authorization ?? '', /^Bearer \S+$/);
      assert.equal(status, 200);
      const anonymous = await fetch(`${reg.url}/v2/tiny/app/blobs/${layer}`);
      await anonymous.arrayBuffer();
      assert.equal(anonymous.status, 401, 'the blob is not readable without it');
    });

    test('a wrong password or no credentials is E_AUTH', async () => {
      await assert.rejects(openImage(`${reg.host}/tiny/app:v1`, ...isolated({ credentials: { username: reg.username!, password: 'wrong' } })), (err: unknown) => {
        assert.ok(isPortcullisError(err, 'E_AUTH'));
        assert.match(err.message, /rejected the credentials/);
        return true;
      });
      await assert.rejects(openImage(`${reg.host}/tiny/app:v1`, ...isolated()), (err: unknown) => isPortcullisError(err, 'E_AUTH'));
    });
  });
});
