/**
 * The HTTP application: Fastify with zod schemas (one schema validates a request and documents it
 * in the OpenAPI document), the access check, the error mapping, and the routes of this service.
 */
import { randomUUID } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { BackendHealthMonitor } from '../service/backend-health.js';
import type { Store } from '../store/open-store.js';
import type { RecordedEvents } from '../store/registry-events.js';
import type { ScanRequests } from '../service/scan-requests.js';
import { TOOL_VERSION } from '../version.js';
import { DEFAULT_SESSION_AUTH, installAuth, type SessionAuthOptions } from './auth.js';
import { installErrorHandlers } from './errors.js';
import { clairNotificationRoutes } from './routes/clair-notifications.js';
import type { HarborScanner } from '../service/harbor-scanner.js';
import { harborAdapterRoutes } from './routes/harbor-adapter.js';
import { backendRoutes } from './routes/backends.js';
import { healthRoutes } from './routes/health.js';
import { quayRoutes } from './routes/quay.js';
import { resultRoutes } from './routes/results.js';
import { scanRoutes } from './routes/scans.js';
import { metricsRoutes, type ServiceMetrics } from './metrics.js';
import { sessionRoutes } from './routes/session.js';
import { tokenRoutes } from './routes/tokens.js';
import { webhookRoutes, WEBHOOK_BODY_LIMIT } from './routes/webhook.js';
import { webUiRoutes } from './routes/web-ui.js';

/** What the application needs from its host. */
export interface AppOptions {
  store: Store;
  logger: FastifyBaseLogger;
  /** The vulnerability DB the readiness probe opens. */
  vulnDbPath: string;
  /** `registry.notification_token`; "" refuses every webhook call. */
  notificationToken: string;
  /** Called after a webhook call stored fresh events (wakes the event processor). */
  onEventsRecorded: (recorded: RecordedEvents) => void;
  /** Clair v4's notifier webhook (none: Clair v4 is not configured, no route); `psk` = security.clair_v4.psk. */
  clairNotifications?: { psk: { key: string; issuer: string }; handle: Parameters<typeof clairNotificationRoutes>[1]['handle'] };
  /** Scans on demand (POST /api/v1/scans); none: the route says the service cannot scan on demand. */
  scanRequests?: ScanRequests;
  /** The scanner backends' probes for /readyz and GET /api/v1/backends (none: neither shows backends). */
  backends?: BackendHealthMonitor;
  /** Prometheus metrics served at /metrics (none: no /metrics route). */
  metrics?: ServiceMetrics;
  /** The Harbor scanner adapter API and its base path (none: not served). */
  harbor?: { scanner: HarborScanner; base: string };
  /** Sign-in sessions (`auth.*`, `http.secure_cookies`); none: the defaults, no anonymous reads. */
  signIn?: { session: SessionAuthOptions; secureCookies: boolean };
  /** The built web UI (dist/ui); undefined: found beside the code (findUiDir); false: not served. */
  uiDir?: string | false;
}

/**
 * The Content-Security-Policy of every answer (the web UI is served from here): scripts, styles and
 * fetches only from this origin, no inline scripts, no plugins, no <base>, no framing. Written out
 * in full (helmet's defaults allow inline styles and add upgrade-insecure-requests, which breaks a
 * plain-HTTP instance on a LAN address).
 */
export const CONTENT_SECURITY_POLICY = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

/**
 * fastify-type-provider-zod names two components per registered schema, `X` (as answered) and
 * `XInput` (as accepted); the response schemas are never accepted, so their `XInput` twins are
 * unreferenced noise in the document and in the client types generated from it. Drops every
 * `XInput` that has an `X` beside it and that no path reaches (directly or through other components).
 */
