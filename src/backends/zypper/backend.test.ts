import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isPortcullisError } from '../../domain/errors.js';
import { backendRunner } from '../../service/backends.js';
import { queueScans } from '../../service/event-processor.js';
import { registryAccess } from '../../service/registry-access.js';
import { ScanWorker } from '../../service/scan-worker.js';
import { CatalogStore } from '../../store/catalog.js';
import { JobQueue } from '../../store/jobs.js';
import { openStore, type Store } from '../../store/open-store.js';
import type { BackendReport, ScanTarget } from '../types.js';
import { ZypperBackend } from './backend.js';

/**
 * A zypper-docker server as Portus's driver saw it: the first ask for an image answers 202 (still
 * working), later ones 200 with `Security` and `List[]` (`Name`, `Version`, `IsSecurity`,
 * `Severity`, `Summary`, `Category`, as `zypper-docker list-patches` fields are named).
 */
function zypperServer(): { server: Server; asked: string[]; answer: { status: number; body: string } | undefined } {
  const state: { server: Server; asked: string[]; answer: { status: number; body: string } | undefined } = { server: undefined as unknown as Server, asked: [], answer: undefined };
  state.server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://zypper.invalid');
    const image = url.searchParams.get('image') ?? '';
    state.asked.push(image);
    if (state.answer !== undefined) {
      res.writeHead(state.answer.status, { 'content-type': 'application/json' });
      res.end(state.answer.body);
      return;
    }
    if (state.asked.filter((i) => i === image).length === 1) {
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end('{}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        Count: 3,
        Security: 2,
        List: [
          { Name: 'openSUSE-SLE-15.5-2024-123', Version: '1', Category: 'security', Severity: 'important', Summary: 'Security update for openssl-3', IsSecurity: true },
          { Name: 'openSUSE-SLE-15.5-2024-200', Version: '1', Category: 'recommended', Severity: 'moderate', Summary: 'Recommended update for zypper', IsSecurity: false },
          { Name: 'openSUSE-SLE-15.5-2024-77', Version: '2', Category: 'security', Severity: 'low', Summary: 'Security update for glibc', IsSecurity: true },
        ],
      }),
    );
  });
  return state;
}

const target = (tags: string[]): ScanTarget => ({
  repository: 'suse/app',
  digest: `sha256:${'a'.repeat(64)}`,
  tags,
  registry: {
    reference: 'unused',
    imageOptions: {},
    layers: () => Promise.reject(new Error('zypper-docker reads images by name')),
    authorization: () => Promise.reject(new Error('zypper-docker reads images by name')),
  },
});

