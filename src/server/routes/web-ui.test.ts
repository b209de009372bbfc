import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { openStore, type Store } from '../../store/open-store.js';
import { buildApp } from '../app.js';
import { findUiDir, UI_PAGE_PATHS } from './web-ui.js';

const PAGE = '<!doctype html><html lang="en"><head><script type="module" src="/assets/app-1234.js"></script></head><body><div id="app"></div></body></html>';

describe('the web UI at /', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-web-ui-'));
  const uiDir = join(dir, 'ui');
  let store: Store;
  const apps: FastifyInstance[] = [];
  const app = async (ui: string | false): Promise<FastifyInstance> => {
    const built = await buildApp({ store, logger: pino(new Writable({ write: (_c, _e, done) => done() })), vulnDbPath: join(dir, 'absent.db'), notificationToken: '', onEventsRecorded: () => undefined, uiDir: ui });
    apps.push(built);
    return built;
  };

  before(async () => {
    mkdirSync(join(uiDir, 'assets'), { recursive: true });
    writeFileSync(join(uiDir, 'index.html'), PAGE);
    writeFileSync(join(uiDir, 'assets', 'app-1234.js'), 'export const built = true;\n');
    writeFileSync(join(dir, 'secret.txt'), 'not for the web');
    store = await openStore({ kind: 'sqlite', file: join(dir, 'app.sqlite') });
  });
  after(async () => {
    for (const a of apps) await a.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('every client-side route gets the page, without credentials, not cached, under the CSP', async () => {
    const server = await app(uiDir);
    for (const url of ['/', '/login', '/status', '/repositories/team/app', '/manifests/sha256:abc?repository=team/app&tag=1.0', '/advisories/CVE-2024-1']) {
      const res = await server.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, url);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.equal(res.body, PAGE);
      assert.equal(res.headers['cache-control'], 'no-cache');
      assert.match(String(res.headers['content-security-policy']), /script-src 'self'(;|$)/);
      assert.doesNotMatch(String(res.headers['content-security-policy']), /unsafe-inline|unsafe-eval/);
    }
    assert.equal(UI_PAGE_PATHS.length, 6);
  });

  test('assets are public and cached for good; a missing one, a traversal or an unknown path is the API 404; the data stays behind auth', async () => {
    const server = await app(uiDir);
    const asset = await server.inject({ method: 'GET', url: '/assets/app-1234.js' });
    assert.equal(asset.statusCode, 200);
    assert.match(String(asset.headers['content-type']), /javascript/);
    assert.match(String(asset.headers['cache-control']), /immutable/);
    for (const url of ['/assets/absent.js', '/assets/../secret.txt', '/assets/%2e%2e/secret.txt', '/assets/..%2fsecret.txt', '/assets/', '/nowhere']) {
      const res = await server.inject({ method: 'GET', url });
      // A path outside /assets/ after normalisation is an unknown route: 401 before 404, as every unknown path.
      assert.ok([401, 403, 404].includes(res.statusCode), `${url}: ${res.statusCode}`);
      assert.doesNotMatch(res.body, /not for the web/);
    }
    assert.equal((await server.inject({ method: 'GET', url: '/assets/absent.js' })).json<{ error: { code: string } }>().error.code, 'E_NOT_FOUND');
    assert.equal((await server.inject({ method: 'GET', url: '/api/v1/repositories' })).statusCode, 401);
  });

  test('an installation without a built UI says how to build it, and the API still answers', async () => {
    const server = await app(false);
    const res = await server.inject({ method: 'GET', url: '/' });
    assert.equal(res.statusCode, 404);
    assert.match(res.json<{ error: { message: string } }>().error.message, /npm run build/);
    assert.equal((await server.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  });

  test('findUiDir: PORTCULLIS_UI_DIR when it holds a page, none when it does not', () => {
    assert.equal(findUiDir({ PORTCULLIS_UI_DIR: uiDir }), uiDir);
    assert.equal(findUiDir({ PORTCULLIS_UI_DIR: join(dir, 'nothing') }), undefined);
  });
});
