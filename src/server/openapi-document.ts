/**
 * The service's OpenAPI document as the running service serves it at `/api/openapi.json`, made
 * without listening and without a registry: the app is built over a throwaway SQLite store, with
 * every optional route group the web UI reads (the backends list) enabled. `npm run openapi` writes
 * it (and the TypeScript types generated from it) to ui/src/api/, where the web UI's client reads
 * them; openapi-document.test.ts fails when the committed copy is not what the code makes now.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { BackendHealthMonitor } from '../service/backend-health.js';
import { openStore } from '../store/open-store.js';
import { buildApp } from './app.js';

/** The document, as plain JSON data. */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-openapi-'));
  try {
    const store = await openStore({ kind: 'sqlite', file: join(dir, 'app.sqlite') });
    try {
      const app = await buildApp({
        store,
        logger: pino({ level: 'silent' }),
        vulnDbPath: join(dir, 'absent.db'),
        notificationToken: '',
        onEventsRecorded: () => undefined,
        backends: new BackendHealthMonitor([]),
        uiDir: false,
      });
      try {
        await app.ready();
        // A JSON round trip: the document as a client reads it (no undefined members, no class instances).
        return JSON.parse(JSON.stringify(app.swagger())) as Record<string, unknown>;
      } finally {
        await app.close();
      }
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
