import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../support/run-cli.js';
import { serviceSuite } from '../support/service-suite.js';
import { serveUntilExit, startServe } from '../support/serve.js';
import { openStore } from '../../src/store/open-store.js';
import { freePort, pushImage, startRegistry } from '../harness/registry.js';
import { writeTinyLayout } from '../harness/tiny-image.js';

// The same suite runs on PostgreSQL in test/integration/service-postgres.test.ts.
serviceSuite({
  name: 'SQLite',
  database: () => Promise.resolve({ url: '', location: (dataDir: string) => ({ kind: 'sqlite', file: join(dataDir, 'portcullis.sqlite') }) }),
});

describe('portcullis serve: start-up errors stop it with exit 2 and the key', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-serve-config-'));
    env = { PORTCULLIS_DATA_DIR: join(dir, 'data'), PORTCULLIS_DB: join(dir, 'vuln.db'), HOME: dir };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const withConfig = (name: string, yaml: string): string => {
    const file = join(dir, name);
    writeFileSync(file, yaml);
    return file;
  };

  test('an unknown key', async () => {
    const r = await serveUntilExit(['--config', withConfig('unknown.yaml', 'registry:\n  notification_tokn: "x"\n')], env);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^portcullis: config: unknown key "registry\.notification_tokn" in .*unknown\.yaml \(did you mean "registry\.notification_token"\?\) \[E_CONFIG\]\n$/);
  });

  test('a value of the wrong type, in the file or from the environment', async () => {
    const r = await serveUntilExit(['--config', withConfig('type.yaml', 'security:\n  clair:\n    timeout: "soon"\n')], env);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^portcullis: config: security\.clair\.timeout \(in .*type\.yaml\): .*\[E_CONFIG\]\n$/);
    const fromEnv = await serveUntilExit([], { ...env, PORTCULLIS_HTTP_LISTEN: 'everywhere' });
    assert.equal(fromEnv.code, 2, fromEnv.stderr);
    assert.match(fromEnv.stderr, /^portcullis: config: http\.listen \(from PORTCULLIS_HTTP_LISTEN\): expected HOST:PORT/);
  });

  test('an unreachable PostgreSQL database, its password hidden', async () => {
    const port = await freePort();
    const r = await serveUntilExit(['--config', withConfig('pg.yaml', `database:\n  url: "postgres://portcullis:hunter2@127.0.0.1:${port}/app"\n`)], env);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^portcullis: config: database\.url: cannot use the database at postgres:\/\/portcullis:\*\*\*@127\.0\.0\.1:\d+\/app: .*ECONNREFUSED.*\[E_CONFIG\]\n$/);
    assert.doesNotMatch(r.stderr, /hunter2/);
  });

  test('an address already in use, and a malformed --listen', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      const r = await serveUntilExit(['--listen', `127.0.0.1:${port}`], env);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`portcullis: config: --listen: cannot listen on 127\\.0\\.0\\.1:${port}: the address is already in use \\[E_CONFIG\\]\\n$`));
    } finally {
      taken.close();
    }
    const bad = await serveUntilExit(['--listen', 'localhost'], env);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /^portcullis: config: --listen: expected HOST:PORT, e\.g\. 127\.0\.0\.1:8080 \(got "localhost"\) \[E_CONFIG\]\n$/);
  });
});

