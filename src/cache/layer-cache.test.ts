import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LayerCache } from './layer-cache.js';
import type { DetectorLayerResult } from '../layers/layer-result.js';

const digest = 'sha256:' + 'ab'.repeat(32);
const result: DetectorLayerResult = {
  detector: 'dpkg',
  version: 3,
  files: [{ path: 'var/lib/dpkg/status', output: { packages: [{ ecosystem: 'deb', name: 'bash', version: '5.2.15-2+b2', path: 'var/lib/dpkg/status' }] } }],
  links: [],
};

async function withCache(fn: (cache: LayerCache, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-cache-test-'));
  try {
    await fn(new LayerCache(dir), dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function entryFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) if (e.isFile()) out.push(join(e.parentPath, e.name));
  return out;
}

describe('LayerCache', () => {
  test('returns what was stored, keyed by digest and detector@version', async () => {
    await withCache(async (cache) => {
      await cache.putDetector(digest, result);
      await cache.putDeletions(digest, { whiteouts: ['etc/x'], opaqueDirs: [] });
      assert.deepEqual(await cache.getDetector(digest, 'dpkg', 3), result);
      assert.deepEqual(await cache.getDeletions(digest), { whiteouts: ['etc/x'], opaqueDirs: [] });
      assert.equal(await cache.getDetector(digest, 'dpkg', 4), undefined, 'a new detector version misses');
      assert.equal(await cache.getDetector('sha256:' + 'cd'.repeat(32), 'dpkg', 3), undefined, 'another layer misses');
    });
  });

  test('a tampered or truncated entry is discarded, not trusted', async () => {
    await withCache(async (cache, dir) => {
      await cache.putDetector(digest, result);
      const [file] = await entryFiles(dir);
      assert.ok(file);
      const text = await readFile(file, 'utf8');
      await writeFile(file, text.replace('5.2.15-2+b2', '9.9.9'));
      assert.equal(await cache.getDetector(digest, 'dpkg', 3), undefined);
      assert.deepEqual(await entryFiles(dir), [], 'the corrupt entry was deleted');
      assert.equal(cache.discarded.length, 1);

      await cache.putDetector(digest, result);
      const [again] = await entryFiles(dir);
      assert.ok(again);
      await writeFile(again, (await readFile(again, 'utf8')).slice(0, 40));
      assert.equal(await cache.getDetector(digest, 'dpkg', 3), undefined);
    });
  });
});
