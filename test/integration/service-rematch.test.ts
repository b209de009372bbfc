/**
 * Freshness without pulling images: the real test images are pushed to a real registry and
 * scanned by the pipeline; then the registry is stopped, the vulnerability DB rebuilt with an
 * advisory for a package the images hold, and the stored inventories re-matched: the findings
 * change, only the manifests the change can touch are re-evaluated, and the outgoing webhook
 * (a test server that checks the signature) receives the diff, retried after a failure.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { debianDsaFeed } from '../../src/feeds/debian/index.js';
import { MEDIA_TYPES } from '../../src/image/media-types.js';
import { embeddedBackend, EMBEDDED_BACKEND } from '../../src/service/embedded-backend.js';
import { processRegistryEvent, type EventProcessorDeps } from '../../src/service/event-processor.js';
import { registryAccess } from '../../src/service/registry-access.js';
import { rematchStored } from '../../src/service/rematch.js';
import { ScanWorker } from '../../src/service/scan-worker.js';
import { VulnDbHandle } from '../../src/services/vulndb-handle.js';
import { deliverDue, FINDINGS_CHANGED, queueFindingsChanged, signBody } from '../../src/service/webhooks.js';
import { CatalogStore } from '../../src/store/catalog.js';
import { JobQueue } from '../../src/store/jobs.js';
import { openStore, type Store } from '../../src/store/open-store.js';
import { WebhookStore } from '../../src/store/webhooks.js';
import { buildVulnDb } from '../../src/vulndb/index.js';
import { testImages } from '../harness/images.js';
import { pushImage, startRegistry, type RunningRegistry } from '../harness/registry.js';
import { sharedData } from '../support/shared-data.js';

/** The real DSA list (test/data/feeds/debian/DSA-list: no bookworm entry). */
const realDsaList = readFileSync(sharedData('feeds', 'debian', 'DSA-list'), 'utf8');

/**
 * An entry in the DSA list's format, derived from its first real entry (DSA-5380-1: date line,
 * CVE line, release line) with the package, release, CVE and fixed version changed: a bookworm
 * fix of gzip above the 1.12-1 both test images hold (CVE-2022-1271 is gzip's zgrep CVE).
 */
const GZIP_ENTRY = '[07 Dec 2026] DSA-9990-1 gzip - security update\n\t{CVE-2022-1271}\n\t[bookworm] - gzip 1.12-1+deb12u1\n';
/** The same shape for a package neither image holds. */
const XORG_ENTRY = '[07 Dec 2026] DSA-9991-1 xorg-server - security update\n\t{CVE-2023-1393}\n\t[bookworm] - xorg-server 2:21.1.7-3+deb12u1\n';

