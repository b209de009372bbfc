/**
 * Starts the registry service in this process: opens the app database (running its migrations),
 * builds the HTTP application and listens. `portcullis serve` is this plus signal handling; tests
 * and the in-process workers use it directly.
 */
import type { FastifyInstance } from 'fastify';
import { pino, type DestinationStream, type Logger } from 'pino';
import { resolveDatabase, parseListen, type ServiceConfig } from '../config/service-config.js';
import { PortcullisError } from '../domain/errors.js';
import { ClairV4Client } from '../backends/clair-v4/client.js';
import { handleClairNotification } from '../service/clair-notifications.js';
import { enabledBackendNames } from '../service/backends.js';
import { registryAccess } from '../service/registry-access.js';
import type { BackendHealth } from '../backends/types.js';
import { BackendHealthMonitor } from '../service/backend-health.js';
import { configuredBackends } from '../service/backends.js';
import { ServiceRuntime } from '../service/runtime.js';
import { ScanRequests } from '../service/scan-requests.js';
import { CatalogStore } from '../store/catalog.js';
import { JobQueue } from '../store/jobs.js';
import { openStore, type Store } from '../store/open-store.js';
import { registryEventQueue, type RecordedEvents } from '../store/registry-events.js';
import { defaultDbPath, openVulnDb } from '../vulndb/index.js';
import { parseDurationText } from '../util/duration.js';
import { buildApp } from './app.js';
import { createMetrics } from './metrics.js';

/** How to start the service; every field is optional. */
export interface ServiceOptions {
  /** Environment for the data directory and vulnerability DB defaults (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** `HOST:PORT` overriding `http.listen` (port 0 = any free port); named `--listen` in errors. */
  listen?: string;
  /** The vulnerability DB (default: the CLI's, `$PORTCULLIS_DB` or the cache path). */
  vulnDbPath?: string;
  /** Where the JSON log lines go (default: standard error). */
  logDestination?: DestinationStream;
  /** pino level (default: info). */
  logLevel?: string;
  /**
   * Called after the webhook stored events for the processor, so a worker can wake at once instead
   * of polling. Runs after the answer is decided; what it throws is logged, never sent to the registry.
   */
  onEventsRecorded?: (recorded: RecordedEvents) => void;
  /** Run the background work (event processing, scan workers, catalog sync, re-match, webhooks) in this process; default true. */
  workers?: boolean;
  /** Layer cache directory of the embedded scanner (default: the engine's). */
  cacheDir?: string;
  /** Backend health probes: per-probe timeout and how long answers are reused (default 2 s and 5 s). */
  backendProbes?: { timeoutMs?: number; cacheMs?: number };
  /** The clock sign-in sessions expire by (default: the system clock; tests move their own). */
  now?: () => Date;
}

/** A running service. */
export interface RunningService {
  /** `http://HOST:PORT` it listens on (the actual port when 0 was asked). */
  readonly url: string;
  /** The open app database (shared with in-process workers; closed by close()). */
  readonly store: Store;
  readonly logger: Logger;
  /** The background work, when it runs in this process. */
  readonly runtime: ServiceRuntime | undefined;
  /** Stops accepting requests, waits for those in flight, closes the database. Idempotent. */
  close(): Promise<void>;
}

/** Secrets that must never reach a log line, wherever a serializer puts the headers. */
const REDACTED_PATHS = ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie', 'request.headers.authorization'];

/**
 * Starts the service. Throws E_CONFIG naming the key when the database cannot be used
 * (`database.url`) or the address cannot be listened on (`http.listen` / `--listen`); nothing is
 * left open when it throws.
 */
