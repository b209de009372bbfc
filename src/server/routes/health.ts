/**
 * Probes: `/healthz` (the process answers) and `/readyz` (it can do its work: the app database
 * answers and the vulnerability DB opens). Both public, so orchestrators need no token.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import * as z from 'zod';
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
  }),
});

/** The `/readyz` answer: overall status and each check. */
export type Readiness = z.infer<typeof readinessSchema>;

/** Registers the probes. `vulnDbPath` is the DB the CLI uses too, so `db update` beside the service is seen at once. */
export function healthRoutes(app: FastifyInstance, options: { store: Store; vulnDbPath: string }): void {
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
      schema: { summary: 'The app database answers and the vulnerability DB opens (503 with the failing check otherwise)', tags: ['health'], security: [], response: { 200: readinessSchema, 503: readinessSchema } },
    },
    async (_request, reply) => {
      const readiness = await checkReadiness(options);
      return reply.status(readiness.status === 'ready' ? 200 : 503).send(readiness);
    },
  );
}

/** Runs both checks; never throws (a failing check is reported, not raised). */
export async function checkReadiness(options: { store: Store; vulnDbPath: string }): Promise<Readiness> {
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
  return { status: database.ok && vulnerabilityDb.ok ? 'ready' : 'unavailable', checks: { database, vulnerabilityDb } };
}
