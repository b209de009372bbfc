/**
 * Durability of the scan queue across processes: `portcullis worker` processes sharing one
 * PostgreSQL 15 database (a throwaway cluster the harness starts) and a real registry with the
 * real test images. A worker killed with SIGKILL in the middle of a scan stops renewing its lease;
 * a second worker claims the job once the lease has passed and completes it: every scan done
 * exactly once, the killed one on its second attempt.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore, type Store } from '../../src/store/open-store.js';
import { importFeeds } from '../../src/vulndb/index.js';
import { testImages } from '../harness/images.js';
import { startPostgres, type RunningPostgres } from '../harness/postgres.js';
import { pushImage, startRegistry, type RunningRegistry } from '../harness/registry.js';
import { repoRoot, sharedData } from '../support/shared-data.js';

describe('portcullis worker: a worker killed mid-scan', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-failover-'));
  const { minbase, lang } = testImages().images;
  let pg: RunningPostgres;
  let registry: RunningRegistry;
  let store: Store;
  let configFile = '';
  const children: ChildProcess[] = [];

  const startWorker = (): { child: ChildProcess; log: () => string } => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test', 'support', 'cli.ts'), 'worker', '--config', configFile], {
      cwd: repoRoot,
      env: { ...process.env, HOME: dir, PORTCULLIS_DB: join(dir, 'vuln.db') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (log += d));
    children.push(child);
    return { child, log: () => log };
  };
  const until = async <T>(what: string, probe: () => Promise<T | undefined>, logs: () => string): Promise<T> => {
    const deadline = Date.now() + 180_000;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; worker logs:\n${logs().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  before(async () => {
    pg = await startPostgres();
    const url = await pg.createDatabase('failover');
    registry = await startRegistry();
    await pushImage(minbase.ociReference, `${registry.host}/team/minbase:1`);
    await pushImage(lang.ociReference, `${registry.host}/team/lang:1`);
    await importFeeds([sharedData('feeds', 'osv', 'Go'), sharedData('feeds', 'npm-security-wg')], { target: join(dir, 'vuln.db') });
    configFile = join(dir, 'portcullis.yaml');
    writeFileSync(
      configFile,
      [
        `database: { url: "${url}" }`,
        `registry: { url: "${registry.url}", catalog_sync: { strategy: "on-start" } }`,
        // One scan at a time and a short lease, so the test sees a scan in flight and waits little for the lease.
        'workers: { concurrency: 1, lease: "3s" }',
        '',
      ].join('\n'),
    );
    store = await openStore({ kind: 'postgres', url });
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await store?.close();
    await registry?.stop();
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('SIGKILL mid-scan: the other worker completes the job once the lease has passed; no scan runs twice to completion', async () => {
    const first = startWorker();
    // In flight: the scan row says scanning (the worker has claimed the job and started reading the image).
    const scanning = await until(
      'a scan in flight',
      async () => (await store.db.selectFrom('scans').select('manifest_digest').where('status', '=', 'scanning').executeTakeFirst()) ?? undefined,
      first.log,
    );
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    const running = await store.db.selectFrom('jobs').select(['id', 'locked_by', 'payload', 'status']).where('status', '=', 'running').execute();
    const inFlight = running.find((j) => (JSON.parse(j.payload) as { digest: string }).digest === scanning.manifest_digest);
    assert.ok(inFlight, `the job of ${scanning.manifest_digest} was running when the worker died`);
    assert.equal((await store.db.selectFrom('scans').select('status').where('manifest_digest', '=', scanning.manifest_digest).executeTakeFirst())?.status, 'scanning', 'killed in the middle of the scan');

    const second = startWorker();
    const logs = (): string => `${first.log()}\n--- second worker ---\n${second.log()}`;
    await until(
      'both images scanned',
      async () => {
        const rows = await store.db.selectFrom('scans').select(['manifest_digest', 'status']).where('status', '=', 'scanned').execute();
        return rows.length === 2 ? rows : undefined;
      },
      logs,
    );
    const jobs = await store.db.selectFrom('jobs').select(['id', 'status', 'attempts', 'locked_by', 'payload']).orderBy('id').execute();
    assert.equal(jobs.length, 2, 'one job per image: the restart of the catalog sync queued nothing twice');
    assert.ok(jobs.every((j) => j.status === 'done'));
    const retried = jobs.find((j) => j.id === inFlight.id);
    assert.equal(retried?.attempts, 2, 'the killed attempt and the one that completed it');
    assert.notEqual(retried?.locked_by, inFlight.locked_by, 'completed by the other worker');
    const digests = jobs.map((j) => (JSON.parse(j.payload) as { digest: string }).digest).sort();
    assert.deepEqual(digests, [minbase.manifestDigest, lang.manifestDigest].sort());

    second.child.kill('SIGTERM');
    const [code] = (await once(second.child, 'exit')) as [number | null];
    assert.equal(code, 0, 'SIGTERM stops a worker cleanly');
  });
});
