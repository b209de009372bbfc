/**
 * `GET /api/v1/backends` (scope read): every enabled scanner backend with what it needs to reach an
 * image, its health (the same cached, time-bounded probes as `/readyz`) and how many manifests it
 * has in each scan state.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import * as z from 'zod';
import type { BackendHealthMonitor } from '../../service/backend-health.js';
import { CatalogStore } from '../../store/catalog.js';
import type { Store } from '../../store/open-store.js';
import { withStore } from '../errors.js';
import { AUTH_ERRORS } from './tokens.js';

const backendSchema = z.object({
  name: z.string(),
  kind: z.enum(['embedded', 'external']),
  needs: z.enum(['layer-urls', 'local-bytes', 'image-name']).describe('layer-urls: it pulls the blobs itself from the registry; local-bytes: the service reads the image; image-name: it is given repository:tag'),
  health: z.object({ ok: z.boolean(), detail: z.string(), checkedAt: z.string() }),
  scans: z.object({ queued: z.number().int(), scanning: z.number().int(), scanned: z.number().int(), failed: z.number().int(), unsupported: z.number().int() }),
}).meta({ id: 'BackendStatus' });

export function backendRoutes(app: FastifyInstance, options: { store: Store; backends: BackendHealthMonitor }): void {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const catalog = new CatalogStore(options.store);
  routes.get(
    '/api/v1/backends',
    {
      config: { access: 'read' },
      schema: { summary: 'The enabled scanner backends: what each needs, its health, and its manifests per scan state', tags: ['results'], response: { 200: z.object({ backends: z.array(backendSchema) }).meta({ id: 'BackendList' }), ...AUTH_ERRORS } },
    },
    async (request) => {
      const [statuses, counts] = await Promise.all([options.backends.statuses(), withStore(request, 'counting scans', () => catalog.scanCountsByBackend())]);
      return {
        backends: statuses.map((s) => {
          const of = counts[s.name] ?? {};
          return {
            name: s.name,
            kind: s.kind,
            needs: s.needs,
            health: { ok: s.ok, detail: s.detail, checkedAt: s.checkedAt },
            scans: { queued: of.queued ?? 0, scanning: of.scanning ?? 0, scanned: of.scanned ?? 0, failed: of.failed ?? 0, unsupported: of.unsupported ?? 0 },
          };
        }),
      };
    },
  );
}
