/**
 * Catalog reconciliation against a real Docker Distribution registry: what was pushed while the
 * service was not listening is found, tags moved or deleted in the registry follow, and the
 * strategies decide whether anything is deleted.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { syncAtStart, syncCatalog, syncDeletes, syncRepeats } from '../../src/service/catalog-sync.js';
import { EMBEDDED_BACKEND } from '../../src/service/embedded-backend.js';
import type { EventProcessorDeps } from '../../src/service/event-processor.js';
import { registryAccess } from '../../src/service/registry-access.js';
import { CatalogStore } from '../../src/store/catalog.js';
import { JobQueue } from '../../src/store/jobs.js';
import { openStore, type Store } from '../../src/store/open-store.js';
import { testImages } from '../harness/images.js';
import { pushImage, startRegistry, type RunningRegistry } from '../harness/registry.js';

describe('catalog sync', () => {
  const work = mkdtempSync(join(tmpdir(), 'portcullis-sync-'));
  let registry: RunningRegistry;
  let store: Store;
  let deps: EventProcessorDeps;
  const { minbase, lang } = testImages().images;

  before(async () => {
    registry = await startRegistry();
    await pushImage(minbase.ociReference, `${registry.host}/team/a:1`);
    await pushImage(minbase.ociReference, `${registry.host}/team/a:2`);
    await pushImage(lang.ociReference, `${registry.host}/team/b:1`);
    store = await openStore({ kind: 'sqlite', file: join(work, 'app.sqlite') });
    deps = { catalog: new CatalogStore(store), queue: new JobQueue(store), registry: registryAccess({ url: registry.url, username: '', password: '' }), backends: [EMBEDDED_BACKEND, 'clair'] };
  });
  after(async () => {
    await store?.close();
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('the strategies, as Portus defines them', async () => {
    assert.equal(await syncAtStart('initial', deps.catalog), true, 'initial: the catalog is empty');
    assert.equal(await syncAtStart('on-start', deps.catalog), true);
    assert.deepEqual(['initial', 'on-start', 'update', 'update-delete'].map((s) => [syncRepeats(s as 'update'), syncDeletes(s as 'update')]), [
      [false, true],
      [false, true],
      [true, false],
      [true, true],
    ]);
  });

  test('a first run finds every repository and tag, and queues one scan per digest and backend', async () => {
    const summary = await syncCatalog(deps, { deletes: true, pageSize: 1 });
    assert.deepEqual(summary, { repositories: 2, tagsAdded: 3, tagsMoved: 0, tagsRemoved: 0, repositoriesRemoved: 0, scansQueued: 2, failures: [] });
    assert.deepEqual((await deps.catalog.tags('team/a')).map((t) => [t.name, t.digest]), [
      ['1', minbase.manifestDigest],
      ['2', minbase.manifestDigest],
    ]);
    assert.deepEqual(await deps.queue.counts(), { ready: 4, running: 0, done: 0, failed: 0 }, '2 digests x 2 backends');
    assert.equal(await syncAtStart('initial', deps.catalog), false, 'initial: not again once the catalog has content');
    const again = await syncCatalog(deps, { deletes: true });
    assert.deepEqual([again.tagsAdded, again.tagsMoved, again.scansQueued], [0, 0, 0], 'a second run changes nothing');
  });

  test('a tag moved and a manifest deleted in the registry: update follows the move only, update-delete also the delete', async () => {
    await pushImage(lang.ociReference, `${registry.host}/team/a:2`);
    const res = await fetch(`${registry.url}/v2/team/b/manifests/${lang.manifestDigest}`, { method: 'DELETE' });
    await res.arrayBuffer();
    assert.equal(res.status, 202);

    const update = await syncCatalog(deps, { deletes: false });
    assert.deepEqual([update.tagsMoved, update.tagsRemoved, update.scansQueued], [1, 0, 0], 'lang was queued already');
    assert.deepEqual((await deps.catalog.tags('team/b')).map((t) => t.name), ['1'], 'update never deletes');

    const full = await syncCatalog(deps, { deletes: true });
    assert.deepEqual([full.tagsRemoved, full.repositoriesRemoved, full.failures], [1, 1, []]);
    assert.deepEqual(await deps.catalog.tags('team/b'), []);
    assert.deepEqual((await deps.catalog.tags('team/a')).map((t) => [t.name, t.digest]), [
      ['1', minbase.manifestDigest],
      ['2', lang.manifestDigest],
    ]);
  });

  test('an unreachable registry: a failure entry, and nothing in the catalog is deleted', async () => {
    const down = { ...deps, registry: registryAccess({ url: 'http://127.0.0.1:1', username: '', password: '' }) };
    const before = await deps.catalog.repositories();
    const summary = await syncCatalog(down, { deletes: true });
    assert.equal(summary.failures.length, 1);
    assert.equal(summary.failures[0]?.repository, '_catalog');
    assert.deepEqual(await deps.catalog.repositories(), before);
  });
});
