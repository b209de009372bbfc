/**
 * The aggregate over several backends, through the service and its HTTP API: a real Docker
 * Distribution registry with token auth, the real `lang` test image pushed with skopeo, the
 * embedded scanner against a vulnerability DB built from the real feed samples, the Clair v2.0.9
 * stand-in answering with its recorded bodies (it downloads every layer with the token it is
 * given), and the dummy backend with a fixture naming advisories the other two found (under an
 * alias, with other severities and fixes). One aggregate with provenance comes out of
 * `/api/v1/manifests/:digest/findings` and of the Quay route; a Clair that fails is shown failed,
 * never clean.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { ClairV2Backend } from '../../src/backends/clair-v2/backend.js';
import { DummyBackend, type DummyFixture } from '../../src/backends/dummy/backend.js';
import { MEDIA_TYPES } from '../../src/image/media-types.js';
import { buildRealDb, type RealDb } from '../../src/matching/test-support/real-data.js';
import { buildApp } from '../../src/server/app.js';
import type { AggregatedFinding, BackendState } from '../../src/service/aggregate.js';
import { backendRunner } from '../../src/service/backends.js';
import { embeddedBackend, EMBEDDED_BACKEND } from '../../src/service/embedded-backend.js';
import { processRegistryEvent, type RegistryEventFacts } from '../../src/service/event-processor.js';
import { advisoryUsage, compareTags, manifestDetail, manifestFindings, repositoryHistory, repositoryViews, tagGroups, type ManifestDetail, type RepositoryHistory } from '../../src/service/queries.js';
import { registryAccess } from '../../src/service/registry-access.js';
import { ScanWorker } from '../../src/service/scan-worker.js';
import { VulnDbHandle } from '../../src/services/vulndb-handle.js';
import { CatalogStore } from '../../src/store/catalog.js';
import { JobQueue } from '../../src/store/jobs.js';
import { openStore, type Store, type StoreLocation } from '../../src/store/open-store.js';
import { markEvent, recordEvents } from '../../src/store/registry-events.js';
import { createToken } from '../../src/store/tokens.js';
import { openVulnDb } from '../../src/vulndb/open.js';
import { dbStatus, type DbStatus } from '../../src/vulndb/status.js';
import { startFakeClairV2, type ClairBehaviour, type FakeClairV2 } from '../harness/clair-v2.js';
import { testImages } from '../harness/images.js';
import { startPostgres, type RunningPostgres } from '../harness/postgres.js';
import { pushImage, startRegistry, type RunningRegistry } from '../harness/registry.js';
import { assertValidSarif } from '../support/schemas.js';
import { sharedData } from '../support/shared-data.js';

interface FindingsAnswer {
  digest: string;
  backend?: string;
  status: string;
  complete: boolean;
  backends: BackendState[];
  total: number;
  findings: AggregatedFinding[];
}

interface QuayAnswer {
  status: string;
  data: { Layer: { Name: string; Features: { Name: string; Version: string; AddedBy: string; CVEIds: string[]; Vulnerabilities: { Name: string; Severity: string; FixedBy: string; NamespaceName: string; Metadata: Record<string, unknown> }[] }[] } } | null;
}

/** Names advisories the embedded scanner and Clair find in the lang image, differently. */
const DUMMY_FIXTURE: DummyFixture = {
  packages: [
    { name: 'url-parse', version: '1.4.0', vulnerabilities: [{ id: 'CVE-2018-3774', severity: 'Critical', fixedBy: '1.4.4' }] },
    { name: 'zlib', version: '1:1.2.13.dfsg-1', namespace: 'debian:12', vulnerabilities: [{ id: 'CVE-0000-1001', severity: 'Medium', fixedBy: '1:1.2.13.dfsg-3' }] },
    { name: 'libtinfo6', version: '6.4-4', namespace: 'debian:12', vulnerabilities: [{ id: 'CVE-0000-1002', severity: 'Low' }] },
  ],
};

