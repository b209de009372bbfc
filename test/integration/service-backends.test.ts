/**
 * Scanner backends beside the embedded one, through the service: a real Docker Distribution
 * registry with token auth, the real minbase test image pushed with skopeo, and a Clair v2.0.9
 * stand-in answering with recorded bodies that downloads every layer Path with the Authorization
 * header it was given (test/harness/clair-v2.ts). The runtime built from a config with
 * `security.clair.server` and `security.dummy.server` set scans the pushed image with every enabled
 * backend and stores each result under its backend. A Clair that fails in any way fails its own
 * scan with the reason; the embedded result stands and the worker goes on.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ClairV2Backend, clairLayerName } from '../../src/backends/clair-v2/backend.js';
import type { BackendReport } from '../../src/backends/types.js';
import { isPortcullisError } from '../../src/domain/errors.js';
import { DEFAULT_SERVICE_CONFIG, type ServiceConfig } from '../../src/config/service-config.js';
import { MEDIA_TYPES } from '../../src/image/media-types.js';
import { buildRealDb, type RealDb } from '../../src/matching/test-support/real-data.js';
import { backendRunner } from '../../src/service/backends.js';
import { embeddedBackend, EMBEDDED_BACKEND } from '../../src/service/embedded-backend.js';
import { processRegistryEvent, type RegistryEventFacts } from '../../src/service/event-processor.js';
import { registryAccess } from '../../src/service/registry-access.js';
import { ServiceRuntime, type RegistryEventSource } from '../../src/service/runtime.js';
import { ScanWorker } from '../../src/service/scan-worker.js';
import { VulnDbHandle } from '../../src/services/vulndb-handle.js';
import { CatalogStore } from '../../src/store/catalog.js';
import { JobQueue } from '../../src/store/jobs.js';
import { openStore, type Store } from '../../src/store/open-store.js';
import { startFakeClairV2, type ClairBehaviour, type FakeClairV2 } from '../harness/clair-v2.js';
import { testImages } from '../harness/images.js';
import { pushImage, startRegistry, type RunningRegistry } from '../harness/registry.js';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Registry events kept in memory, as the webhook route would have stored them. */
class MemoryEvents implements RegistryEventSource {
  readonly marks: { eventId: string; status: string; note?: string }[] = [];
  constructor(private pending: RegistryEventFacts[]) {}
  fresh(): Promise<RegistryEventFacts[]> {
    return Promise.resolve(this.pending);
  }
  mark(eventId: string, status: 'done' | 'skipped' | 'failed', note?: string): Promise<void> {
    this.pending = this.pending.filter((e) => e.eventId !== eventId);
    this.marks.push({ eventId, status, ...(note !== undefined ? { note } : {}) });
    return Promise.resolve();
  }
}

