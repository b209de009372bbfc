/**
 * Clair v4's notifier webhook route on the real application (buildApp, SQLite store, real tokens):
 * who may call it with and without a PSK configured, and what the handler behind it does with a
 * notification whose callback or Clair misbehaves (real catalog and queue; the notifier is a local
 * server scripted per test).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { ClairV4Client, clairPskToken, CLAIR_NOTIFIER_ISSUER } from '../../backends/clair-v4/client.js';
import { isPortcullisError } from '../../domain/errors.js';
import { handleClairNotification, type ClairNotificationOutcome } from '../../service/clair-notifications.js';
import { CatalogStore } from '../../store/catalog.js';
import { JobQueue } from '../../store/jobs.js';
import { openStore, type Store } from '../../store/open-store.js';
import { createToken } from '../../store/tokens.js';
import { buildApp } from '../app.js';

const PSK = { key: Buffer.from('route test key').toString('base64'), issuer: 'portcullis' };
const CHILD = `sha256:${'c'.repeat(64)}`;
const INDEX = `sha256:${'d'.repeat(64)}`;

describe('POST /api/v1/clair/notifications', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-clair-hook-'));
  let store: Store;
  const apps: FastifyInstance[] = [];
  const handled: unknown[] = [];
  const outcome: ClairNotificationOutcome = { notificationId: 'n1', pages: 1, notifications: 0, manifests: 0, queued: [] };

  const app = async (psk: { key: string; issuer: string }): Promise<FastifyInstance> => {
    const built = await buildApp({
      store,
      logger: pino(new Writable({ write: (_c, _e, done) => done() })),
      vulnDbPath: join(dir, 'absent.db'),
      notificationToken: '',
      onEventsRecorded: () => undefined,
      clairNotifications: { psk, handle: (body) => (handled.push(body), Promise.resolve(outcome)) },
    });
    apps.push(built);
    return built;
  };
  const body = { notification_id: 'n1', callback: 'http://clair.invalid/notifier/api/v1/notification/n1' };

  before(async () => {
    store = await openStore({ kind: 'sqlite', file: join(dir, 'app.sqlite') });
  });
  after(async () => {
    for (const a of apps) await a.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('without a PSK: an API token of scope scan, as for any scan request', async () => {
    const noPsk = await app({ key: '', issuer: '' });
    const read = await createToken(store, 'reader', 'read');
    const scan = await createToken(store, 'scanner', 'scan');
    assert.equal((await noPsk.inject({ method: 'POST', url: '/api/v1/clair/notifications', payload: body })).statusCode, 401);
    assert.equal((await noPsk.inject({ method: 'POST', url: '/api/v1/clair/notifications', payload: body, headers: { authorization: `Bearer ${read}` } })).statusCode, 403);
    const ok = await noPsk.inject({ method: 'POST', url: '/api/v1/clair/notifications', payload: body, headers: { authorization: `Bearer ${scan}` } });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(ok.json(), outcome);
  });

  test('with a PSK: the JWT Clair signs (issuer clair-notifier, or the configured one); an API token is not enough; a bad body is 400', async () => {
    const withPsk = await app(PSK);
    const now = Math.floor(Date.now() / 1000);
    const send = (authorization: string, payload: unknown = body) => withPsk.inject({ method: 'POST', url: '/api/v1/clair/notifications', payload: payload as Record<string, unknown>, headers: { authorization } });
    assert.equal((await send(`Bearer ${clairPskToken({ key: PSK.key, issuer: CLAIR_NOTIFIER_ISSUER }, now)}`)).statusCode, 200);
    assert.equal((await send(`Bearer ${clairPskToken(PSK, now)}`)).statusCode, 200);
    const expired = await send(`Bearer ${clairPskToken({ key: PSK.key, issuer: CLAIR_NOTIFIER_ISSUER }, now - 3600)}`);
    assert.equal(expired.statusCode, 401);
    assert.match(expired.body, /Clair PSK token refused: expired/);
    const scan = await createToken(store, 'scanner2', 'scan');
    assert.equal((await send(`Bearer ${scan}`)).statusCode, 401);
    const bad = await send(`Bearer ${clairPskToken({ key: PSK.key, issuer: CLAIR_NOTIFIER_ISSUER }, now)}`, { notification_id: 'n1' });
    assert.equal(bad.statusCode, 400);
    assert.equal(handled.length, 3, 'only the accepted calls reached the handler');
  });
});

describe('handleClairNotification', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-clair-notify-'));
  let store: Store;
  let catalog: CatalogStore;
  let queue: JobQueue;
  let notifier: Server;
  let url = '';
  const requests: string[] = [];
  let pages: Record<string, { status: number; body: unknown }> = {};

  before(async () => {
    store = await openStore({ kind: 'sqlite', file: join(dir, 'app.sqlite') });
    catalog = new CatalogStore(store);
    queue = new JobQueue(store);
    // A platform manifest of a tagged index: its repository is found through the index.
    await catalog.recordManifest({ digest: CHILD, mediaType: 'application/vnd.oci.image.manifest.v1+json', kind: 'image', size: 1, platform: 'linux/amd64' });
    await catalog.recordManifest({ digest: INDEX, mediaType: 'application/vnd.oci.image.index.v1+json', kind: 'index', size: 1, children: [{ digest: CHILD, platform: 'linux/amd64' }] });
    await catalog.setTag('team/multi', 'latest', INDEX);
    notifier = createServer((req, res) => {
      requests.push(`${req.method ?? ''} ${req.url ?? ''}`);
      const answer = pages[`${req.method ?? ''} ${req.url ?? ''}`] ?? { status: 404, body: { code: 'not-found', message: 'no' } };
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve) => notifier.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(notifier.address() as AddressInfo).port}`;
  });
  after(async () => {
    notifier.closeAllConnections();
    await new Promise<void>((resolve) => notifier.close(() => resolve()));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const deps = () => ({ client: new ClairV4Client({ url, timeoutMs: 5_000 }), server: url, catalog, queue });
  const entry = (manifest: string) => ({ id: '1', manifest, reason: 'added', vulnerability: { name: 'CVE-1' } });

  test('a callback on another host, or naming another notification, is refused before any request', async () => {
    await assert.rejects(handleClairNotification({ notification_id: 'n1', callback: 'http://169.254.169.254/notifier/api/v1/notification/n1' }, deps()), (err: unknown) => isPortcullisError(err, 'E_INPUT') && /not the configured Clair server/.test(err.message));
    await assert.rejects(handleClairNotification({ notification_id: 'n1', callback: `${url}/notifier/api/v1/notification/n2` }, deps()), (err: unknown) => isPortcullisError(err, 'E_INPUT'));
    await assert.rejects(handleClairNotification({ notification_id: 'n1', callback: 'not a url' }, deps()), (err: unknown) => isPortcullisError(err, 'E_INPUT'));
    assert.deepEqual(requests, []);
  });

  test('pages are followed until the last (a repeated next ends it); the index child is queued under its index\'s repository; then DELETE', async () => {
    pages = {
      'GET /notifier/api/v1/notification/n3': { status: 200, body: { page: { size: 1, next: 'p2' }, notifications: [entry(CHILD)] } },
      'GET /notifier/api/v1/notification/n3?next=p2': { status: 200, body: { page: { size: 1, next: 'p2' }, notifications: [entry(`sha256:${'e'.repeat(64)}`)] } },
      'DELETE /notifier/api/v1/notification/n3': { status: 200, body: '' },
    };
    const outcome = await handleClairNotification({ notification_id: 'n3', callback: `${url}/notifier/api/v1/notification/n3` }, deps());
    assert.deepEqual(outcome, { notificationId: 'n3', pages: 2, notifications: 2, manifests: 2, queued: [CHILD] });
    assert.equal((await catalog.scans(CHILD)).find((s) => s.backend === 'clair-v4')?.status, 'queued');
    const [job] = await queue.claim('w', { kinds: ['scan'] });
    assert.deepEqual(job?.payload, { repository: 'team/multi', digest: CHILD, backend: 'clair-v4' });
    assert.equal(requests.at(-1), 'DELETE /notifier/api/v1/notification/n3');
  });

  test('a notifier answering 500 or garbage: E_UNREACHABLE (Clair delivers again), and the notification is not deleted', async () => {
    requests.length = 0;
    pages = { 'GET /notifier/api/v1/notification/n4': { status: 500, body: { code: 'internal', message: 'db down' } } };
    await assert.rejects(handleClairNotification({ notification_id: 'n4', callback: `${url}/notifier/api/v1/notification/n4` }, deps()), (err: unknown) => isPortcullisError(err, 'E_UNREACHABLE') && /answered 500 \(internal: db down\)/.test(err.message));
    pages = { 'GET /notifier/api/v1/notification/n5': { status: 200, body: '<html>' } };
    await assert.rejects(handleClairNotification({ notification_id: 'n5', callback: `${url}/notifier/api/v1/notification/n5` }, deps()), (err: unknown) => isPortcullisError(err, 'E_UNREACHABLE') && /not JSON/.test(err.message));
    assert.ok(requests.every((r) => !r.startsWith('DELETE')));
  });
});
