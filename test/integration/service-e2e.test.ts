/**
 * The registry service end to end, every part real: a Docker Distribution registry whose
 * notifications point at a real `portcullis serve` process (SQLite, in-process workers, the
 * embedded scanner, a vulnerability DB built from the real feeds in test/data), the real test
 * images pushed with skopeo. Push -> the Quay-compatible endpoint goes queued -> scanned and lists
 * what `portcullis scan` finds in the same image; a second tag of the same digest is no second
 * scan; a delete makes it 404; an image pushed while the service was down is found at restart.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { importFeeds } from '../../src/vulndb/index.js';
import { testImages } from '../harness/images.js';
import { freePort, pushImage, startRegistry, type RunningRegistry } from '../harness/registry.js';
import { runCli } from '../support/run-cli.js';
import { startServe, type ServeProcess } from '../support/serve.js';
import { sharedData } from '../support/shared-data.js';

interface QuayAnswer {
  status: string;
  data: { Layer: { Name: string; Features: { Name: string; Version: string; Vulnerabilities: { Name: string }[] }[] } } | null;
}

describe('portcullis serve behind a real registry', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-'));
  const notificationToken = 'registry-notifies-portcullis-e2e';
  const { minbase, lang } = testImages().images;
  let registry: RunningRegistry;
  let serve: ServeProcess | undefined;
  let servePort = 0;
  let apiToken = '';
  let env: NodeJS.ProcessEnv = {};

  const start = async (): Promise<ServeProcess> => startServe(['--listen', `127.0.0.1:${servePort}`], env);
  const api = async (path: string): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`http://127.0.0.1:${servePort}${path}`, { headers: { authorization: `Bearer ${apiToken}` } });
    return { status: res.status, body: (await res.json()) as unknown };
  };
  const security = (repository: string, digest: string) => api(`/api/v1/repository/${repository}/manifest/${digest}/security?vulnerabilities=true`);
  /** Polls until `done` holds (or fails after 180 s), returning every distinct status seen on the way. */
  const waitFor = async (path: () => Promise<{ status: number; body: unknown }>, done: (a: { status: number; body: unknown }) => boolean): Promise<{ seen: string[]; last: { status: number; body: unknown } }> => {
    const seen: string[] = [];
    const deadline = Date.now() + 180_000;
    for (;;) {
      const answer = await path();
      const label = answer.status === 200 ? String((answer.body as { status?: string }).status) : String(answer.status);
      if (seen[seen.length - 1] !== label) seen.push(label);
      if (done(answer)) return { seen, last: answer };
      if (Date.now() > deadline) assert.fail(`timed out; seen ${seen.join(' -> ')}; log: ${serve?.stderr().slice(-2000) ?? ''}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const scanned = (a: { status: number; body: unknown }) => a.status === 200 && (a.body as QuayAnswer).status === 'scanned';

  before(async () => {
    await importFeeds([sharedData('feeds')], { target: join(dir, 'vuln.db') });
    servePort = await freePort();
    registry = await startRegistry({ notificationsUrl: `http://127.0.0.1:${servePort}/v2/webhooks/events`, notificationHeaders: { Authorization: `Bearer ${notificationToken}` } });
    env = {
      HOME: dir,
      PORTCULLIS_DATA_DIR: join(dir, 'data'),
      PORTCULLIS_DB: join(dir, 'vuln.db'),
      PORTCULLIS_REGISTRY_URL: registry.url,
      PORTCULLIS_REGISTRY_NOTIFICATION_TOKEN: notificationToken,
      PORTCULLIS_REGISTRY_CATALOG_SYNC_STRATEGY: 'on-start',
    };
    const created = await runCli(['token', 'create', 'e2e', '--scope', 'read'], { env });
    assert.equal(created.code, 0, created.stderr);
    apiToken = created.stdout.trim();
    serve = await start();
  });
  after(async () => {
    await serve?.stop('SIGKILL');
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a push goes queued -> scanned on the Quay endpoint, with the findings `portcullis scan` reports for the image', async () => {
    await pushImage(lang.ociReference, `${registry.host}/team/lang:1.0`);
    const { seen, last } = await waitFor(() => security('team/lang', lang.manifestDigest), scanned);
    assert.ok(seen.every((s) => ['404', 'queued', 'scanned'].includes(s)), `statuses seen: ${seen.join(' -> ')}`);
    const answer = last.body as QuayAnswer;
    assert.equal(answer.data?.Layer.Name, lang.manifestDigest);
    const ours = answer.data?.Layer.Features.flatMap((f) => f.Vulnerabilities.map((v) => `${v.Name} ${f.Name}@${f.Version}`)).sort() ?? [];
    assert.equal(answer.data?.Layer.Features.length, 166, 'every package of the image is a feature');

    const direct = await runCli(['scan', `${registry.host}/team/lang:1.0`, '--insecure', '--db', join(dir, 'vuln.db'), '--offline', '--max-db-age', '36500d', '--format', 'json', '--no-cache'], { env: { HOME: dir } });
    assert.ok(direct.code === 0 || direct.code === 1, direct.stderr);
    const report = (JSON.parse(direct.stdout) as { report: { findings: { id: string; package: { name: string; version: string } }[] } }).report;
    const theirs = [...new Set(report.findings.map((f) => `${f.id} ${f.package.name}@${f.package.version}`))].sort();
    assert.ok(theirs.length > 0, 'the lang image has findings');
    assert.deepEqual(ours, theirs);
  });

  test('the same digest under a second tag: both tags listed, no second scan', async () => {
    await pushImage(lang.ociReference, `${registry.host}/team/lang:stable`);
    await waitFor(
      () => api('/api/v1/repositories/team/lang/tags'),
      (a) => a.status === 200 && ((a.body as { groups: { tags: string[] }[] }).groups[0]?.tags.length ?? 0) === 2,
    );
    const queue = await api('/api/v1/queue');
    assert.deepEqual(queue.body, { ready: 0, running: 0, done: 1, failed: 0 }, 'one scan job for the digest, whatever the tags');
    const repos = (await api('/api/v1/repositories')).body as { repositories: { name: string; tagCount: number; worst?: string }[] };
    assert.deepEqual(repos.repositories.map((r) => [r.name, r.tagCount]), [['team/lang', 2]]);
  });

  test("Quay's repository and tag lists name the pushed repository and both tags in Quay's shapes", async () => {
    const none = await api('/api/v1/repository');
    assert.equal(none.status, 400, 'as Quay: a namespace, public or starred is required');
    const listed = await api('/api/v1/repository?namespace=team&last_modified=true');
    assert.equal(listed.status, 200);
    const repos = (listed.body as { repositories: Record<string, unknown>[]; next_page?: string }).repositories;
    assert.equal(repos.length, 1);
    assert.deepEqual({ ...repos[0], last_modified: typeof repos[0]?.last_modified }, { namespace: 'team', name: 'lang', description: null, is_public: false, kind: 'image', state: 'NORMAL', last_modified: 'number' });
    assert.deepEqual((await api('/api/v1/repository?namespace=other')).body, { repositories: [] });

    const tags = await api('/api/v1/repository/team/lang/tag/');
    assert.equal(tags.status, 200);
    const body = tags.body as { tags: { name: string; manifest_digest: string; is_manifest_list: boolean; size: number | null; start_ts: number; last_modified: string; reversion: boolean }[]; page: number; has_additional: boolean };
    assert.deepEqual(body.tags.map((t) => t.name).sort(), ['1.0', 'stable']);
    for (const t of body.tags) {
      assert.equal(t.manifest_digest, lang.manifestDigest);
      assert.equal(t.is_manifest_list, false);
      assert.equal(t.reversion, false);
      // Quay's size is the image's layers; the scanned image's stored inventory knows them.
      assert.equal(t.size, lang.layers.reduce((n, l) => n + l.size, 0));
      assert.match(t.last_modified, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} -0000$/);
      assert.equal(new Date(t.last_modified).getTime() / 1000, t.start_ts);
    }
    assert.deepEqual([body.page, body.has_additional], [1, false]);
    const first = (await api('/api/v1/repository/team/lang/tag/?limit=1')).body as typeof body;
    assert.deepEqual([first.tags.length, first.has_additional], [1, true]);
    const one = (await api('/api/v1/repository/team/lang/tag/?specificTag=stable')).body as typeof body;
    assert.deepEqual(one.tags.map((t) => t.name), ['stable']);
    const like = (await api('/api/v1/repository/team/lang/tag/?filter_tag_name=like:tab')).body as typeof body;
    assert.deepEqual(like.tags.map((t) => t.name), ['stable']);
    assert.equal((await api('/api/v1/repository/team/nothing/tag/')).status, 404);
    assert.equal((await api('/api/v1/repository/team/lang/tag/?filter_tag_name=drop:x')).status, 400);
  });

  test('/metrics: Prometheus text for a read token only, with the scans, the queue and the HTTP requests counted', async () => {
    const anonymous = await fetch(`http://127.0.0.1:${servePort}/metrics`);
    await anonymous.arrayBuffer();
    assert.equal(anonymous.status, 401);
    const res = await fetch(`http://127.0.0.1:${servePort}/metrics`, { headers: { authorization: `Bearer ${apiToken}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    assert.match(text, /^portcullis_scan_duration_seconds_count\{backend="embedded",outcome="scanned"\} 1$/m);
    assert.match(text, /^portcullis_jobs\{state="done"\} 1$/m);
    assert.match(text, /^portcullis_webhook_deliveries\{status="pending"\} 0$/m);
    assert.match(text, /^portcullis_http_requests_total\{method="GET",route="\/api\/v1\/repository\/:namespace\/:name\/manifest\/:digest\/security",status="200"\} \d+$/m);
    assert.match(text, /^portcullis_process_resident_memory_bytes \d+/m);
    assert.doesNotMatch(text, /sha256:/, 'route patterns, never raw URLs, as label values');
  });

  test('a manifest deleted in the registry: the endpoint answers 404', async () => {
    const res = await fetch(`${registry.url}/v2/team/lang/manifests/${lang.manifestDigest}`, { method: 'DELETE' });
    await res.arrayBuffer();
    assert.equal(res.status, 202);
    await waitFor(() => security('team/lang', lang.manifestDigest), (a) => a.status === 404);
    const bad = await security('team/lang', 'sha256:nothex');
    assert.equal(bad.status, 400, 'a malformed digest is the caller\'s error');
  });

  test('an image pushed while the service was down is found by the catalog sync at start', async () => {
    assert.equal(await serve?.stop('SIGTERM'), 0);
    serve = undefined;
    await pushImage(minbase.ociReference, `${registry.host}/team/minbase:1`);
    serve = await start();
    const { last } = await waitFor(() => security('team/minbase', minbase.manifestDigest), scanned);
    assert.equal((last.body as QuayAnswer).data?.Layer.Features.length, 108);
  });
});
