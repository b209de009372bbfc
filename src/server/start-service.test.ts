import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { DEFAULT_SERVICE_CONFIG, type ServiceConfig } from '../config/service-config.js';
import { isPortcullisError } from '../domain/errors.js';
import type { RegistryEventSource } from '../service/runtime.js';
import { freshEvents, registryEventQueue, type RecordedEvents } from '../store/registry-events.js';
import { startService } from './start-service.js';

function configWith(token: string): ServiceConfig {
  const config = structuredClone(DEFAULT_SERVICE_CONFIG);
  config.registry.notification_token = token;
  return config;
}

test('startService: listens on the port it was given (0 = any), wakes onEventsRecorded after fresh events are stored, and close() frees both', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-start-'));
  const logs: string[] = [];
  const wakes: RecordedEvents[] = [];
  const service = await startService(configWith('t0ken'), {
    env: { PORTCULLIS_DATA_DIR: dir, HOME: dir },
    listen: '127.0.0.1:0',
    vulnDbPath: join(dir, 'vuln.db'),
    logDestination: new Writable({ write: (c: Buffer, _e, done) => void (logs.push(c.toString('utf8')), done()) }),
    onEventsRecorded: (recorded) => wakes.push(recorded),
  });
  try {
    assert.match(service.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.doesNotMatch(service.url, /:0$/);
    const post = (events: unknown[]) =>
      fetch(`${service.url}/v2/webhooks/events`, { method: 'POST', headers: { authorization: 'Bearer t0ken', 'content-type': 'application/json' }, body: JSON.stringify({ events }) });
    const pull = { id: 'p1', action: 'pull', target: { repository: 'a/b', digest: `sha256:${'b'.repeat(64)}`, mediaType: 'application/vnd.oci.image.manifest.v1+json' } };
    assert.equal((await post([pull])).status, 202);
    assert.deepEqual(wakes, [], 'nothing to process: the worker is not woken');
    const push = { ...pull, id: 'p2', action: 'push' };
    assert.equal((await post([push])).status, 202);
    assert.deepEqual(wakes, [{ stored: 1, duplicates: 0, fresh: 1 }], 'woken once the event is stored, before the answer');
    assert.deepEqual((await freshEvents(service.store, 10)).map((e) => e.event_id), ['p2'], 'the store handed out is the one the webhook writes');
    // What the service runtime's event processor is given (its `events` option).
    const source: RegistryEventSource = registryEventQueue(service.store);
    assert.deepEqual(await source.fresh(10), [{ eventId: 'p2', action: 'push', repository: 'a/b', digest: `sha256:${'b'.repeat(64)}`, tag: null, mediaType: 'application/vnd.oci.image.manifest.v1+json' }]);
    assert.ok(logs.some((l) => l.includes(`listening on ${service.url}`)));
  } finally {
    await service.close();
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  }
  await assert.rejects(fetch(`${service.url}/healthz`), 'closed: nothing listens any more');
});

test('startService: a failing onEventsRecorded is logged; the registry still gets its 202', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-start-'));
  const logs: string[] = [];
  const service = await startService(configWith('t0ken'), {
    env: { PORTCULLIS_DATA_DIR: dir, HOME: dir },
    listen: '127.0.0.1:0',
    logDestination: new Writable({ write: (c: Buffer, _e, done) => void (logs.push(c.toString('utf8')), done()) }),
    onEventsRecorded: () => {
      throw new Error('worker gone');
    },
  });
  try {
    const push = { id: 'q1', action: 'push', target: { repository: 'a/b', digest: `sha256:${'c'.repeat(64)}`, mediaType: 'application/vnd.docker.distribution.manifest.v2+json' } };
    const res = await fetch(`${service.url}/v2/webhooks/events`, { method: 'POST', headers: { authorization: 'Bearer t0ken', 'content-type': 'application/json' }, body: JSON.stringify({ events: [push] }) });
    assert.equal(res.status, 202);
    assert.ok(logs.some((l) => l.includes('onEventsRecorded failed') && l.includes('worker gone')));
  } finally {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('startService: a bad listen address is E_CONFIG naming the key, and nothing stays open', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-start-'));
  try {
    const config = configWith('');
    config.http.listen = '203.0.113.7:8080';
    await assert.rejects(
      startService(config, { env: { PORTCULLIS_DATA_DIR: dir, HOME: dir }, logDestination: new Writable({ write: (_c, _e, done) => done() }) }),
      (err: unknown) => isPortcullisError(err, 'E_CONFIG') && /^config: http\.listen: cannot listen on 203\.0\.113\.7:8080: no such local address$/.test(err.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('startService: with the app database gone, requests needing it answer 503 E_DB (the registry retries), /healthz stays 200, /readyz says why', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-start-'));
  const logs: string[] = [];
  const service = await startService(configWith('t0ken'), {
    env: { PORTCULLIS_DATA_DIR: dir, HOME: dir },
    listen: '127.0.0.1:0',
    vulnDbPath: join(dir, 'vuln.db'),
    logDestination: new Writable({ write: (c: Buffer, _e, done) => void (logs.push(c.toString('utf8')), done()) }),
  });
  try {
    await service.store.close();
    const push = { id: 'z1', action: 'push', target: { repository: 'a/b', digest: `sha256:${'d'.repeat(64)}`, mediaType: 'application/vnd.oci.image.manifest.v1+json' } };
    const res = await fetch(`${service.url}/v2/webhooks/events`, { method: 'POST', headers: { authorization: 'Bearer t0ken', 'content-type': 'application/json' }, body: JSON.stringify({ events: [push] }) });
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { error: { code: 'E_DB', message: 'the app database is unavailable (storing registry events); try again later' } });
    const api = await fetch(`${service.url}/api/v1/tokens/whoami`, { headers: { authorization: 'Bearer pcl_whatever' } });
    assert.equal(api.status, 503);
    assert.equal((await fetch(`${service.url}/healthz`)).status, 200);
    const ready = await fetch(`${service.url}/readyz`);
    assert.equal(ready.status, 503);
    const body = (await ready.json()) as { checks: { database: { ok: boolean; error?: string } } };
    assert.equal(body.checks.database.ok, false);
    assert.match(body.checks.database.error ?? '', /^the app database does not answer: /);
    assert.ok(logs.some((l) => l.includes('app database failed: storing registry events')));
  } finally {
    await service.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});