describe('zypper-docker backend', () => {
  const work = mkdtempSync(join(tmpdir(), 'portcullis-zypper-'));
  const zypper = zypperServer();
  let url = '';
  let store: Store;

  before(async () => {
    await new Promise<void>((resolve) => zypper.server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(zypper.server.address() as AddressInfo).port}`;
    store = await openStore({ kind: 'sqlite', file: join(work, 'app.sqlite') });
  });
  after(async () => {
    await store?.close();
    await new Promise((resolve) => zypper.server.close(resolve));
    rmSync(work, { recursive: true, force: true });
  });

  test('202 keeps the scan queued (polled again after the backoff); the later 200 stores the security patches', async () => {
    let now = Date.now();
    const queue = new JobQueue(store, { now: () => new Date(now) });
    const catalog = new CatalogStore(store);
    const digest = `sha256:${'b'.repeat(64)}`;
    await catalog.recordManifest({ digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', kind: 'image', size: 1 });
    await catalog.setTag('suse/app', '15.5', digest);
    const runner = backendRunner(new ZypperBackend({ server: url }), { registry: registryAccess({ url: 'http://127.0.0.1:1', username: '', password: '' }), catalog });
    const worker = new ScanWorker({ queue, catalog, runners: new Map([['zypper', runner]]) });
    assert.deepEqual(await queueScans('suse/app', [digest], { catalog, queue, backends: ['zypper'] }), [digest]);

    assert.equal(await worker.drain(), 1);
    let [scan] = await catalog.scans(digest);
    assert.equal(scan?.status, 'queued', 'still working is not a result');
    assert.match(scan?.reason ?? '', /^still working since \S+, asking again later: zypper: still working on suse\/app:15\.5 \[E_PENDING\]$/);
    assert.equal(scan?.report, null);
    assert.equal(await worker.drain(), 0, 'not asked again before the backoff');

    now += 60_000;
    assert.equal(await worker.drain(), 1);
    [scan] = await catalog.scans(digest);
    assert.equal(scan?.status, 'scanned', scan?.reason ?? '');
    assert.deepEqual(zypper.asked, ['suse/app:15.5', 'suse/app:15.5']);
    const report = JSON.parse(scan?.report ?? '{}') as BackendReport;
    assert.equal(report.packageCount, 3);
    assert.deepEqual(
      report.packages.map((p) => `${p.name}: ${p.vulnerabilities.map((v) => `${v.id} ${v.severity}/${v.backendSeverity} ${v.description ?? ''}`).join()}`),
      ['openSUSE-SLE-15.5-2024-123: openSUSE-SLE-15.5-2024-123 High/important Security update for openssl-3', 'openSUSE-SLE-15.5-2024-77: openSUSE-SLE-15.5-2024-77 Low/low Security update for glibc'],
    );
    assert.deepEqual(scan?.counts, { High: 1, Low: 1 });
  });

  test('202 after 202 uses up no attempts: more answers than max attempts keep the scan queued; past the pending limit it fails with the reason', async () => {
    zypper.answer = { status: 202, body: '{}' };
    let now = Date.parse('2026-12-01T00:00:00.000Z');
    const clock = (): Date => new Date(now);
    const queue = new JobQueue(store, { now: clock, backoffBaseMs: 1_000, backoffMaxMs: 1_000 });
    const catalog = new CatalogStore(store);
    const digest = `sha256:${'c'.repeat(64)}`;
    await catalog.recordManifest({ digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', kind: 'image', size: 1 });
    await catalog.setTag('suse/slow', '1', digest);
    const runner = backendRunner(new ZypperBackend({ server: url }), { registry: registryAccess({ url: 'http://127.0.0.1:1', username: '', password: '' }), catalog });
    const worker = new ScanWorker({ queue, catalog, runners: new Map([['zypper', runner]]), now: clock, maxPendingMs: () => 100_000 });
    await queueScans('suse/slow', [digest], { catalog, queue, backends: ['zypper'] });
    const { id } = await queue.enqueue({ kind: 'scan', payload: {}, dedupeKey: `scan:zypper:${digest}` });

    for (let asked = 1; asked <= 8; asked++) {
      assert.equal(await worker.drain(), 1);
      const [scan] = await catalog.scans(digest);
      assert.equal(scan?.status, 'queued', `answer ${asked}: still working is neither a result nor a failure`);
      assert.equal((await queue.get(id))?.attempts, 0, `answer ${asked}: no attempt used`);
      now += 10_000;
    }
    now += 60_000;
    assert.equal(await worker.drain(), 1);
    const [scan] = await catalog.scans(digest);
    assert.equal(scan?.status, 'failed');
    assert.match(scan?.reason ?? '', /^zypper was still working after 140 s \(limit 100 s\): zypper: still working on suse\/slow:1 \[E_PENDING\]$/);
    assert.equal((await queue.get(id))?.status, 'failed');
    assert.equal(await worker.drain(), 0);
    zypper.answer = undefined;
  });

  test('Security 0 or null: no findings, as Portus read it', async () => {
    zypper.answer = { status: 200, body: JSON.stringify({ Security: 0, List: [{ Name: 'p', IsSecurity: true }] }) };
    assert.deepEqual(await new ZypperBackend({ server: url }).scan(target(['1']), new AbortController().signal), { packages: [], packageCount: 1 });
    zypper.answer = { status: 200, body: JSON.stringify({ Security: null, List: null }) };
    assert.deepEqual(await new ZypperBackend({ server: url }).scan(target(['1']), new AbortController().signal), { packages: [], packageCount: 0 });
  });

  test('an error status, a non-JSON body or a body of another shape fail the scan with the reason', async () => {
    const scan = () => new ZypperBackend({ server: url }).scan(target([]), new AbortController().signal);
    zypper.answer = { status: 500, body: JSON.stringify({ Error: 'docker daemon not running' }) };
    await assert.rejects(scan(), (err: unknown) => isPortcullisError(err, 'E_INTERNAL') && err.message === `zypper: GET /images?image=suse/app@sha256:${'a'.repeat(64)} answered 500: docker daemon not running`);
    zypper.answer = { status: 200, body: 'Internal error' };
    await assert.rejects(scan(), (err: unknown) => isPortcullisError(err, 'E_INTERNAL') && /answered 200 with a body that is not JSON: Internal error/.test(err.message));
    zypper.answer = { status: 200, body: JSON.stringify({ Security: 1, List: [{ IsSecurity: true }] }) };
    await assert.rejects(scan(), (err: unknown) => isPortcullisError(err, 'E_INTERNAL') && /unexpected answer: at List\[0\]\.Name: /.test(err.message));
    zypper.answer = undefined;
  });

  test('an unreachable server fails with E_UNREACHABLE; health says so', async () => {
    const down = new ZypperBackend({ server: 'http://127.0.0.1:1' });
    await assert.rejects(down.scan(target(['1']), new AbortController().signal), (err: unknown) => isPortcullisError(err, 'E_UNREACHABLE'));
    assert.equal((await down.health()).ok, false);
    assert.deepEqual(await new ZypperBackend({ server: url }).health(), { ok: true, detail: 'zypper-docker answered 202' });
  });
});
