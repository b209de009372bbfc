/**
 * The service's pipeline against real components: a real Docker Distribution registry the harness
 * starts, the real test images pushed with skopeo, the app store on SQLite, the durable queue and
 * the embedded backend matching against a DB built from the real feeds in test/data. A push
 * event -> manifest recorded -> scan queued once per digest -> worker -> stored result equal to
 * what the engine reports for the same image; deletes; an OCI index with two platforms; failures.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isPortcullisError } from '../../src/domain/errors.js';
import { MEDIA_TYPES } from '../../src/image/media-types.js';
import { buildRealDb, type RealDb } from '../../src/matching/test-support/real-data.js';
import { scanReference } from '../../src/services/image-scan.js';
import { embeddedBackend, EMBEDDED_BACKEND, severityCounts } from '../../src/service/embedded-backend.js';
import { processRegistryEvent, type EventProcessorDeps, type RegistryEventFacts } from '../../src/service/event-processor.js';
import { manifestDetailSchema, tagGroupSchema } from '../../src/server/routes/response-schemas.js';
import { advisoryUsage, compareTags, manifestDetail, manifestFindings, repositoryViews, tagGroups } from '../../src/service/queries.js';
import { registryAccess } from '../../src/service/registry-access.js';
import { ScanWorker } from '../../src/service/scan-worker.js';
import { ServiceRuntime } from '../../src/service/runtime.js';
import { loadServiceConfig } from '../../src/config/service-config.js';
import { recordEvents, registryEventQueue } from '../../src/store/registry-events.js';
import { VulnDbHandle } from '../../src/services/vulndb-handle.js';
import { CatalogStore } from '../../src/store/catalog.js';
import { JobQueue } from '../../src/store/jobs.js';
import { openStore, type Store } from '../../src/store/open-store.js';
import { testImages } from '../harness/images.js';
import { pushImage, putManifest, startRegistry, type RunningRegistry } from '../harness/registry.js';

describe('service pipeline: registry event -> queued scan -> worker -> stored result', () => {
  const work = mkdtempSync(join(tmpdir(), 'portcullis-pipeline-'));
  let registry: RunningRegistry;
  let store: Store;
  let realDb: RealDb;
  let vulndb: VulnDbHandle;
  let deps: EventProcessorDeps;
  let worker: ScanWorker;
  const { minbase, lang } = testImages().images;

  before(async () => {
    registry = await startRegistry();
    await pushImage(minbase.ociReference, `${registry.host}/team/minbase:1.0`);
    await pushImage(lang.ociReference, `${registry.host}/team/lang:1.0`);
    realDb = await buildRealDb();
    vulndb = new VulnDbHandle(realDb.db.path);
    store = await openStore({ kind: 'sqlite', file: join(work, 'app.sqlite') });
    const catalog = new CatalogStore(store);
    const access = registryAccess({ url: registry.url, username: '', password: '' });
    deps = { catalog, queue: new JobQueue(store), registry: access, backends: [EMBEDDED_BACKEND] };
    worker = new ScanWorker({
      queue: deps.queue,
      catalog,
      runners: new Map([[EMBEDDED_BACKEND, embeddedBackend({ registry: access, catalog, vulndb, cacheDir: join(work, 'layer-cache') })]]),
      concurrency: 2,
    });
  });
  after(async () => {
    await worker?.stop();
    vulndb?.close();
    await store?.close();
    realDb?.dispose();
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const push = (repository: string, tag: string | null, digest: string, mediaType: string = MEDIA_TYPES.ociManifest): RegistryEventFacts => ({
    eventId: `${repository}:${tag}:${digest}`,
    action: 'push',
    repository,
    digest,
    tag,
    mediaType,
  });

  test('a push is recorded and scanned once; the stored result is what the engine reports for the image', async () => {
    const outcome = await processRegistryEvent(push('team/minbase', '1.0', minbase.manifestDigest), deps);
    assert.deepEqual(outcome, { status: 'done', queued: [minbase.manifestDigest] });
    assert.equal((await deps.catalog.scans(minbase.manifestDigest))[0]?.status, 'queued');
    const manifest = await deps.catalog.manifest(minbase.manifestDigest);
    assert.equal(manifest?.kind, 'image');
    assert.ok((manifest?.size ?? 0) > minbase.layers.reduce((n, l) => n + l.size, 0), 'config + layers');

    assert.equal(await worker.drain(), 1);
    const [scan] = await deps.catalog.scans(minbase.manifestDigest);
    assert.equal(scan?.status, 'scanned', scan?.reason ?? '');
    const stored = JSON.parse(scan?.report ?? '{}') as { findings: { id: string; package: { name: string; version: string } }[]; packageCount: number };

    const [direct] = await scanReference({ reference: minbase.ociReference, dbPath: realDb.db.path, cache: false });
    assert.ok(direct);
    assert.equal(stored.packageCount, direct.report.packageCount);
    assert.equal(stored.packageCount, 108, 'the minbase image holds 108 dpkg packages');
    const ids = (fs: readonly { id: string; package: { name: string; version: string } }[]) => fs.map((f) => `${f.id} ${f.package.name}@${f.package.version}`).sort();
    assert.deepEqual(ids(stored.findings), ids(direct.report.findings));
    assert.deepEqual(scan?.counts, severityCounts(direct.report.findings));

    const inventory = await deps.catalog.inventory(minbase.manifestDigest);
    assert.ok(inventory !== undefined, 'the inventory is stored for re-matching');
    assert.deepEqual(await deps.catalog.manifestsWithPackages([{ ecosystem: 'deb', name: 'dpkg' }]), [minbase.manifestDigest]);
    assert.deepEqual(await deps.catalog.manifestsWithPackages([{ ecosystem: 'deb', name: 'glibc' }]), [minbase.manifestDigest], 'source packages are indexed too');
  });

  test('the same digest pushed under a second tag is one scan shared by both tags', async () => {
    const outcome = await processRegistryEvent(push('team/minbase', 'stable', minbase.manifestDigest), deps);
    assert.deepEqual(outcome.queued, []);
    assert.equal(await worker.drain(), 0);
    assert.deepEqual((await deps.catalog.tags('team/minbase')).map((t) => `${t.name}=${t.digest === minbase.manifestDigest}`), ['1.0=true', 'stable=true']);
  });

  test('an OCI index with two platforms: both children recorded with their platform, only the unscanned one queued', async () => {
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociIndex,
        manifests: [
          { mediaType: MEDIA_TYPES.ociManifest, digest: minbase.manifestDigest, size: 1, platform: { os: 'linux', architecture: 'amd64' } },
          { mediaType: MEDIA_TYPES.ociManifest, digest: lang.manifestDigest, size: 1, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        ],
      }),
    );
    // Both children must be in the repository the index is pushed to.
    await pushImage(minbase.ociReference, `${registry.host}/team/multi:amd64`);
    await pushImage(lang.ociReference, `${registry.host}/team/multi:arm64`);
    const digest = await putManifest(registry, 'team/multi', 'latest', index, MEDIA_TYPES.ociIndex);
    const outcome = await processRegistryEvent(push('team/multi', 'latest', digest, MEDIA_TYPES.ociIndex), deps);
    assert.deepEqual(outcome.queued, [lang.manifestDigest], 'minbase was scanned already');
    const recorded = await deps.catalog.manifest(digest);
    assert.equal(recorded?.kind, 'index');
    assert.deepEqual(recorded?.children, [
      { digest: minbase.manifestDigest, platform: 'linux/amd64' },
      { digest: lang.manifestDigest, platform: 'linux/arm64/v8' },
    ]);
    assert.equal((await deps.catalog.manifest(lang.manifestDigest))?.platform, 'linux/arm64/v8');
    assert.equal(await worker.drain(), 1);
    assert.equal((await deps.catalog.scans(lang.manifestDigest))[0]?.status, 'scanned');
  });

  test('queries: repositories, tags grouped by digest with platform children, findings filtered and paged, advisory usage, tag comparison', async () => {
    const repos = await repositoryViews(deps.catalog);
    assert.deepEqual(repos.map((r) => [r.name, r.tagCount]), [['team/minbase', 2], ['team/multi', 1]]);
    const multiCounts = repos.find((r) => r.name === 'team/multi')?.counts ?? {};
    const langScan = (await deps.catalog.scans(lang.manifestDigest))[0];
    const minbaseScan = (await deps.catalog.scans(minbase.manifestDigest))[0];
    const total = (c: Record<string, number | undefined>) => Object.values(c).reduce<number>((n, v) => n + (v ?? 0), 0);
    assert.equal(total(multiCounts), total(langScan?.counts ?? {}) + total(minbaseScan?.counts ?? {}), 'an index counts each of its platforms');
    assert.ok(total(langScan?.counts ?? {}) > 0, 'the lang image has findings (npm, Go stdlib)');

    const groups = await tagGroups(deps.catalog, 'team/minbase');
    assert.deepEqual(groups.map((g) => [g.digest, g.tags]), [[minbase.manifestDigest, ['1.0', 'stable']]]);
    const [multi] = await tagGroups(deps.catalog, 'team/multi');
    assert.equal(multi?.manifest?.kind, 'index');
    assert.deepEqual(multi?.manifest?.children?.map((c) => [c.platform, c.scan.status]), [['linux/amd64', 'scanned'], ['linux/arm64/v8', 'scanned']]);
    await assert.rejects(tagGroups(deps.catalog, 'team/none'), /no repository team\/none/);
    // The manifest detail of an index (its children, no layers of its own) and of a platform reached only through it.
    const indexDetail = await manifestDetail(deps.catalog, multi?.digest ?? '');
    assert.deepEqual([indexDetail.kind, indexDetail.children?.length, indexDetail.layers, indexDetail.tags], ['index', 2, undefined, [{ repository: 'team/multi', tag: 'latest' }]]);
    const childDetail = await manifestDetail(deps.catalog, lang.manifestDigest);
    assert.deepEqual(childDetail.tags, [{ repository: 'team/multi', tag: 'latest' }], 'reached through the index');
    assert.equal(childDetail.layers?.length, lang.layers.length);
    // The answers' schemas keep every field of the index with its children (the serializer encodes through them).
    const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
    for (const detail of [indexDetail, childDetail]) assert.deepStrictEqual(asJson(manifestDetailSchema.parse(detail)), asJson(detail));
    assert.deepStrictEqual(asJson(tagGroupSchema.parse(multi)), asJson(multi));

    const everything = await manifestFindings(deps.catalog, lang.manifestDigest, {}, { offset: 0, limit: 1000 });
    assert.equal(everything.total, total(langScan?.counts ?? {}));
    const first = everything.findings[0];
    assert.ok(first);
    const pageOfOne = await manifestFindings(deps.catalog, lang.manifestDigest, {}, { offset: 1, limit: 1 });
    assert.deepEqual([pageOfOne.total, pageOfOne.findings[0]?.id], [everything.total, everything.findings[1]?.id]);
    const byPackage = await manifestFindings(deps.catalog, lang.manifestDigest, { package: first.package.name.toUpperCase() }, { offset: 0, limit: 50 });
    assert.ok(byPackage.findings.every((f) => f.package.name === first.package.name) && byPackage.total > 0);
    const fixable = await manifestFindings(deps.catalog, lang.manifestDigest, { fixable: true }, { offset: 0, limit: 1000 });
    assert.ok(fixable.findings.every((f) => f.fixedVersions.length > 0));
    const severe = await manifestFindings(deps.catalog, lang.manifestDigest, { severities: [first.severity] }, { offset: 0, limit: 1000 });
    assert.equal(severe.total, langScan?.counts?.[first.severity]);
    assert.equal((await manifestFindings(deps.catalog, lang.manifestDigest, {}, { offset: 0, limit: 10 ** 9 })).limit, 1000, 'a huge limit is capped');

    const usage = await advisoryUsage(deps.catalog, first.id);
    assert.ok(usage.some((u) => u.repository === 'team/multi' && u.tag === 'latest' && u.package === first.package.name), 'found through the index');

    await deps.catalog.setTag('team/multi', 'amd64', minbase.manifestDigest);
    await deps.catalog.setTag('team/multi', 'arm64', lang.manifestDigest);
    const diff = await compareTags(deps.catalog, 'team/multi', 'amd64', 'arm64');
    assert.equal(diff.introduced.length + diff.unchanged, everything.total);
    assert.ok(diff.introduced.length > 0);
    await assert.rejects(compareTags(deps.catalog, 'team/multi', 'amd64', 'nope'), /no tag team\/multi:nope/);
    await deps.catalog.removeTag('team/multi', 'amd64');
    await deps.catalog.removeTag('team/multi', 'arm64');
  });

  test('blob pushes, pulls and an untagged manifest push change no tag and queue nothing', async () => {
    assert.equal((await processRegistryEvent({ ...push('team/minbase', null, minbase.layers[0]?.digest ?? ''), mediaType: 'application/octet-stream' }, deps)).status, 'skipped');
    assert.equal((await processRegistryEvent({ ...push('team/minbase', '1.0', minbase.manifestDigest), action: 'pull' }, deps)).status, 'skipped');
    const tagsBefore = await deps.catalog.tags('team/multi');
    const untagged = await processRegistryEvent(push('team/multi', null, lang.manifestDigest), deps);
    assert.deepEqual(untagged, { status: 'done', note: 'untagged manifest recorded; scanned when a tag names it', queued: [] });
    assert.deepEqual(await deps.catalog.tags('team/multi'), tagsBefore);
  });

  test('a delete by digest removes every tag of that digest, and the repository once empty', async () => {
    const outcome = await processRegistryEvent({ eventId: 'd1', action: 'delete', repository: 'team/minbase', digest: minbase.manifestDigest, tag: null, mediaType: null }, deps);
    assert.equal(outcome.status, 'done');
    assert.match(outcome.note ?? '', /removed team\/minbase:1\.0,stable and the now empty repository/);
    assert.deepEqual(await deps.catalog.tags('team/minbase'), []);
    assert.ok(!(await deps.catalog.repositories()).some((r) => r.name === 'team/minbase'));
    assert.equal((await deps.catalog.scans(minbase.manifestDigest))[0]?.status, 'scanned', 'results stay keyed by digest (team/multi still uses it)');
  });

  test('a manifest that is gone from the registry: the scan fails with the reason, at once, never "0 vulnerabilities"', async () => {
    const ghost = `sha256:${'9'.repeat(64)}`;
    await deps.catalog.queueScan(ghost, EMBEDDED_BACKEND);
    await deps.queue.enqueue({ kind: 'scan', payload: { repository: 'team/lang', digest: ghost, backend: EMBEDDED_BACKEND }, dedupeKey: `scan:embedded:${ghost}` });
    assert.equal(await worker.drain(), 1);
    const [scan] = await deps.catalog.scans(ghost);
    assert.equal(scan?.status, 'failed');
    assert.match(scan?.reason ?? '', /E_NOT_FOUND/);
    assert.equal(scan?.report, null);
  });

  test('the runtime applies stored events in order; one the registry can no longer answer is skipped with the reason, not retried for ever', async () => {
    const gone = `sha256:${'8'.repeat(64)}`;
    const event = (id: string, tag: string, digest: string) => ({ eventId: id, action: 'push', repository: 'team/events', digest, tag, mediaType: MEDIA_TYPES.ociManifest, timestamp: null, payload: {}, status: 'fresh' as const, note: null });
    await pushImage(minbase.ociReference, `${registry.host}/team/events:real`);
    await recordEvents(store, [event('e-gone', 'deleted-before-processing', gone), event('e-real', 'real', minbase.manifestDigest)]);
    const config = loadServiceConfig({ env: { PORTCULLIS_REGISTRY_URL: registry.url } });
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const runtime = new ServiceRuntime({ config, store, events: registryEventQueue(store), log: quiet, dbPath: realDb.db.path });
    assert.equal(await runtime.applyEvents(), 1);
    const rows = await store.db.selectFrom('registry_events').select(['event_id', 'status', 'note']).where('event_id', 'in', ['e-gone', 'e-real']).orderBy('event_id').execute();
    assert.deepEqual(rows.map((r) => [r.event_id, r.status]), [['e-gone', 'skipped'], ['e-real', 'done']]);
    assert.match(rows[0]?.note ?? '', /E_NOT_FOUND/);
    assert.deepEqual((await deps.catalog.tags('team/events')).map((t) => t.name), ['real']);
    await runtime.stop();
  });

  test('an unreachable registry: processing the event throws (to be retried), nothing is recorded', async () => {
    const down = registryAccess({ url: 'http://127.0.0.1:1', username: '', password: '' });
    await assert.rejects(processRegistryEvent(push('team/nowhere', '1', minbase.manifestDigest), { ...deps, registry: down }), (err: unknown) => isPortcullisError(err) && err.code === 'E_UNREACHABLE');
    assert.deepEqual(await deps.catalog.tags('team/nowhere'), []);
  });
});
