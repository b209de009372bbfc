/**
 * `POST /api/v1/clair/notifications`: Clair v4's notifier webhook (`notifier.webhook.target`).
 * Authenticated as Clair signs it (access `clair-notifier`, src/server/auth.ts); the work is in
 * src/service/clair-notifications.ts. Answers 200, which is what Clair's deliverer counts as
 * delivered (anything else is delivered again later).
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import * as z from 'zod';
import { clairNotificationCallback } from '../../backends/clair-v4/schemas.js';
import type { ClairNotificationOutcome } from '../../service/clair-notifications.js';
import { errorResponseSchema } from '../errors.js';

const outcomeSchema = z.object({
  notificationId: z.string(),
  pages: z.number().int(),
  notifications: z.number().int(),
  manifests: z.number().int(),
  /** Manifests of the catalog whose `clair-v4` result is being fetched again. */
  queued: z.array(z.string()),
});

/** Registers the route; `handle` does the work (and wakes the workers). */
export function clairNotificationRoutes(app: FastifyInstance, options: { handle: (body: z.infer<typeof clairNotificationCallback>) => Promise<ClairNotificationOutcome> }): void {
  app.withTypeProvider<ZodTypeProvider>().post(
    '/api/v1/clair/notifications',
    {
      bodyLimit: 64 * 1024,
      config: { access: 'clair-notifier' },
      schema: {
        summary: "Clair v4's notifier webhook: the affected manifests' Clair v4 results are fetched again (PSK JWT as Clair signs it, or a scan token)",
        tags: ['clair'],
        body: clairNotificationCallback,
        response: { 200: outcomeSchema, 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema, 502: errorResponseSchema, 503: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const outcome = await options.handle(request.body);
      request.log.info({ ...outcome, queued: outcome.queued.length }, 'clair notification handled');
      return reply.status(200).send(outcome);
    },
  );
}
