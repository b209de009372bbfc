import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PortcullisError } from '../domain/errors.js';
import { openStore } from './open-store.js';
import { storeSuite } from './test-support/store-suite.js';

// The PostgreSQL run of the same suite is test/integration/store-postgres.test.ts.
storeSuite({
  name: 'SQLite',
  fresh() {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-store-'));
    const file = join(dir, 'nested', 'app.sqlite');
    return Promise.resolve({ open: () => openStore({ kind: 'sqlite', file }), dispose: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })) });
  },
});

test('SQLite: a database path that cannot be created stops start-up naming database.url', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-store-'));
  try {
    const notADir = join(dir, 'file');
    writeFileSync(notADir, 'x');
    await assert.rejects(openStore({ kind: 'sqlite', file: join(notADir, 'app.sqlite') }), (err: unknown) => {
      assert.ok(err instanceof PortcullisError);
      assert.equal(err.code, 'E_CONFIG');
      assert.match(err.message, /^config: database\.url: cannot open the SQLite database .*file\/app\.sqlite/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
