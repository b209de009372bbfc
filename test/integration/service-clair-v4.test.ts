/**
 * Clair v4 as a scanner backend, end to end through the service: a real Docker Distribution
 * registry with token auth, the real minbase test image pushed with skopeo, and a Clair v4 stand-in
 * (test/harness/clair-v4.ts) that checks the PSK JWT of every request and the Manifest's shape,
 * downloads every layer URI with the headers it was given and checks each blob's digest, answers
 * with ETag/412 like Clair, and serves notifications. The service (started in-process, catalog
 * synced at start) stores the `clair-v4` result for the digest; Clair's notifier webhook makes it
 * fetch the report again (412 on the unchanged manifest) and store the change. A Clair that fails in
 * any way fails only its own scan, with the reason.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { ClairV4Backend, CLAIR_V4_BACKEND } from '../../src/backends/clair-v4/backend.js';
import type { BackendReport } from '../../src/backends/types.js';
import { DEFAULT_SERVICE_CONFIG, type ServiceConfig } from '../../src/config/service-config.js';
import { MEDIA_TYPES } from '../../src/image/media-types.js';
import { buildRealDb, type RealDb } from '../../src/matching/test-support/real-data.js';
import { startService, type RunningService } from '../../src/server/start-service.js';
import { backendRunner } from '../../src/service/backends.js';
import { embeddedBackend, EMBEDDED_BACKEND } from '../../src/service/embedded-backend.js';
import { processRegistryEvent, type RegistryEventFacts } from '../../src/service/event-processor.js';
import { registryAccess } from '../../src/service/registry-access.js';
import { ScanWorker } from '../../src/service/scan-worker.js';
import { VulnDbHandle } from '../../src/services/vulndb-handle.js';
import { CatalogStore } from '../../src/store/catalog.js';
import { JobQueue } from '../../src/store/jobs.js';
import { openStore, type Store } from '../../src/store/open-store.js';
import { notifierToken, startFakeClairV4, type ClairV4Behaviour, type FakeClairV4 } from '../harness/clair-v4.js';
import { testImages } from '../harness/images.js';
import { pushImage, startRegistry, type RunningRegistry } from '../harness/registry.js';

const PSK = { key: Buffer.from('portcullis clair-v4 test key').toString('base64'), issuer: 'portcullis' };

/** Polls `check` until it returns a value, for up to two minutes (scans run in the background). */
async function eventually<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const summary = (report: BackendReport): string[] => report.packages.map((p) => `${p.name} ${p.namespace ?? ''}: ${p.vulnerabilities.map((v) => `${v.id}/${v.severity}/${v.backendSeverity}/${v.fixedBy ?? '-'}`).join(' ')}`);

