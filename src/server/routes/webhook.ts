/**
 * `POST /v2/webhooks/events`: the registry's notification endpoint. Events are stored (fresh for
 * the processor, or skipped with the reason) before the 202, so an acknowledged event is never
 * lost; a redelivered event id is dropped. Processing happens elsewhere, woken by `onRecorded`.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import * as z from 'zod';
import type { Store } from '../../store/open-store.js';
import { recordEvents, type RecordedEvents } from '../../store/registry-events.js';
import { errorResponseSchema, withStore } from '../errors.js';
import { notificationEnvelopeSchema, NOTIFICATION_MEDIA_TYPE, toStoredEvent } from '../registry-notifications.js';

/** Largest notification body accepted; a registry envelope of one event is about 1-2 KiB. */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

const acceptedSchema = z.object({
  /** Events newly stored (fresh + skipped). */
  stored: z.number().int(),
  /** Of those, events left for the processor. */
  fresh: z.number().int(),
  /** Of those, events stored as skipped (blob pushes, pulls, unknown actions, ...). */
  skipped: z.number().int(),
  /** Events already stored (redeliveries). */
  duplicates: z.number().int(),
});

/**
 * Registers `POST /v2/webhooks/events` (access `registry-webhook`) and the parser of the registry's
 * media type. `onRecorded` runs after the events are stored, only when some are fresh.
 */
export function webhookRoutes(app: FastifyInstance, options: { store: Store; onRecorded: (recorded: RecordedEvents) => void }): void {
  // The registry's media type is JSON; parse it as such, within the route's body limit.
  app.addContentTypeParser(NOTIFICATION_MEDIA_TYPE, { parseAs: 'string', bodyLimit: WEBHOOK_BODY_LIMIT }, app.getDefaultJsonParser('error', 'error'));
  app.withTypeProvider<ZodTypeProvider>().post(
    '/v2/webhooks/events',
    {
      bodyLimit: WEBHOOK_BODY_LIMIT,
      config: { access: 'registry-webhook' },
      schema: {
        summary: 'Docker Distribution notification endpoint (Authorization: Bearer <registry.notification_token>)',
        tags: ['registry'],
        security: [{ registryNotification: [] }],
        consumes: [NOTIFICATION_MEDIA_TYPE, 'application/json'],
        body: notificationEnvelopeSchema,
        response: { 202: acceptedSchema, 400: errorResponseSchema, 401: errorResponseSchema, 413: errorResponseSchema, 415: errorResponseSchema, 503: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const stored = request.body.events.map(toStoredEvent);
      const recorded = await withStore(request, 'storing registry events', () => recordEvents(options.store, stored));
      request.log.info({ ...recorded, events: stored.length }, 'registry notification stored');
      if (recorded.fresh > 0) options.onRecorded(recorded);
      return reply.status(202).send({ stored: recorded.stored, fresh: recorded.fresh, skipped: recorded.stored - recorded.fresh, duplicates: recorded.duplicates });
    },
  );
}