describe('aggregated findings over embedded, Clair v2 (recorded stand-in) and dummy on one pushed image, through the HTTP API', () => {
  const work = mkdtempSync(join(tmpdir(), 'portcullis-aggregate-'));
  const { lang } = testImages().images;
  const digest = lang.manifestDigest;
  const fixtureFile = join(work, 'dummy-fixture.json');
  let registry: RunningRegistry;
  let realDb: RealDb;
  const cleanups: (() => Promise<void> | void)[] = [];

  const push: RegistryEventFacts = { eventId: 'team/app:1.0', action: 'push', repository: 'team/app', digest, tag: '1.0', mediaType: MEDIA_TYPES.ociManifest };

  /**
   * The service's pipeline on its own store (queue clock moved by the test), every backend scanning
   * the pushed image, and the service's HTTP app on that store, listening on a free port.
   */
  const service = async (name: string, clair: FakeClairV2, location: StoreLocation = { kind: 'sqlite', file: join(work, `${name}.sqlite`) }) => {
    const store: Store = await openStore(location);
    cleanups.push(() => store.close());
    let now = Date.now();
    const queue = new JobQueue(store, { now: () => new Date(now) });
    const catalog = new CatalogStore(store);
    const access = registryAccess({ url: registry.url, username: registry.username ?? '', password: registry.password ?? '' });
    const vulndb = new VulnDbHandle(realDb.db.path);
    cleanups.push(() => vulndb.close());
    const worker = new ScanWorker({
      queue,
      catalog,
      runners: new Map([
        [EMBEDDED_BACKEND, embeddedBackend({ registry: access, catalog, vulndb, cacheDir: join(work, 'layer-cache') })],
        ['clair', backendRunner(new ClairV2Backend({ server: clair.url, healthPort: clair.healthPort, timeoutMs: 60_000 }), { registry: access, catalog })],
        ['dummy', backendRunner(DummyBackend.fromServerSetting(`fixture:${fixtureFile}`), { registry: access, catalog })],
      ]),
    });
    assert.deepEqual((await processRegistryEvent(push, { catalog, queue, registry: access, backends: [EMBEDDED_BACKEND, 'clair', 'dummy'] })).queued, [digest]);
    const app: FastifyInstance = await buildApp({ store, logger: pino({ level: 'silent' }), vulnDbPath: realDb.db.path, notificationToken: '', onEventsRecorded: () => undefined });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => app.close());
    const token = await createToken(store, name, 'read');
    const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
      const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      return { status: res.status, body: (await res.json()) as T };
    };
    const download = async (path: string): Promise<{ status: number; headers: Headers; text: string }> => {
      const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      return { status: res.status, headers: res.headers, text: await res.text() };
    };
    return { store, catalog, queue, worker, get, download, later: () => (now += 3_600_000) };
  };

  before(async () => {
    writeFileSync(fixtureFile, JSON.stringify(DUMMY_FIXTURE));
    registry = await startRegistry({ auth: 'token' });
    await pushImage(lang.ociReference, `${registry.host}/team/app:1.0`, { username: registry.username ?? '', password: registry.password ?? '' });
    realDb = await buildRealDb();
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    realDb?.dispose();
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  let sqliteAnswer: FindingsAnswer | undefined;
  /** The service of the first test (every backend scanned the image), for the tests of the typed answers after it. */
  let recorded: Awaited<ReturnType<typeof service>> | undefined;

  const clairStandIn = async (behaviour: ClairBehaviour = 'recorded'): Promise<FakeClairV2> => {
    const clair = await startFakeClairV2({ behaviour });
    cleanups.push(() => clair.stop());
    return clair;
  };

  test('one aggregate with provenance: the own API, filtered by backend, the counts, advisory usage, tag comparison and the Quay route', async () => {
    const clair = await clairStandIn();
    const s = await service('recorded', clair);
    recorded = s;
    assert.equal(await s.worker.drain(), 3);
    assert.equal(clair.posts.length, lang.layers.length, 'Clair indexed every layer of the pushed image');

    const { status, body } = await s.get<FindingsAnswer>(`/api/v1/manifests/${digest}/findings?limit=1000`);
    assert.equal(status, 200);
    sqliteAnswer = body;
    assert.equal(body.status, 'scanned');
    assert.equal(body.complete, true);
    assert.deepEqual(body.backends.map((b) => `${b.backend}:${b.status}:${String(b.included)}:${b.findings}`), ['clair:scanned:true:3', 'dummy:scanned:true:3', `embedded:scanned:true:${body.total - 3}`]);
    const embeddedOwn = body.backends.find((b) => b.backend === EMBEDDED_BACKEND)?.findings ?? 0;
    assert.ok(embeddedOwn > 0, 'the lang image has embedded findings');
    assert.equal(body.total, embeddedOwn + 3, "the embedded findings and Clair's three: every dummy finding merged into one of them");
    const one = (id: string): AggregatedFinding => {
      const hits = body.findings.filter((f) => f.id === id || f.aliases.includes(id));
      assert.equal(hits.length, 1, id);
      return hits[0] as AggregatedFinding;
    };

    // Same advisory by alias in the same npm package: embedded and dummy, embedded's severity and fix shown.
    const urlParse = one('CVE-2018-3774');
    assert.equal(urlParse.id, 'NSWG-ECO-456');
    assert.deepEqual(urlParse.foundBy.map((b) => `${b.backend}:${b.severity}:${b.fixedIn.join('|')}`), ['embedded:High:1.4.3', 'dummy:Critical:1.4.4']);
    assert.deepEqual([urlParse.severity, urlParse.fixedVersions], ['High', ['1.4.3']]);
    assert.deepEqual(urlParse.disagreements.map((d) => d.kind), ['severity', 'fixed-version']);
    assert.deepEqual(urlParse.notFoundBy, [{ backend: 'clair', sawPackage: 'no' }]);
    assert.ok(urlParse.why, "the embedded scanner's evidence is served");

    // Clair's source package zlib is the image's zlib1g: the embedded scanner saw it and did not find the advisory.
    const zlib = one('CVE-0000-1001');
    assert.deepEqual(zlib.foundBy.map((b) => `${b.backend}:${b.severity}:${b.fixedIn.join('|')}:${b.link ?? '-'}`), ['clair:High:1:1.2.13.dfsg-2:https://security-tracker.debian.org/tracker/CVE-0000-1001', 'dummy:Medium:1:1.2.13.dfsg-3:-']);
    assert.deepEqual(zlib.notFoundBy, [{ backend: 'embedded', sawPackage: 'yes', as: 'zlib1g 1:1.2.13.dfsg-1' }]);
    assert.deepEqual(zlib.disagreements.map((d) => d.kind), ['severity', 'fixed-version', 'not-found']);

    // ?backend= keeps what that backend found, with every backend's provenance.
    const byClair = await s.get<FindingsAnswer>(`/api/v1/manifests/${digest}/findings?backend=clair`);
    assert.equal(byClair.body.backend, 'clair');
    assert.deepEqual(byClair.body.findings.map((f) => `${f.id} ${f.foundBy.map((b) => b.backend).join('+')}`).sort(), ['CVE-0000-1001 clair+dummy', 'CVE-0000-1002 clair+dummy', 'CVE-0000-1004 clair']);
    const byDummy = await s.get<FindingsAnswer>(`/api/v1/manifests/${digest}/findings?backend=dummy`);
    assert.equal(byDummy.body.total, 3);
    assert.equal((await s.get<{ code: string }>(`/api/v1/manifests/${digest}/findings?backend=zypper`)).status, 404);

    // The tags and repositories views count the aggregate.
    const counts = body.findings.reduce<Record<string, number>>((c, f) => ({ ...c, [f.severity]: (c[f.severity] ?? 0) + 1 }), {});
    const tags = await s.get<{ groups: { manifest: { scan: { status: string; complete: boolean; counts: Record<string, number>; backends: { backend: string; status: string }[] } } }[] }>('/api/v1/repositories/team/app/tags');
    assert.deepEqual(tags.body.groups[0]?.manifest.scan.counts, counts);
    assert.equal(tags.body.groups[0]?.manifest.scan.complete, true);
    const repos = await s.get<{ repositories: { name: string; complete: boolean; counts: Record<string, number> }[] }>('/api/v1/repositories');
    assert.deepEqual(repos.body.repositories.find((r) => r.name === 'team/app')?.counts, counts);
    assert.equal(repos.body.repositories.find((r) => r.name === 'team/app')?.complete, true);

    // Advisory usage finds what only the external backends found, with who found it.
    const usage = await s.get<{ affected: { repository: string; tag: string; package: string; foundBy: string[] }[] }>('/api/v1/advisories/CVE-0000-1001');
    assert.deepEqual(usage.body.affected.map((u) => `${u.repository}:${u.tag} ${u.package} ${u.foundBy.join('+')}`), ['team/app:1.0 zlib clair+dummy']);

    // Tag comparison reads the aggregate: Clair's findings are among the unchanged ones.
    const compare = await s.get<{ unchanged: number; introduced: unknown[]; fixed: unknown[] }>('/api/v1/repositories/team/app/compare?from=1.0&to=1.0');
    assert.deepEqual([compare.body.unchanged, compare.body.introduced.length, compare.body.fixed.length], [body.total, 0, 0]);

    // Quay's route: the embedded inventory's Features, each Vulnerability once per Feature, Quay's shape.
    const quay = await s.get<QuayAnswer>(`/api/v1/repository/team/app/manifest/${digest}/security?vulnerabilities=true`);
    assert.equal(quay.body.status, 'scanned');
    const features = quay.body.data?.Layer.Features ?? [];
    const feature = (name: string) => features.filter((f) => f.Name === name);
    assert.deepEqual(feature('zlib1g').map((f) => f.Vulnerabilities.map((v) => `${v.Name}/${v.Severity}/${v.FixedBy}`).sort()), [['CVE-0000-1001/High/1:1.2.13.dfsg-2', 'CVE-0000-1004/Unknown/1:1.2.13.dfsg-1+deb12u9']]);
    assert.deepEqual(feature('zlib1g')[0]?.CVEIds, ['CVE-0000-1001', 'CVE-0000-1004']);
    for (const name of ['libtinfo6', 'libncursesw6', 'ncurses-base', 'ncurses-bin']) assert.deepEqual(feature(name).map((f) => f.Vulnerabilities.map((v) => v.Name)), [['CVE-0000-1002']], name);
    assert.deepEqual(feature('url-parse').map((f) => f.Vulnerabilities.map((v) => v.Name)), [['NSWG-ECO-456']], 'found by two backends, listed once');
    assert.equal(feature('zlib').length, 0, 'a backend naming an image package by its source adds no Feature of its own');
    const zlibVuln = feature('zlib1g')[0]?.Vulnerabilities.find((v) => v.Name === 'CVE-0000-1001');
    assert.deepEqual([zlibVuln?.NamespaceName, zlibVuln?.Metadata['DistroName'], zlibVuln?.Metadata['UpdatedBy']], ['debian:12', 'Debian GNU/Linux', 'clair dummy']);
    const sample = JSON.parse(readFileSync(sharedData('api-samples', 'quay', 'securityinformation.json'), 'utf8')) as QuayAnswer;
    const sampleVuln = sample.data?.Layer.Features.find((f) => f.Vulnerabilities.length > 0)?.Vulnerabilities[0];
    assert.ok(sampleVuln && zlibVuln);
    assert.deepEqual(Object.keys(zlibVuln).sort(), Object.keys(sampleVuln).sort(), "a backend's vulnerability has Quay's fields");
    assert.deepEqual(Object.keys(features[0] ?? {}).sort(), Object.keys(sample.data?.Layer.Features[0] ?? {}).sort());
  });

  test('typed answers: every result route answers exactly what its use case returns (nothing stripped by the response schemas)', async () => {
    const s = recorded;
    assert.ok(s, 'the first test ran');
    /** The use case's value as JSON carries it (undefined members dropped). */
    const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
    const same = async (path: string, expected: unknown): Promise<void> => {
      const { status, body } = await s.get<unknown>(path);
      assert.equal(status, 200, path);
      assert.deepStrictEqual(body, asJson(expected), path);
    };
    await same('/api/v1/repositories', { repositories: await repositoryViews(s.catalog) });
    await same('/api/v1/repositories/team/app/tags', { repository: 'team/app', groups: await tagGroups(s.catalog, 'team/app') });
    const page = await manifestFindings(s.catalog, digest, {}, { offset: 0, limit: 1000 });
    await same(`/api/v1/manifests/${digest}/findings?limit=1000`, page);
    // The embedded findings carry every part of the evidence the UI lays out, and it reaches the client.
    const embeddedFinding = page.findings.find((f) => f.foundBy.some((b) => b.backend === EMBEDDED_BACKEND) && f.evidence !== undefined && (f.ratings?.length ?? 0) > 0);
    assert.ok(embeddedFinding?.feed && embeddedFinding.why && embeddedFinding.evidence?.matches[0]?.rule.text, 'an embedded finding with ratings, feed, why and evidence');
    assert.ok(page.findings.some((f) => f.disagreements.length > 0 && f.notFoundBy.length > 0 && f.imagePackages.length > 0));
    await same(`/api/v1/manifests/${digest}/findings?backend=clair&severity=High,Unknown`, await manifestFindings(s.catalog, digest, { backend: 'clair', severities: ['High', 'Unknown'] }, { offset: 0, limit: 100 }));
    await same('/api/v1/advisories/CVE-2018-3774', { id: 'CVE-2018-3774', affected: await advisoryUsage(s.catalog, 'CVE-2018-3774') });
    await same('/api/v1/repositories/team/app/compare?from=1.0&to=1.0', await compareTags(s.catalog, 'team/app', '1.0', '1.0'));
    await same('/api/v1/queue', await s.queue.counts());
    await same('/api/v1/tokens/whoami', { name: 'recorded', scope: 'read' });
    await same(`/api/v1/manifests/${digest}`, await manifestDetail(s.catalog, digest));
    await same('/api/v1/repositories/team/app/history', await repositoryHistory(s.catalog, 'team/app'));
    // The feeds' ages are computed per call: everything but them must be equal.
    const withoutAges = (status: DbStatus): unknown => asJson({ ...status, dataAge: { ...status.dataAge, hours: 0 }, feeds: status.feeds.map((f) => ({ ...f, ageHours: 0 })) });
    const feeds = await s.get<DbStatus>('/api/v1/feeds');
    const vulnDb = openVulnDb(realDb.db.path);
    try {
      assert.deepStrictEqual(withoutAges(feeds.body), withoutAges(dbStatus(vulnDb)));
    } finally {
      vulnDb.close();
    }
    assert.ok(feeds.body.feeds.length > 0);
  });

  test('findings: free text, status and sort; every finding has a status', async () => {
    const s = recorded;
    assert.ok(s, 'the first test ran');
    const all = (await s.get<FindingsAnswer>(`/api/v1/manifests/${digest}/findings?limit=1000`)).body.findings;
    assert.ok(all.every((f) => ['fixed', 'unfixed', 'wont-fix'].includes(f.status)));
    assert.ok(all.every((f) => f.status !== 'fixed' || f.fixedVersions.length > 0 || f.foundBy.some((b) => b.backend === EMBEDDED_BACKEND)));
    // An advisory only the external backends found, without a fixed version: unfixed (CVE-0000-1002 in libtinfo6).
    assert.equal(all.find((f) => f.id === 'CVE-0000-1002')?.status, 'unfixed');
    assert.equal(all.find((f) => f.id === 'CVE-0000-1001')?.status, 'fixed');

    // q: a case-insensitive substring of the id, an alias, the package name, the title or the description.
    const q = async (text: string): Promise<string[]> => (await s.get<FindingsAnswer>(`/api/v1/manifests/${digest}/findings?limit=1000&q=${encodeURIComponent(text)}`)).body.findings.map((f) => `${f.id} ${f.package.name}`);
    assert.deepEqual(await q('cve-2018-3774'), ['NSWG-ECO-456 url-parse'], 'by alias, case-insensitive');
    assert.deepEqual(await q('URL-PARS'), all.filter((f) => f.package.name.includes('url-pars')).map((f) => `${f.id} ${f.package.name}`));
    const described = all.find((f) => (f.description?.length ?? 0) > 40 && !(f.title ?? '').includes((f.description ?? '').slice(10, 30)));
    assert.ok(described?.description, 'a finding with a description of its own');
    assert.ok((await q(described.description.slice(10, 30).toUpperCase())).includes(`${described.id} ${described.package.name}`), 'by description');
    assert.deepEqual(await q('no finding says this'), []);

    const statuses = (await s.get<FindingsAnswer>(`/api/v1/manifests/${digest}/findings?limit=1000&status=unfixed,wont-fix`)).body.findings;
    assert.deepEqual(statuses.map((f) => f.id), all.filter((f) => f.status !== 'fixed').map((f) => f.id));

    const sorted = async (sort: string): Promise<AggregatedFinding[]> => (await s.get<FindingsAnswer>(`/api/v1/manifests/${digest}/findings?limit=1000&sort=${sort}`)).body.findings;
    assert.deepEqual((await sorted('-severity')).map((f) => f.id), all.map((f) => f.id), '-severity = the default order, most severe first');
    const byPackage = await sorted('package');
    assert.deepEqual(byPackage.map((f) => f.package.name), all.map((f) => f.package.name).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    for (let i = 1; i < byPackage.length; i++) {
      const [a, b] = [byPackage[i - 1], byPackage[i]];
      if (a && b && a.package.name === b.package.name) assert.ok(a.id <= b.id, `ties by id: ${a.id} ${b.id}`);
    }
    const byPackageDown = await sorted('-package');
    assert.deepEqual(byPackageDown.map((f) => f.package.name), [...byPackage.map((f) => f.package.name)].reverse());
    const leastSevere = await sorted('severity');
    assert.equal(leastSevere[0]?.severity, all.at(-1)?.severity);
    const byFixed = await sorted('fixed');
    const firstUnfixed = byFixed.findIndex((f) => f.fixedVersions.length === 0);
    assert.ok(firstUnfixed === -1 || byFixed.slice(firstUnfixed).every((f) => f.fixedVersions.length === 0), 'findings without a fix last');
    const byStatus = (await sorted('status')).map((f) => f.status);
    assert.deepEqual(byStatus, [...byStatus].sort((a, b) => ['fixed', 'unfixed', 'wont-fix'].indexOf(a) - ['fixed', 'unfixed', 'wont-fix'].indexOf(b)));
    const page = (await s.get<FindingsAnswer>(`/api/v1/manifests/${digest}/findings?sort=id&offset=2&limit=3`)).body.findings.map((f) => f.id);
    assert.deepEqual(page, (await sorted('id')).slice(2, 5).map((f) => f.id), 'paging applies to the sorted list');
    for (const bad of ['sort=cvss', 'sort=--id', 'status=open', 'status=fixed,', 'q=' + 'x'.repeat(513)]) {
      const res: { status: number; body: { error: { code: string } } } = await s.get<{ error: { code: string } }>(`/api/v1/manifests/${digest}/findings?${bad}`);
      assert.deepEqual([res.status, res.body.error.code], [400, 'E_INPUT'], bad);
    }
  });

  test('export: JSON, CSV and SARIF of what the filters keep, in the order asked, as a download', async () => {
    const s = recorded;
    assert.ok(s, 'the first test ran');
    const filters = 'severity=High,Critical,Medium,Low&sort=-package';
    const listed = (await s.get<FindingsAnswer>(`/api/v1/manifests/${digest}/findings?limit=1000&${filters}`)).body;
    assert.ok(listed.total > 3);
    const short = digest.slice('sha256:'.length, 'sha256:'.length + 12);

    const json = await s.download(`/api/v1/manifests/${digest}/findings/export?format=json&${filters}`);
    assert.equal(json.status, 200);
    assert.equal(json.headers.get('content-disposition'), `attachment; filename="${short}-findings.json"`);
    assert.match(json.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepStrictEqual(JSON.parse(json.text), { ...listed, limit: listed.total });

    const csv = await s.download(`/api/v1/manifests/${digest}/findings/export?format=csv&${filters}`);
    assert.equal(csv.status, 200);
    assert.equal(csv.headers.get('content-disposition'), `attachment; filename="${short}-findings.csv"`);
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
    const lines = csv.text.split('\r\n');
    assert.equal(lines[0], 'id,severity,package,version,fixed in,status,layer,found by,title');
    assert.equal(lines.at(-1), '', 'every record ends in CRLF');
    assert.deepEqual(lines.slice(1, -1).map((l) => l.split(',')[0]), listed.findings.map((f) => f.id), 'one record per finding, in the order asked');

    const sarif = await s.download(`/api/v1/manifests/${digest}/findings/export?format=sarif&${filters}`);
    assert.equal(sarif.status, 200);
    assert.equal(sarif.headers.get('content-disposition'), `attachment; filename="${short}-findings.sarif"`);
    const log = JSON.parse(sarif.text) as { runs: { results: { ruleId: string; properties: { foundBy: string[] } }[]; tool: { driver: { rules: { id: string }[] } } }[] };
    assertValidSarif(log);
    assert.deepEqual(log.runs[0]?.results.map((r) => r.ruleId), listed.findings.map((f) => f.id));
    assert.deepEqual(log.runs[0]?.tool.driver.rules.map((r) => r.id), [...new Set(listed.findings.map((f) => f.id))]);
    assert.deepEqual(log.runs[0]?.results.map((r) => r.properties.foundBy), listed.findings.map((f) => f.foundBy.map((b) => b.backend)));

    assert.equal((await s.download(`/api/v1/manifests/${digest}/findings/export?format=xlsx`)).status, 400);
    assert.equal((await s.download(`/api/v1/manifests/sha256:${'0'.repeat(64)}/findings/export?format=csv`)).status, 404);
  });

  test('manifest detail and history: tags, layers with their commands, distribution; trend points, a deleted tag stops counting', async () => {
    const s = recorded;
    assert.ok(s, 'the first test ran');
    const detail = (await s.get<ManifestDetail>(`/api/v1/manifests/${digest}`)).body;
    assert.deepEqual([detail.digest, detail.kind, detail.scan.status], [digest, 'image', 'scanned']);
    assert.deepEqual(detail.tags, [{ repository: 'team/app', tag: '1.0' }]);
    assert.equal(detail.layers?.length, lang.layers.length);
    assert.deepEqual(detail.layers?.map((l) => l.digest), lang.layers.map((l) => l.digest));
    assert.ok(detail.layers?.some((l) => (l.createdBy ?? '').length > 0), 'layers carry the command of the image history');
    assert.ok((detail.layers ?? []).reduce((n, l) => n + l.packageCount, 0) > 0);
    assert.equal(detail.distro?.id, 'debian');
    const missing = await s.get<{ error: { code: string } }>(`/api/v1/manifests/sha256:${'0'.repeat(64)}`);
    assert.deepEqual([missing.status, missing.body.error.code], [404, 'E_NOT_FOUND']);

    const history = (await s.get<RepositoryHistory>('/api/v1/repositories/team/app/history')).body;
    assert.equal(history.repository, 'team/app');
    const tag = history.tags.find((t) => t.tag === '1.0');
    assert.equal(tag?.points.length, 3, 'a point per backend scan of the tagged manifest');
    assert.ok(tag?.points.every((p) => p.digest === digest));
    assert.equal(tag?.deletedAt, undefined);
    const aggregateCounts = (await tagGroups(s.catalog, 'team/app'))[0]?.manifest?.scan.counts;
    assert.ok(aggregateCounts && Object.keys(aggregateCounts).length > 0);
    assert.deepEqual(tag?.points.at(-1)?.counts, aggregateCounts, "after the last backend's scan the point is the aggregate over all three, not that backend's own counts");
    assert.deepEqual(history.points.at(-1)?.counts, tag?.points.at(-1)?.counts, "the repository's last point is its only tag's latest counts");

    // A second tag of the same image does not count it twice (as the repository's counts do not).
    const latest = history.tags.find((t) => t.tag === '1.0')?.points.at(-1)?.counts ?? {};
    await s.catalog.setTag('team/app', '1.0-again', digest);
    await s.catalog.recordHistory('team/app', '1.0-again', digest, latest);
    const withAgain = (await s.get<RepositoryHistory>('/api/v1/repositories/team/app/history')).body;
    assert.deepEqual(withAgain.points.at(-1)?.counts, latest, 'one image, counted once');
    assert.ok(await s.catalog.removeTag('team/app', '1.0-again'));
    // Another image's tag adds to the sum; deleting it (a processed registry delete) ends its part.
    const other = `sha256:${'e'.repeat(64)}`;
    await s.catalog.setTag('team/app', '1.0-copy', other);
    await s.catalog.recordHistory('team/app', '1.0-copy', other, { High: 2, Low: 1 });
    const withCopy = (await s.get<RepositoryHistory>('/api/v1/repositories/team/app/history')).body;
    assert.deepEqual(withCopy.points.at(-1)?.counts, { ...latest, High: (latest.High ?? 0) + 2, Low: (latest.Low ?? 0) + 1 });
    await recordEvents(s.store, [{ eventId: 'delete-copy', action: 'delete', repository: 'team/app', digest: null, tag: '1.0-copy', mediaType: null, timestamp: null, payload: {}, status: 'fresh', note: null }], new Date(Date.now() + 1000));
    assert.ok(await s.catalog.removeTag('team/app', '1.0-copy'));
    assert.ok(await markEvent(s.store, 'delete-copy', 'done'));
    const afterDelete = (await s.get<RepositoryHistory>('/api/v1/repositories/team/app/history')).body;
    const copy = afterDelete.tags.find((t) => t.tag === '1.0-copy');
    assert.ok(copy?.deletedAt, 'the deleted tag says when it left');
    assert.equal(afterDelete.points.at(-1)?.at, copy.deletedAt);
    assert.deepEqual(afterDelete.points.at(-1)?.counts, latest, 'from its deletion on, the deleted tag no longer counts');
    assert.deepEqual(afterDelete.points.at(-2)?.counts, withCopy.points.at(-1)?.counts);
    const unknown = await s.get<{ error: { code: string } }>('/api/v1/repositories/team/nothing/history');
    assert.deepEqual([unknown.status, unknown.body.error.code], [404, 'E_NOT_FOUND']);
  });

  test('a Clair that fails: listed failed in the aggregate (never clean), the other backends\' findings stand; the Quay route says failed', async () => {
    const clair = await clairStandIn('status-500');
    const s = await service('failed', clair);
    assert.equal(await s.worker.drain(), 3);
    for (let attempt = 2; attempt <= 5; attempt++) {
      s.later();
      assert.equal(await s.worker.drain(), 1, `Clair attempt ${attempt}`);
    }
    const { body } = await s.get<FindingsAnswer>(`/api/v1/manifests/${digest}/findings?limit=1000`);
    assert.equal(body.status, 'failed');
    assert.equal(body.complete, false);
    const clairState = body.backends.find((b) => b.backend === 'clair');
    assert.equal(clairState?.status, 'failed');
    assert.equal(clairState?.included, false);
    assert.match(clairState?.reason ?? '', /answered 500: database: could not establish connection/);
    assert.ok(body.findings.length > 0);
    assert.ok(body.findings.every((f) => !f.foundBy.some((b) => b.backend === 'clair') && !f.notFoundBy.some((n) => n.backend === 'clair')), 'a failed backend neither found nor missed anything');
    assert.ok(body.findings.some((f) => f.id === 'CVE-0000-1001' && f.foundBy.map((b) => b.backend).join() === 'dummy'));

    const tags = await s.get<{ groups: { manifest: { scan: { status: string; complete: boolean; reason: string } } }[] }>('/api/v1/repositories/team/app/tags');
    assert.deepEqual([tags.body.groups[0]?.manifest.scan.status, tags.body.groups[0]?.manifest.scan.complete], ['failed', false]);
    assert.match(tags.body.groups[0]?.manifest.scan.reason ?? '', /^clair: /);
    const repos = await s.get<{ repositories: { name: string; complete: boolean; counts: Record<string, number> }[] }>('/api/v1/repositories');
    const app = repos.body.repositories.find((r) => r.name === 'team/app');
    assert.equal(app?.complete, false);
    assert.equal(Object.values(app?.counts ?? {}).reduce((n, c) => n + c, 0), body.total, 'what the other backends found still counts');
    const quay = await s.get<QuayAnswer>(`/api/v1/repository/team/app/manifest/${digest}/security`);
    assert.deepEqual(quay.body, { status: 'failed', data: null });
    assert.equal((await s.get<FindingsAnswer>(`/api/v1/manifests/${digest}/findings?backend=clair`)).body.total, 0, 'filtered to the failed backend: nothing, and the state says why');
  });

  test('on PostgreSQL: the same aggregate, and advisory usage reads it', async () => {
    const server: RunningPostgres = await startPostgres();
    cleanups.push(() => server.stop());
    const s = await service('postgres', await clairStandIn(), { kind: 'postgres', url: await server.createDatabase('aggregate') });
    assert.equal(await s.worker.drain(), 3);
    const { body } = await s.get<FindingsAnswer>(`/api/v1/manifests/${digest}/findings?limit=1000`);
    assert.ok(sqliteAnswer, 'the SQLite test ran first');
    const comparable = (a: FindingsAnswer) => ({ ...a, backends: a.backends.map(({ finishedAt: _finishedAt, ...rest }) => rest) });
    assert.deepEqual(comparable(body), comparable(sqliteAnswer));
    const usage = await s.get<{ affected: { package: string; foundBy: string[] }[] }>('/api/v1/advisories/CVE-2018-3774');
    assert.deepEqual(usage.body.affected.map((u) => `${u.package} ${u.foundBy.join('+')}`), ['url-parse embedded+dummy']);
  });
});
