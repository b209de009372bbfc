import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Advisory } from '../domain/advisory.js';
import { isPortcullisError } from '../domain/errors.js';
import type { Inventory } from '../domain/inventory.js';
import { silentEngineContext } from '../engine/context.js';
import type { AdvisoryFeed } from '../feeds/types.js';
import type { AdvisoryLookup } from '../matching/matcher.js';
import { inventoryOf } from '../matching/test-support/real-data.js';
import { buildVulnDb } from '../vulndb/build.js';
import { openVulnDb } from '../vulndb/open.js';
import { Engine, fixedAdvisoryDb, type InventoryStore, type MatchOutcome, type StoredResults } from './engine.js';
import type { DiffableFinding, ManifestDiff } from './finding-diff.js';
import { VulnDbHandle } from './vulndb-handle.js';

function feedOf(advisories: Advisory[]): AdvisoryFeed {
  return { kind: 'advisories', id: 'f', version: 1, description: 'f', upstream: [], recognizes: () => false, parse: () => ({ advisories, skipped: [] }) };
}

/** npm `name` below 1.0.0 is affected. */
function advisory(id: string, name: string): Advisory {
  return {
    id,
    aliases: [],
    feed: 'f',
    severities: [],
    references: [],
    affected: [{ ecosystem: 'npm', namespace: 'npm', packageName: name, nameKind: 'binary', scheme: 'npm', state: 'fixed', ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0.0' }] }], versions: [] }],
  };
}

async function build(path: string, builtAt: string, advisories: Advisory[]): Promise<void> {
  await buildVulnDb(path, [{ feed: feedOf(advisories), files: [], source: 'test', fetchedAt: '2026-11-01T00:00:00.000Z' }], { now: () => new Date(builtAt) });
}

const NPM: AdvisoryLookup = { ecosystem: 'npm', namespace: 'npm', packageNames: ['left-pad'] };
const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;
const DIGEST_GONE = `sha256:${'c'.repeat(64)}`;

function memoryInventories(held: Record<string, Inventory>): InventoryStore & { saved: string[] } {
  const saved: string[] = [];
  return {
    saved,
    load: (digest) => Promise.resolve(held[digest]),
    save: (digest, inventory) => {
      held[digest] = inventory;
      saved.push(digest);
      return Promise.resolve();
    },
  };
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-engine-'));
});
after(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('VulnDbHandle: the advisory store a long-running process holds', () => {
  test('a swap reopens; a leased DB stays open until released, an unleased one is closed at once', async () => {
    const path = join(dir, 'swap.db');
    await build(path, '2026-12-01T00:00:00.000Z', [advisory('A-1', 'left-pad')]);
    const handle = new VulnDbHandle(path);
    try {
      const lease = handle.acquire();
      const unleased = handle.current();
      assert.equal(lease.db, unleased);
      await build(path, '2026-12-02T00:00:00.000Z', [advisory('A-1', 'left-pad'), advisory('A-2', 'left-pad')]);
      const fresh = handle.current();
      assert.equal(fresh.builtAt, '2026-12-02T00:00:00.000Z', 'the swapped file is picked up');
      const [old] = await lease.db.affectedForMany([NPM]);
      assert.deepEqual(old?.map((c) => c.advisory.id), ['A-1'], 'the leased DB still answers from its own build');
      lease.release();
      lease.release();
      assert.throws(() => lease.db.affectedFor('npm', 'npm', ['left-pad']), 'released after the swap: closed');
      const [now] = await fresh.affectedForMany([NPM]);
      assert.deepEqual(now?.map((c) => c.advisory.id), ['A-1', 'A-2']);

      const inUse = handle.use(async (db) => {
        await build(path, '2026-12-03T00:00:00.000Z', [advisory('A-3', 'left-pad')]);
        assert.equal(handle.current().builtAt, '2026-12-03T00:00:00.000Z');
        return (await db.affectedForMany([NPM]))[0]?.map((c) => c.advisory.id);
      });
      assert.deepEqual(await inUse, ['A-1', 'A-2'], 'use() holds its build across a swap');
      assert.throws(() => fresh.affectedFor('npm', 'npm', ['left-pad']), 'and closes it when done');
    } finally {
      handle.close();
    }
  });
});

describe('Engine: index, match and rematch over ports', () => {
  test('index reuses an inventory the store holds for the digest without reading the image', async () => {
    const held = inventoryOf([{ ecosystem: 'npm', name: 'left-pad', version: '0.5.0', path: 'app/node_modules' }]);
    const store = memoryInventories({ [DIGEST_A]: held });
    const engine = new Engine({ inventories: store, context: silentEngineContext({ allowedTransports: ['registry'] }) });
    // An address that cannot resolve: reading the image would fail.
    const [inventory] = await engine.index({ reference: `registry.invalid/app@${DIGEST_A}`, digest: DIGEST_A, reuseStored: true });
    assert.equal(inventory, held);
    await assert.rejects(engine.index({ reference: 'sbom:/etc/hostname' }), (err) => isPortcullisError(err) && err.code !== 'E_INPUT', 'host files are read only when asked (readFiles)');
  });

  test('match needs an advisory store: E_INTERNAL without one', async () => {
    const engine = new Engine({ context: silentEngineContext() });
    await assert.rejects(engine.match(inventoryOf([])), (err) => isPortcullisError(err, 'E_INTERNAL'));
  });

  test('rematch: every stale result re-matched and diffed, a missing inventory a failure, nothing read twice', async () => {
    const path = join(dir, 'rematch.db');
    await build(path, '2026-12-05T00:00:00.000Z', [advisory('A-1', 'left-pad')]);
    const db = openVulnDb(path);
    try {
      const inventories = memoryInventories({
        [DIGEST_A]: inventoryOf([{ ecosystem: 'npm', name: 'left-pad', version: '0.5.0', path: 'app/node_modules' }]),
        [DIGEST_B]: inventoryOf([{ ecosystem: 'npm', name: 'left-pad', version: '1.1.0', path: 'app/node_modules' }]),
      });
      const saved: { digest: string; outcome: MatchOutcome; diff: ManifestDiff }[] = [];
      const marked: string[][] = [];
      const results: StoredResults = {
        matchedBefore: (builtAt) =>
          Promise.resolve([DIGEST_A, DIGEST_B, DIGEST_GONE, `sha256:${'d'.repeat(64)}`].map((digest, i) => ({ digest, matchedDb: i === 3 ? builtAt : '2026-12-01T00:00:00.000Z' })).filter((s) => s.matchedDb !== builtAt)),
        holding: () => Promise.reject(new Error('no change record: nothing to look up')),
        previousFindings: (): Promise<DiffableFinding[]> => Promise.resolve([]),
        saveRematch: (digest, outcome, diff) => {
          saved.push({ digest, outcome, diff });
          return Promise.resolve();
        },
        markCurrent: (digests) => {
          marked.push([...digests]);
          return Promise.resolve();
        },
      };
      const lines: string[] = [];
      const context = silentEngineContext({ logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }) });
      const summary = await new Engine({ advisories: fixedAdvisoryDb(db), inventories, context }).rematch(results);
      assert.deepEqual([summary.db, summary.rematched, summary.untouched], ['2026-12-05T00:00:00.000Z', 2, 0]);
      assert.deepEqual(summary.failures, [{ digest: DIGEST_GONE, reason: `no stored inventory for ${DIGEST_GONE}` }]);
      assert.deepEqual(summary.diffs.map((d) => [d.digest, d.introduced.map((f) => `${f.id} ${f.package}@${f.version}`)]), [[DIGEST_A, ['A-1 left-pad@0.5.0']]]);
      assert.deepEqual(saved.map((s) => [s.digest, s.outcome.matchedDb, s.outcome.report.findings.length]), [
        [DIGEST_A, '2026-12-05T00:00:00.000Z', 1],
        [DIGEST_B, '2026-12-05T00:00:00.000Z', 0],
      ]);
      assert.deepEqual(marked, [[]], 'no change record: nothing is marked current unmatched');
      assert.deepEqual(inventories.saved, [], 'a rematch stores no inventory');
      assert.ok(lines.some((l) => l.includes('"msg":"rematch: done"')));
      assert.ok(lines.some((l) => l.includes('"msg":"rematch: manifest left as it was"')));
    } finally {
      db.close();
    }
  });
});
