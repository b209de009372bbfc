/**
 * `portcullis scan --server` and the scan-on-demand routes, every part real: a Docker Distribution
 * registry with the real minbase test image pushed by skopeo, a real `portcullis serve` process
 * watching it (SQLite, in-process workers, the embedded scanner, the real-data vulnerability DB),
 * tokens made with `portcullis token create`. The gate run against the service gives the findings
 * and exit codes a local `portcullis scan` of the same image with the same DB gives, whitelist and
 * threshold included; the failures (wrong token, service down, unknown image, bad requests) are
 * typed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildRealDb, type RealDb } from '../../src/matching/test-support/real-data.js';
import { testImages } from '../harness/images.js';
import { freePort, pushImage, putBlob, putManifest, startRegistry, type RunningRegistry } from '../harness/registry.js';
import { runCli, type CliResult } from '../support/run-cli.js';
import { startServe, type ServeProcess } from '../support/serve.js';

interface ScanJson {
  report: { findings: { id: string; severity: string; package: { name: string; version: string } }[]; packageCount: number };
  policy: { verdict: string; counts: { approved: number; unapproved: number } };
}

describe('portcullis scan --server against a real service and registry', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-scan-server-'));
  const { minbase, lang } = testImages().images;
  let registry: RunningRegistry;
  let serve: ServeProcess | undefined;
  let realDb: RealDb;
  let scanToken = '';
  let readToken = '';
  let env: NodeJS.ProcessEnv = {};

  const post = async (body: string, token: string | undefined, contentType = 'application/json'): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${serve?.url ?? ''}/api/v1/scans`, { method: 'POST', body, headers: { 'content-type': contentType, ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) } });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
  };
  const errorCode = (answer: { body: unknown }): string | undefined => (answer.body as { error?: { code?: string } } | undefined)?.error?.code;
  /** `portcullis scan` of a pushed image, locally (reading the registry itself) or through the service. */
  const scan = (mode: 'local' | 'server', args: string[], token = scanToken, repository = 'team/minbase'): Promise<CliResult> => {
    const image = mode === 'local' ? `${registry.host}/${repository}:1.0` : `${repository}:1.0`;
    const where = mode === 'local' ? ['--insecure', '--db', realDb.db.path, '--offline', '--max-db-age', '36500d', '--no-cache'] : ['--server', serve?.url ?? '', '--timeout', '300'];
    return runCli(['scan', image, ...where, ...args], { env: { HOME: dir, PORTCULLIS_TOKEN: token } });
  };

  before(async () => {
    realDb = await buildRealDb();
    registry = await startRegistry();
    env = {
      HOME: dir,
      PORTCULLIS_DATA_DIR: join(dir, 'data'),
      PORTCULLIS_DB: realDb.db.path,
      PORTCULLIS_CACHE_DIR: join(dir, 'cache'),
      PORTCULLIS_REGISTRY_URL: registry.url,
    };
    for (const scope of ['scan', 'read'] as const) {
      const created = await runCli(['token', 'create', `ci-${scope}`, '--scope', scope], { env });
      assert.equal(created.code, 0, created.stderr);
      if (scope === 'scan') scanToken = created.stdout.trim();
      else readToken = created.stdout.trim();
    }
    serve = await startServe([], env);
    // The start-up catalog sync of the empty registry ends before the push, so only a request scans the image.
    const deadline = Date.now() + 60_000;
    while (!serve.stderr().includes('service: catalog sync done')) {
      if (Date.now() > deadline) assert.fail(`no catalog sync at start: ${serve.stderr().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await pushImage(minbase.ociReference, `${registry.host}/team/minbase:1.0`);
    // minbase has no findings in the real-data DB; lang has some, of several severities, for the gate to tell apart.
    await pushImage(lang.ociReference, `${registry.host}/team/lang:1.0`);
  });
  after(async () => {
    await serve?.stop('SIGKILL');
    await registry?.stop();
    realDb?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test('POST /api/v1/scans queues an image the service has not seen (202, state to poll); once scanned it answers 200', async () => {
    const first = await post(JSON.stringify({ image: 'team/minbase:1.0' }), scanToken);
    assert.equal(first.status, 202, JSON.stringify(first.body));
    const state = first.body as { image: string; repository: string; digest: string; status: string; poll: string; manifest: { kind: string; scan: { backends: { backend: string; status: string }[] } } };
    assert.equal(state.image, `${registry.host}/team/minbase:1.0`);
    assert.equal(state.repository, 'team/minbase');
    assert.equal(state.digest, minbase.manifestDigest);
    assert.equal(state.poll, `/api/v1/scans/${minbase.manifestDigest}`);
    assert.equal(state.manifest.kind, 'image');
    assert.deepEqual(state.manifest.scan.backends.map((b) => b.backend), ['embedded']);
    assert.ok(['queued', 'scanning'].includes(state.status), state.status);

    const deadline = Date.now() + 180_000;
    for (;;) {
      const res = await fetch(`${serve?.url ?? ''}${state.poll}`, { headers: { authorization: `Bearer ${readToken}` } });
      const polled = (await res.json()) as { status: string };
      if (polled.status === 'scanned') break;
      assert.ok(['queued', 'scanning'].includes(polled.status), JSON.stringify(polled));
      if (Date.now() > deadline) assert.fail(`not scanned in time: ${serve?.stderr().slice(-2000) ?? ''}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    // The scan's engine lines are in the service log, with the job's id, digest and backend bound.
    const engineLines = (serve?.stderr() ?? '').split('\n').filter((l) => l.includes(minbase.manifestDigest) && l.includes('"backend":"embedded"') && /"job":\d+/.test(l));
    for (const msg of ['image resolved', 'match done']) assert.ok(engineLines.some((l) => l.includes(`"msg":"${msg}"`)), `no "${msg}" line in the service log`);
    const again = await post(JSON.stringify({ image: `${registry.host}/team/minbase@${minbase.manifestDigest}` }), scanToken);
    assert.equal(again.status, 200, 'a current result exists: nothing is queued again');
    assert.equal((again.body as { status: string }).status, 'scanned');
    const queue = (await (await fetch(`${serve?.url ?? ''}/api/v1/queue`, { headers: { authorization: `Bearer ${readToken}` } })).json()) as Record<string, number>;
    assert.equal(queue.done, 1, 'one scan job for the image, however often it is asked for');

    const report = await fetch(`${serve?.url ?? ''}/api/v1/manifests/${minbase.manifestDigest}/report`, { headers: { authorization: `Bearer ${readToken}` } });
    assert.equal(report.status, 200);
    const body = (await report.json()) as { report: { schema: string; packageCount: number; inventory?: { packages: unknown[] } } };
    assert.equal(body.report.schema, 'https://portcullis.dev/schemas/scan-report/v1');
    assert.equal(body.report.inventory?.packages.length, body.report.packageCount);
  });

  test('scan --server gives the findings and the exit code of a local scan with the same DB; a threshold and a whitelist change both alike', async () => {
    const clean = await Promise.all([scan('local', ['--format', 'json']), scan('server', ['--format', 'json'])]);
    for (const result of clean) assert.equal(result.code, 0, result.stderr);
    const [cleanLocal, cleanRemote] = clean.map((r) => JSON.parse(r.stdout) as ScanJson);
    assert.equal(cleanRemote?.report.packageCount, cleanLocal?.report.packageCount);
    assert.deepEqual(cleanRemote?.report.findings, []);

    const lang = (mode: 'local' | 'server', args: string[]): Promise<CliResult> => scan(mode, args, scanToken, 'team/lang');
    const local = await lang('local', ['--format', 'json']);
    const remote = await lang('server', ['--format', 'json']);
    assert.equal(local.code, 1, local.stderr);
    assert.equal(remote.code, 1, remote.stderr);
    const localJson = JSON.parse(local.stdout) as ScanJson;
    const remoteJson = JSON.parse(remote.stdout) as ScanJson;
    const findings = (j: ScanJson): string[] => j.report.findings.map((f) => `${f.id} ${f.severity} ${f.package.name}@${f.package.version}`).sort();
    assert.ok(findings(localJson).length > 0, 'minbase has findings in the real-data DB');
    assert.deepEqual(findings(remoteJson), findings(localJson));
    assert.equal(remoteJson.report.packageCount, localJson.report.packageCount);
    assert.deepEqual(remoteJson.policy, { ...localJson.policy, imageName: (remoteJson.policy as { imageName?: string }).imageName });

    // Above every severity found (High at most): approved locally and remotely alike.
    assert.ok(localJson.report.findings.every((f) => f.severity !== 'Critical' && f.severity !== 'Defcon1'));
    const localHigh = await lang('local', ['--threshold', 'Critical', '--quiet']);
    const remoteHigh = await lang('server', ['--threshold', 'Critical', '--quiet']);
    assert.equal(localHigh.code, 0, localHigh.stderr);
    assert.equal(remoteHigh.code, 0, remoteHigh.stderr);

    // Every id whitelisted but one: still unapproved; all of them: approved.
    const ids = [...new Set(localJson.report.findings.map((f) => f.id))];
    const whitelist = (list: string[]): string => {
      const file = join(dir, `whitelist-${list.length}.yaml`);
      writeFileSync(file, `generalwhitelist:\n${list.map((id) => `  ${id}: accepted for the test`).join('\n')}\n`);
      return file;
    };
    const all = whitelist(ids);
    assert.equal((await lang('local', ['--whitelist', all, '--quiet'])).code, 0);
    assert.equal((await lang('server', ['--whitelist', all, '--quiet'])).code, 0);
    if (ids.length > 1) {
      const allButOne = whitelist(ids.slice(1));
      assert.equal((await lang('local', ['--whitelist', allButOne, '--quiet', '--exit-code', '7'])).code, 7);
      assert.equal((await lang('server', ['--whitelist', allButOne, '--quiet', '--exit-code', '7'])).code, 7);
    }
  });

  test('an index: each platform manifest is recorded and scanned; --platform picks the one the gate reads', async () => {
    // Both images under one repository, then an OCI index naming them as two platforms.
    await pushImage(minbase.ociReference, `${registry.host}/team/multi:minbase`);
    await pushImage(lang.ociReference, `${registry.host}/team/multi:lang`);
    const descriptor = async (digest: string, platform: { os: string; architecture: string }) => {
      const res = await fetch(`${registry.url}/v2/team/multi/manifests/${digest}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' } });
      const bytes = Buffer.from(await res.arrayBuffer());
      return { mediaType: res.headers.get('content-type') ?? '', digest, size: bytes.length, platform };
    };
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [await descriptor(minbase.manifestDigest, { os: 'linux', architecture: 'amd64' }), await descriptor(lang.manifestDigest, { os: 'linux', architecture: 'arm64' })],
    };
    const indexDigest = await putManifest(registry, 'team/multi', '1.0', Buffer.from(JSON.stringify(index)), 'application/vnd.oci.image.index.v1+json');

    const answer = await post(JSON.stringify({ image: 'team/multi:1.0' }), scanToken);
    assert.ok(answer.status === 200 || answer.status === 202, JSON.stringify(answer.body));
    const state = answer.body as { digest: string; manifest: { kind: string; children: { digest: string; platform: string }[] } };
    assert.equal(state.digest, indexDigest);
    assert.equal(state.manifest.kind, 'index');
    assert.deepEqual(state.manifest.children.map((c) => [c.digest, c.platform]), [[minbase.manifestDigest, 'linux/amd64'], [lang.manifestDigest, 'linux/arm64']]);

    const server = (platform: string): Promise<CliResult> => runCli(['scan', 'team/multi:1.0', '--server', serve?.url ?? '', '--platform', platform, '--quiet'], { env: { HOME: dir, PORTCULLIS_TOKEN: scanToken } });
    assert.equal((await server('linux/amd64')).code, 0, 'minbase: no findings');
    assert.equal((await server('linux/arm64')).code, 1, 'lang: unapproved findings');
    const none = await server('linux/s390x');
    assert.equal(none.code, 2);
    assert.match(none.stderr, /has no image for linux\/s390x; available: linux\/amd64, linux\/arm64 \[E_PLATFORM\]/);
  });

  test('a second backend still working (dummy pending) does not hold the gate up, and stays queued, not failed', async () => {
    const pendingEnv = { ...env, PORTCULLIS_DATA_DIR: join(dir, 'data-pending'), PORTCULLIS_SECURITY_DUMMY_SERVER: 'pending' };
    const created = await runCli(['token', 'create', 'ci-pending', '--scope', 'scan'], { env: pendingEnv });
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    const second = await startServe([], pendingEnv);
    try {
      const result = await runCli(['scan', 'team/lang:1.0', '--server', second.url, '--quiet'], { env: { HOME: dir, PORTCULLIS_TOKEN: token } });
      assert.equal(result.code, 1, result.stderr);
      type State = { status: string; manifest: { scan: { backends: { backend: string; status: string; reason: string | null }[] } } };
      const read = async (): Promise<State> => (await (await fetch(`${second.url}/api/v1/scans/${lang.manifestDigest}`, { headers: { authorization: `Bearer ${token}` } })).json()) as State;
      const dummyOf = (st: State) => st.manifest.scan.backends.find((b) => b.backend === 'dummy');
      // The dummy's first answer may still be on its way: wait for it to be recorded.
      let state = await read();
      const deadline = Date.now() + 60_000;
      while ((dummyOf(state)?.status !== 'queued' || dummyOf(state)?.reason == null) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        state = await read();
      }
      assert.equal(state.status, 'queued', 'the dummy backend has not answered yet');
      const dummy = dummyOf(state);
      const embedded = state.manifest.scan.backends.find((b) => b.backend === 'embedded');
      assert.equal(embedded?.status, 'scanned');
      assert.equal(dummy?.status, 'queued');
      assert.match(dummy?.reason ?? '', /^still working since \S+, asking again later: dummy: still working/);
    } finally {
      await second.stop('SIGKILL');
    }
  });

  test('a wrong token: exit 2 with a message about PORTCULLIS_TOKEN, and the token never printed', async () => {
    const wrong = 'pcs_this-is-not-a-token-0123456789';
    const result = await scan('server', [], wrong);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /the service refused the token in PORTCULLIS_TOKEN .*\[E_AUTH\]/);
    assert.ok(!result.stderr.includes(wrong) && !result.stdout.includes(wrong));
    const none = await scan('server', [], '');
    assert.equal(none.code, 2);
    assert.match(none.stderr, /set PORTCULLIS_TOKEN .*\[E_AUTH\]/);
    const readOnly = await scan('server', [], readToken);
    assert.equal(readOnly.code, 2);
    assert.match(readOnly.stderr, /needs scope scan.*\[E_FORBIDDEN\]/);
    assert.ok(!(serve?.stderr() ?? '').includes(scanToken) && !(serve?.stderr() ?? '').includes(wrong), 'no token reaches the service log');
  });

  test('a scan the service could not do: exit 2 with the reason and its code, never "0 vulnerabilities"', async () => {
    // A well-formed manifest whose only layer is not a tar archive: the embedded scanner cannot read it.
    const layer = await putBlob(registry, 'team/broken', Buffer.from('this is not a gzip-compressed tar archive\n'));
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer] }, config: {} }));
    const configDigest = await putBlob(registry, 'team/broken', config);
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer, size: 42 }],
    };
    await putManifest(registry, 'team/broken', '1.0', Buffer.from(JSON.stringify(manifest)), 'application/vnd.oci.image.manifest.v1+json');
    const result = await scan('server', ['--format', 'json'], scanToken, 'team/broken');
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /the service's scan of team\/broken:1\.0 \(sha256:[0-9a-f]{64}\) failed: .+\[E_[A-Z_]+\]\n/);
    assert.equal(result.stdout, '', 'no report for a scan that did not happen');
  });

  test('an image the registry does not have: 404 on the route, exit 2 with E_NOT_FOUND from the client', async () => {
    const missingTag = await post(JSON.stringify({ image: 'team/minbase:no-such-tag' }), scanToken);
    assert.equal(missingTag.status, 404);
    assert.equal(errorCode(missingTag), 'E_NOT_FOUND');
    const missingRepo = await post(JSON.stringify({ image: 'team/nothing-here:1.0' }), scanToken);
    assert.equal(missingRepo.status, 404);
    const result = await runCli(['scan', 'team/nothing-here:1.0', '--server', serve?.url ?? ''], { env: { HOME: dir, PORTCULLIS_TOKEN: scanToken } });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /team\/nothing-here:1\.0: no such repository, tag or manifest in the registry .*\[E_NOT_FOUND\]/);
  });

  test('bad requests: bad reference, another registry host, a huge body, no token, a read-only token -> 4xx, never a scan', async () => {
    const bad = await post(JSON.stringify({ image: 'Team/UPPER case:1' }), scanToken);
    assert.equal(bad.status, 400);
    assert.equal(errorCode(bad), 'E_REFERENCE');
    const elsewhere = await post(JSON.stringify({ image: 'registry.example.com/library/debian:12' }), scanToken);
    assert.equal(elsewhere.status, 400);
    assert.equal(errorCode(elsewhere), 'E_INPUT');
    assert.match((elsewhere.body as { error: { message: string } }).error.message, /is in registry registry\.example\.com; this service scans only images of the registry it watches/);
    const badDigest = await post(JSON.stringify({ image: 'team/minbase@sha256:abc' }), scanToken);
    assert.equal(badDigest.status, 400);
    const extraKey = await post(JSON.stringify({ image: 'team/minbase:1.0', registry: 'x' }), scanToken);
    assert.equal(extraKey.status, 400);
    const huge = await post(JSON.stringify({ image: 'a'.repeat(1024 * 1024) }), scanToken);
    assert.equal(huge.status, 413);
    const notJson = await post('image=team/minbase:1.0', scanToken, 'text/plain');
    assert.equal(notJson.status, 415);
    const anonymous = await post(JSON.stringify({ image: 'team/minbase:1.0' }), undefined);
    assert.equal(anonymous.status, 401);
    const readOnly = await post(JSON.stringify({ image: 'team/minbase:1.0' }), readToken);
    assert.equal(readOnly.status, 403);
    assert.equal(errorCode(readOnly), 'E_FORBIDDEN');
    const feeds = await fetch(`${serve?.url ?? ''}/api/v1/feeds`, { headers: { authorization: `Bearer ${readToken}` } });
    assert.equal(feeds.status, 200);
    const status = (await feeds.json()) as { path: string; feeds: { feed: string; recordCount: number; source: string }[] };
    assert.equal(status.path, realDb.db.path);
    assert.deepEqual(status.feeds.map((f) => f.feed), realDb.db.feeds().map((f) => f.feed));
  });

  test('the service down: exit 2 with E_UNREACHABLE; the registry down: 502 from the route, not the caller\'s 401/403', async () => {
    const nobody = await freePort();
    const down = await runCli(['scan', 'team/minbase:1.0', '--server', `http://127.0.0.1:${nobody}`], { env: { HOME: dir, PORTCULLIS_TOKEN: scanToken } });
    assert.equal(down.code, 2);
    assert.match(down.stderr, /cannot reach the Portcullis service at http:\/\/127\.0\.0\.1:\d+ .*\[E_UNREACHABLE\]/);

    await registry.stop();
    const answer = await post(JSON.stringify({ image: 'team/minbase:1.0' }), scanToken);
    assert.equal(answer.status, 502, JSON.stringify(answer.body));
    assert.equal(errorCode(answer), 'E_UNREACHABLE');
  });
});
