/**
 * Portcullis as a Harbor pluggable scanner, end to end: a real `portcullis serve` (no watched
 * registry, no registry credentials of its own; `harbor_scanner.allowed_registries` names a real
 * Docker Distribution registry with token auth), the real test images pushed with skopeo, and
 * Harbor's calls made as Harbor makes them. Every request and answer is checked against the
 * adapter's OpenAPI specs v1.0, v1.1 and v1.2 (status, media type, headers, body). The image is
 * pulled with the authorization Harbor sends in the scan request (Basic robot credentials, or a
 * registry Bearer token), and the report lists exactly what `portcullis scan` finds in the image.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { BackendReport } from '../../src/backends/types.js';
import { DEFAULT_SERVICE_CONFIG, type ServiceConfig } from '../../src/config/service-config.js';
import { MEDIA_TYPES } from '../../src/image/media-types.js';
import { createRegistryClient } from '../../src/image/registry/client.js';
import { EMBEDDED_BACKEND } from '../../src/service/embedded-backend.js';
import type { RegistryEventFacts } from '../../src/service/event-processor.js';
import { ServiceRuntime, type RegistryEventSource } from '../../src/service/runtime.js';
import { reportFindings } from '../../src/service/stored-results.js';
import { openStore } from '../../src/store/open-store.js';
import { importFeeds, openVulnDb } from '../../src/vulndb/index.js';
import { testImages } from '../harness/images.js';
import { pushImage, startRegistry, type RunningRegistry } from '../harness/registry.js';
import { harborSpecs, type HarborSpec, type HarborSpecVersion } from '../support/harbor-openapi.js';
import { runCli } from '../support/run-cli.js';
import { assertValidCycloneDx } from '../support/schemas.js';
import { startServe, type ServeProcess } from '../support/serve.js';
import { sharedData } from '../support/shared-data.js';

const T = {
  metadataV10: 'application/vnd.scanner.adapter.metadata+json; version=1.0',
  metadataV11: 'application/vnd.scanner.adapter.metadata+json; version=1.1',
  requestV10: 'application/vnd.scanner.adapter.scan.request+json; version=1.0',
  requestV11: 'application/vnd.scanner.adapter.scan.request+json; version=1.1',
  error: 'application/vnd.scanner.adapter.error+json; version=1.0',
  reportV10: 'application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0',
  reportV11: 'application/vnd.security.vulnerability.report; version=1.1',
  sbom: 'application/vnd.security.sbom.report+json; version=1.0',
  oci: 'application/vnd.oci.image.manifest.v1+json',
};

interface Answer {
  status: number;
  contentType: string | null;
  headers: Headers;
  body: string;
}

interface VulnerabilityItem {
  id: string;
  package: string;
  version: string;
  severity: string;
  preferred_cvss?: unknown;
  vendor_attributes?: Record<string, unknown>;
}

/** One registry event, as the webhook route would have stored it. */
class OneEvent implements RegistryEventSource {
  private pending: RegistryEventFacts[];
  constructor(event: RegistryEventFacts) {
    this.pending = [event];
  }
  fresh(): Promise<RegistryEventFacts[]> {
    return Promise.resolve(this.pending);
  }
  mark(eventId: string): Promise<void> {
    this.pending = this.pending.filter((e) => e.eventId !== eventId);
    return Promise.resolve();
  }
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('Portcullis as a Harbor scanner adapter (real serve, real registry, real images)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-harbor-'));
  const { minbase, lang } = testImages().images;
  let registry: RunningRegistry;
  let serve: ServeProcess;
  let specs: Record<HarborSpecVersion, HarborSpec>;
  let scanToken = '';
  let readToken = '';
  let basicPull = '';
  let env: NodeJS.ProcessEnv = {};

  const adapter = (path: string): string => `${serve.url}/harbor/api/v1${path}`;
  const call = async (method: 'GET' | 'POST', path: string, init: { auth?: string | null; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> => {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    const auth = init.auth === undefined ? `Bearer ${scanToken}` : init.auth;
    if (auth !== null) headers.authorization = auth;
    // Harbor's client follows no redirect: neither does this one.
    const res = await fetch(adapter(path), { method, headers, redirect: 'manual', ...(init.body !== undefined ? { body: init.body } : {}) });
    return { status: res.status, contentType: res.headers.get('content-type'), headers: res.headers, body: await res.text() };
  };
  /** Checks an answer against every spec version given. */
  const conforms = (answer: Answer, method: string, path: string, versions: HarborSpecVersion[]): void => {
    for (const v of versions) specs[v].checkResponse(method, path, answer);
  };
  const scanRequest = (repository: string, digest: string, authorization: string | undefined, extra: Record<string, unknown> = {}) => ({
    registry: { url: registry.url, ...(authorization !== undefined ? { authorization } : {}) },
    artifact: { repository, digest, tag: '1.0', mime_type: T.oci },
    ...extra,
  });
  const postScan = async (body: unknown, contentType = T.requestV10, versions: HarborSpecVersion[] = ['1.0', '1.1', '1.2']): Promise<Answer> => {
    const raw = JSON.stringify(body);
    const answer = await call('POST', '/scan', { headers: { 'content-type': contentType }, body: raw });
    conforms(answer, 'POST', '/scan', versions);
    return answer;
  };
  /** Polls the report as Harbor does until it is no longer 302; every answer is checked against the specs. */
  const pollReport = async (id: string, accept: string, versions: HarborSpecVersion[]): Promise<{ answers: Answer[]; last: Answer }> => {
    const answers: Answer[] = [];
    const deadline = Date.now() + 180_000;
    for (;;) {
      const answer = await call('GET', `/scan/${id}/report`, { headers: { accept } });
      conforms(answer, 'GET', '/scan/{scan_request_id}/report', versions);
      answers.push(answer);
      if (answer.status !== 302) return { answers, last: answer };
      const refresh = Number(answer.headers.get('refresh-after'));
      assert.ok(Number.isInteger(refresh) && refresh >= 1 && refresh <= 127, `Refresh-After ${refresh} fits Harbor's 8-bit integer`);
      if (Date.now() > deadline) assert.fail(`report still 302 after 180 s; log: ${serve.stderr().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const queue = async (): Promise<Record<string, number>> => {
    const res = await fetch(`${serve.url}/api/v1/queue`, { headers: { authorization: `Bearer ${readToken}` } });
    return (await res.json()) as Record<string, number>;
  };
  /** What `portcullis scan` finds in the image, as `id package@version` lines. */
  const cliFindings = async (reference: string): Promise<string[]> => {
    const direct = await runCli(['scan', reference, '--insecure', '--db', join(dir, 'vuln.db'), '--offline', '--max-db-age', '36500d', '--format', 'json', '--no-cache', '--username', registry.username ?? '', '--password', registry.password ?? ''], { env: { HOME: dir } });
    assert.ok(direct.code === 0 || direct.code === 1, direct.stderr);
    const report = (JSON.parse(direct.stdout) as { report: { findings: { id: string; package: { name: string; version: string } }[] } }).report;
    return report.findings.map((f) => `${f.id} ${f.package.name}@${f.package.version}`).sort();
  };

  before(async () => {
    specs = await harborSpecs();
    await importFeeds([sharedData('feeds')], { target: join(dir, 'vuln.db') });
    registry = await startRegistry({ auth: 'token' });
    const creds = { username: registry.username ?? '', password: registry.password ?? '' };
    await pushImage(lang.ociReference, `${registry.host}/team/lang:1.0`, creds);
    await pushImage(minbase.ociReference, `${registry.host}/team/minbase:1.0`, creds);
    await pushImage(lang.ociReference, `${registry.host}/team/other:2.0`, creds);
    basicPull = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    // The service watches no registry and has no registry credentials: what it pulls, it pulls
    // with the authorization of the scan request.
    const config = join(dir, 'portcullis.yaml');
    writeFileSync(config, `harbor_scanner:\n  enabled: true\n  base: /harbor\n  allowed_registries: ["${registry.url}"]\n`);
    env = { HOME: dir, PORTCULLIS_DATA_DIR: join(dir, 'data'), PORTCULLIS_DB: join(dir, 'vuln.db'), PORTCULLIS_CACHE_DIR: join(dir, 'cache') };
    const scan = await runCli(['token', 'create', 'harbor', '--scope', 'scan', '--config', config], { env });
    assert.equal(scan.code, 0, scan.stderr);
    scanToken = scan.stdout.trim();
    const read = await runCli(['token', 'create', 'reader', '--scope', 'read', '--config', config], { env });
    assert.equal(read.code, 0, read.stderr);
    readToken = read.stdout.trim();
    serve = await startServe(['--config', config], env);
  });
  after(async () => {
    await serve?.stop('SIGKILL');
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('metadata: v1.0 by default, v1.1 when asked, both with the vulnerability and SBOM capabilities; the DB build time as a property; Bearer or Basic with the token', async () => {
    const plain = await call('GET', '/metadata');
    assert.equal(plain.status, 200);
    assert.equal(plain.contentType, T.metadataV10);
    conforms(plain, 'GET', '/metadata', ['1.0', '1.1', '1.2']);
    const meta = JSON.parse(plain.body) as { scanner: { name: string }; capabilities: { type?: string; produces_mime_types: string[] }[]; properties: Record<string, string> };
    assert.equal(meta.scanner.name, 'Portcullis');
    assert.deepEqual(meta.capabilities.map((c) => [c.type, c.produces_mime_types]), [['vulnerability', [T.reportV10, T.reportV11]], ['sbom', [T.sbom]]]);
    const db = openVulnDb(join(dir, 'vuln.db'));
    try {
      assert.equal(meta.properties['harbor.scanner-adapter/vulnerability-database-updated-at'], db.builtAt);
    } finally {
      db.close();
    }

    const v11 = await call('GET', '/metadata', { auth: `Basic ${Buffer.from(`harbor:${scanToken}`).toString('base64')}`, headers: { accept: `${T.metadataV11}, ${T.metadataV10}` } });
    assert.equal(v11.status, 200);
    assert.equal(v11.contentType, T.metadataV11);
    conforms(v11, 'GET', '/metadata', ['1.2']);
    const types = (JSON.parse(v11.body) as { capabilities: { type?: string; additional_attributes?: unknown }[] }).capabilities;
    assert.deepEqual(types.map((c) => c.type), ['vulnerability', 'sbom']);
    assert.deepEqual(types[1]?.additional_attributes, { sbom_media_types: ['application/vnd.cyclonedx+json'] });
  });

  test('bad auth: none, an unknown token, a read-scope token, a wrong Basic password -> 401 with the error media type', async () => {
    const attempts: (string | null)[] = [null, 'Bearer not-a-token', `Bearer ${readToken}`, `Basic ${Buffer.from('harbor:wrong').toString('base64')}`, `Basic ${Buffer.from(`${scanToken}`).toString('base64')}`];
    for (const auth of attempts) {
      const answer = await call('GET', '/metadata', { auth });
      assert.equal(answer.status, 401, String(auth));
      assert.equal(answer.contentType, T.error);
      assert.match((JSON.parse(answer.body) as { error: { message: string } }).error.message, /token|Authorization|credentials/);
    }
    const post = await call('POST', '/scan', { auth: null, headers: { 'content-type': T.requestV10 }, body: JSON.stringify(scanRequest('team/lang', lang.manifestDigest, basicPull)) });
    assert.equal(post.status, 401);
    assert.deepEqual(await queue(), { ready: 0, running: 0, done: 0, failed: 0 }, 'an unauthenticated scan request queues nothing');
  });

  test('scan (Basic robot credentials): 202 at once, 302 + Refresh-After while it runs, then a v1.0 report whose vulnerabilities are the embedded findings', async () => {
    const request = scanRequest('team/lang', lang.manifestDigest, basicPull);
    specs['1.0'].checkRequest('POST', '/scan', T.requestV10, request);
    const accepted = await postScan(request);
    assert.equal(accepted.status, 202, accepted.body);
    assert.equal(accepted.contentType, 'application/vnd.scanner.adapter.scan.response+json; version=1.0');
    const { id } = JSON.parse(accepted.body) as { id: string };

    const { answers, last } = await pollReport(id, T.reportV10, ['1.0', '1.1', '1.2']);
    assert.equal(last.status, 200, last.body);
    assert.ok(answers[0]?.status === 302, 'the first poll comes before the scan is done: 302');
    assert.equal(last.contentType, T.reportV10);
    const report = JSON.parse(last.body) as { artifact: { digest: string; repository: string }; scanner: { name: string }; severity?: string; vulnerabilities: VulnerabilityItem[] };
    assert.deepEqual([report.artifact.repository, report.artifact.digest, report.scanner.name], ['team/lang', lang.manifestDigest, 'Portcullis']);
    const ours = report.vulnerabilities.map((v) => `${v.id} ${v.package}@${v.version}`).sort();
    const theirs = await cliFindings(`${registry.host}/team/lang:1.0`);
    assert.ok(theirs.length > 0, 'the lang image has findings');
    assert.deepEqual(ours, theirs);
    assert.ok(report.vulnerabilities.every((v) => v.preferred_cvss === undefined && v.vendor_attributes === undefined), 'v1.0 items carry no v1.1 fields');
    assert.ok(!serve.stderr().includes(basicPull.slice(6)) && !serve.stderr().includes(registry.password ?? '\u0000'), 'the pull authorization is never logged');
    // Nor stored: no table of the service's database holds it, in any form.
    const appDb = new Database(join(dir, 'data', 'portcullis.sqlite'), { readonly: true });
    try {
      const tables = appDb.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
      assert.ok(tables.some((t) => t.name === 'harbor_scan_requests'));
      for (const { name } of tables) {
        const text = JSON.stringify(appDb.prepare(`SELECT * FROM "${name}"`).all());
        for (const secret of [basicPull.slice(6), registry.password ?? 'harness-pass']) assert.ok(!text.includes(secret), `table ${name} holds no pull authorization`);
      }
    } finally {
      appDb.close();
    }
  });

  test('the same report as v1.1 (preferred_cvss, cwe_ids, vendor_attributes) and as a v1.2 CycloneDX SBOM report', async () => {
    const accepted = await postScan(scanRequest('team/lang', lang.manifestDigest, basicPull), T.requestV11, ['1.2']);
    const { id } = JSON.parse(accepted.body) as { id: string };
    const v11 = await pollReport(id, T.reportV11, ['1.1', '1.2']);
    assert.equal(v11.last.status, 200);
    assert.equal(v11.answers.length, 1, 'a digest already scanned is answered at once');
    assert.equal(v11.last.contentType, T.reportV11);
    const items = (JSON.parse(v11.last.body) as { vulnerabilities: (VulnerabilityItem & { cwe_ids: string[] })[] }).vulnerabilities;
    assert.ok(items.length > 0 && items.every((v) => Array.isArray(v.cwe_ids) && typeof v.vendor_attributes?.purl === 'string'));
    assert.ok(items.some((v) => v.preferred_cvss !== undefined), 'CVSS scores where the feeds give them');

    const sbom = await call('GET', `/scan/${id}/report?sbom_media_type=${encodeURIComponent('application/vnd.cyclonedx+json')}`, { headers: { accept: T.sbom } });
    conforms(sbom, 'GET', '/scan/{scan_request_id}/report', ['1.2']);
    assert.equal(sbom.status, 200);
    assert.equal(sbom.contentType, T.sbom);
    const body = JSON.parse(sbom.body) as { media_type: string; sbom: { components?: { purl?: string }[] } };
    assert.equal(body.media_type, 'application/vnd.cyclonedx+json');
    await assertValidCycloneDx(body.sbom);
    const cli = await runCli(['sbom', `${registry.host}/team/lang:1.0`, '--insecure', '--format', 'cyclonedx', '--no-cache', '--username', registry.username ?? '', '--password', registry.password ?? ''], { env: { HOME: dir } });
    assert.equal(cli.code, 0, cli.stderr);
    const purls = (doc: { components?: { purl?: string }[] }): string[] => (doc.components ?? []).map((c) => c.purl ?? '').sort();
    assert.deepEqual(purls(body.sbom), purls(JSON.parse(cli.stdout) as { components?: { purl?: string }[] }), 'the components `portcullis sbom` lists');
    assert.deepEqual(await queue(), { ready: 0, running: 0, done: 1, failed: 0 }, 'the repeated request reused the stored result');
  });

  test('scan with a registry Bearer token as the authorization (Harbor before robot credentials)', async () => {
    const client = await createRegistryClient(registry.host, { insecure: true, env: {}, dockerConfigPath: join(dir, 'none.json'), credentials: { username: registry.username ?? '', password: registry.password ?? '' } });
    let bearer: string | undefined;
    try {
      bearer = await client.pullAuthorization('team/minbase');
    } finally {
      await client.close();
    }
    assert.match(bearer ?? '', /^Bearer /);
    const accepted = await postScan(scanRequest('team/minbase', minbase.manifestDigest, bearer));
    assert.equal(accepted.status, 202);
    const { last } = await pollReport((JSON.parse(accepted.body) as { id: string }).id, T.reportV10, ['1.0', '1.1', '1.2']);
    assert.equal(last.status, 200, last.body);
    const ours = (JSON.parse(last.body) as { vulnerabilities: VulnerabilityItem[] }).vulnerabilities.map((v) => `${v.id} ${v.package}@${v.version}`).sort();
    assert.deepEqual(ours, await cliFindings(`${registry.host}/team/minbase:1.0`));
    assert.ok(!serve.stderr().includes((bearer ?? '').slice(7)), 'the bearer token is never logged');
  });

  test('bad scan requests: invalid JSON and wrong JSON types 400; missing fields, unknown MIME type, a registry not allowed 422; nothing queued', async () => {
    const before = await queue();
    const badJson = await call('POST', '/scan', { headers: { 'content-type': T.requestV10 }, body: '{"registry": ' });
    assert.equal(badJson.status, 400);
    conforms(badJson, 'POST', '/scan', ['1.0', '1.1', '1.2']);

    const cases: [string, unknown, number][] = [
      ['registry of the wrong type', { registry: 'http://x', artifact: scanRequest('team/lang', lang.manifestDigest, undefined).artifact }, 400],
      ['digest of the wrong type', scanRequest('team/lang', lang.manifestDigest, undefined, { artifact: { repository: 'team/lang', digest: 42, mime_type: T.oci } }), 400],
      ['no artifact', { registry: { url: registry.url } }, 422],
      ['no digest', scanRequest('team/lang', lang.manifestDigest, undefined, { artifact: { repository: 'team/lang', mime_type: T.oci } }), 422],
      ['a digest that is not one', scanRequest('team/lang', 'sha256:xyz', undefined), 422],
      ['an unknown MIME type', scanRequest('team/lang', lang.manifestDigest, undefined, { artifact: { repository: 'team/lang', digest: lang.manifestDigest, mime_type: 'application/vnd.oci.image.index.v1+json' } }), 422],
      ['a registry not allowed', { registry: { url: 'http://127.0.0.1:1', authorization: basicPull }, artifact: scanRequest('team/lang', lang.manifestDigest, undefined).artifact }, 422],
      ['an authorization of another scheme', scanRequest('team/lang', lang.manifestDigest, 'Digest abc'), 422],
    ];
    for (const [what, body, status] of cases) {
      const answer = await postScan(body);
      assert.equal(answer.status, status, `${what}: ${answer.body}`);
      assert.equal(answer.contentType, T.error, what);
    }
    // v1.2: a request enabling only SBOM formats this scanner does not make is 501.
    const spdxOnly = scanRequest('team/lang', lang.manifestDigest, basicPull, { enabled_capabilities: [{ type: 'sbom', produces_mime_types: [T.sbom], parameters: { sbom_media_types: ['application/spdx+json'] } }] });
    specs['1.2'].checkRequest('POST', '/scan', T.requestV11, spdxOnly);
    const unsupported = await postScan(spdxOnly, T.requestV11, ['1.2']);
    assert.equal(unsupported.status, 501, unsupported.body);
    assert.equal(unsupported.contentType, T.error);
    const otherType = await call('POST', '/scan', { headers: { 'content-type': 'text/plain' }, body: JSON.stringify(scanRequest('team/lang', lang.manifestDigest, basicPull)) });
    assert.equal(otherType.status, 415, 'a body that is not a scan request is refused unread');
    assert.equal(otherType.contentType, T.error);
    assert.deepEqual(await queue(), before, 'no bad request queued a scan');
  });

  test('reports: unknown scan id 404; v1.2 query errors 400 and unsupported formats 501; a scan that failed 500 with the reason', async () => {
    for (const id of ['3fa85f64-5717-4562-b3fc-2c963f66afa6', 'not-an-id']) {
      const answer = await call('GET', `/scan/${id}/report`, { headers: { accept: T.reportV10 } });
      assert.equal(answer.status, 404);
      conforms(answer, 'GET', '/scan/{scan_request_id}/report', ['1.0', '1.1', '1.2']);
    }
    const accepted = await postScan(scanRequest('team/lang', lang.manifestDigest, basicPull));
    const { id } = JSON.parse(accepted.body) as { id: string };
    const v12Cases: [string, Record<string, string>, number][] = [
      ['', { accept: T.sbom }, 400],
      [`?sbom_media_type=${encodeURIComponent('text/plain')}`, { accept: T.sbom }, 400],
      [`?sbom_media_type=${encodeURIComponent('application/vnd.cyclonedx+json')}`, { accept: T.reportV10 }, 400],
      [`?sbom_media_type=${encodeURIComponent('application/spdx+json')}`, { accept: T.sbom }, 501],
      ['', { accept: 'application/vnd.scanner.adapter.vuln.report.raw' }, 501],
    ];
    for (const [query, headers, status] of v12Cases) {
      const answer = await call('GET', `/scan/${id}/report${query}`, { headers });
      assert.equal(answer.status, status, `${query} ${headers.accept ?? ''}: ${answer.body}`);
      conforms(answer, 'GET', '/scan/{scan_request_id}/report', ['1.2']);
    }

    // A digest the registry does not have: the pull fails for good, the report says so.
    const missing = `sha256:${'0'.repeat(64)}`;
    const failing = await postScan(scanRequest('team/lang', missing, basicPull));
    assert.equal(failing.status, 202);
    const { last } = await pollReport((JSON.parse(failing.body) as { id: string }).id, T.reportV10, ['1.0', '1.1', '1.2']);
    assert.equal(last.status, 500);
    assert.equal(last.contentType, T.error);
    assert.match((JSON.parse(last.body) as { error: { message: string } }).error.message, new RegExp(`${missing}.*failed`));
  });
  test('a Harbor adapter as a backend (security.harbor), pointed at this adapter route: its findings are the embedded ones of the same image', async () => {
    const store = await openStore({ kind: 'sqlite', file: join(dir, 'backend-service.sqlite') });
    const config: ServiceConfig = {
      ...DEFAULT_SERVICE_CONFIG,
      registry: { ...DEFAULT_SERVICE_CONFIG.registry, url: registry.url, username: registry.username ?? '', password: registry.password ?? '' },
      security: { ...DEFAULT_SERVICE_CONFIG.security, harbor: [{ name: 'portcullis', url: `${serve.url}/harbor`, auth: `Bearer ${scanToken}`, timeout: 300 }] },
      harbor_scanner: { ...DEFAULT_SERVICE_CONFIG.harbor_scanner, enabled: false },
    };
    const event: RegistryEventFacts = { eventId: 'push-other', action: 'push', repository: 'team/other', digest: lang.manifestDigest, tag: '2.0', mediaType: MEDIA_TYPES.ociManifest };
    const runtime = new ServiceRuntime({ config, store, events: new OneEvent(event), log: silent, dbPath: join(dir, 'vuln.db'), cacheDir: join(dir, 'cache') });
    try {
      assert.deepEqual(runtime.scanners.map((s) => s.name), ['harbor-portcullis']);
      const health = await runtime.scanners[0]?.health();
      assert.equal(health?.ok, true, health?.detail);
      assert.match(health?.detail ?? '', /^Portcullis \S+ \(Portcullis\): application\/vnd\.security\.vulnerability\.report; version=1\.1$/);

      assert.equal(await runtime.applyEvents(), 1);
      assert.equal(await runtime.worker?.drain(), 2);
      const scans = new Map((await runtime.catalog.scans(lang.manifestDigest)).map((s) => [s.backend, s]));
      for (const [backend, scan] of scans) assert.equal(scan.status, 'scanned', `${backend}: ${scan.reason ?? ''}`);
      const embedded = new Set(reportFindings(scans.get(EMBEDDED_BACKEND) ?? { report: null }).map((f) => `${f.id} ${f.package.name}@${f.package.version}`));
      const adapterReport = JSON.parse(scans.get('harbor-portcullis')?.report ?? '{}') as BackendReport;
      assert.equal(adapterReport.backend, 'harbor-portcullis');
      assert.equal(adapterReport.digest, lang.manifestDigest);
      const viaAdapter = new Set(adapterReport.packages.flatMap((p) => p.vulnerabilities.map((v) => `${v.id} ${p.name}@${p.version}`)));
      assert.ok(embedded.size > 0, 'the image has findings');
      assert.deepEqual([...viaAdapter].sort(), [...embedded].sort());
      const withCvss = adapterReport.packages.flatMap((p) => p.vulnerabilities).filter((v) => v.metadata?.['preferred_cvss'] !== undefined);
      assert.ok(withCvss.length > 0, 'the v1.1 report was asked for: CVSS details came through');
      assert.ok(!serve.stderr().includes(scanToken), 'the adapter token is never logged');
    } finally {
      await runtime.stop();
      await store.close();
    }
  });
});
