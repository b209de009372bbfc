// Error paths of the registry client against tiny local node:http servers (the happy paths and auth
// flows run against the real registry in test/integration/registry-source.test.ts).
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { freePort } from '../../../test/harness/registry.js';
import { layerTar, SAMPLE_LAYERS, sha256 } from '../../../test/harness/tiny-image.js';
import { pino } from 'pino';
import * as z from 'zod';
import { isPortcullisError } from '../../domain/errors.js';
import { silentEngineContext } from '../../engine/context.js';
import { MEDIA_TYPES } from '../media-types.js';
import { openImage } from '../open-image.js';
import type { ResolvedImage } from '../types.js';
import { RegistryClient } from './client.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => boolean | void;

interface Fake {
  host: string;
  url: string;
  requests: { method: string; url: string; headers: IncomingMessage['headers'] }[];
  /** Handlers tried first; returning true means handled. */
  use(h: Handler): void;
  reset(): void;
  close(): Promise<void>;
}

interface TinyBlobs {
  blobs: Map<string, Buffer>;
  manifest: Buffer;
  manifestDigest: string;
  layerDigests: string[];
}

async function tinyBlobs(): Promise<TinyBlobs> {
  const blobs = new Map<string, Buffer>();
  const tars = await Promise.all(SAMPLE_LAYERS.map((l) => layerTar(l)));
  const layers = tars.map((t) => {
    const gz = gzipSync(t);
    blobs.set(sha256(gz), gz);
    return { mediaType: MEDIA_TYPES.ociLayerGzip, digest: sha256(gz), size: gz.length };
  });
  const config = Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: tars.map((t) => sha256(t)) } }));
  blobs.set(sha256(config), config);
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: { mediaType: MEDIA_TYPES.ociConfig, digest: sha256(config), size: config.length }, layers }),
  );
  return { blobs, manifest, manifestDigest: sha256(manifest), layerDigests: layers.map((l) => l.digest) };
}