describe('re-match of stored inventories when the vulnerability DB changes', () => {
  const work = mkdtempSync(join(tmpdir(), 'portcullis-rematch-'));
  const dbPath = join(work, 'vuln.db');
  let registry: RunningRegistry;
  let store: Store;
  let deps: EventProcessorDeps;
  let vulndb: VulnDbHandle;
  let webhooks: WebhookStore;
  let receiver: Server;
  let receiverUrl = '';
  const received: { body: string; signature: string | undefined; event: string | undefined }[] = [];
  let failNext = 1;
  const secret = 'webhook-secret-for-tests';
  const { minbase, lang } = testImages().images;

  const buildDb = (dsaList: string, at: string) =>
    buildVulnDb(dbPath, [{ feed: debianDsaFeed, files: [{ name: 'DSA-list', bytes: Buffer.from(dsaList) }], source: 'test:DSA-list', fetchedAt: at }], { now: () => new Date(at) });

  before(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => (body += c));
      req.on('end', () => {
        if (failNext > 0) {
          failNext--;
          res.writeHead(500).end('try later');
          return;
        }
        received.push({ body, signature: req.headers['x-portcullis-signature'] as string | undefined, event: req.headers['x-portcullis-event'] as string | undefined });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const address = receiver.address();
    receiverUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`;

    registry = await startRegistry();
    await pushImage(minbase.ociReference, `${registry.host}/team/minbase:1`);
    await pushImage(lang.ociReference, `${registry.host}/team/lang:1`);
    await buildDb(realDsaList, '2026-12-01T00:00:00.000Z');
    vulndb = new VulnDbHandle(dbPath);
    store = await openStore({ kind: 'sqlite', file: join(work, 'app.sqlite') });
    const catalog = new CatalogStore(store);
    webhooks = new WebhookStore(store);
    const access = registryAccess({ url: registry.url, username: '', password: '' });
    deps = { catalog, queue: new JobQueue(store), registry: access, backends: [EMBEDDED_BACKEND] };
    for (const [repository, image] of [['team/minbase', minbase], ['team/lang', lang]] as const) {
      await processRegistryEvent({ eventId: repository, action: 'push', repository, digest: image.manifestDigest, tag: '1', mediaType: MEDIA_TYPES.ociManifest }, deps);
    }
    const worker = new ScanWorker({ queue: deps.queue, catalog, runners: new Map([[EMBEDDED_BACKEND, embeddedBackend({ registry: access, catalog, vulndb, cacheDir: join(work, 'cache') })]]) });
    assert.equal(await worker.drain(), 2);
    // From here on nothing may pull an image.
    await registry.stop();
  });
  after(async () => {
    vulndb?.close();
    await store?.close();
    await registry?.stop();
    await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
    rmSync(work, { recursive: true, force: true });
  });

  const gzipFindings = async (digest: string): Promise<string[]> => {
    const [scan] = await deps.catalog.scans(digest);
    const report = JSON.parse(scan?.report ?? '{}') as { findings: { id: string; aliases: string[]; package: { name: string; version: string } }[] };
    return report.findings.filter((f) => f.package.name === 'gzip').map((f) => `${[f.id, ...f.aliases].join('/')} ${f.package.name}@${f.package.version}`);
  };

  test('an advisory for a package both images hold: both re-matched, the finding introduced, the webhook told (and retried)', async () => {
    assert.deepEqual(await gzipFindings(minbase.manifestDigest), []);
    await buildDb(realDsaList + GZIP_ENTRY, '2026-12-02T00:00:00.000Z');
    const db = vulndb.current();
    assert.equal(db.builtAt, '2026-12-02T00:00:00.000Z', 'the swapped DB file is picked up');
    assert.deepEqual(db.changes(), { since: '2026-12-01T00:00:00.000Z', packages: [{ ecosystem: 'deb', key: 'gzip' }] });

    const lines: { level: number; msg: string; [field: string]: unknown }[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
    const summary = await rematchStored(deps.catalog, db, logger);
    assert.deepEqual([summary.rematched, summary.untouched, summary.failures], [2, 0, []]);
    const start = lines.find((l) => l.msg === 'rematch: start');
    assert.deepEqual([start?.db, start?.stale, start?.changedPackages], ['2026-12-02T00:00:00.000Z', 2, 1], 'the start names the DB, the stale results and the changed packages');
    const changed = lines.filter((l) => l.msg === 'rematch: findings changed');
    assert.deepEqual(changed.map((l) => [l.level, l.introduced]), [[20, 1], [20, 1]], 'one debug line per manifest whose findings changed');
    const done = lines.find((l) => l.msg === 'rematch: done');
    assert.deepEqual([done?.rematched, done?.untouched, done?.changed, done?.failures, typeof done?.ms], [2, 0, 2, 0, 'number']);
    assert.deepEqual(summary.diffs.map((d) => d.digest).sort(), [minbase.manifestDigest, lang.manifestDigest].sort());
    for (const diff of summary.diffs) {
      assert.deepEqual(diff.introduced.map((f) => `${f.package}@${f.version} fixed in ${f.fixedVersions.join(',')}`), ['gzip@1.12-1 fixed in 1.12-1+deb12u1']);
      assert.deepEqual([diff.fixed, diff.severityChanged], [[], []]);
    }
    assert.equal((await gzipFindings(minbase.manifestDigest)).length, 1, 'the stored result now holds it');
    assert.equal((await deps.catalog.history('team/minbase')).length, 2, 'a history point per scan and per change');

    const targets = [{ url: receiverUrl, secret }];
    assert.equal(await queueFindingsChanged(summary.diffs, summary.db, targets, { catalog: deps.catalog, webhooks }), 2);
    let clock = Date.now();
    const now = () => new Date(clock);
    assert.deepEqual(await deliverDue({ webhooks, targets, now, backoffBaseMs: 1_000 }), [1, 1], 'the first POST is answered 500');
    assert.deepEqual(await deliverDue({ webhooks, targets, now, backoffBaseMs: 1_000 }), [0, 0], 'the failed one waits out its backoff');
    clock += 60_000;
    const later = () => new Date(clock);
    assert.deepEqual(await deliverDue({ webhooks, targets, now: later }), [0, 0], 'the store clock, not the deliverer clock, decides what is due');
    const failed = (await webhooks.log()).find((d) => d.status === 'pending');
    assert.equal(failed?.lastStatus, 500);
    assert.equal(failed?.attempts, 1);
  });

  test('the retried delivery goes out once its time comes; every body is signed with the secret', async () => {
    const due = new WebhookStore(store, { now: () => new Date(Date.now() + 120_000) });
    assert.deepEqual(await deliverDue({ webhooks: due, targets: [{ url: receiverUrl, secret }] }), [1, 0]);
    assert.equal(received.length, 2);
    for (const r of received) {
      assert.equal(r.signature, signBody(secret, r.body), 'X-Portcullis-Signature is the HMAC of the exact body');
      assert.equal(r.event, FINDINGS_CHANGED);
      const body = JSON.parse(r.body) as { digest: string; tags: { repository: string; tag: string }[]; introduced: { package: string }[] };
      assert.deepEqual(body.introduced.map((f) => f.package), ['gzip']);
      assert.equal(body.tags.length, 1);
    }
    assert.deepEqual(await webhooks.counts(), { pending: 0, delivered: 2, failed: 0 });
  });

  test('an advisory for a package neither image holds: nothing re-matched, results marked current', async () => {
    await buildDb(realDsaList + GZIP_ENTRY + XORG_ENTRY, '2026-12-03T00:00:00.000Z');
    const summary = await rematchStored(deps.catalog, vulndb.current());
    assert.deepEqual([summary.rematched, summary.untouched, summary.diffs], [0, 2, []]);
    assert.deepEqual((await deps.catalog.scannedBy(EMBEDDED_BACKEND)).map((s) => s.matchedDb), ['2026-12-03T00:00:00.000Z', '2026-12-03T00:00:00.000Z']);
  });

  test('the fix withdrawn again: the finding is reported fixed', async () => {
    await buildDb(realDsaList + XORG_ENTRY, '2026-12-04T00:00:00.000Z');
    const summary = await rematchStored(deps.catalog, vulndb.current());
    assert.equal(summary.rematched, 2);
    assert.deepEqual(summary.diffs.map((d) => d.fixed.map((f) => f.package)), [['gzip'], ['gzip']]);
  });

  test('a DB with no change record (a first build elsewhere): everything is re-matched', async () => {
    rmSync(dbPath);
    await buildDb(realDsaList + XORG_ENTRY, '2026-12-05T00:00:00.000Z');
    const summary = await rematchStored(deps.catalog, vulndb.current());
    assert.deepEqual([summary.rematched, summary.untouched, summary.diffs], [2, 0, []]);
  });
});
