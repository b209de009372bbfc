/**
 * The one store test suite, run against SQLite (src/store/store.test.ts) and against a real
 * PostgreSQL 15 cluster (test/integration/store-postgres.test.ts): the same behaviour on both.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CatalogStore } from '../catalog.js';
import { HarborRequestStore } from '../harbor-requests.js';
import { JobQueue, type ClaimedJob } from '../jobs.js';
import type { Store } from '../open-store.js';
import { freshEvents, markEvent, recordEvents, registryEventQueue, type NewRegistryEvent } from '../registry-events.js';
import { authenticateToken, createToken, hashToken, listTokens, revokeToken } from '../tokens.js';
import { createSession, createUser, deleteExpiredSessions, deleteSession, findSession, hashSessionId, listUsers, removeUser, setPassword, setUserDisabled, verifyCredentials, verifyPassword } from '../users.js';

/** A store factory: each call opens a new connection to the same, already migrated, database. */
export interface StoreSuiteTarget {
  name: string;
  /** A fresh, empty database; `open` connects to it (again). */
  fresh(): Promise<{ open(): Promise<Store>; dispose(): Promise<void> }>;
}

/** A clock tests move by hand. */
function manualClock(start = '2026-12-01T00:00:00.000Z'): { now: () => Date; advance(ms: number): void } {
  let t = Date.parse(start);
  return { now: () => new Date(t), advance: (ms) => void (t += ms) };
}

