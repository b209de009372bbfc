import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PortcullisError } from '../../src/domain/errors.js';
import { openStore } from '../../src/store/open-store.js';
import { storeSuite } from '../../src/store/test-support/store-suite.js';
import { freePort } from '../harness/registry.js';
import { startPostgres, type RunningPostgres } from '../harness/postgres.js';

// The store suite against a real PostgreSQL 15 cluster the harness starts (the SQLite run is
// src/store/store.test.ts): one behaviour on both databases.
let server: RunningPostgres;
let databases = 0;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
});

storeSuite({
  name: 'PostgreSQL',
  async fresh() {
    const url = await server.createDatabase(`store_suite_${databases++}`);
    return { open: () => openStore({ kind: 'postgres', url }), dispose: () => Promise.resolve() };
  },
});

describe('store (PostgreSQL): an unusable database stops start-up naming database.url', () => {
  test('nothing listening: E_CONFIG with the URL, its password hidden', async () => {
    const port = await freePort();
    await assert.rejects(openStore({ kind: 'postgres', url: `postgres://portcullis:hunter2@127.0.0.1:${port}/app` }), (err: unknown) => {
      assert.ok(err instanceof PortcullisError);
      assert.equal(err.code, 'E_CONFIG');
      assert.match(err.message, /^config: database\.url: cannot use the database at postgres:\/\/portcullis:\*\*\*@127\.0\.0\.1:\d+\/app: .*ECONNREFUSED/);
      assert.doesNotMatch(err.message, /hunter2/);
      return true;
    });
  });

  test('a database that does not exist', async () => {
    await assert.rejects(openStore({ kind: 'postgres', url: `postgres://postgres@127.0.0.1:${server.port}/no_such_db` }), /config: database\.url: .*no_such_db.*does not exist/);
  });
});
