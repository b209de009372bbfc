import { after, before } from 'node:test';
import { startPostgres, type RunningPostgres } from '../harness/postgres.js';
import { serviceSuite } from '../support/service-suite.js';

// The service suite (tokens, scopes, probes, OpenAPI, webhook) with its app database on a real
// PostgreSQL 15 cluster the harness starts; the SQLite run is test/integration/service.test.ts.
let server: RunningPostgres;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
});

serviceSuite({
  name: 'PostgreSQL',
  async database() {
    const url = await server.createDatabase('service_suite');
    return { url, location: () => ({ kind: 'postgres', url }) };
  },
});
