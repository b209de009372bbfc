/**
 * The service's background work in one process, on top of the store: registry events applied as
 * they arrive (woken by the webhook route, and polled), scan workers, catalog sync on its
 * strategy, the vulnerability DB watched for swaps (`portcullis db update|import` beside the
 * service, or its own scheduled update) with stored results re-matched and webhooks queued, and
 * the webhook deliverer. `portcullis serve` runs it beside the HTTP server; `portcullis worker`
 * runs it alone (several such processes share one PostgreSQL store).
 */
import type { Logger } from 'pino';
import { intervalMs, type ServiceConfig } from '../config/service-config.js';
import { toPortcullisError, type ErrorCode } from '../domain/errors.js';
import { CatalogStore } from '../store/catalog.js';
import { JobQueue } from '../store/jobs.js';
import type { Store } from '../store/open-store.js';
import { WebhookStore } from '../store/webhooks.js';
import { defaultDbPath, updateFeeds } from '../vulndb/index.js';
import { syncAtStart, syncCatalog, syncDeletes, syncRepeats } from './catalog-sync.js';
import { CLAIR_BACKEND } from '../backends/clair-v2/backend.js';
import type { ScannerBackend } from '../backends/types.js';
import { backendRunner, configuredBackends, enabledBackendNames } from './backends.js';
import { embeddedBackend, EMBEDDED_BACKEND } from './embedded-backend.js';
import { HarborScanner } from './harbor-scanner.js';
import { processRegistryEvent, type EventProcessorDeps, type RegistryEventFacts } from './event-processor.js';
import { registryAccess } from './registry-access.js';
import { rematchStored } from './rematch.js';
import { ScanRequests } from './scan-requests.js';
import { DEFAULT_MAX_PENDING_MS, ScanWorker, type BackendRunner, type ScanWorkerOptions } from './scan-worker.js';
import { VulnDbHandle } from '../services/vulndb-handle.js';
import { deliverDue, queueFindingsChanged } from './webhooks.js';

/** Failures of the registry itself or the way to it: the event is applied again later. */
const TRANSIENT: ReadonlySet<ErrorCode> = new Set(['E_UNREACHABLE', 'E_REGISTRY', 'E_AUTH', 'E_FORBIDDEN', 'E_DB', 'E_INTERNAL']);

/** Where registry events wait to be applied (the webhook route stores them). */
export interface RegistryEventSource {
  /** Stored events not yet applied, oldest first. */
  fresh(limit: number): Promise<RegistryEventFacts[]>;
  /** Records the outcome of applying one. */
  mark(eventId: string, status: 'done' | 'skipped' | 'failed', note?: string): Promise<void>;
}

export interface RuntimeLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ServiceRuntimeOptions {
  config: ServiceConfig;
  store: Store;
  events?: RegistryEventSource;
  log: RuntimeLogger;
  /**
   * The pino logger the engine's work for the service logs to (a child per job, with its digest
   * and backend bound): image resolved, layers read, matching done. Default: silent.
   */
  engineLog?: Logger;
  /** Vulnerability DB file (default: the CLI's, $PORTCULLIS_DB). */
  dbPath?: string;
  /** Layer cache directory (default: the engine's). */
  cacheDir?: string;
  /** Scans at once in this process (default 2). */
  concurrency?: number;
  /** How often the DB file, the event table and the webhook log are looked at (default 5 s). */
  pollMs?: number;
  /** Told of every scan that ended in this process (metrics). */
  onScanDone?: ScanWorkerOptions['onScanDone'];
  /**
   * Run Harbor's scan requests here (`harbor_scanner.enabled`): only the process that serves the
   * adapter API holds their pull authorizations, so `portcullis serve` sets this and `portcullis
   * worker` does not (it never claims a Harbor job it could not pull for). Default false.
   */
  harborScanner?: boolean;
}

