/**
 * End-to-end tests of `portcullis serve` as a real process on a real port: tokens, scopes, probes,
 * the OpenAPI document and the registry webhook. Run on SQLite (test/integration/service.test.ts)
 * and on PostgreSQL (test/integration/service-postgres.test.ts): one behaviour on both.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { openStore, type Store, type StoreLocation } from '../../src/store/open-store.js';
import { importFeeds } from '../../src/vulndb/index.js';
import { runCli } from './run-cli.js';
import { startServe, type ServeProcess } from './serve.js';
import { sharedData } from './shared-data.js';

/** Where a suite run keeps its app database. */
export interface ServiceSuiteTarget {
  name: string;
  /** A fresh, empty database: its `database.url` for the config file and its location for the test's own reads. */
  database(): Promise<{ url: string; location(dataDir: string): StoreLocation }>;
}

const NOTIFICATION_TOKEN = 'registry-notification-secret-7f3a';
const NOTIFICATION_TYPE = 'application/vnd.docker.distribution.events.v1+json';

/** The ten real registry notification bodies, in the order the registry sent them. */
function realNotifications(): { headers: Record<string, string>; body: unknown }[] {
  return readFileSync(sharedData('registry', 'notification-events.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { headers: Record<string, string>; body: unknown });
}

/**
 * POSTs a large body with node:http the way a careful client does: headers first, the body only if
 * the server has not answered within a second. The service answers 413 from Content-Length alone
 * and closes the connection; a client still uploading may see that close (EPIPE) before the
 * answer, so the body is held back rather than raced against it.
 */
function postLargeBody(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest(url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body: text });
      });
      res.on('error', reject);
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    req.flushHeaders();
    setTimeout(() => {
      if (!answered) req.end(body);
    }, 1000);
  });
}

/** A minimal notification envelope of one event. */
function envelope(event: Record<string, unknown>): string {
  return JSON.stringify({ events: [event] });
}

