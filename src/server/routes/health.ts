/**
 * Probes: `/healthz` (the process answers) and `/readyz` (it can do its work: the app database
 * answers, the vulnerability DB opens, and at least one scanner backend is usable; each backend's
 * health is in the details). Both public, so orchestrators need no token.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import * as z from 'zod';
import { anyScannerUsable, type BackendHealthMonitor } from '../../service/backend-health.js';
import { pingStore } from '../../store/health.js';
import type { Store } from '../../store/open-store.js';
import { openVulnDb } from '../../vulndb/index.js';

const checkSchema = z.object({
  ok: z.boolean(),
  /** Why the check failed. */
  error: z.string().optional(),
});

const readinessSchema = z.object({
  status: z.enum(['ready', 'unavailable']),
  checks: z.object({
    database: checkSchema,
    vulnerabilityDb: checkSchema.extend({
      path: z.string(),
      builtAt: z.string().optional(),
      feeds: z.number().int().optional(),
    }),
    /** Each enabled scanner's probe; not ok only when none of them is usable (see anyScannerUsable). */
    backends: checkSchema
      .extend({
        scanners: z.array(z.object({ name: z.string(), kind: z.enum(['embedded', 'external']), ok: z.boolean(), detail: z.string(), checkedAt: z.string() })),
      })
      .optional(),
  }),
});

/** The `/readyz` answer: overall status and each check. */
export type Readiness = z.infer<typeof readinessSchema>;

/** Registers the probes. `vulnDbPath` is the DB the CLI uses too, so `db update` beside the service is seen at once. */
export function healthRoutes(app: FastifyInstance, options: ReadinessOptions): void {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  routes.get(
    '/healthz',
    { config: { access: 'public' }, schema: { summary: 'The process is up', tags: ['health'], security: [], response: { 200: z.object({ status: z.literal('ok') }) } } },
    () => ({ status: 'ok' as const }),
  );
  routes.get(
    '/readyz',
    {
      config: { access: 'public' },
      schema: { summary: 'The app database answers, the vulnerability DB opens and a scanner backend is usable (503 with the failing check otherwise); each backend\'s health in checks.backends', tags: ['health'], security: [], response: { 200: readinessSchema, 503: readinessSchema } },
    },
    async (_request, reply) => {
      const readiness = await checkReadiness(options);
      return reply.status(readiness.status === 'ready' ? 200 : 503).send(readiness);
    },
  );
}

export interface ReadinessOptions {
  store: Store;
  vulnDbPath: string;
  /** The scanner backends' probes (none: no backends check, as for a service without workers' config). */
  backends?: BackendHealthMonitor;
}

/** Runs every check; never throws (a failing check is reported, not raised). */
export async function checkReadiness(options: ReadinessOptions): Promise<Readiness> {
  let database: Readiness['checks']['database'];
  try {
    await pingStore(options.store);
    database = { ok: true };
  } catch (err) {
    database = { ok: false, error: `the app database does not answer: ${err instanceof Error ? err.message : String(err)}` };
  }
  let vulnerabilityDb: Readiness['checks']['vulnerabilityDb'];
  try {
    const db = openVulnDb(options.vulnDbPath);
    try {
      vulnerabilityDb = { ok: true, path: db.path, builtAt: db.builtAt, feeds: db.feeds().length };
    } finally {
      db.close();
    }
  } catch (err) {
    vulnerabilityDb = { ok: false, path: options.vulnDbPath, error: err instanceof Error ? err.message : String(err) };
  }
  let backends: Readiness['checks']['backends'];
  if (options.backends !== undefined) {
    const scanners = (await options.backends.statuses()).map(({ name, kind, ok, detail, checkedAt }) => ({ name, kind, ok, detail, checkedAt }));
    backends = anyScannerUsable(scanners) ? { ok: true, scanners } : { ok: false, error: scanners.length === 0 ? 'no scanner backend is enabled' : 'no scanner backend is usable', scanners };
  }
  const ready = database.ok && vulnerabilityDb.ok && (backends?.ok ?? true);
  return { status: ready ? 'ready' : 'unavailable', checks: { database, vulnerabilityDb, ...(backends !== undefined ? { backends } : {}) } };
}
