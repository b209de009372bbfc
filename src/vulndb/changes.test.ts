import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { osvFeed } from '../feeds/osv/index.js';
import type { FeedFile } from '../feeds/types.js';
import { feedFiles } from '../matching/test-support/real-data.js';
import { buildVulnDb, openVulnDb } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-changes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Real PyPA advisories of three packages (OSV JSON files only). */
function pypi(...packages: string[]): FeedFile[] {
  return packages.flatMap((p) => feedFiles('osv', 'PyPI', p).filter((f) => f.name.endsWith('.json')));
}

async function build(target: string, files: FeedFile[], at: string): Promise<void> {
  await buildVulnDb(target, [{ feed: osvFeed, files, source: 'test:osv', fetchedAt: at }], { now: () => new Date(at) });
}

function changesOf(target: string): { since: string; packages: string[] } | undefined {
  const db = openVulnDb(target);
  try {
    const c = db.changes();
    return c === undefined ? undefined : { since: c.since, packages: c.packages.map((p) => `${p.ecosystem}/${p.key}`) };
  } finally {
    db.close();
  }
}

test('a DB build records which packages changed since the DB it replaced', async () => {
  const target = join(dir, 'vuln.db');
  const base = pypi('ansible', 'apache-airflow', 'apache-atlas');
  await build(target, base, '2026-12-01T00:00:00.000Z');
  assert.equal(changesOf(target), undefined, 'a first build has nothing to compare with: consumers re-match everything');

  await build(target, base, '2026-12-02T00:00:00.000Z');
  assert.deepEqual(changesOf(target), { since: '2026-12-01T00:00:00.000Z', packages: [] }, 'the same data again: nothing to re-match');

  // One airflow advisory rewritten (its details text: any byte counts), the atlas ones withdrawn from the feed.
  const airflowIndex = base.findIndex((f) => f.name.includes('apache-airflow'));
  const edited = base.map((f, i) => {
    if (i !== airflowIndex) return f;
    const record = JSON.parse(f.bytes.toString('utf8')) as { details?: string };
    return { ...f, bytes: Buffer.from(JSON.stringify({ ...record, details: `${record.details ?? ''} (updated)` })) };
  });
  await build(target, edited.filter((f) => !f.name.includes('apache-atlas')), '2026-12-03T00:00:00.000Z');
  assert.deepEqual(changesOf(target), { since: '2026-12-02T00:00:00.000Z', packages: ['pypi/apache-airflow', 'pypi/apache-atlas'] });
});

test('a DB of another format or schema beside the target is not compared with', async () => {
  const target = join(dir, 'other.db');
  writeFileSync(target, 'not a database');
  await build(target, pypi('ansible'), '2026-12-01T00:00:00.000Z');
  assert.equal(changesOf(target), undefined);
});