export class ServiceRuntime {
  readonly catalog: CatalogStore;
  readonly queue: JobQueue;
  readonly webhooks: WebhookStore;
  readonly vulndb: VulnDbHandle;
  readonly worker: ScanWorker | undefined;
  /** The external scanner backends the config enables (clair, zypper, dummy), for health probes. */
  readonly scanners: readonly ScannerBackend[];
  /** Portcullis as a Harbor scanner (`harbor_scanner.enabled`): its requests and their own worker. */
  readonly harbor: HarborScanner | undefined;
  /** Scans on demand, queued for this process's workers (and any other's on the same store). */
  readonly scanRequests: ScanRequests;
  private readonly deps: EventProcessorDeps | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly busy = new Map<string, Promise<unknown>>();
  private stopped = false;
  private matchedDb = '';

  constructor(private readonly options: ServiceRuntimeOptions) {
    const { config, store } = options;
    this.catalog = new CatalogStore(store);
    const leaseMs = intervalMs(config.workers.lease) ?? 60_000;
    this.queue = new JobQueue(store, { leaseMs });
    this.webhooks = new WebhookStore(store);
    this.vulndb = new VulnDbHandle(options.dbPath ?? defaultDbPath());
    this.scanners = configuredBackends(config.security, { store });
    this.harbor =
      options.harborScanner === true && config.harbor_scanner.enabled
      ? new HarborScanner({ config, store, catalog: this.catalog, queue: this.queue, vulndb: this.vulndb, heartbeatMs: Math.max(250, Math.floor(leaseMs / 3)), log: options.log, ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}), ...(options.engineLog ? { engineLog: options.engineLog } : {}) })
      : undefined;
    const backends = enabledBackendNames(config.security, this.scanners);
    if (config.registry.url !== '') {
      const registry = registryAccess(config.registry);
      this.deps = { catalog: this.catalog, queue: this.queue, registry, backends };
      const runners = new Map<string, BackendRunner>();
      if (config.security.embedded.enabled) runners.set(EMBEDDED_BACKEND, embeddedBackend({ registry, catalog: this.catalog, vulndb: this.vulndb, ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}), ...(options.engineLog ? { logger: options.engineLog } : {}) }));
      for (const scanner of this.scanners) runners.set(scanner.name, backendRunner(scanner, { registry, catalog: this.catalog, webhooks: { targets: config.webhooks, store: this.webhooks } }));
      this.worker = new ScanWorker({ queue: this.queue, catalog: this.catalog, runners, concurrency: options.concurrency ?? config.workers.concurrency, heartbeatMs: Math.max(250, Math.floor(leaseMs / 3)), maxPendingMs: (backend) => (backend === CLAIR_BACKEND ? config.security.clair.timeout * 1000 : DEFAULT_MAX_PENDING_MS), log: options.log, ...(options.onScanDone ? { onScanDone: options.onScanDone } : {}) });
    }
    this.scanRequests = new ScanRequests({ catalog: this.catalog, queue: this.queue, registry: this.deps?.registry, backends, onQueued: () => this.worker?.wake() });
  }

  /** Starts every loop; returns at once. */
  async start(): Promise<void> {
    const { config, log } = this.options;
    const poll = this.options.pollMs ?? 5_000;
    this.worker?.start();
    this.harbor?.worker.start();
    this.every(poll, () => this.applyEvents());
    this.every(poll, () => this.checkDb());
    this.every(poll, () => this.deliverWebhooks());
    if (this.deps !== undefined) {
      const strategy = config.registry.catalog_sync.strategy;
      if (await syncAtStart(strategy, this.catalog)) void this.once('sync', () => this.sync());
      const every = intervalMs(config.registry.catalog_sync.interval);
      if (syncRepeats(strategy) && every !== undefined) this.every(every, () => this.sync());
    } else {
      log.info({}, 'service: no registry.url configured; watching no registry');
    }
    const feedsEvery = intervalMs(config.feeds.update_interval);
    if (feedsEvery !== undefined) this.every(feedsEvery, () => this.updateFeeds());
  }

  /** New registry events were stored: apply them now rather than at the next poll. */
  wake(): void {
    void this.once('events', () => this.applyEvents());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await this.worker?.stop();
    await this.harbor?.worker.stop();
    await Promise.allSettled([...this.busy.values()]);
    this.vulndb.close();
  }

  /** Applies every fresh registry event; an event that fails to apply (registry down) stays fresh for the next round. */
  async applyEvents(): Promise<number> {
    const source = this.options.events;
    if (source === undefined || this.deps === undefined) return 0;
    let applied = 0;
    for (const event of await source.fresh(100)) {
      try {
        const outcome = await processRegistryEvent(event, this.deps);
        await source.mark(event.eventId, outcome.status, outcome.note);
        if (outcome.queued.length > 0) this.worker?.wake();
        applied++;
      } catch (err) {
        const error = toPortcullisError(err);
        if (TRANSIENT.has(error.code)) {
          this.options.log.warn({ event: event.eventId, code: error.code, err: error.message }, 'service: applying a registry event failed; it is retried on the next round');
          break; // keep events in order: a later event may depend on this one
        }
        // The registry answered, and no retry can change the answer (the manifest was deleted
        // since, or is not one we can read): record why and go on, rather than block every later event.
        await source.mark(event.eventId, error.code === 'E_NOT_FOUND' ? 'skipped' : 'failed', `${error.message} [${error.code}]`);
        this.options.log.warn({ event: event.eventId, code: error.code, err: error.message }, 'service: a registry event could not be applied');
      }
    }
    return applied;
  }

  /** One catalog reconciliation run. */
  async sync(): Promise<void> {
    if (this.deps === undefined) return;
    const summary = await syncCatalog(this.deps, { deletes: syncDeletes(this.options.config.registry.catalog_sync.strategy) });
    this.options.log.info({ ...summary, failures: summary.failures.length }, 'service: catalog sync done');
    for (const f of summary.failures) this.options.log.warn({ repository: f.repository, reason: f.reason }, 'service: catalog sync could not read');
    if (summary.scansQueued > 0) this.worker?.wake();
  }

  /** Re-matches stored results when the vulnerability DB file changed, and queues the webhooks. */
  async checkDb(): Promise<void> {
    if (!this.vulndb.available()) return;
    const summary = await this.vulndb.use(async (db) => (db.builtAt === this.matchedDb ? undefined : await rematchStored(this.catalog, db, this.options.engineLog)));
    if (summary === undefined) return;
    this.matchedDb = summary.db;
    if (summary.rematched + summary.untouched > 0) this.options.log.info({ db: summary.db, rematched: summary.rematched, untouched: summary.untouched, changed: summary.diffs.length }, 'service: stored results re-matched');
    const queued = await queueFindingsChanged(summary.diffs, summary.db, this.options.config.webhooks, { catalog: this.catalog, webhooks: this.webhooks });
    if (queued > 0) await this.deliverWebhooks();
  }

  async deliverWebhooks(): Promise<void> {
    if (this.options.config.webhooks.length === 0) return;
    await deliverDue({ webhooks: this.webhooks, targets: this.options.config.webhooks });
  }

  private async updateFeeds(): Promise<void> {
    const summary = await updateFeeds({ target: this.vulndb.path });
    this.options.log.info({ updated: summary.updated, failed: summary.failed.map((f) => f.feed) }, 'service: scheduled feed update done');
    await this.checkDb();
  }

  /** Runs `fn` every `ms`, never two at once, logging failures instead of stopping. */
  private every(ms: number, fn: () => Promise<unknown>): void {
    const name = `every:${this.timers.length}`;
    this.timers.push(setInterval(() => void this.once(name, fn), ms));
  }

  private once(name: string, fn: () => Promise<unknown>): Promise<unknown> {
    if (this.stopped) return Promise.resolve();
    const running = this.busy.get(name);
    if (running !== undefined) return running;
    const p = fn()
      .catch((err: unknown) => {
        const error = toPortcullisError(err);
        this.options.log.error({ task: name, code: error.code, err: error.message }, 'service: background task failed');
      })
      .finally(() => this.busy.delete(name));
    this.busy.set(name, p);
    return p;
  }
}
