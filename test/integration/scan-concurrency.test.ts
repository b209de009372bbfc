/**
 * One manifest's backends are scanned side by side: the worker's concurrency is per backend, so
 * the three scans queued for one push (embedded, clair, dummy) all start before any of them ends,
 * with the default concurrency of 2. Each runner here waits until all three have started, so a
 * worker that ran them two at a time would never finish the first two (the test fails at its
 * deadline). Scans of a backend the worker does not run stay queued for a worker that does.
 * On SQLite and on a real PostgreSQL 15 cluster (the claim's key filter is SQL on both).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { queueScans } from '../../src/service/event-processor.js';
import { ScanWorker, type BackendRunner } from '../../src/service/scan-worker.js';
import { CatalogStore } from '../../src/store/catalog.js';
import { JobQueue } from '../../src/store/jobs.js';
import { openStore, type Store, type StoreLocation } from '../../src/store/open-store.js';
import { startPostgres, type RunningPostgres } from '../harness/postgres.js';

const DIGEST = `sha256:${'e'.repeat(64)}`;
const OTHER = `sha256:${'f'.repeat(64)}`;

/** Runners that each wait (up to a generous deadline) until every one of `names` has started. */
function barrierRunners(names: readonly string[]): { runners: Map<string, BackendRunner>; started: string[] } {
  const started: string[] = [];
  const waiting: (() => void)[] = [];
  const runners = new Map<string, BackendRunner>();
  for (const name of names) {
    runners.set(name, async (job) => {
      started.push(`${job.backend}@${job.digest.slice(7, 9)}`);
      if (started.length < names.length) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`${name}: the other backends never started (started: ${started.join(', ')})`)), 30_000);
          waiting.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      } else for (const release of waiting.splice(0)) release();
      return { report: { backend: name }, counts: {} };
    });
  }
  return { runners, started };
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`scan worker: one manifest's backends run concurrently (${dialect})`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-scan-concurrency-'));
    let pg: RunningPostgres | undefined;
    let location: StoreLocation;
    const stores: Store[] = [];
    before(async () => {
      if (dialect === 'postgres') {
        pg = await startPostgres();
        location = { kind: 'postgres', url: await pg.createDatabase('scan_concurrency') };
      } else location = { kind: 'sqlite', file: join(dir, 'app.db') };
    });
    after(async () => {
      for (const s of stores) await s.close();
      await pg?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('three backends, default concurrency: all three scans of a push are running at once, and each is stored', async () => {
      const store = await openStore(location);
      stores.push(store);
      const queue = new JobQueue(store);
      const catalog = new CatalogStore(store);
      const backends = ['embedded', 'clair', 'dummy'];
      assert.deepEqual(await queueScans('team/app', [DIGEST], { catalog, queue, backends: [...backends, 'zypper'] }), [DIGEST]);
      const { runners, started } = barrierRunners(backends);
      const worker = new ScanWorker({ queue, catalog, runners });
      assert.equal(await worker.drain(), 3);
      assert.deepEqual([...started].sort(), ['clair@ee', 'dummy@ee', 'embedded@ee']);
      assert.deepEqual(
        (await catalog.scans(DIGEST)).map((s) => `${s.backend}:${s.status}`),
        ['clair:scanned', 'dummy:scanned', 'embedded:scanned', 'zypper:queued'],
        'the zypper scan waits for a worker that runs zypper',
      );
      assert.deepEqual(await queue.claim('zypper-worker', { keyPrefix: 'scan:zypper:' }).then((jobs) => jobs.map((j) => j.payload)), [{ repository: 'team/app', digest: DIGEST, backend: 'zypper' }]);
    });

    test("the concurrency bound holds per backend: two manifests' embedded scans at concurrency 1 run one after the other", async () => {
      const store = await openStore(location);
      stores.push(store);
      const queue = new JobQueue(store);
      const catalog = new CatalogStore(store);
      await queueScans('team/other', [OTHER, DIGEST.replace(/e/g, 'd')], { catalog, queue, backends: ['embedded'] });
      let running = 0;
      let most = 0;
      const runner: BackendRunner = async () => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setImmediate(r));
        running--;
        return { report: {}, counts: {} };
      };
      const worker = new ScanWorker({ queue, catalog, runners: new Map([['embedded', runner]]), concurrency: 1 });
      assert.equal(await worker.drain(), 2);
      assert.equal(most, 1);
    });
  });
}