async function startFake(tiny: TinyBlobs): Promise<Fake> {
  let handlers: Handler[] = [];
  const requests: Fake['requests'] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    for (const h of handlers) if (h(req, res) === true) return;
    const url = new URL(req.url ?? '/', 'http://fake.invalid').pathname;
    if (url === '/v2/') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/?]+)$/.exec(url);
    if (m && m[2] === 'manifests' && (m[3] === 'tag' || m[3] === tiny.manifestDigest)) {
      res.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest, 'docker-content-digest': tiny.manifestDigest }).end(tiny.manifest);
      return;
    }
    const blob = m && m[2] === 'blobs' ? tiny.blobs.get(m[3]!) : undefined;
    if (blob) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.length }).end(blob);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    requests,
    use: (h) => handlers.unshift(h),
    reset: () => {
      handlers = [];
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const FAST = { attempts: 4, baseDelayMs: 5 };

/** Marks a fake-server handler's request as answered. */
function reply(_res: ServerResponse): true {
  return true;
}

describe('registry client error paths (local fake servers)', () => {
  let tiny: TinyBlobs;
  let fake: Fake;
  let storage: Fake;

  before(async () => {
    tiny = await tinyBlobs();
    fake = await startFake(tiny);
    storage = await startFake(tiny);
  });
  // Guarded: when before() failed the value was never set, and a TypeError here would hide that failure.
  after(async () => {
    await fake?.close();
    await storage?.close();
  });

  const v2Requests = (): string[] => fake.requests.map((r) => `${r.method} ${r.url}`).filter((r) => r !== 'GET /v2/');

  test('503 and 429 are retried with backoff, honouring Retry-After, then succeed', async () => {
    fake.reset();
    let calls = 0;
    fake.use((req, res) => {
      if (!req.url?.includes('/manifests/')) return false;
      calls++;
      if (calls === 1) return reply(res.writeHead(503).end('busy'));
      if (calls === 2) return reply(res.writeHead(429, { 'retry-after': '1' }).end('slow down'));
      return false;
    });
    const delays: number[] = [];
    const retryLine = z.object({ msg: z.string().startsWith('registry: retrying'), delayMs: z.number() });
    const logger = pino({ level: 'debug' }, {
      write: (line: string) => {
        const retry = retryLine.safeParse(JSON.parse(line));
        if (retry.success) delays.push(retry.data.delayMs);
      },
    });
    const opened = await openImage(`${fake.host}/ns/app:tag`, { insecure: true, retry: FAST }, silentEngineContext({ logger, credentials: { kind: 'none' } }));
    const img = opened.images[0] as ResolvedImage;
    assert.equal(img.manifestDigest, tiny.manifestDigest);
    assert.equal(calls, 3);
    assert.deepEqual(delays, [5, 1000]);
    await opened.close();
  });

  test('retries stop after the configured attempts with E_REGISTRY', async () => {
    fake.reset();
    fake.use((req, res) => (req.url?.includes('/manifests/') ? (res.writeHead(502).end(), true) : false));
    await assert.rejects(openImage(`${fake.host}/ns/app:tag`, { insecure: true, retry: FAST }), (err: unknown) => {
      assert.ok(isPortcullisError(err, 'E_REGISTRY'));
      assert.match(err.message, /502/);
      return true;
    });
    assert.equal(v2Requests().length, 4);
  });

  test('a connection reset before the response is retried', async () => {
    fake.reset();
    let calls = 0;
    fake.use((req) => {
      if (!req.url?.includes('/manifests/')) return false;
      if (++calls > 1) return false;
      req.socket.destroy();
      return true;
    });
    const opened = await openImage(`${fake.host}/ns/app:tag`, { insecure: true, retry: FAST });
    assert.equal((opened.images[0] as ResolvedImage).manifestDigest, tiny.manifestDigest);
    assert.equal(calls, 2);
    await opened.close();
  });

  test('schema 1 manifests are E_UNSUPPORTED', async () => {
    fake.reset();
    const schema1 = Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'ns/app', tag: 'tag', architecture: 'amd64', fsLayers: [], history: [], signatures: [] }));
    fake.use((req, res) =>
      req.url?.includes('/manifests/') ? (res.writeHead(200, { 'content-type': MEDIA_TYPES.dockerSchema1Signed, 'docker-content-digest': sha256('other') }).end(schema1), true) : false,
    );
    await assert.rejects(openImage(`${fake.host}/ns/app:tag`, { insecure: true, retry: FAST }), (err: unknown) => {
      assert.ok(isPortcullisError(err, 'E_UNSUPPORTED'));
      assert.equal(err.message, 'image: Docker schema 1 manifests are not supported');
      return true;
    });
    // the Accept header asked for OCI and Docker v2 first
    const accept = String(fake.requests.find((r) => r.url.includes('/manifests/'))?.headers['accept']);
    assert.ok(accept.startsWith(`${MEDIA_TYPES.ociIndex}, ${MEDIA_TYPES.dockerManifestList}, ${MEDIA_TYPES.ociManifest}, ${MEDIA_TYPES.dockerManifest}`));
  });

  test('malformed manifest JSON is E_MANIFEST', async () => {
    fake.reset();
    const bad = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":');
    fake.use((req, res) => (req.url?.includes('/manifests/') ? (res.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest }).end(bad), true) : false));
    await assert.rejects(openImage(`${fake.host}/ns/app:tag`, { insecure: true, retry: FAST }), (err: unknown) => isPortcullisError(err, 'E_MANIFEST'));
  });

  test('a Docker-Content-Digest that differs from the bytes is E_DIGEST_MISMATCH', async () => {
    fake.reset();
    fake.use((req, res) =>
      req.url?.includes('/manifests/') ? (res.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest, 'docker-content-digest': sha256('x') }).end(tiny.manifest), true) : false,
    );
    await assert.rejects(openImage(`${fake.host}/ns/app:tag`, { insecure: true, retry: FAST }), (err: unknown) => isPortcullisError(err, 'E_DIGEST_MISMATCH'));
  });

  test('a manifest fetched by digest must hash to it', async () => {
    fake.reset();
    const other = sha256('another manifest');
    fake.use((req, res) => (req.url?.endsWith(`/manifests/${other}`) ? (res.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest }).end(tiny.manifest), true) : false));
    await assert.rejects(openImage(`${fake.host}/ns/app@${other}`, { insecure: true, retry: FAST }), (err: unknown) => isPortcullisError(err, 'E_DIGEST_MISMATCH'));
  });

  test('401 without credentials is E_AUTH, 403 E_FORBIDDEN, 404 E_NOT_FOUND', async () => {
    for (const [status, code] of [
      [401, 'E_AUTH'],
      [403, 'E_FORBIDDEN'],
      [404, 'E_NOT_FOUND'],
    ] as const) {
      fake.reset();
      fake.use((req, res) => {
        if (!req.url?.includes('/manifests/')) return false;
        res.writeHead(status, status === 401 ? { 'www-authenticate': 'Basic realm="fake"' } : {}).end('{"errors":[{"code":"DENIED","message":"no"}]}');
        return true;
      });
      await assert.rejects(openImage(`${fake.host}/ns/app:tag`, { insecure: true, retry: FAST }, silentEngineContext({ credentials: { kind: 'none' } })), (err: unknown) =>
        isPortcullisError(err, code),
      );
    }
  });

  test('blob redirects are followed without sending credentials to another origin', async () => {
    fake.reset();
    storage.reset();
    fake.use((req, res) => {
      if (req.url === '/v2/' && !req.headers.authorization) return reply(res.writeHead(401, { 'www-authenticate': 'Basic realm="fake"' }).end());
      if (!req.headers.authorization) return reply(res.writeHead(401, { 'www-authenticate': 'Basic realm="fake"' }).end());
      const m = /\/blobs\/(sha256:[0-9a-f]+)$/.exec(req.url ?? '');
      if (m && tiny.layerDigests.includes(m[1]!)) return reply(res.writeHead(307, { location: `${storage.url}/v2/storage/blobs/${m[1]}?signed=1` }).end());
      return false;
    });
    const opened = await openImage(`${fake.host}/ns/app:tag`, { insecure: true, retry: FAST }, silentEngineContext({ credentials: { kind: 'given', credentials: { username: 'u', password: 'p' } } }));
    const img = opened.images[0] as ResolvedImage;
    for (const layer of img.layers) assert.equal(sha256(await readAll(await img.openLayer(layer))), layer.digest);
    assert.deepEqual(
      storage.requests.map((r) => r.url),
      tiny.layerDigests.map((d) => `/v2/storage/blobs/${d}?signed=1`),
    );
    assert.ok(storage.requests.every((r) => r.headers.authorization === undefined));
    assert.ok(fake.requests.filter((r) => r.url.includes('/blobs/')).every((r) => r.headers.authorization === `Basic ${Buffer.from('u:p').toString('base64')}`));
    await opened.close();
  });

  test('a blob download cut mid-way is resumed with a Range request', async () => {
    fake.reset();
    const digest = tiny.layerDigests[0]!;
    const blob = tiny.blobs.get(digest)!;
    const half = Math.floor(blob.length / 2);
    let cut = false;
    fake.use((req, res) => {
      if (!req.url?.endsWith(`/blobs/${digest}`)) return false;
      const range = req.headers.range;
      if (range) {
        const start = Number(/bytes=(\d+)-/.exec(range)![1]);
        res.writeHead(206, { 'content-range': `bytes ${start}-${blob.length - 1}/${blob.length}`, 'content-length': blob.length - start }).end(blob.subarray(start));
        return true;
      }
      if (!cut) {
        cut = true;
        res.writeHead(200, { 'content-length': blob.length });
        res.write(blob.subarray(0, half), () => setTimeout(() => res.socket?.destroy(), 20));
        return true;
      }
      return false;
    });
    const opened = await openImage(`${fake.host}/ns/app:tag`, { insecure: true, retry: FAST });
    const img = opened.images[0] as ResolvedImage;
    const bytes = await readAll(await img.openLayer(img.layers[0]!));
    assert.deepEqual(bytes, blob);
    assert.deepEqual(
      fake.requests.filter((r) => r.url.endsWith(`/blobs/${digest}`)).map((r) => r.headers.range),
      [undefined, `bytes=${half}-`],
    );
    await opened.close();
  });

  test('aborting a stalled blob download ends the stream with the abort, not a retry', async () => {
    fake.reset();
    const digest = tiny.layerDigests[0]!;
    const blob = tiny.blobs.get(digest)!;
    fake.use((req, res) => {
      if (!req.url?.endsWith(`/blobs/${digest}`)) return false;
      res.writeHead(200, { 'content-length': blob.length });
      res.write(blob.subarray(0, 10)); // ...and never the rest
      return true;
    });
    const opened = await openImage(`${fake.host}/ns/app:tag`, { insecure: true, retry: FAST });
    const img = opened.images[0] as ResolvedImage;
    const controller = new AbortController();
    const stream = await img.openLayer(img.layers[0]!, controller.signal);
    stream.once('data', () => controller.abort());
    await assert.rejects(readAll(stream), (err: unknown) => (err as Error).name === 'AbortError');
    assert.equal(fake.requests.filter((r) => r.url.endsWith(`/blobs/${digest}`)).length, 1);
    await opened.close();
  });

  test('a blob longer than its descriptor is refused', async () => {
    fake.reset();
    const digest = tiny.layerDigests[1]!;
    fake.use((req, res) => (req.url?.endsWith(`/blobs/${digest}`) ? (res.writeHead(200).end(Buffer.concat([tiny.blobs.get(digest)!, Buffer.alloc(10)])), true) : false));
    const opened = await openImage(`${fake.host}/ns/app:tag`, { insecure: true, retry: FAST });
    const img = opened.images[0] as ResolvedImage;
    await assert.rejects(readAll(await img.openLayer(img.layers[1]!)), (err: unknown) => isPortcullisError(err, 'E_DIGEST_MISMATCH'));
    await opened.close();
  });

  test('tag and catalog lists follow Link pages', async () => {
    fake.reset();
    const pages: Record<string, [string[], string | undefined]> = {
      '/v2/ns/app/tags/list?n=2': [['a', 'b'], '</v2/ns/app/tags/list?last=b&n=2>; rel="next"'],
      '/v2/ns/app/tags/list?last=b&n=2': [['c'], undefined],
    };
    fake.use((req, res) => {
      const page = pages[req.url ?? ''];
      if (page) return reply(res.writeHead(200, page[1] ? { link: page[1] } : {}).end(JSON.stringify({ name: 'ns/app', tags: page[0] })));
      if (req.url === '/v2/_catalog') return reply(res.writeHead(200).end(JSON.stringify({ repositories: ['x/y'] })));
      return false;
    });
    const client = new RegistryClient(fake.host, { insecure: true, retry: FAST });
    assert.deepEqual(await client.listTags('ns/app', { pageSize: 2 }), ['a', 'b', 'c']);
    assert.deepEqual(await client.listRepositories(), ['x/y']);
    await client.close();
  });

  test('Bearer tokens are fetched per scope and reused', async () => {
    fake.reset();
    storage.reset();
    let issued = 0;
    const realm = `${storage.url}/token`;
    storage.use((req, res) => {
      if (!req.url?.startsWith('/token')) return false;
      issued++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `tok-${issued}`, expires_in: 300 }));
      return true;
    });
    fake.use((req, res) => {
      const scope = /^\/v2\/(.+)\/(?:manifests|blobs)\//.exec(req.url ?? '')?.[1];
      const challenge = `Bearer realm="${realm}",service="fake"${scope ? `,scope="repository:${scope}:pull"` : ''}`;
      if (!req.headers.authorization?.startsWith('Bearer tok-')) return reply(res.writeHead(401, { 'www-authenticate': challenge }).end());
      return false;
    });
    const opened = await openImage(`${fake.host}/ns/app:tag`, { insecure: true, retry: FAST }, silentEngineContext({ credentials: { kind: 'none' } }));
    const img = opened.images[0] as ResolvedImage;
    for (const layer of img.layers) await readAll(await img.openLayer(layer));
    assert.equal(issued, 1);
    const tokenRequest = storage.requests.find((r) => r.url.startsWith('/token'))!;
    assert.equal(tokenRequest.url, `/token?service=fake&scope=${encodeURIComponent('repository:ns/app:pull')}`);
    await opened.close();
  });

  test('a closed port is E_UNREACHABLE at once', async () => {
    const port = await freePort();
    await assert.rejects(openImage(`127.0.0.1:${port}/ns/app:tag`, { insecure: true }), (err: unknown) => {
      assert.ok(isPortcullisError(err, 'E_UNREACHABLE'));
      assert.match(err.message, /connection refused/);
      return true;
    });
  });

  test('without insecure, a plain-HTTP registry is E_UNREACHABLE with the --insecure hint', async () => {
    fake.reset();
    await assert.rejects(openImage(`${fake.host}/ns/app:tag`, { retry: FAST }), (err: unknown) => {
      assert.ok(isPortcullisError(err, 'E_UNREACHABLE'));
      assert.match(err.message, /--insecure/);
      return true;
    });
    assert.equal(fake.requests.length, 0);
  });
});
