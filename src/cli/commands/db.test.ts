import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedData } from '../../../test/support/shared-data.js';
import { isPortcullisError } from '../../domain/errors.js';
import { dbCommand } from './db.js';

/** Runs `db ...` in-process and returns what it printed on standard output. */
async function run(args: string[]): Promise<string> {
  const chunks: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  // The command writes strings; the test runner's own protocol goes through as bytes and is passed on.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    if (typeof chunk !== 'string') return (original as (c: Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    chunks.push(chunk);
    const cb = rest.find((r) => typeof r === 'function') as ((err?: Error) => void) | undefined;
    cb?.();
    return true;
  }) as typeof process.stdout.write;
  try {
    const cmd = dbCommand();
    cmd.exitOverride();
    for (const sub of cmd.commands) sub.exitOverride();
    await cmd.parseAsync(args, { from: 'user' });
  } finally {
    process.stdout.write = original;
  }
  return chunks.join('');
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-dbcli-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('portcullis db', () => {
  test('import then status (table and JSON)', async () => {
    const path = join(dir, 'cli.db');
    const imported = await run(['import', '--db', path, sharedData('feeds', 'npm-security-wg'), sharedData('feeds', 'wolfi-secdb')]);
    assert.match(imported, new RegExp(`^wrote ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(309 advisories`));

    const table = await run(['status', '--db', path]);
    const lines = table.trimEnd().split('\n');
    assert.equal(lines[0], `database ${path}`);
    assert.match(lines[1] ?? '', /^built at \d{4}-\d\d-\d\dT.*Z, schema version 1$/);
    // The frozen npm feed does not count; wolfi's records are undated, so its import time decides.
    assert.equal(lines[2], 'data age: 0h, that of its freshest live feed, wolfi-secdb (what --max-db-age is checked against)');
    assert.deepEqual(lines[3]?.split(/\s{2,}/), ['FEED', 'RECORDS', 'SKIPPED', 'NEWEST RECORD', 'FETCHED', 'DATA AGE', 'SOURCE']);
    const rows = lines.slice(4).map((l) => l.split(/\s{2,}/));
    assert.deepEqual(
      rows.map((r) => r.slice(0, 4)),
      [
        ['npm-security-wg', '250', '0', '2020-07-13'],
        ['wolfi-secdb', '59', '0', '-'],
      ],
    );
    assert.deepEqual(
      rows.map((r) => r[5]),
      ['frozen since 2023-01-23', '0h (fetched)'],
    );
    assert.equal(rows[0]?.[6], `import:${sharedData('feeds', 'npm-security-wg')}`);

    const json = JSON.parse(await run(['status', '--db', path, '--json'])) as {
      path: string;
      schemaVersion: number;
      dataAge: { hours: number | null; decidedBy?: string };
      feeds: { feed: string; recordCount: number; skipped: number; newestRecord?: string; source: string; fetchedAt: string; status: string; dataAsOf?: string; ageBasis: string; ageHours: number | null }[];
    };
    assert.equal(json.dataAge.decidedBy, 'wolfi-secdb');
    assert.deepEqual(
      json.feeds.map((f) => [f.feed, f.status, f.ageBasis, f.dataAsOf === f.fetchedAt]),
      [
        ['npm-security-wg', 'frozen', 'fetched', true],
        ['wolfi-secdb', 'live', 'fetched', true],
      ],
    );
    assert.equal(json.path, path);
    assert.equal(json.schemaVersion, 1);
    assert.deepEqual(
      json.feeds.map((f) => [f.feed, f.recordCount, f.skipped, f.newestRecord]),
      [
        ['npm-security-wg', 250, 0, '2020-07-13T00:00:00.000Z'],
        ['wolfi-secdb', 59, 0, undefined],
      ],
    );
  });

  test('status of a missing DB is E_DB', async () => {
    await assert.rejects(run(['status', '--db', join(dir, 'none.db')]), (err) => isPortcullisError(err, 'E_DB'));
  });

  test('update of an unknown feed is E_USAGE', async () => {
    await assert.rejects(run(['update', '--db', join(dir, 'u.db'), '--feed', 'nope', '--quiet']), (err) => isPortcullisError(err, 'E_USAGE'));
  });
});