function withoutUnusedInputVariants<T extends { paths?: unknown; components?: { schemas?: Record<string, unknown> } }>(document: T): T {
  const schemas = document.components?.schemas;
  if (schemas === undefined) return document;
  const refs = (value: unknown): string[] => [...JSON.stringify(value ?? null).matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1] ?? '');
  const reached = new Set<string>();
  const pending = refs(document.paths);
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (reached.has(name)) continue;
    reached.add(name);
    pending.push(...refs(schemas[name]));
  }
  const kept = Object.fromEntries(Object.entries(schemas).filter(([name]) => !(name.endsWith('Input') && name.slice(0, -'Input'.length) in schemas && !reached.has(name))));
  return { ...document, components: { ...document.components, schemas: kept } };
}

/** Builds the application (not listening yet). */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger,
    // One id per request, ours: a client-sent id would let callers forge log correlation.
    genReqId: () => randomUUID(),
    bodyLimit: WEBHOOK_BODY_LIMIT,
    // A request that sends nothing for this long is dropped rather than holding a socket.
    requestTimeout: 60_000,
    return503OnClosing: true,
  });
  // The API speaks JSON only: a text/plain body is refused with 415 rather than parsed as a string.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandlers(app);
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  // Security headers first, so even a refused request (401, 404) carries them.
  await app.register(fastifyHelmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    referrerPolicy: { policy: 'no-referrer' },
  });
  // Parses cookies in an onRequest hook added before the access check's, which reads the session cookie.
  await app.register(fastifyCookie);
  installAuth(app, {
    store: options.store,
    notificationToken: options.notificationToken,
    ...(options.clairNotifications ? { clairPsk: options.clairNotifications.psk } : {}),
    ...(options.signIn ? { session: options.signIn.session } : {}),
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Portcullis registry service', version: TOOL_VERSION, description: 'Container-image vulnerability results for a private registry.' },
      components: {
        securitySchemes: {
          apiToken: { type: 'http', scheme: 'bearer', description: 'A token from `portcullis token create NAME --scope read|scan|admin`.' },
          registryNotification: { type: 'http', scheme: 'bearer', description: 'The `registry.notification_token` of the service configuration.' },
          sessionCookie: {
            type: 'apiKey',
            in: 'cookie',
            name: 'portcullis_session',
            description: 'A sign-in session (POST /api/v1/session): acts as scope read (viewer) or admin (admin); POST/PUT/PATCH/DELETE also need the X-CSRF-Token header.',
          },
        },
      },
      security: [{ apiToken: [] }, { sessionCookie: [] }],
    },
    transform: jsonSchemaTransform,
    // Schemas registered with an id (`.meta({ id })`, src/server/routes/response-schemas.ts) become named components.
    transformObject: (document) => withoutUnusedInputVariants(jsonSchemaTransformObject(document)),
  });

  healthRoutes(app, { store: options.store, vulnDbPath: options.vulnDbPath, ...(options.backends ? { backends: options.backends } : {}) });
  if (options.backends) backendRoutes(app, { store: options.store, backends: options.backends });
  tokenRoutes(app, { store: options.store });
  sessionRoutes(app, { store: options.store, auth: options.signIn?.session ?? DEFAULT_SESSION_AUTH, secureCookies: options.signIn?.secureCookies ?? false });
  resultRoutes(app, { store: options.store });
  quayRoutes(app, { store: options.store });
  scanRoutes(app, { store: options.store, scanRequests: options.scanRequests, vulnDbPath: options.vulnDbPath });
  if (options.metrics) metricsRoutes(app, options.metrics);
  webhookRoutes(app, { store: options.store, onRecorded: options.onEventsRecorded });
  if (options.clairNotifications) clairNotificationRoutes(app, { handle: options.clairNotifications.handle });
  if (options.harbor) await app.register(harborAdapterRoutes, { prefix: options.harbor.base, scanner: options.harbor.scanner });
  app.get('/api/openapi.json', { config: { access: 'read' }, schema: { hide: true } }, () => app.swagger());
  await webUiRoutes(app, { uiDir: options.uiDir });
  return app;
}