export function storeSuite(target: StoreSuiteTarget): void {
  describe(`store (${target.name})`, () => {
    let fresh: Awaited<ReturnType<StoreSuiteTarget['fresh']>>;
    let store: Store;
    const extra: Store[] = [];
    before(async () => {
      fresh = await target.fresh();
      store = await fresh.open();
    });
    after(async () => {
      for (const s of extra) await s.close();
      await store?.close();
      await fresh?.dispose();
    });
    /** Empties the queue between tests (they share one database). */
    const clearJobs = async (): Promise<void> => void (await store.db.deleteFrom('jobs').execute());

    test('migrations: opening an existing database again is a no-op and keeps its rows', async () => {
      await store.db.insertInto('repositories').values({ name: 'team/app', created_at: '2026-12-01T00:00:00.000Z', updated_at: '2026-12-01T00:00:00.000Z' }).execute();
      const again = await fresh.open();
      extra.push(again);
      const rows = await again.db.selectFrom('repositories').selectAll().execute();
      assert.deepEqual(rows.map((r) => r.name), ['team/app']);
      await store.db.deleteFrom('repositories').execute();
    });

    test('numbers come back as numbers (sizes above 2^31 included)', async () => {
      await store.db
        .insertInto('manifests')
        .values({ digest: 'sha256:big', media_type: 'application/vnd.oci.image.manifest.v1+json', kind: 'image', size: 5_000_000_000, config_digest: null, platform: 'linux/amd64', created_at: '2026-12-01T00:00:00.000Z' })
        .execute();
      const row = await store.db.selectFrom('manifests').select('size').where('digest', '=', 'sha256:big').executeTakeFirstOrThrow();
      assert.equal(row.size, 5_000_000_000);
      const job = await new JobQueue(store).enqueue({ kind: 'k', payload: {} });
      assert.equal(typeof job.id, 'number');
      await clearJobs();
    });

    test('jobs: enqueue, claim oldest first, complete; a dedupe key keeps one live job', async () => {
      await clearJobs();
      const clock = manualClock();
      const q = new JobQueue(store, { now: clock.now });
      const a = await q.enqueue({ kind: 'scan', payload: { digest: 'sha256:a' }, dedupeKey: 'scan:sha256:a' });
      clock.advance(1);
      const b = await q.enqueue({ kind: 'scan', payload: { digest: 'sha256:b' } });
      const again = await q.enqueue({ kind: 'scan', payload: { digest: 'sha256:a', tag: 'second' }, dedupeKey: 'scan:sha256:a' });
      assert.deepEqual(again, { id: a.id, created: false }, 'the second push of one digest joins the live job');
      assert.equal(a.created, true);

      const [first] = await q.claim('w1');
      assert.equal(first?.id, a.id);
      assert.deepEqual(first?.payload, { digest: 'sha256:a' });
      assert.equal(first?.attempts, 1);
      const [second] = await q.claim('w1');
      assert.equal(second?.id, b.id);
      assert.deepEqual(await q.claim('w1'), [], 'nothing else is due');

      assert.equal(await q.complete(first as ClaimedJob), true);
      assert.equal((await q.get(a.id))?.status, 'done');
      const c = await q.enqueue({ kind: 'scan', payload: {}, dedupeKey: 'scan:sha256:a' });
      assert.equal(c.created, true, 'once done, the same key can be queued again (a re-scan)');
      assert.deepEqual(await q.counts(), { ready: 1, running: 1, done: 1, failed: 0 });
    });

    test('jobs: a failed attempt is retried after an exponential backoff, then left failed with its reason', async () => {
      await clearJobs();
      const clock = manualClock();
      const q = new JobQueue(store, { now: clock.now, backoffBaseMs: 1_000, backoffMaxMs: 3_000 });
      const { id } = await q.enqueue({ kind: 'scan', payload: {}, maxAttempts: 3 });

      const [j1] = await q.claim('w1');
      assert.equal(await q.fail(j1 as ClaimedJob, 'registry unreachable'), 'retry');
      assert.deepEqual(await q.claim('w1'), [], 'not before the backoff (1 s)');
      clock.advance(999);
      assert.deepEqual(await q.claim('w1'), []);
      clock.advance(1);
      const [j2] = await q.claim('w1');
      assert.equal(j2?.attempts, 2);
      assert.equal(await q.fail(j2 as ClaimedJob, 'registry unreachable'), 'retry');
      clock.advance(1_999);
      assert.deepEqual(await q.claim('w1'), [], 'the second wait is twice the first');
      clock.advance(1);
      const [j3] = await q.claim('w1');
      assert.equal(j3?.attempts, 3);
      assert.equal(await q.fail(j3 as ClaimedJob, 'registry unreachable (3rd time)'), 'failed');
      const row = await q.get(id);
      assert.equal(row?.status, 'failed');
      assert.equal(row?.last_error, 'registry unreachable (3rd time)');
      clock.advance(3_600_000);
      assert.deepEqual(await q.claim('w1'), [], 'a failed job is never claimed again');
      assert.equal(q.backoffMs(10), 3_000, 'the backoff is capped');
    });

    test('jobs: a non-retryable failure fails at once', async () => {
      await clearJobs();
      const q = new JobQueue(store);
      const { id } = await q.enqueue({ kind: 'scan', payload: {}, maxAttempts: 5 });
      const [j] = await q.claim('w1');
      assert.equal(await q.fail(j as ClaimedJob, 'unsupported media type', { retryable: false }), 'failed');
      assert.equal((await q.get(id))?.status, 'failed');
    });

    test('jobs: a dead worker loses its lease; the job is claimed again and the old owner is fenced off', async () => {
      await clearJobs();
      const clock = manualClock();
      const q = new JobQueue(store, { now: clock.now, leaseMs: 10_000 });
      const { id } = await q.enqueue({ kind: 'scan', payload: {}, maxAttempts: 2 });
      const [mine] = await q.claim('worker-killed');
      clock.advance(5_000);
      assert.equal(await q.heartbeat(mine as ClaimedJob), true, 'a live worker renews its lease');
      clock.advance(9_999);
      assert.deepEqual(await q.claim('worker-2'), [], 'the renewed lease still holds');
      clock.advance(2);
      const [taken] = await q.claim('worker-2');
      assert.equal(taken?.id, id);
      assert.equal(taken?.attempts, 2);
      assert.equal(await q.heartbeat(mine as ClaimedJob), false, 'the old owner learns it lost the job');
      assert.equal(await q.complete(mine as ClaimedJob), false, 'and cannot complete it');
      assert.equal(await q.fail(mine as ClaimedJob, 'late'), 'lost');
      assert.equal(await q.complete(taken as ClaimedJob), true);
      assert.equal((await q.get(id))?.status, 'done');
    });

    test('jobs: a postponed job (backend still working) comes back after the backoff without using up an attempt; a stale owner cannot postpone', async () => {
      await clearJobs();
      const clock = manualClock();
      const q = new JobQueue(store, { now: clock.now, backoffBaseMs: 1_000, backoffMaxMs: 3_000 });
      const { id } = await q.enqueue({ kind: 'scan', payload: { digest: 'sha256:p' }, maxAttempts: 2 });
      // Far more "still working" answers than max_attempts allows failures: none of them counts.
      for (let round = 1; round <= 5; round++) {
        const [held] = await q.claim('w1');
        assert.equal(held?.attempts, 1, `round ${round}: the claim is the first attempt again`);
        assert.deepEqual(held?.payload, round === 1 ? { digest: 'sha256:p' } : { digest: 'sha256:p', pendingSince: '2026-12-01T00:00:00.000Z' });
        assert.equal(await q.postpone(held as ClaimedJob, 'still working', { payload: { digest: 'sha256:p', pendingSince: '2026-12-01T00:00:00.000Z' } }), 'postponed');
        const row = await q.get(id);
        assert.equal(row?.status, 'ready');
        assert.equal(row?.attempts, 0);
        assert.equal(row?.last_error, 'still working');
        clock.advance(999);
        assert.deepEqual(await q.claim('w1'), [], `round ${round}: not before the backoff`);
        clock.advance(1);
      }
      const [last] = await q.claim('w1');
      assert.equal(await q.fail(last as ClaimedJob, 'registry unreachable'), 'retry', 'a real failure still counts, and one is left');
      clock.advance(1_000);
      const [stale] = await q.claim('w1');
      assert.equal(stale?.attempts, 2);
      clock.advance(120_000);
      const [taken] = await q.claim('w2');
      assert.equal(taken, undefined, 'the lease passed on the last attempt: failed, not handed out');
      assert.equal(await q.postpone(stale as ClaimedJob, 'still working'), 'lost', 'a worker that lost the job cannot put it back');
      assert.equal((await q.get(id))?.status, 'failed');
    });

    test('jobs: a lease that passes on the last attempt leaves the job failed, never lost', async () => {
      await clearJobs();
      const clock = manualClock();
      const q = new JobQueue(store, { now: clock.now, leaseMs: 1_000 });
      const { id } = await q.enqueue({ kind: 'scan', payload: {}, maxAttempts: 1 });
      await q.claim('worker-killed');
      clock.advance(1_001);
      assert.deepEqual(await q.claim('worker-2'), []);
      const row = await q.get(id);
      assert.equal(row?.status, 'failed');
      assert.match(row?.last_error ?? '', /worker lost: lease expired/);
    });

    test('jobs: claims of concurrent workers on separate connections never share a job', async () => {
      await clearJobs();
      const other = await fresh.open();
      extra.push(other);
      const queues = [new JobQueue(store), new JobQueue(other)];
      const total = 60;
      for (let i = 0; i < total; i++) await queues[0]?.enqueue({ kind: 'scan', payload: { i } });
      const seen: number[] = [];
      const worker = async (q: JobQueue, name: string): Promise<void> => {
        for (;;) {
          const jobs = await q.claim(name, { limit: 3 });
          if (jobs.length === 0) return;
          for (const j of jobs) {
            seen.push(j.id);
            assert.equal(await q.complete(j), true);
          }
        }
      };
      await Promise.all([worker(queues[0] as JobQueue, 'a1'), worker(queues[1] as JobQueue, 'b1'), worker(queues[0] as JobQueue, 'a2'), worker(queues[1] as JobQueue, 'b2')]);
      assert.equal(seen.length, total, 'every job claimed exactly once');
      assert.equal(new Set(seen).size, total);
      assert.deepEqual(await queues[1]?.counts(), { ready: 0, running: 0, done: total, failed: 0 });
    });

    test('catalog: tags point at digests; a digest under two tags is one manifest; deletes by digest remove every tag of it', async () => {
      const clock = manualClock();
      const c = new CatalogStore(store, { now: clock.now });
      const index = 'sha256:' + 'a'.repeat(64);
      const amd64 = 'sha256:' + 'b'.repeat(64);
      const arm64 = 'sha256:' + 'c'.repeat(64);
      await c.recordManifest({ digest: index, mediaType: 'application/vnd.oci.image.index.v1+json', kind: 'index', size: 700, children: [{ digest: arm64, platform: 'linux/arm64' }, { digest: amd64, platform: 'linux/amd64' }] });
      await c.recordManifest({ digest: index, mediaType: 'application/vnd.oci.image.index.v1+json', kind: 'index', size: 700 });
      await c.recordManifest({ digest: amd64, mediaType: 'application/vnd.oci.image.manifest.v1+json', kind: 'image', size: 51_000_000, configDigest: 'sha256:cfg', platform: 'linux/amd64' });
      assert.deepEqual((await c.manifest(index))?.children, [{ digest: amd64, platform: 'linux/amd64' }, { digest: arm64, platform: 'linux/arm64' }]);
      assert.equal((await c.manifest(amd64))?.platform, 'linux/amd64');
      assert.equal(await c.manifest('sha256:unknown'), undefined);

      assert.equal(await c.setTag('team/app', 'latest', index), undefined);
      clock.advance(1000);
      assert.equal(await c.setTag('team/app', 'v1', index), undefined);
      assert.equal(await c.setTag('team/app', 'v1', index), index, 'the same push again changes nothing');
      assert.equal(await c.setTag('other/app', 'edge', amd64), undefined);
      assert.deepEqual((await c.tagsOfDigest(index)).map((t) => `${t.repository}:${t.name}`), ['team/app:latest', 'team/app:v1']);
      assert.deepEqual(await c.repositories(), [
        { name: 'other/app', tagCount: 1, lastPush: '2026-12-01T00:00:01.000Z' },
        { name: 'team/app', tagCount: 2, lastPush: '2026-12-01T00:00:01.000Z' },
      ]);

      assert.deepEqual(await c.removeTagsByDigest('team/app', index), ['latest', 'v1']);
      assert.equal(await c.removeRepositoryIfEmpty('team/app'), true);
      assert.equal(await c.removeRepositoryIfEmpty('other/app'), false, 'a repository with tags stays');
      assert.equal(await c.removeTag('other/app', 'edge'), true);
      assert.equal(await c.removeTag('other/app', 'edge'), false);
      assert.deepEqual(await c.tags('team/app'), []);
    });

    test('catalog: a scan goes queued -> scanning -> scanned or failed, and a re-scan keeps the last report until replaced', async () => {
      const c = new CatalogStore(store);
      const d = 'sha256:' + 'd'.repeat(64);
      await c.queueScan(d, 'embedded');
      assert.equal((await c.scans(d))[0]?.status, 'queued');
      await c.startScan(d, 'embedded');
      await c.finishScan(d, 'embedded', { findings: [1, 2] }, { High: 2 });
      let [scan] = await c.scans(d);
      assert.equal(scan?.status, 'scanned');
      assert.deepEqual(scan?.counts, { High: 2 });
      await c.queueScan(d, 'embedded');
      [scan] = await c.scans(d);
      assert.equal(scan?.status, 'queued');
      assert.equal(scan?.report, JSON.stringify({ findings: [1, 2] }), 'the previous report stays readable');
      await c.queueScan(d, 'clair');
      await c.failScan(d, 'clair', 'failed', 'clair: connection refused');
      const byBackend = await c.scans(d);
      assert.deepEqual(byBackend.map((s) => [s.backend, s.status, s.reason]), [['clair', 'failed', 'clair: connection refused'], ['embedded', 'queued', null]]);
    });

    test('catalog: stored inventories and the (ecosystem, name) index find the manifests a change can touch', async () => {
      const c = new CatalogStore(store);
      const one = 'sha256:' + '1'.repeat(64);
      const two = 'sha256:' + '2'.repeat(64);
      const many = Array.from({ length: 1200 }, (_, i) => ({ ecosystem: 'npm', name: `pkg-${i}` }));
      await c.saveInventory(one, 1, '{"packages":[]}', [...many, { ecosystem: 'debian:12', name: 'openssl' }, { ecosystem: 'debian:12', name: 'openssl' }]);
      await c.saveInventory(two, 1, '{}', [{ ecosystem: 'debian:12', name: 'openssl' }]);
      assert.deepEqual(await c.manifestsWithPackages([{ ecosystem: 'debian:12', name: 'openssl' }]), [one, two]);
      assert.deepEqual(await c.manifestsWithPackages([{ ecosystem: 'npm', name: 'pkg-1199' }, { ecosystem: 'pypi', name: 'pkg-1' }]), [one]);
      assert.deepEqual(await c.manifestsWithPackages([{ ecosystem: 'npm', name: 'openssl' }]), [], 'the ecosystem is part of the key');
      await c.saveInventory(one, 2, '{"packages":[1]}', [{ ecosystem: 'npm', name: 'left-pad' }]);
      assert.deepEqual(await c.manifestsWithPackages([{ ecosystem: 'debian:12', name: 'openssl' }]), [two], 'a new inventory replaces the old index');
      assert.equal((await c.inventory(one))?.schemaVersion, 2);
    });

    test('jobs: claims can be limited to some kinds', async () => {
      await clearJobs();
      const q = new JobQueue(store);
      await q.enqueue({ kind: 'webhook', payload: {} });
      const { id } = await q.enqueue({ kind: 'scan', payload: {} });
      const claimed = await q.claim('w', { kinds: ['scan'], limit: 5 });
      assert.deepEqual(claimed.map((j) => j.id), [id]);
    });

    /** A manifest push event as the webhook stores it. */
    const pushEvent = (eventId: string, timestamp: string, tag: string): NewRegistryEvent => ({
      eventId,
      action: 'push',
      repository: 'team/app',
      digest: `sha256:${eventId}`,
      tag,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      timestamp,
      payload: { id: eventId, action: 'push', extra: { kept: true } },
      status: 'fresh',
      note: null,
    });

    test('registry events: stored once per id (repeats in one batch and across deliveries), read fresh in registry order', async () => {
      await store.db.deleteFrom('registry_events').execute();
      const at = new Date('2026-12-01T00:00:00.000Z');
      // One envelope: the registry's times order its events; Go drops trailing zeros of the fraction.
      const first = await recordEvents(
        store,
        [pushEvent('e2', '2026-11-23T15:44:40.2Z', 'b'), pushEvent('e1', '2026-11-23T15:44:40.19Z', 'a'), pushEvent('e2', '2026-11-23T15:44:40.2Z', 'again'), { ...pushEvent('blob', '2026-11-23T15:44:40.1Z', 'x'), status: 'skipped', note: 'blob push' }],
        at,
      );
      assert.deepEqual(first, { stored: 3, duplicates: 1, fresh: 2 });
      const redelivered = await recordEvents(store, [pushEvent('e1', '2026-11-23T15:44:40.19Z', 'a')], new Date('2026-12-01T00:00:05.000Z'));
      assert.deepEqual(redelivered, { stored: 0, duplicates: 1, fresh: 0 }, 'a redelivery of a stored id is dropped');

      const fresh = await freshEvents(store, 10);
      assert.deepEqual(fresh.map((e) => e.event_id), ['e1', 'e2'], 'skipped events are not handed to the processor; .19 s comes before .2 s');
      assert.equal(fresh[1]?.tag, 'b', 'the first copy received wins');
      assert.equal(fresh[0]?.occurred_at, '2026-11-23T15:44:40.190000000Z');
      assert.deepEqual(JSON.parse(fresh[0]?.payload ?? ''), { id: 'e1', action: 'push', extra: { kept: true } });
      assert.equal(fresh[0]?.received_at, at.toISOString());
      assert.deepEqual((await freshEvents(store, 1)).map((e) => e.event_id), ['e1']);

      assert.equal(await markEvent(store, 'e1', 'done', null, new Date('2026-12-01T00:01:00.000Z')), true);
      assert.equal(await markEvent(store, 'nope', 'failed', 'x'), false);
      assert.deepEqual((await freshEvents(store, 10)).map((e) => e.event_id), ['e2']);
      const done = await store.db.selectFrom('registry_events').selectAll().where('event_id', '=', 'e1').executeTakeFirstOrThrow();
      assert.equal(done.status, 'done');
      assert.equal(done.processed_at, '2026-12-01T00:01:00.000Z');
      const blob = await store.db.selectFrom('registry_events').selectAll().where('event_id', '=', 'blob').executeTakeFirstOrThrow();
      assert.deepEqual([blob.status, blob.note], ['skipped', 'blob push']);

      // The same events as the service runtime reads them.
      const queue = registryEventQueue(store);
      assert.deepEqual(await queue.fresh(10), [{ eventId: 'e2', action: 'push', repository: 'team/app', digest: 'sha256:e2', tag: 'b', mediaType: 'application/vnd.oci.image.manifest.v1+json' }]);
      await queue.mark('e2', 'skipped', 'repository unknown to the registry');
      assert.deepEqual(await queue.fresh(10), []);
      const e2 = await store.db.selectFrom('registry_events').select(['status', 'note']).where('event_id', '=', 'e2').executeTakeFirstOrThrow();
      assert.deepEqual(e2, { status: 'skipped', note: 'repository unknown to the registry' });
    });

    test('tokens: only the hash is stored; revoked and unknown tokens do not authenticate; names are unique', async () => {
      await store.db.deleteFrom('tokens').execute();
      const token = await createToken(store, 'ci', 'scan', new Date('2026-12-01T00:00:00.000Z'));
      assert.match(token, /^pcl_[A-Za-z0-9_-]{43}$/);
      const rows = await store.db.selectFrom('tokens').selectAll().execute();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.hash, hashToken(token));
      assert.ok(!JSON.stringify(rows).includes(token.slice(4)), 'the token itself is stored nowhere');

      const who = await authenticateToken(store, token, new Date('2026-12-01T00:10:00.000Z'));
      assert.deepEqual(who, { name: 'ci', scope: 'scan', createdAt: '2026-12-01T00:00:00.000Z', lastUsedAt: '2026-12-01T00:10:00.000Z', revokedAt: null });
      assert.equal(await authenticateToken(store, `${token}x`), undefined);
      await assert.rejects(createToken(store, 'ci', 'read'), /a token named "ci" already exists/);
      await assert.rejects(createToken(store, 'bad name', 'read'), /token name "bad name"/);
      await assert.rejects(createToken(store, 'x', 'root'), /token scope "root": expected one of read, scan, admin/);

      assert.equal(await revokeToken(store, 'ci', new Date('2026-12-01T01:00:00.000Z')), true);
      assert.equal(await revokeToken(store, 'ci'), false, 'revoking twice changes nothing');
      await assert.rejects(revokeToken(store, 'nobody'), /no token named "nobody"/);
      assert.equal(await authenticateToken(store, token), undefined, 'a revoked token is refused');
      assert.deepEqual(await listTokens(store), [{ name: 'ci', scope: 'scan', createdAt: '2026-12-01T00:00:00.000Z', lastUsedAt: '2026-12-01T00:10:00.000Z', revokedAt: '2026-12-01T01:00:00.000Z' }]);
    });

    test('users: scrypt hash with its parameters and a per-user salt; names unique; bad input refused; remove and passwd end sessions', async () => {
      const created = await createUser(store, 'alice', 'correct horse battery', 'admin', new Date('2026-12-01T00:00:00.000Z'));
      assert.deepEqual({ ...created, id: '' }, { id: '', name: 'alice', role: 'admin', disabled: false, createdAt: '2026-12-01T00:00:00.000Z' });
      await createUser(store, 'bob', 'correct horse battery', 'viewer', new Date('2026-12-01T00:01:00.000Z'));
      const rows = await store.db.selectFrom('users').select(['name', 'password_hash']).orderBy('name').execute();
      for (const row of rows) assert.match(row.password_hash, /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
      assert.notEqual(rows[0]?.password_hash, rows[1]?.password_hash, 'the same password under two salts hashes differently');
      assert.ok(!rows.some((r) => r.password_hash.includes('correct horse')));
      assert.equal(await verifyPassword(rows[0]?.password_hash ?? '', 'correct horse battery'), true);
      assert.equal(await verifyPassword(rows[0]?.password_hash ?? '', 'correct horse batterY'), false);
      assert.equal(await verifyPassword('md5$abc', 'correct horse battery'), false, 'a malformed record matches nothing');

      await assert.rejects(createUser(store, 'alice', 'another long password', 'viewer'), /a user named "alice" already exists/);
      await assert.rejects(createUser(store, 'carol', 'short', 'viewer'), /too short: use at least 12 characters/);
      await assert.rejects(createUser(store, 'carol', '', 'viewer'), /the password is empty/);
      await assert.rejects(createUser(store, 'carol', 'long enough password', 'root'), /user role "root": expected one of admin, viewer/);
      await assert.rejects(createUser(store, 'bad name', 'long enough password', 'viewer'), /user name "bad name"/);
      assert.deepEqual((await listUsers(store)).map((u) => [u.name, u.role, u.disabled]), [['alice', 'admin', false], ['bob', 'viewer', false]]);

      assert.equal((await verifyCredentials(store, 'alice', 'correct horse battery'))?.name, 'alice');
      assert.equal(await verifyCredentials(store, 'alice', 'wrong password!!'), undefined);
      assert.equal(await verifyCredentials(store, 'nobody', 'correct horse battery'), undefined);

      const limits = { idleMs: 3_600_000, absoluteMs: 86_400_000 };
      const bob = (await listUsers(store)).find((u) => u.name === 'bob');
      assert.ok(bob);
      const session = await createSession(store, bob);
      assert.ok(await findSession(store, session.sessionId, limits));
      await setPassword(store, 'bob', 'a brand new password');
      assert.equal(await findSession(store, session.sessionId, limits), undefined, 'a new password ends the sessions');
      assert.equal(await verifyCredentials(store, 'bob', 'correct horse battery'), undefined);
      assert.equal((await verifyCredentials(store, 'bob', 'a brand new password'))?.role, 'viewer');

      await setUserDisabled(store, 'bob', true);
      assert.equal(await verifyCredentials(store, 'bob', 'a brand new password'), undefined, 'a disabled user cannot sign in');
      await setUserDisabled(store, 'bob', false);
      const again = await createSession(store, bob);
      await removeUser(store, 'bob');
      assert.equal(await findSession(store, again.sessionId, limits), undefined);
      assert.equal((await store.db.selectFrom('sessions').select('id_hash').execute()).length, 0);
      await assert.rejects(removeUser(store, 'bob'), /no user named "bob"/);
      await assert.rejects(setPassword(store, 'bob', 'a brand new password'), /no user named "bob"/);
      await removeUser(store, 'alice');
    });

    test('sessions: only the id hash is stored; idle and absolute expiry by the clock; sign-out ends it', async () => {
      const clock = manualClock();
      const user = await createUser(store, 'dora', 'correct horse battery', 'viewer', clock.now());
      const limits = { idleMs: 12 * 3_600_000, absoluteMs: 7 * 86_400_000 };
      const { sessionId, csrfToken } = await createSession(store, user, clock.now());
      assert.match(sessionId, /^[A-Za-z0-9_-]{43}$/, '256 random bits');
      assert.notEqual(csrfToken, sessionId);
      const [row] = await store.db.selectFrom('sessions').selectAll().execute();
      assert.equal(row?.id_hash, hashSessionId(sessionId));
      assert.ok(!JSON.stringify(row).includes(sessionId), 'the session id itself is not stored');

      // Used every 11 h, it lives on past 12 h from sign-in; the absolute limit still ends it at 7 d.
      for (let i = 0; i < 15; i++) {
        clock.advance(11 * 3_600_000);
        const found = await findSession(store, sessionId, limits, clock.now());
        assert.equal(found?.user.name, 'dora', `use ${i + 1}`);
        assert.equal(found.csrfToken, csrfToken);
      }
      clock.advance(3 * 3_600_000); // 168 h after sign-in
      assert.equal(await findSession(store, sessionId, limits, clock.now()), undefined, 'absolute expiry');
      assert.equal((await store.db.selectFrom('sessions').select('id_hash').execute()).length, 0, 'an expired session is deleted when met');

      const idle = await createSession(store, user, clock.now());
      clock.advance(12 * 3_600_000 - 1);
      assert.ok(await findSession(store, idle.sessionId, limits, clock.now()));
      clock.advance(12 * 3_600_000);
      assert.equal(await findSession(store, idle.sessionId, limits, clock.now()), undefined, 'idle expiry');

      const live = await createSession(store, user, clock.now());
      const stale = await createSession(store, user, new Date(clock.now().getTime() - 13 * 3_600_000));
      assert.equal(await deleteExpiredSessions(store, limits, clock.now()), 1);
      assert.equal(await findSession(store, stale.sessionId, limits, clock.now()), undefined);
      await deleteSession(store, live.sessionId);
      assert.equal(await findSession(store, live.sessionId, limits, clock.now()), undefined, 'sign-out');
      assert.equal(await findSession(store, 'x'.repeat(43), limits, clock.now()), undefined);
      await removeUser(store, 'dora');
    });

    test('Harbor scan requests: stored by id with what was asked (tag optional), unknown ids undefined', async () => {
      const requests = new HarborRequestStore(store, () => new Date('2026-12-07T05:00:00.000Z'));
      const digest = `sha256:${'e'.repeat(64)}`;
      const asked = { id: '3fa85f64-5717-4562-b3fc-2c963f66afa6', registryUrl: 'https://core.harbor.example', repository: 'library/mongo', digest, mimeType: 'application/vnd.oci.image.manifest.v1+json' };
      assert.deepEqual(await requests.add({ ...asked, tag: '3.14' }), { ...asked, tag: '3.14', createdAt: '2026-12-07T05:00:00.000Z' });
      await requests.add({ ...asked, id: '00000000-0000-4000-8000-000000000000' });
      assert.deepEqual(await requests.get(asked.id), { ...asked, tag: '3.14', createdAt: '2026-12-07T05:00:00.000Z' });
      assert.deepEqual(await requests.get('00000000-0000-4000-8000-000000000000'), { ...asked, id: '00000000-0000-4000-8000-000000000000', createdAt: '2026-12-07T05:00:00.000Z' });
      assert.equal(await requests.get('3fa85f64-0000-0000-0000-000000000000'), undefined);
      await assert.rejects(requests.add(asked), 'an id is given out once');
      assert.equal(await requests.deleteOlderThan(new Date('2026-12-07T05:00:00.000Z')), 0, 'nothing older than the cutoff');
      assert.equal(await requests.deleteOlderThan(new Date('2026-12-07T05:00:00.001Z')), 2);
      assert.equal(await requests.get(asked.id), undefined, 'an expired id is unknown (404: Harbor scans again)');
    });
  });
}
