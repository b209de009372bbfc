/**
 * Backend health in `/readyz` and `GET /api/v1/backends`, with the real Clair v2 stand-in (its
 * health server on its own port, as `security.clair.health_port`) up, then down; a health port
 * that accepts connections and never answers shows the probe's time bound.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_SERVICE_CONFIG, type ServiceConfig } from '../../src/config/service-config.js';
import { startService, type RunningService } from '../../src/server/start-service.js';
import { CatalogStore } from '../../src/store/catalog.js';
import { createToken } from '../../src/store/tokens.js';
import { importFeeds } from '../../src/vulndb/index.js';
import { startFakeClairV2, type FakeClairV2 } from '../harness/clair-v2.js';
import { sharedData } from '../support/shared-data.js';

interface ScannerCheck {
  name: string;
  kind: string;
  ok: boolean;
  detail: string;
}
interface ReadyBody {
  status: string;
  checks: { database: { ok: boolean }; vulnerabilityDb: { ok: boolean }; backends?: { ok: boolean; error?: string; scanners: ScannerCheck[] } };
}
interface BackendsBody {
  backends: { name: string; kind: string; needs: string; health: { ok: boolean; detail: string; checkedAt: string }; scans: Record<string, number> }[];
}

const quiet = (): Writable => new Writable({ write: (_c, _e, done) => done() });

/** Polls `fn` until it returns a value (not undefined), or fails after a generous deadline. */
async function until<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('backend health: /readyz and GET /api/v1/backends', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-backend-health-'));
  const vulnDbPath = join(dir, 'vuln.db');
  const services: RunningService[] = [];
  const clairs: FakeClairV2[] = [];
  let silent: Server | undefined;
  const sockets = new Set<Socket>();

  before(async () => {
    await importFeeds([sharedData('feeds', 'npm-security-wg')], { target: vulnDbPath });
  });
  after(async () => {
    for (const s of services) await s.close().catch(() => undefined);
    for (const c of clairs) await c.stop().catch(() => undefined);
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => (silent ? silent.close(() => resolve()) : resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function serve(name: string, security: (s: ServiceConfig['security']) => void, probes: { timeoutMs?: number; cacheMs?: number } = { cacheMs: 200 }): Promise<RunningService> {
    const config = structuredClone(DEFAULT_SERVICE_CONFIG);
    security(config.security);
    const data = join(dir, name);
    const service = await startService(config, { env: { PORTCULLIS_DATA_DIR: data, HOME: dir }, listen: '127.0.0.1:0', vulnDbPath, workers: false, logDestination: quiet(), backendProbes: probes });
    services.push(service);
    return service;
  }
  const ready = async (service: RunningService): Promise<{ status: number; body: ReadyBody }> => {
    const res = await fetch(`${service.url}/readyz`);
    return { status: res.status, body: (await res.json()) as ReadyBody };
  };

  test('Clair v2 up: each backend healthy in /readyz; the API lists kind, needs, health and scan counts per state (scope read)', async () => {
    const clair = await startFakeClairV2();
    clairs.push(clair);
    const service = await serve('up', (s) => {
      s.clair = { server: clair.url, health_port: clair.healthPort, timeout: 900 };
      s.dummy = { server: 'builtin' };
    });
    const { status, body } = await ready(service);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.status, 'ready');
    assert.deepEqual(
      body.checks.backends?.scanners.map((s) => [s.name, s.kind, s.ok]),
      [
        ['embedded', 'embedded', true],
        ['clair', 'external', true],
        ['dummy', 'external', true],
      ],
    );
    assert.equal(body.checks.backends?.scanners[1]?.detail, 'clair is reachable');

    const catalog = new CatalogStore(service.store);
    const [a, b, c] = ['a', 'b', 'c'].map((x) => `sha256:${x.repeat(64)}`) as [string, string, string];
    await catalog.queueScan(a, 'clair');
    await catalog.failScan(a, 'clair', 'failed', 'clair is not reachable');
    await catalog.queueScan(b, 'clair');
    await catalog.queueScan(c, 'clair');
    await catalog.startScan(c, 'clair');
    await catalog.queueScan(a, 'dummy');
    await catalog.finishScan(a, 'dummy', { packages: [] }, {});
    await catalog.queueScan(b, 'dummy');
    await catalog.failScan(b, 'dummy', 'unsupported', 'no');

    assert.equal((await fetch(`${service.url}/api/v1/backends`)).status, 401, 'not without a token');
    const token = await createToken(service.store, 'reader', 'read');
    const res = await fetch(`${service.url}/api/v1/backends`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const api = (await res.json()) as BackendsBody;
    assert.deepEqual(
      api.backends.map((x) => ({ name: x.name, kind: x.kind, needs: x.needs, ok: x.health.ok, scans: x.scans })),
      [
        { name: 'embedded', kind: 'embedded', needs: 'local-bytes', ok: true, scans: { queued: 0, scanning: 0, scanned: 0, failed: 0, unsupported: 0 } },
        { name: 'clair', kind: 'external', needs: 'layer-urls', ok: true, scans: { queued: 1, scanning: 1, scanned: 0, failed: 1, unsupported: 0 } },
        { name: 'dummy', kind: 'external', needs: 'image-name', ok: true, scans: { queued: 0, scanning: 0, scanned: 1, failed: 0, unsupported: 1 } },
      ],
    );
    assert.match(api.backends[0]?.health.detail ?? '', /vulnerability DB .* opens/);

    // Clair goes down: shown in the details, but the service stays ready (the others still scan).
    await clair.stop();
    const down = await until('clair shown down', async () => {
      const r = await ready(service);
      return r.body.checks.backends?.scanners.find((s) => s.name === 'clair')?.ok === false ? r : undefined;
    });
    assert.equal(down.status, 200);
    assert.equal(down.body.status, 'ready');
    assert.equal(down.body.checks.backends?.ok, true);
    assert.match(down.body.checks.backends?.scanners.find((s) => s.name === 'clair')?.detail ?? '', /^clair is not reachable: /);
    const apiDown = (await (await fetch(`${service.url}/api/v1/backends`, { headers: { authorization: `Bearer ${token}` } })).json()) as BackendsBody;
    assert.equal(apiDown.backends.find((x) => x.name === 'clair')?.health.ok, false);
  });

  test('no scanner usable (the embedded scanner off, Clair down): /readyz is 503 saying so', async () => {
    const clair = await startFakeClairV2();
    clairs.push(clair);
    const service = await serve('only-clair', (s) => {
      s.embedded = { enabled: false };
      s.clair = { server: clair.url, health_port: clair.healthPort, timeout: 900 };
    });
    assert.equal((await ready(service)).status, 200, 'ready while Clair is up');
    await clair.stop();
    const down = await until('503', async () => {
      const r = await ready(service);
      return r.status === 503 ? r : undefined;
    });
    assert.equal(down.body.status, 'unavailable');
    assert.equal(down.body.checks.database.ok, true);
    assert.equal(down.body.checks.vulnerabilityDb.ok, true);
    assert.deepEqual(
      { ok: down.body.checks.backends?.ok, error: down.body.checks.backends?.error, scanners: down.body.checks.backends?.scanners.map((s) => [s.name, s.ok]) },
      { ok: false, error: 'no scanner backend is usable', scanners: [['clair', false]] },
    );
  });

  test('a health port that never answers: the probe gives up at its bound and the answer is reused, not asked again per request', async () => {
    let asked = 0;
    silent = createServer((req) => {
      asked++;
      sockets.add(req.socket);
    });
    await new Promise<void>((resolve) => silent?.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    assert.ok(address !== null && typeof address === 'object');
    const service = await serve(
      'silent',
      (s) => {
        s.clair = { server: 'http://127.0.0.1:9', health_port: address.port, timeout: 900 };
      },
      { timeoutMs: 300, cacheMs: 60_000 },
    );
    const first = await ready(service);
    assert.equal(asked, 1, 'the health port was asked');
    assert.equal(first.status, 200, 'the embedded scanner is usable');
    const clair = first.body.checks.backends?.scanners.find((s) => s.name === 'clair');
    assert.equal(clair?.ok, false);
    assert.equal(clair?.detail, 'clair: no answer to the health probe within 300 ms');
    await Promise.all(Array.from({ length: 20 }, () => ready(service)));
    assert.equal(asked, 1, 'not asked again for 20 more /readyz calls within the cache period');
  });
});