describe('portcullis serve with no configuration at all', () => {
  test('starts on the embedded defaults; the webhook refuses everything (401) and says so once at start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-serve-bare-'));
    const serve = await startServe([], { PORTCULLIS_DATA_DIR: join(dir, 'data'), PORTCULLIS_DB: join(dir, 'vuln.db'), HOME: dir });
    try {
      for (const authorization of [undefined, 'Bearer ', 'Bearer anything']) {
        const res = await fetch(`${serve.url}/v2/webhooks/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
          body: JSON.stringify({ events: [{ id: 'e1', action: 'push', target: {} }] }),
        });
        assert.equal(res.status, 401);
        assert.deepEqual(await res.json(), { error: { code: 'E_AUTH', message: 'the registry webhook is disabled until registry.notification_token is set' } });
      }
      const warnings = serve.stderr().split('\n').filter((l) => l.includes('registry webhook disabled'));
      assert.equal(warnings.length, 1);
      assert.match(warnings[0] ?? '', /"level":40.*PORTCULLIS_REGISTRY_NOTIFICATION_TOKEN/);
      assert.equal((await serve.stop('SIGINT')), 0);
    } finally {
      await serve.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a real Docker Distribution registry notifying portcullis serve', () => {
  test('pushes (OCI and Docker schema 2) and a delete arrive with the configured token and are stored for the processor; blob events are skipped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-serve-registry-'));
    const token = 'registry-to-portcullis-4d1e';
    const serve = await startServe([], { PORTCULLIS_DATA_DIR: join(dir, 'data'), PORTCULLIS_DB: join(dir, 'vuln.db'), HOME: dir, PORTCULLIS_REGISTRY_NOTIFICATION_TOKEN: token });
    const registry = await startRegistry({ notificationsUrl: `${serve.url}/v2/webhooks/events`, notificationHeaders: { Authorization: `Bearer ${token}` } });
    const store = await openStore({ kind: 'sqlite', file: join(dir, 'data', 'portcullis.sqlite') });
    try {
      const img = await writeTinyLayout(join(dir, 'layout'), { layers: [[{ path: 'etc/hello.txt', content: 'hello\n' }]] });
      await pushImage(`oci:${join(dir, 'layout')}:latest`, `${registry.host}/team/tiny:v1`);
      await pushImage(`oci:${join(dir, 'layout')}:latest`, `${registry.host}/team/tiny-docker:v1`, undefined, { format: 'v2s2' });
      const removed = await fetch(`${registry.url}/v2/team/tiny/manifests/${img.manifest.digest}`, { method: 'DELETE' });
      assert.equal(removed.status, 202);

      // The registry sends asynchronously: wait for the two deletes it reports for a manifest
      // delete, the manifest's (by digest) and its tag's (by tag, no digest), the last events.
      const deadline = Date.now() + 30_000;
      const freshRows = () => store.db.selectFrom('registry_events').selectAll().where('status', '=', 'fresh').orderBy('received_at').orderBy('occurred_at').execute();
      while ((await freshRows()).filter((r) => r.action === 'delete').length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      const fresh = (await freshRows()).map((r) => [r.action, r.repository, r.tag, r.media_type, r.digest === null ? null : r.digest.slice(0, 7)]);
      const ociPush = ['push', 'team/tiny', 'v1', 'application/vnd.oci.image.manifest.v1+json', 'sha256:'];
      const dockerPush = ['push', 'team/tiny-docker', 'v1', 'application/vnd.docker.distribution.manifest.v2+json', 'sha256:'];
      const manifestDelete = ['delete', 'team/tiny', null, null, 'sha256:'];
      const tagDelete = ['delete', 'team/tiny', 'v1', null, null];
      assert.deepEqual(fresh.slice(0, 2), [ociPush, dockerPush]);
      assert.deepEqual(new Set(fresh.slice(2).map((r) => JSON.stringify(r))), new Set([JSON.stringify(manifestDelete), JSON.stringify(tagDelete)]));
      const ociRow = await store.db.selectFrom('registry_events').selectAll().where('repository', '=', 'team/tiny').where('action', '=', 'push').where('status', '=', 'fresh').executeTakeFirstOrThrow();
      assert.equal(ociRow.digest, img.manifest.digest);
      const skipped = await store.db.selectFrom('registry_events').select(['action', 'note']).where('status', '=', 'skipped').execute();
      assert.ok(skipped.length >= 2, 'the layer and config blob pushes');
      assert.ok(skipped.every((r) => /^(blob push|blob mount|pull)/.test(r.note ?? '')), JSON.stringify(skipped));
      assert.ok(!serve.stderr().includes(token), 'the notification token is never logged');
    } finally {
      await store.close();
      await registry.stop();
      await serve.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('portcullis token: usage errors exit 2 and write nothing to stdout', () => {
  test('no --scope, an unknown scope, a taken name, a bad name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-token-'));
    const env = { PORTCULLIS_DATA_DIR: join(dir, 'data'), HOME: dir };
    try {
      const noScope = await runCli(['token', 'create', 'ci'], { env });
      assert.deepEqual([noScope.code, noScope.stdout], [2, '']);
      assert.match(noScope.stderr, /required option '--scope <scope>' not specified/);
      const badScope = await runCli(['token', 'create', 'ci', '--scope', 'root'], { env });
      assert.deepEqual([badScope.code, badScope.stdout], [2, '']);
      assert.match(badScope.stderr, /Allowed choices are read, scan, admin/);
      const first = await runCli(['token', 'create', 'ci', '--scope', 'read'], { env });
      assert.equal(first.code, 0, first.stderr);
      const taken = await runCli(['token', 'create', 'ci', '--scope', 'admin'], { env });
      assert.deepEqual([taken.code, taken.stdout], [2, '']);
      assert.match(taken.stderr, /^portcullis: a token named "ci" already exists .*\[E_INPUT\]\n$/);
      const badName = await runCli(['token', 'create', '../x', '--scope', 'read'], { env });
      assert.deepEqual([badName.code, badName.stdout], [2, '']);
      assert.match(badName.stderr, /^portcullis: token name "\.\.\/x": use 1-64 letters/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