describe('scanner backends through the service: embedded, Clair v2 (recorded stand-in) and dummy on one pushed image', () => {
  const work = mkdtempSync(join(tmpdir(), 'portcullis-backends-'));
  const { minbase } = testImages().images;
  let registry: RunningRegistry;
  let realDb: RealDb;
  let clair: FakeClairV2;
  const stores: Store[] = [];

  const push = (repository: string, tag: string): RegistryEventFacts => ({ eventId: `${repository}:${tag}`, action: 'push', repository, digest: minbase.manifestDigest, tag, mediaType: MEDIA_TYPES.ociManifest });
  const newStore = async (name: string): Promise<Store> => {
    const store = await openStore({ kind: 'sqlite', file: join(work, `${name}.sqlite`) });
    stores.push(store);
    return store;
  };

  before(async () => {
    registry = await startRegistry({ auth: 'token' });
    const creds = { username: registry.username ?? '', password: registry.password ?? '' };
    await pushImage(minbase.ociReference, `${registry.host}/team/minbase:1.0`, creds);
    await pushImage(minbase.zstdReference, `${registry.host}/team/zstd:1.0`, creds);
    realDb = await buildRealDb();
    clair = await startFakeClairV2();
  });
  after(async () => {
    for (const s of stores) await s.close();
    await clair?.stop();
    realDb?.dispose();
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const config = (): ServiceConfig => ({
    ...DEFAULT_SERVICE_CONFIG,
    registry: { ...DEFAULT_SERVICE_CONFIG.registry, url: registry.url, username: registry.username ?? '', password: registry.password ?? '' },
    security: {
      ...DEFAULT_SERVICE_CONFIG.security,
      embedded: { enabled: true },
      clair: { server: clair.url, health_port: clair.healthPort, timeout: 30 },
      zypper: { server: '' },
      dummy: { server: 'builtin' },
    },
  });

  test('every enabled backend scans the pushed image once; each result is stored under its backend', async () => {
    const events = new MemoryEvents([push('team/minbase', '1.0')]);
    const runtime = new ServiceRuntime({ config: config(), store: await newStore('runtime'), events, log: silent, dbPath: realDb.db.path, cacheDir: join(work, 'layer-cache') });
    try {
      assert.deepEqual(runtime.scanners.map((s) => s.name), ['clair', 'dummy']);
      const clairBackend = runtime.scanners[0];
      assert.deepEqual(await clairBackend?.health(), { ok: true, detail: 'clair is reachable' });

      assert.equal(await runtime.applyEvents(), 1);
      assert.deepEqual((await runtime.catalog.scans(minbase.manifestDigest)).map((s) => `${s.backend}:${s.status}`).sort(), ['clair:queued', 'dummy:queued', 'embedded:queued']);
      assert.equal(await runtime.worker?.drain(), 3);
      const scans = new Map((await runtime.catalog.scans(minbase.manifestDigest)).map((s) => [s.backend, s]));
      for (const [backend, scan] of scans) assert.equal(scan.status, 'scanned', `${backend}: ${scan.reason ?? ''}`);

      // Clair was fed each layer base first, chained by ParentName, with a token the registry honoured.
      const layers = minbase.layers.map((l) => l.digest);
      assert.equal(clair.posts.length, layers.length);
      clair.posts.forEach((post, i) => {
        const layer = (post.body as { Layer: { Name: string; Path: string; ParentName: string; Format: string; Headers: { Authorization: string } } }).Layer;
        assert.equal(post.status, 201);
        assert.equal(post.blobStatus, 200, 'Clair downloaded the blob with the Authorization header it was given');
        assert.match(layer.Headers.Authorization, /^Bearer \S+$/);
        assert.equal(layer.Path, `${registry.url}/v2/team/minbase/blobs/${layers[i]}`);
        assert.equal(layer.Name, clairLayerName(minbase.manifestDigest, layers[i] ?? ''));
        assert.equal(layer.ParentName, i === 0 ? '' : clairLayerName(minbase.manifestDigest, layers[i - 1] ?? ''));
        assert.equal(layer.Format, 'Docker');
      });
      assert.deepEqual(clair.gets, [`${clairLayerName(minbase.manifestDigest, layers[layers.length - 1] ?? '')}?features&vulnerabilities`]);

      // The recorded answer's vulnerable features, in the service's findings shape.
      const clairReport = JSON.parse(scans.get('clair')?.report ?? '{}') as BackendReport;
      assert.equal(clairReport.backend, 'clair');
      assert.equal(clairReport.digest, minbase.manifestDigest);
      assert.equal(clairReport.packageCount, 128, 'every feature of the recorded answer is counted');
      assert.deepEqual(
        clairReport.packages.map((p) => `${p.name} ${p.version} ${p.namespace ?? ''}: ${p.vulnerabilities.map((v) => `${v.id}/${v.severity}/${v.backendSeverity}/${v.fixedBy ?? '-'}`).join(' ')}`),
        ['ncurses 6.4-4 debian:12: CVE-0000-1002/Low/Low/-', 'zlib 1:1.2.13.dfsg-1 debian:12: CVE-0000-1001/High/High/1:1.2.13.dfsg-2 CVE-0000-1004/Unknown/Unknown/1:1.2.13.dfsg-1+deb12u9'],
      );
      const zlib = clairReport.packages.find((p) => p.name === 'zlib')?.vulnerabilities[0];
      assert.equal(zlib?.link, 'https://security-tracker.debian.org/tracker/CVE-0000-1001');
      assert.deepEqual(zlib?.metadata, { NVD: { CVSSv2: { Score: 7.5, Vectors: 'AV:N/AC:L/Au:N/C:P/I:P/A:P' } } });
      assert.deepEqual(scans.get('clair')?.counts, { High: 1, Low: 1, Unknown: 1 });

      const dummyReport = JSON.parse(scans.get('dummy')?.report ?? '{}') as BackendReport;
      assert.deepEqual(dummyReport.packages.flatMap((p) => p.vulnerabilities.map((v) => `${v.id}/${v.severity}`)), ['CVE-2016-6304/High', 'CVE-2016-7052/Medium', 'CVE-2016-2178/Low']);
      assert.deepEqual(scans.get('dummy')?.counts, { High: 1, Medium: 1, Low: 1 });

      const embedded = JSON.parse(scans.get(EMBEDDED_BACKEND)?.report ?? '{}') as { packageCount: number };
      assert.equal(embedded.packageCount, 108, 'the embedded result is the engine report, as before');
    } finally {
      await runtime.stop();
    }
  });

  /**
   * A pipeline whose clair runner points at `clairUrl`, with its own store and a clock the test
   * moves. The short default timeout is for stand-ins that fail before any download happens.
   */
  const pipeline = async (name: string, clairUrl: string, healthPort: number, timeoutMs = 700) => {
    const store = await newStore(name);
    let now = Date.now();
    const queue = new JobQueue(store, { now: () => new Date(now) });
    const catalog = new CatalogStore(store);
    const access = registryAccess({ url: registry.url, username: registry.username ?? '', password: registry.password ?? '' });
    const vulndb = new VulnDbHandle(realDb.db.path);
    const clairBackend = new ClairV2Backend({ server: clairUrl, healthPort, timeoutMs });
    const worker = new ScanWorker({
      queue,
      catalog,
      runners: new Map([
        [EMBEDDED_BACKEND, embeddedBackend({ registry: access, catalog, vulndb, cacheDir: join(work, 'layer-cache') })],
        ['clair', backendRunner(clairBackend, { registry: access, catalog })],
      ]),
    });
    const deps = { catalog, queue, registry: access, backends: [EMBEDDED_BACKEND, 'clair'] };
    return { catalog, worker, deps, vulndb, clairBackend, later: () => (now += 3_600_000) };
  };

  /** Behaviour, the reason the failed scan must give, and the timeout (stand-ins that download the layers need more than the default). */
  const badClairs: [ClairBehaviour, RegExp, number?][] = [
    ['no-answer', /clair: POST http:\/\/127\.0\.0\.1:\d+\/v1\/layers: no complete answer within 700 ms \[E_UNREACHABLE\]/],
    ['status-500', /clair: POST \/v1\/layers \(layer sha256:[0-9a-f]{64}\) answered 500: database: could not establish connection \[E_INTERNAL\]/],
    ['non-json', /clair: GET \/v1\/layers\/sha256:[0-9a-f]{64}\?features&vulnerabilities answered 200 with a body that is not JSON: <html>/],
    ['wrong-shape', /clair: GET \/v1\/layers\/\S+ answered 200 with an unexpected body: at Layer\.Name: /],
    ['stalled-body', /clair: POST http:\/\/127\.0\.0\.1:\d+\/v1\/layers: no complete answer within 700 ms \[E_UNREACHABLE\]/],
    ['other-layer', /clair: GET \/v1\/layers\/sha256:[0-9a-f]{64}\?features&vulnerabilities answered for layer "sha256:4d3825389356f4121baf5e431f9a96efe1287c1733004fcb02b15c5c2c6d7b7b", not the one asked for \[E_INTERNAL\]/, 60_000],
  ];
  for (const [behaviour, reason, timeoutMs] of badClairs) {
    test(`a Clair that ${behaviour === 'no-answer' ? 'never answers' : behaviour === 'stalled-body' ? 'stalls mid-body' : behaviour === 'other-layer' ? 'answers the report of another layer' : `answers ${behaviour}`}: its scan fails with the reason after the retries, the embedded result stands, the worker is free`, async () => {
      const bad = await startFakeClairV2({ behaviour });
      const p = await pipeline(`bad-${behaviour}`, bad.url, bad.healthPort, timeoutMs);
      try {
        assert.deepEqual((await processRegistryEvent(push('team/minbase', '1.0'), p.deps)).queued, [minbase.manifestDigest]);
        assert.equal(await p.worker.drain(), 2);
        let clairScan = (await p.catalog.scans(minbase.manifestDigest)).find((s) => s.backend === 'clair');
        assert.equal(clairScan?.status, 'queued', 'a failing Clair is retried by the queue policy');
        assert.match(clairScan?.reason ?? '', /^attempt 1 of 5 failed, retrying: /);
        for (let attempt = 2; attempt <= 5; attempt++) {
          p.later();
          assert.equal(await p.worker.drain(), 1, `attempt ${attempt} runs once the backoff has passed`);
        }
        const scans = new Map((await p.catalog.scans(minbase.manifestDigest)).map((s) => [s.backend, s]));
        clairScan = scans.get('clair');
        assert.equal(clairScan?.status, 'failed', 'never "0 vulnerabilities"');
        assert.equal(clairScan?.report, null);
        assert.match(clairScan?.reason ?? '', reason);
        assert.equal(scans.get(EMBEDDED_BACKEND)?.status, 'scanned');
        assert.equal(await p.worker.drain(), 0, 'nothing is left running or claimed');
      } finally {
        p.vulndb.close();
        await bad.stop();
      }
    });
  }

  test('an unreachable Clair: failed scan with E_UNREACHABLE; its health says why', async () => {
    const p = await pipeline('unreachable', 'http://127.0.0.1:1', 1);
    try {
      const health = await p.clairBackend.health();
      assert.equal(health.ok, false);
      assert.match(health.detail, /^clair is not reachable: clair: GET http:\/\/127\.0\.0\.1:1\/health: cannot reach the server/);
      await processRegistryEvent(push('team/minbase', '1.0'), p.deps);
      await p.worker.drain();
      const clairScan = (await p.catalog.scans(minbase.manifestDigest)).find((s) => s.backend === 'clair');
      assert.match(clairScan?.reason ?? '', /cannot reach the server .*\[E_UNREACHABLE\]/);
      assert.equal(clairScan?.report, null);
    } finally {
      p.vulndb.close();
    }
  });

  test('a layer Clair cannot download (no token: the registry answers 401): Clair\'s 400, a permanent failure naming it', async () => {
    const fresh = await startFakeClairV2();
    try {
      const backend = new ClairV2Backend({ server: fresh.url, healthPort: fresh.healthPort, timeoutMs: 60_000 });
      const layer = minbase.layers[0];
      assert.ok(layer);
      const target = {
        repository: 'team/minbase',
        digest: minbase.manifestDigest,
        tags: ['1.0'],
        registry: {
          reference: `${registry.host}/team/minbase@${minbase.manifestDigest}`,
          imageOptions: { insecure: true },
          layers: () => Promise.resolve([{ digest: layer.digest, mediaType: layer.mediaType, size: layer.size, url: `${registry.url}/v2/team/minbase/blobs/${layer.digest}` }]),
          authorization: () => Promise.resolve(undefined),
        },
      };
      await assert.rejects(backend.scan(target, new AbortController().signal), (err: unknown) => isPortcullisError(err, 'E_INPUT') && /clair: POST \/v1\/layers \(layer sha256:[0-9a-f]{64}\) answered 400: could not find layer$/.test(err.message));
      assert.equal(fresh.posts[0]?.blobStatus, 401);
      assert.deepEqual(fresh.gets, [], 'no report is asked for an image Clair could not index');
    } finally {
      await fresh.stop();
    }
  });

  test('a layer Clair cannot read (422, a zstd layer): the scan is unsupported at once, no retry loop', async () => {
    const p = await pipeline('zstd', clair.url, clair.healthPort, 60_000);
    try {
      const event: RegistryEventFacts = { ...push('team/zstd', '1.0'), digest: minbase.zstdManifestDigest };
      assert.deepEqual((await processRegistryEvent(event, p.deps)).queued, [minbase.zstdManifestDigest]);
      await p.worker.drain();
      const clairScan = (await p.catalog.scans(minbase.zstdManifestDigest)).find((s) => s.backend === 'clair');
      assert.equal(clairScan?.status, 'unsupported', clairScan?.reason ?? '');
      assert.match(clairScan?.reason ?? '', /answered 422: tarutil: could not extract the archive \[E_UNSUPPORTED\]/);
      p.later();
      assert.equal(await p.worker.drain(), 0, 'not retried');
    } finally {
      p.vulndb.close();
    }
  });
});