export async function startService(config: ServiceConfig, options: ServiceOptions = {}): Promise<RunningService> {
  const env = options.env ?? process.env;
  const listenKey = options.listen !== undefined ? '--listen' : 'http.listen';
  const listenText = options.listen ?? config.http.listen;
  const address = parseListen(listenText);
  if (address === undefined) throw new PortcullisError('E_CONFIG', `config: ${listenKey}: expected HOST:PORT, e.g. 127.0.0.1:8080 (got "${listenText}")`, { key: listenKey });

  const logger = pino({ level: options.logLevel ?? 'info', base: { service: 'portcullis' }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, options.logDestination ?? pino.destination(2));
  const store = await openStore(resolveDatabase(config, env));
  const vulnDbPath = options.vulnDbPath ?? defaultDbPath(env);
  const metrics = createMetrics(store);
  const runtime =
    options.workers === false
      ? undefined
      : new ServiceRuntime({ config, store, events: registryEventQueue(store), log: logger, engineLog: logger, dbPath: vulnDbPath, onScanDone: metrics.scanDone, harborScanner: true, ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}) });
  // Without in-process workers the backends are still probed: /readyz and the API show what the config enables.
  const backends = new BackendHealthMonitor(runtime?.scanners ?? configuredBackends(config.security), {
    ...options.backendProbes,
    ...(config.security.embedded.enabled ? { embedded: () => embeddedHealth(vulnDbPath) } : {}),
  });
  const onEventsRecorded = options.onEventsRecorded;
  let app: FastifyInstance;
  try {
    app = await buildApp({
      store,
      logger,
      vulnDbPath,
      metrics,
      scanRequests:
        runtime?.scanRequests ??
        // Without in-process workers the requests are queued for `portcullis worker` processes on the same store.
        new ScanRequests({ catalog: new CatalogStore(store), queue: new JobQueue(store), registry: config.registry.url !== '' ? registryAccess(config.registry) : undefined, backends: enabledBackendNames(config.security) }),
      backends,
      notificationToken: config.registry.notification_token,
      signIn: {
        secureCookies: config.http.secure_cookies,
        session: {
          anonymousRead: config.auth.anonymous_read,
          limits: { idleMs: parseDurationText(config.auth.session.idle) ?? 12 * 3_600_000, absoluteMs: parseDurationText(config.auth.session.absolute) ?? 7 * 86_400_000 },
          now: options.now ?? (() => new Date()),
        },
      },
      ...(config.security.clair_v4.server !== ''
        ? {
            clairNotifications: {
              psk: config.security.clair_v4.psk,
              handle: async (body) => {
                const outcome = await handleClairNotification(body, { client: clairNotifier(config), server: config.security.clair_v4.server, catalog: new CatalogStore(store), queue: new JobQueue(store) });
                if (outcome.queued.length > 0) runtime?.worker?.wake();
                return outcome;
              },
            },
          }
        : {}),
      ...(runtime?.harbor ? { harbor: { scanner: runtime.harbor, base: config.harbor_scanner.base } } : {}),
      onEventsRecorded: (recorded) => {
        try {
          runtime?.wake();
          onEventsRecorded?.(recorded);
        } catch (err) {
          logger.error({ err }, 'onEventsRecorded failed');
        }
      },
    });
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  try {
    await app.listen({ host: address.host, port: address.port, listenTextResolver: (url) => `portcullis service listening on ${url}` });
  } catch (err) {
    await app.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'EADDRINUSE' ? 'the address is already in use' : code === 'EADDRNOTAVAIL' ? 'no such local address' : code === 'EACCES' ? 'permission denied' : err instanceof Error ? err.message : String(err);
    throw new PortcullisError('E_CONFIG', `config: ${listenKey}: cannot listen on ${listenText}: ${reason}`, { key: listenKey }, { cause: err });
  }
  try {
    await runtime?.start();
  } catch (err) {
    await app.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw err;
  }
  if (config.registry.notification_token === '') {
    logger.warn('registry webhook disabled: POST /v2/webhooks/events answers 401 until registry.notification_token (PORTCULLIS_REGISTRY_NOTIFICATION_TOKEN) is set');
  }
  const listening = app;
  const bound = listening.server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : address.port;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    store,
    logger,
    runtime,
    close() {
      closing ??= (async () => {
        try {
          await listening.close();
          await runtime?.stop();
        } finally {
          await store.close();
          logger.flush();
        }
      })();
      return closing;
    },
  };
}

/** A client of Clair v4's notifier (on `security.clair_v4.server`), with the PSK when one is set. */
function clairNotifier(config: ServiceConfig): ClairV4Client {
  const v4 = config.security.clair_v4;
  return new ClairV4Client({ url: v4.server, ...(v4.psk.key !== '' ? { psk: v4.psk } : {}), timeoutMs: Math.min(v4.timeout, 60) * 1000, failureCode: 'E_UNREACHABLE' });
}

/** The embedded scanner can scan when the vulnerability DB it matches against opens. */
function embeddedHealth(vulnDbPath: string): BackendHealth {
  try {
    const db = openVulnDb(vulnDbPath);
    try {
      return { ok: true, detail: `the vulnerability DB ${db.path} (built ${db.builtAt}) opens` };
    } finally {
      db.close();
    }
  } catch (err) {
    return { ok: false, detail: `the vulnerability DB does not open: ${err instanceof Error ? err.message : String(err)}` };
  }
}