describe('Clair v4 backend through the service (real registry, pushed minbase image, Clair v4 stand-in)', () => {
  const work = mkdtempSync(join(tmpdir(), 'portcullis-clair-v4-'));
  const { minbase } = testImages().images;
  let registry: RunningRegistry;
  let realDb: RealDb;
  const stores: Store[] = [];

  before(async () => {
    registry = await startRegistry({ auth: 'token' });
    await pushImage(minbase.ociReference, `${registry.host}/team/minbase:1.0`, { username: registry.username ?? '', password: registry.password ?? '' });
    realDb = await buildRealDb();
  });
  after(async () => {
    for (const s of stores) await s.close();
    realDb?.dispose();
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('scan stored for the digest; a second scan sends If-None-Match and gets 412; the notifier webhook re-fetches the report and the change is stored', async () => {
    const clair = await startFakeClairV4({ psk: PSK, pageSize: 1 });
    // The outgoing webhooks' receiver: the service reports the change Clair's update made.
    const notices: { event: string; body: unknown }[] = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        notices.push({ event: String(req.headers['x-portcullis-event']), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const config: ServiceConfig = {
      ...DEFAULT_SERVICE_CONFIG,
      database: { url: join(work, 'service.sqlite') },
      registry: { ...DEFAULT_SERVICE_CONFIG.registry, url: registry.url, username: registry.username ?? '', password: registry.password ?? '', catalog_sync: { interval: '', strategy: 'on-start' } },
      security: { ...DEFAULT_SERVICE_CONFIG.security, clair_v4: { server: clair.url, matcher: '', psk: PSK, timeout: 60 } },
      webhooks: [{ url: receiverUrl, secret: 's3cret' }],
    };
    let service: RunningService | undefined;
    const start = () => startService(config, { env: { PORTCULLIS_DATA_DIR: work, HOME: work }, listen: '127.0.0.1:0', vulnDbPath: realDb.db.path, cacheDir: join(work, 'layer-cache'), logDestination: new Writable({ write: (_c, _e, done) => done() }) });
    try {
      service = await start();
      let runtime = service.runtime;
      assert.ok(runtime);
      assert.deepEqual(runtime.scanners.map((s) => s.name), [CLAIR_V4_BACKEND]);
      const health = await runtime.scanners[0]?.health();
      assert.deepEqual(health, { ok: true, detail: `clair-v4 is reachable (indexer state ${clair.state})` });

      const stored = async (): Promise<{ report: BackendReport; counts: Record<string, number> } | undefined> => {
        const scan = (await runtime?.catalog.scans(minbase.manifestDigest) ?? []).find((s) => s.backend === CLAIR_V4_BACKEND);
        return scan?.status === 'scanned' && scan.report !== null ? { report: JSON.parse(scan.report) as BackendReport, counts: scan.counts ?? {} } : undefined;
      };
      const first = await eventually('the clair-v4 scan', stored);
      assert.equal(first.report.backend, CLAIR_V4_BACKEND);
      assert.equal(first.report.digest, minbase.manifestDigest);
      assert.ok((first.report.packageCount ?? 0) > 50, `every package of the image's dpkg database is counted (${first.report.packageCount ?? 0})`);
      assert.deepEqual(summary(first.report), ['libtinfo6 debian:12: CVE-0000-2002/Low/unimportant/-', 'zlib1g debian:12: CVE-0000-2001/High/high/1:1.2.13.dfsg-1+deb12u9']);
      assert.ok(first.report.packages.every((p) => minbase.layers.some((l) => l.digest === p.addedBy)), 'each package names the layer that added it');
      assert.deepEqual(first.counts, { High: 1, Low: 1 });

      // Clair was given the manifest digest and every layer base first, fetched each with the pull
      // authorization it was sent (the registry answered 200) and found the bytes it was promised.
      const posts = clair.requests.filter((r) => r.method === 'POST');
      assert.deepEqual(posts.map((r) => [r.ifNoneMatch, r.status]), [[undefined, 201]]);
      assert.deepEqual(clair.layerFetches.map((f) => [f.uri, f.status, f.digestMatches]), minbase.layers.map((l) => [`${registry.url}/v2/team/minbase/blobs/${l.digest}`, 200, true]));
      assert.equal(clair.unauthenticated, 0, 'every request carried a valid PSK JWT');

      // The indexer state is the app database's: a restarted service still knows it.
      await service.close();
      service = await start();
      runtime = service.runtime;
      assert.ok(runtime);

      // The notifier webhook, refused when not signed as Clair signs it or naming another host.
      const hook = `${service.url}/api/v1/clair/notifications`;
      const post = (headers: Record<string, string>, body: unknown): Promise<Response> => fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
      const body = { notification_id: 'n1', callback: `${clair.url}/notifier/api/v1/notification/n1` };
      assert.equal((await post({}, body)).status, 401);
      assert.equal((await post({ authorization: `Bearer ${notifierToken(Buffer.from('another key').toString('base64'))}` }, body)).status, 401);
      assert.equal((await post({ authorization: `Bearer ${notifierToken(PSK.key, 'someone-else')}` }, body)).status, 401);
      const elsewhere = await post({ authorization: `Bearer ${notifierToken(PSK.key)}` }, { notification_id: 'n1', callback: 'http://169.254.169.254/notifier/api/v1/notification/n1' });
      assert.equal(elsewhere.status, 400);
      assert.match(((await elsewhere.json()) as { error: { message: string } }).error.message, /is not the configured Clair server/);
      assert.equal(clair.requests.filter((r) => r.path.startsWith('/notifier')).length, 0, 'no refused call reached Clair');

      // Clair's data changes: a new vulnerability of libc6; the notification also names a manifest the catalog does not hold.
      const unknownManifest = `sha256:${'1'.repeat(64)}`;
      const delivered = await clair.publish([{ name: 'CVE-0000-2003', packageName: 'libc6', normalizedSeverity: 'Critical', severity: 'high', fixedInVersion: '2.36-9+deb12u99' }], hook, [unknownManifest]);
      assert.equal(delivered.status, 200, delivered.body);
      assert.deepEqual(JSON.parse(delivered.body), { notificationId: delivered.notificationId, pages: 2, notifications: 2, manifests: 2, queued: [minbase.manifestDigest] });
      assert.deepEqual(clair.deleted, [delivered.notificationId], 'the notification is deleted once handled');
      assert.deepEqual(clair.requests.filter((r) => r.path.startsWith('/notifier')).map((r) => `${r.method} ${r.path} ${r.status}`), [
        `GET /notifier/api/v1/notification/${delivered.notificationId} 200`,
        `GET /notifier/api/v1/notification/${delivered.notificationId}?next=1 200`,
        `DELETE /notifier/api/v1/notification/${delivered.notificationId} 200`,
      ]);

      const second = await eventually('the re-fetched clair-v4 report', async () => {
        const now = await stored();
        return now !== undefined && now.report.packages.some((p) => p.name === 'libc6') ? now : undefined;
      });
      assert.deepEqual(second.counts, { Critical: 1, High: 1, Low: 1 });
      assert.match(summary(second.report).join('\n'), /^libc6 debian:12: CVE-0000-2003\/Critical\/high\/2\.36-9\+deb12u99$/m);
      // The unchanged manifest was not indexed again, even after the restart: If-None-Match named the state, Clair answered 412.
      assert.deepEqual(clair.requests.filter((r) => r.method === 'POST').map((r) => [r.ifNoneMatch, r.status]), [[undefined, 201], [`"${clair.state}"`, 412]]);
      assert.equal(clair.layerFetches.length, minbase.layers.length, 'no layer was downloaded again');
      assert.equal(clair.unauthenticated, 0);

      // The change goes out as a findings.changed notice naming the backend, like a DB re-match's.
      const notice = await eventually('the findings.changed notice', () => Promise.resolve(notices[0]));
      assert.equal(notice.event, 'findings.changed');
      const layer = second.report.packages.find((p) => p.name === 'libc6');
      assert.deepEqual(notice.body, {
        event: 'findings.changed',
        digest: minbase.manifestDigest,
        tags: [{ repository: 'team/minbase', tag: '1.0' }],
        backend: CLAIR_V4_BACKEND,
        introduced: [{ id: 'CVE-0000-2003', package: 'libc6', version: layer?.version, path: 'debian:12', severity: 'Critical', fixedVersions: ['2.36-9+deb12u99'] }],
        fixed: [],
        severityChanged: [],
      });
      assert.equal(notices.length, 1, 'the first scan (nothing to compare with) sent no notice');
    } finally {
      await service?.close();
      await clair.stop();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });

  /** A worker with the embedded runner and a clair-v4 runner pointed at `clair`, with a clock the test moves. */
  const pipeline = async (name: string, clair: FakeClairV4, timeoutMs: number) => {
    const store = await openStore({ kind: 'sqlite', file: join(work, `${name}.sqlite`) });
    stores.push(store);
    let now = Date.now();
    const queue = new JobQueue(store, { now: () => new Date(now) });
    const catalog = new CatalogStore(store);
    const access = registryAccess({ url: registry.url, username: registry.username ?? '', password: registry.password ?? '' });
    const vulndb = new VulnDbHandle(realDb.db.path);
    const backend = new ClairV4Backend({ server: clair.url, psk: PSK, timeoutMs, pollIntervalMs: 100 });
    const worker = new ScanWorker({
      queue,
      catalog,
      runners: new Map([
        [EMBEDDED_BACKEND, embeddedBackend({ registry: access, catalog, vulndb, cacheDir: join(work, 'layer-cache') })],
        [CLAIR_V4_BACKEND, backendRunner(backend, { registry: access, catalog })],
      ]),
    });
    return { catalog, worker, vulndb, deps: { catalog, queue, registry: access, backends: [EMBEDDED_BACKEND, CLAIR_V4_BACKEND] }, later: () => (now += 3_600_000) };
  };

  const push: RegistryEventFacts = { eventId: 'team/minbase:1.0', action: 'push', repository: 'team/minbase', digest: minbase.manifestDigest, tag: '1.0', mediaType: MEDIA_TYPES.ociManifest };

  /** Behaviour, the reason the failed scan must give, and the backend's timeout (stand-ins that download the layers need more). */
  const badClairs: [ClairV4Behaviour, string, RegExp, number][] = [
    ['never-finishes', 'times out (the index never finishes)', /clair-v4: the index report of sha256:[0-9a-f]{64} was not finished within 1 s \(state FetchLayers\) \[E_UNREACHABLE\]/, 1_000],
    ['status-500', 'answers 500', /clair-v4: POST http:\/\/127\.0\.0\.1:\d+\/indexer\/api\/v1\/index_report answered 500 \(internal-error: could not retrieve indexer state: database unavailable\) \[E_INTERNAL\]/, 700],
    ['non-json', 'answers non-JSON', /clair-v4: unexpected response from http:\/\/127\.0\.0\.1:\d+\/matcher\/api\/v1\/vulnerability_report\/sha256%3A[0-9a-f]{64}: 200 with a body that is not JSON: <html>.*\[E_INTERNAL\]/, 60_000],
    ['wrong-shape', 'answers 200 with a wrong shape', /clair-v4: unexpected response from http:\/\/127\.0\.0\.1:\d+\/matcher\/api\/v1\/vulnerability_report\/sha256%3A[0-9a-f]{64}: packages: .*\[E_INTERNAL\]/, 60_000],
    ['other-digest', 'answers the report of another digest', /clair-v4: GET \/matcher\/api\/v1\/vulnerability_report\/sha256:[0-9a-f]{64} answered for manifest "sha256:0{64}", not the one asked for \[E_INTERNAL\]/, 60_000],
    ['no-answer', 'hangs the connection', /clair-v4: POST http:\/\/127\.0\.0\.1:\d+\/indexer\/api\/v1\/index_report: no complete answer within 700 ms \[E_UNREACHABLE\]/, 700],
    ['stalled-body', 'stalls mid-body', /clair-v4: POST http:\/\/127\.0\.0\.1:\d+\/indexer\/api\/v1\/index_report: no complete answer within 700 ms \[E_UNREACHABLE\]/, 700],
  ];
  for (const [behaviour, what, reason, timeoutMs] of badClairs) {
    test(`a Clair v4 that ${what}: its scan fails with the reason after the retries, the embedded result stands, the worker is free`, async () => {
      const bad = await startFakeClairV4({ psk: PSK, behaviour });
      const p = await pipeline(`bad-${behaviour}`, bad, timeoutMs);
      try {
        assert.deepEqual((await processRegistryEvent(push, p.deps)).queued, [minbase.manifestDigest]);
        assert.equal(await p.worker.drain(), 2);
        let scan = (await p.catalog.scans(minbase.manifestDigest)).find((s) => s.backend === CLAIR_V4_BACKEND);
        assert.equal(scan?.status, 'queued', 'a failing Clair is retried by the queue policy');
        assert.match(scan?.reason ?? '', /^attempt 1 of 5 failed, retrying: /);
        for (let attempt = 2; attempt <= 5; attempt++) {
          p.later();
          assert.equal(await p.worker.drain(), 1, `attempt ${attempt} runs once the backoff has passed`);
        }
        const scans = new Map((await p.catalog.scans(minbase.manifestDigest)).map((s) => [s.backend, s]));
        scan = scans.get(CLAIR_V4_BACKEND);
        assert.equal(scan?.status, 'failed', 'never "0 vulnerabilities"');
        assert.equal(scan?.report, null);
        assert.match(scan?.reason ?? '', reason);
        assert.equal(scans.get(EMBEDDED_BACKEND)?.status, 'scanned');
        assert.equal(await p.worker.drain(), 0, 'nothing is left running or claimed');
        assert.equal(bad.unauthenticated, 0);
      } finally {
        p.vulndb.close();
        await bad.stop();
      }
    });
  }

  test('a layer Clair cannot fetch (an IndexError): the scan fails with Clair\'s err', async () => {
    const clair = await startFakeClairV4({ psk: PSK });
    try {
      const backend = new ClairV4Backend({ server: clair.url, psk: PSK, timeoutMs: 60_000 });
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
          // No pull authorization: the token registry answers Clair's download with 401.
          authorization: () => Promise.resolve(undefined),
        },
      };
      await assert.rejects(backend.scan(target, new AbortController().signal), (err: unknown) => err instanceof Error && /^clair-v4: indexing sha256:[0-9a-f]{64} failed: fetcher: sha256:[0-9a-f]{64}: unexpected status code: 401$/.test(err.message));
      assert.deepEqual(clair.layerFetches.map((f) => f.status), [401]);
      assert.equal(await backend.indexStateOf(minbase.manifestDigest), undefined, 'a failed index is not remembered as indexed');
      assert.deepEqual(clair.requests.filter((r) => r.path.startsWith('/matcher')), [], 'no report is asked for an image Clair could not index');
    } finally {
      await clair.stop();
    }
  });
});