function manifestPush(id: string, repository: string, tag = 'latest'): Record<string, unknown> {
  return {
    id,
    timestamp: '2026-12-01T10:00:00.123456789Z',
    action: 'push',
    target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${createHash('sha256').update(id).digest('hex')}`, repository, tag, size: 350 },
    request: { id: 'r1', host: '127.0.0.1:5000', method: 'PUT', useragent: 'skopeo/1.9.3' },
    actor: {},
    source: { addr: 'vm:5000' },
  };
}

/** Registers the suite for one database target. */
export function serviceSuite(target: ServiceSuiteTarget): void {
  describe(`portcullis serve (${target.name})`, () => {
    let dir: string;
    let env: NodeJS.ProcessEnv;
    let serve: ServeProcess;
    let store: Store;
    let configFile: string;
    const tokens: Record<'read' | 'scan' | 'admin' | 'doomed', string> = { read: '', scan: '', admin: '', doomed: '' };
    let created: { stdout: string; stderr: string; code: number | null };

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'portcullis-serve-'));
      const database = await target.database();
      configFile = join(dir, 'portcullis.yaml');
      writeFileSync(configFile, `database:\n  url: "${database.url}"\nregistry:\n  notification_token: "${NOTIFICATION_TOKEN}"\n`);
      // A data directory and vulnerability DB path of the test's own (the DB does not exist yet).
      env = { PORTCULLIS_DATA_DIR: join(dir, 'data'), PORTCULLIS_DB: join(dir, 'vuln.db'), HOME: dir, XDG_CACHE_HOME: '', XDG_DATA_HOME: '' };
      created = await runCli(['token', 'create', 'ci-admin', '--scope', 'admin', '--config', configFile], { env });
      tokens.admin = created.stdout.trim();
      for (const scope of ['read', 'scan'] as const) tokens[scope] = (await runCli(['token', 'create', `ci-${scope}`, '--scope', scope, '--config', configFile], { env })).stdout.trim();
      tokens.doomed = (await runCli(['token', 'create', 'doomed', '--scope', 'admin', '--config', configFile], { env })).stdout.trim();
      serve = await startServe(['--config', configFile], env);
      store = await openStore(database.location(join(dir, 'data')));
    });
    after(async () => {
      await serve?.stop('SIGKILL');
      await store?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const get = (path: string, token?: string): Promise<Response> => fetch(`${serve.url}${path}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
    const postEvents = (body: string, headers: Record<string, string> = { authorization: `Bearer ${NOTIFICATION_TOKEN}`, 'content-type': NOTIFICATION_TYPE }): Promise<Response> =>
      fetch(`${serve.url}/v2/webhooks/events`, { method: 'POST', headers, body });
    const errorOf = async (res: Response): Promise<{ code: string; message: string }> => ((await res.json()) as { error: { code: string; message: string } }).error;
    const storedEvents = (ids: string[]) => store.db.selectFrom('registry_events').selectAll().where('event_id', 'in', ids).orderBy('event_id').execute();
    const eventCount = async (): Promise<number> => Number((await store.db.selectFrom('registry_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    /** After every bad request: the process still serves. */
    const stillServing = async (): Promise<void> => {
      const res = await get('/healthz');
      assert.equal(res.status, 200);
      assert.equal(serve.child.exitCode, null);
    };

    test('token create prints the token alone on stdout; only its SHA-256 is stored; list never shows it', async () => {
      assert.equal(created.code, 0, created.stderr);
      assert.match(created.stdout, /^pcl_[A-Za-z0-9_-]{43}\n$/, 'stdout is the token and nothing else');
      assert.match(created.stderr, /created token "ci-admin" \(scope admin\); it is shown only this once/);
      const rows = await store.db.selectFrom('tokens').selectAll().orderBy('name').execute();
      assert.deepEqual(rows.map((r) => [r.name, r.scope]), [['ci-admin', 'admin'], ['ci-read', 'read'], ['ci-scan', 'scan'], ['doomed', 'admin']]);
      assert.equal(rows[0]?.hash, createHash('sha256').update(tokens.admin).digest('hex'));
      const everything = JSON.stringify(rows);
      for (const t of Object.values(tokens)) assert.ok(!everything.includes(t.slice(4, 20)), 'no token is stored, not even in part');

      const list = await runCli(['token', 'list', '--config', configFile], { env });
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /^NAME +SCOPE +CREATED +LAST USED +REVOKED\n/);
      assert.match(list.stdout, /\nci-read +read +\d{4}-\d\d-\d\dT[\d:.]+Z +- +-\n/);
      for (const t of Object.values(tokens)) assert.ok(!list.stdout.includes(t) && !list.stderr.includes(t), 'list never shows a token');
    });

    test('every route but the probes needs a token: 401 without one or with a wrong one, 403 below the route scope', async () => {
      const none = await get('/api/v1/tokens/whoami');
      assert.equal(none.status, 401);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="portcullis"');
      assert.equal((await errorOf(none)).code, 'E_AUTH');
      assert.equal((await get('/api/v1/tokens/whoami', `${tokens.read}x`)).status, 401);
      assert.equal((await fetch(`${serve.url}/api/v1/tokens/whoami`, { headers: { authorization: `Basic ${Buffer.from(`u:${tokens.admin}`).toString('base64')}` } })).status, 401, 'only Bearer');
      assert.equal((await get('/api/openapi.json')).status, 401);
      assert.equal((await get('/api/v1/no-such-route')).status, 401, 'unknown routes reveal nothing without a token');
      const withApiToken = await postEvents(envelope(manifestPush('api-token-1', 'team/app')), { 'content-type': NOTIFICATION_TYPE, authorization: `Bearer ${tokens.admin}` });
      assert.equal(withApiToken.status, 401, 'the webhook takes the notification token, not an API token');

      for (const scope of ['read', 'scan', 'admin'] as const) {
        const who = await get('/api/v1/tokens/whoami', tokens[scope]);
        assert.equal(who.status, 200);
        assert.deepEqual(await who.json(), { name: `ci-${scope}`, scope });
        assert.match(who.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
      }
      for (const scope of ['read', 'scan'] as const) {
        const res = await get('/api/v1/tokens', tokens[scope]);
        assert.equal(res.status, 403);
        assert.deepEqual(await errorOf(res), { code: 'E_FORBIDDEN', message: `token "ci-${scope}" has scope ${scope}; this route needs admin` });
      }
      const listed = await get('/api/v1/tokens', tokens.admin);
      assert.equal(listed.status, 200);
      const body = (await listed.json()) as { tokens: { name: string; lastUsedAt: string | null }[] };
      assert.deepEqual(body.tokens.map((t) => t.name), ['ci-admin', 'ci-read', 'ci-scan', 'doomed']);
      assert.ok(body.tokens.find((t) => t.name === 'ci-admin')?.lastUsedAt !== null, 'last use is recorded');
      assert.ok(!JSON.stringify(body).includes('hash'));
    });

    test('token revoke: the revoked token is refused at once, by the running service', async () => {
      assert.equal((await get('/api/v1/tokens/whoami', tokens.doomed)).status, 200);
      const revoked = await runCli(['token', 'revoke', 'doomed', '--config', configFile], { env });
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.match(revoked.stderr, /revoked token "doomed"/);
      const res = await get('/api/v1/tokens/whoami', tokens.doomed);
      assert.equal(res.status, 401);
      assert.deepEqual(await errorOf(res), { code: 'E_AUTH', message: 'unknown or revoked token' });
      const list = await runCli(['token', 'list', '--config', configFile], { env });
      assert.match(list.stdout, /\ndoomed +admin +\S+ +\S+ +\d{4}-\d\d-\d\dT[\d:.]+Z\n/, 'list shows when it was revoked');
      const unknown = await runCli(['token', 'revoke', 'nobody', '--config', configFile], { env });
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /^portcullis: no token named "nobody" .*\[E_NOT_FOUND\]\n$/);
    });

    test('/healthz answers without a token; /readyz is 503 naming the missing vulnerability DB, then 200 once `db import` built it', async () => {
      const health = await get('/healthz');
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok' });

      const missing = await get('/readyz');
      assert.equal(missing.status, 503);
      const unready = (await missing.json()) as { status: string; checks: { database: { ok: boolean }; vulnerabilityDb: { ok: boolean; path: string; error?: string } } };
      assert.equal(unready.status, 'unavailable');
      assert.equal(unready.checks.database.ok, true);
      assert.equal(unready.checks.vulnerabilityDb.ok, false);
      assert.equal(unready.checks.vulnerabilityDb.path, env.PORTCULLIS_DB);
      assert.match(unready.checks.vulnerabilityDb.error ?? '', /no vulnerability database at .*vuln\.db; run `portcullis db update` or `portcullis db import`/);

      // Built beside the running service, at the path the CLI uses: seen without a restart.
      await importFeeds([sharedData('feeds', 'npm-security-wg')], { target: env.PORTCULLIS_DB as string });
      const ready = await get('/readyz');
      assert.equal(ready.status, 200);
      const body = (await ready.json()) as { status: string; checks: { vulnerabilityDb: { ok: boolean; feeds?: number; builtAt?: string } } };
      assert.equal(body.status, 'ready');
      assert.equal(body.checks.vulnerabilityDb.ok, true);
      assert.equal(body.checks.vulnerabilityDb.feeds, 1);
      assert.match(body.checks.vulnerabilityDb.builtAt ?? '', /^\d{4}-/);
    });

    test('/api/openapi.json is a valid OpenAPI 3.1 document generated from the route schemas', async () => {
      const res = await get('/api/openapi.json', tokens.read);
      assert.equal(res.status, 200);
      const raw = (await res.json()) as Record<string, unknown>;
      const doc = raw as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { required?: string[] } }> }; security?: unknown[] }>> };
      const result = await new Validator().validate(raw);
      assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
      assert.equal(doc.openapi, '3.1.0');
      for (const path of ['/api/v1/tokens', '/api/v1/tokens/whoami', '/healthz', '/readyz', '/v2/webhooks/events']) assert.ok(path in doc.paths, `${path} is documented`);
      assert.ok(!('/api/openapi.json' in doc.paths));
      const webhook = doc.paths['/v2/webhooks/events']?.post;
      assert.deepEqual(webhook?.requestBody?.content[NOTIFICATION_TYPE]?.schema.required, ['events'], 'the body schema is the zod schema the route validates with');
      assert.deepEqual(webhook?.security, [{ registryNotification: [] }]);
      assert.deepEqual(doc.paths['/healthz']?.get?.security, [], 'the probes need no token');
    });

    test('webhook: the real push notification is stored fresh before the 202', async () => {
      const body = readFileSync(sharedData('registry', 'notification-push.json'), 'utf8');
      const res = await postEvents(body);
      assert.equal(res.status, 202);
      assert.deepEqual(await res.json(), { stored: 1, fresh: 1, skipped: 0, duplicates: 0 });
      const [row] = await storedEvents(['26eeca80-dc43-4902-8eed-834be3980395']);
      assert.equal(row?.status, 'fresh');
      assert.equal(row?.action, 'push');
      assert.equal(row?.repository, 'harness/debian-bookworm-minbase');
      assert.equal(row?.tag, 'latest');
      assert.equal(row?.media_type, 'application/vnd.oci.image.manifest.v1+json', 'OCI pushes are kept (Portus dropped them)');
      assert.equal(row?.digest, 'sha256:300edffee8952d87818a48cedaec1576e45f8d63c463dd8acc3e7e358bb25094');
      assert.equal(row?.occurred_at, '2026-11-23T15:44:40.244914441Z');
      assert.deepEqual(JSON.parse(row?.payload ?? ''), (JSON.parse(body) as { events: unknown[] }).events[0]);
    });

    test('webhook: the ten real notifications, sent with the registry\'s own headers: manifest pushes and the delete fresh, the rest skipped with a note', async () => {
      for (const { headers, body } of realNotifications()) {
        const res = await postEvents(JSON.stringify(body), { 'content-type': headers['Content-Type'] ?? '', 'user-agent': headers['User-Agent'] ?? '', authorization: `Bearer ${NOTIFICATION_TOKEN}` });
        assert.equal(res.status, 202);
      }
      const rows = await storedEvents(realNotifications().flatMap(({ body }) => (body as { events: { id: string }[] }).events.map((e) => e.id)));
      const byId = new Map(rows.map((r) => [r.event_id, [r.action, r.status, r.note?.split(':')[0] ?? null]]));
      assert.deepEqual(Object.fromEntries(byId), {
        '3752dec4-aa2f-4671-9d14-b4928a613a50': ['push', 'skipped', 'blob push'],
        '14cc2582-d46a-4986-9fec-5f34254dbff9': ['push', 'fresh', null],
        'e32d64de-e567-40e5-8180-51a7f7b1e26b': ['pull', 'skipped', 'pull'],
        '3146f913-302f-46be-8674-d353172148b5': ['mount', 'skipped', 'blob mount'],
        '90c1fe9b-39ab-48a2-a5da-a0235ee72b9e': ['push', 'fresh', null],
        'de037920-c906-466a-821c-fd076de4c59f': ['push', 'fresh', null],
        'cd945adf-4945-432e-ad3f-f1c71eb9e299': ['pull', 'skipped', 'pull'],
        '3ce64230-aa3c-4fec-b08c-bc42ef1484b7': ['pull', 'skipped', 'pull'],
        '4ed632ae-2983-4e99-a329-c0ce02a4d40c': ['pull', 'skipped', 'pull'],
        '2ca237f7-4dce-49c8-ac3b-c4bec7f65062': ['delete', 'fresh', null],
      });
      await stillServing();
    });

    test('webhook bad input: no token -> 401, nothing stored', async () => {
      const before = await eventCount();
      const res = await postEvents(envelope(manifestPush('no-token-1', 'team/app')), { 'content-type': NOTIFICATION_TYPE });
      assert.equal(res.status, 401);
      assert.equal((await errorOf(res)).code, 'E_AUTH');
      assert.equal(await eventCount(), before);
      await stillServing();
    });

    test('webhook bad input: wrong token (and an API token) -> 401, nothing stored', async () => {
      const before = await eventCount();
      for (const wrong of [`${NOTIFICATION_TOKEN}x`, NOTIFICATION_TOKEN.slice(0, -1), tokens.admin]) {
        const res = await postEvents(envelope(manifestPush('wrong-token-1', 'team/app')), { 'content-type': NOTIFICATION_TYPE, authorization: `Bearer ${wrong}` });
        assert.equal(res.status, 401);
        assert.deepEqual(await errorOf(res), { code: 'E_AUTH', message: 'wrong notification token' });
      }
      assert.equal(await eventCount(), before);
      await stillServing();
    });

    test('webhook bad input: non-JSON -> 400; not an envelope -> 400; a text body -> 415; nothing stored', async () => {
      const before = await eventCount();
      const auth = { authorization: `Bearer ${NOTIFICATION_TOKEN}` };
      const notJson = await postEvents('{"events": [ {"id": "x", ', { ...auth, 'content-type': NOTIFICATION_TYPE });
      assert.equal(notJson.status, 400);
      assert.equal((await errorOf(notJson)).code, 'E_INPUT');
      const notEnvelope = await postEvents(JSON.stringify({ events: [{ id: 42, action: 'push' }] }), { ...auth, 'content-type': 'application/json' });
      assert.equal(notEnvelope.status, 400);
      assert.match((await errorOf(notEnvelope)).message, /^invalid request: body\.events\[0\]\.id: /);
      const text = await postEvents('push team/app', { ...auth, 'content-type': 'text/plain' });
      assert.equal(text.status, 415);
      assert.equal((await errorOf(text)).code, 'E_CONTENT_TYPE');
      assert.equal(await eventCount(), before);
      await stillServing();
    });

    test('webhook bad input: a 10 MB body -> 413, nothing stored', async () => {
      const before = await eventCount();
      const events = Array.from({ length: 1 }, () => ({ ...manifestPush('huge-1', 'team/app'), padding: 'x'.repeat(10 * 1024 * 1024) }));
      const res = await postLargeBody(`${serve.url}/v2/webhooks/events`, { authorization: `Bearer ${NOTIFICATION_TOKEN}`, 'content-type': NOTIFICATION_TYPE }, JSON.stringify({ events }));
      assert.equal(res.status, 413);
      assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, 'E_PAYLOAD_TOO_LARGE');
      assert.equal(await eventCount(), before);
      assert.deepEqual(await storedEvents(['huge-1']), []);
      await stillServing();
    });

    test('webhook bad input: an unknown action is stored as skipped with the reason, never given to the processor', async () => {
      const res = await postEvents(envelope({ ...manifestPush('unknown-action-1', 'team/app'), action: 'replicate' }));
      assert.equal(res.status, 202);
      assert.deepEqual(await res.json(), { stored: 1, fresh: 0, skipped: 1, duplicates: 0 });
      const [row] = await storedEvents(['unknown-action-1']);
      assert.deepEqual([row?.status, row?.note], ['skipped', 'unknown action "replicate"']);
      await stillServing();
    });

    test('webhook: an event for a repository the service has never seen is stored fresh (the processor decides)', async () => {
      const res = await postEvents(envelope(manifestPush('unknown-repo-1', 'never/seen-before')));
      assert.equal(res.status, 202);
      const [row] = await storedEvents(['unknown-repo-1']);
      assert.deepEqual([row?.status, row?.repository], ['fresh', 'never/seen-before']);
      assert.equal(await store.db.selectFrom('repositories').selectAll().where('name', '=', 'never/seen-before').executeTakeFirst(), undefined, 'the webhook creates no repository itself');
      await stillServing();
    });

    test('webhook: a redelivered event id is stored once (at-least-once delivery)', async () => {
      const first = await postEvents(envelope(manifestPush('dup-1', 'team/app', 'v1')));
      assert.deepEqual(await first.json(), { stored: 1, fresh: 1, skipped: 0, duplicates: 0 });
      const again = await postEvents(envelope(manifestPush('dup-1', 'team/app', 'v1')));
      assert.equal(again.status, 202, 'the registry must see success, or it retries forever');
      assert.deepEqual(await again.json(), { stored: 0, fresh: 0, skipped: 0, duplicates: 1 });
      const twiceInOne = await postEvents(JSON.stringify({ events: [manifestPush('dup-2', 'team/app'), manifestPush('dup-2', 'team/app')] }));
      assert.deepEqual(await twiceInOne.json(), { stored: 1, fresh: 1, skipped: 0, duplicates: 1 });
      assert.equal((await storedEvents(['dup-1', 'dup-2'])).length, 2);
      await stillServing();
    });

    test('SQL-looking names are stored as text and skipped as malformed', async () => {
      const res = await postEvents(envelope(manifestPush("sql-1'; DROP TABLE registry_events; --", "x'; DROP TABLE tags; --")));
      assert.equal(res.status, 202);
      const [row] = await storedEvents(["sql-1'; DROP TABLE registry_events; --"]);
      assert.equal(row?.status, 'skipped');
      assert.match(row?.note ?? '', /^malformed repository name/);
      await stillServing();
    });

    test('logs: JSON lines with one request id per request; no token or secret ever appears', () => {
      const lines = serve.stderr().split('\n').filter((l) => l.trim() !== '');
      const records = lines.map((l) => JSON.parse(l) as { msg?: string; reqId?: string; req?: unknown });
      const incoming = records.filter((r) => r.msg === 'incoming request');
      assert.ok(incoming.length > 20);
      assert.ok(incoming.every((r) => typeof r.reqId === 'string'));
      assert.equal(new Set(incoming.map((r) => r.reqId)).size, incoming.length, 'one id per request');
      const all = serve.stderr();
      for (const secret of [NOTIFICATION_TOKEN, ...Object.values(tokens)]) assert.ok(!all.includes(secret), 'a secret reached the log');
      assert.equal(records.filter((r) => r.msg?.includes('listening on')).length, 1, 'one line with the URL');
    });

    test('SIGTERM: the service closes and exits 0', async () => {
      const code = await serve.stop('SIGTERM');
      assert.equal(code, 0, serve.stderr());
      assert.match(serve.stderr(), /"msg":"shutting down"/);
    });
  });
}
