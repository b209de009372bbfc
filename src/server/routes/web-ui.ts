/**
 * The web UI (ui/, built by `npm run build` into dist/ui) served at `/`: its hashed assets under
 * `/assets/` (immutable), and its one HTML page at each path the UI routes on the client
 * (`/`, `/login`, `/status`, `/repositories/...`, `/manifests/...`, `/advisories/...`). Both are
 * `public`: they hold no data; every datum the UI shows comes from the authenticated API. Any other
 * path keeps the API's JSON 404. The page is sent with `Cache-Control: no-cache` so a new build is
 * picked up at the next load, while its assets are cached for good (their names change with them).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { PortcullisError } from '../../domain/errors.js';

/** Paths the UI's client-side router answers; each gets the UI's HTML page. */
export const UI_PAGE_PATHS = ['/', '/login', '/status', '/repositories/*', '/manifests/*', '/advisories/*'] as const;

/**
 * dist/ui of the package the running code belongs to: the nearest folder above it holding
 * dist/ui/index.html (src/server/routes in development, dist/chunks in the bundle); PORTCULLIS_UI_DIR
 * overrides it.
 */
export function findUiDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.PORTCULLIS_UI_DIR) return existsSync(join(env.PORTCULLIS_UI_DIR, 'index.html')) ? env.PORTCULLIS_UI_DIR : undefined;
  for (let dir = dirname(fileURLToPath(import.meta.url)), up = 0; up < 5; dir = dirname(dir), up += 1) {
    const candidate = join(dir, 'dist', 'ui');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
  }
  return undefined;
}

/** Registers the UI's routes; `uiDir` undefined: found beside the code (findUiDir), false: not served. */
export async function webUiRoutes(app: FastifyInstance, options: { uiDir?: string | false | undefined }): Promise<void> {
  const uiDir = options.uiDir === false ? undefined : (options.uiDir ?? findUiDir());
  if (uiDir === undefined) {
    for (const path of UI_PAGE_PATHS) {
      app.get(path, { config: { access: 'public' }, schema: { hide: true } }, () => {
        throw new PortcullisError('E_NOT_FOUND', 'the web UI is not built in this installation (run `npm run build`); the REST API is at /api/v1 (/api/openapi.json)');
      });
    }
    return;
  }
  await app.register(async (ui) => {
    // Everything here is `public` (see above); @fastify/static takes no route config of its own.
    ui.addHook('onRoute', (route) => {
      route.config = { ...route.config, access: 'public' };
    });
    await ui.register(fastifyStatic, {
      root: join(uiDir, 'assets'),
      prefix: '/assets/',
      index: false,
      immutable: true,
      maxAge: '365d',
      // One route for the folder: a missing asset is the API's JSON 404, never a listing.
      wildcard: true,
    });
    for (const path of UI_PAGE_PATHS) {
      ui.get(path, { schema: { hide: true } }, (_request, reply) => {
        void reply.header('cache-control', 'no-cache');
        return reply.sendFile('index.html', uiDir, { cacheControl: false });
      });
    }
  });
}
