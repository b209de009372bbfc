/**
 * Portcullis as a Harbor pluggable scanner: the use cases behind the adapter API
 * (src/server/routes/harbor-adapter.ts). A scan request is checked and recorded, and its scan runs
 * after the answer through the service's pipeline: a job in the durable queue, run by a scan
 * worker with the embedded engine, the result stored as the manifest's embedded scan. A digest
 * already scanned is answered from the stored result (and kept current by re-matching like every
 * stored result); a request for it queues nothing.
 *
 * The pull authorization Harbor sends is a secret. It is held in this process's memory only,
 * keyed by registry and digest, from the request until its job has pulled the image (released
 * then), and for at most {@link AUTHORIZATION_TTL_MS}; it is never written to the database, the
 * job payload or a log. A job whose authorization is gone (the process restarted, or another
 * process claimed it) fails with E_AUTH and is retried by the queue's policy; when every attempt
 * fails the scan is `failed` and Harbor, answered 500, scans again with a fresh authorization.
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { Logger } from 'pino';
import { CONSUMED_MIME_TYPES, SBOM_MEDIA_TYPES, type HarborScanRequestBody } from '../backends/harbor/protocol.js';
import type { ServiceConfig } from '../config/service-config.js';
import { PortcullisError } from '../domain/errors.js';
import type { Finding } from '../domain/finding.js';
import type { Inventory } from '../domain/inventory.js';
import type { CatalogStore, ScanRow } from '../store/catalog.js';
import { HarborRequestStore, type HarborScanRequest } from '../store/harbor-requests.js';
import type { JobQueue } from '../store/jobs.js';
import type { Store } from '../store/open-store.js';
import { embeddedBackend, EMBEDDED_BACKEND } from './embedded-backend.js';
import { registryAccess, type RegistryAccess } from './registry-access.js';
import { ScanWorker, type BackendRunner } from './scan-worker.js';
import { reportFindings, storedInventory } from './stored-results.js';
import type { VulnDbHandle } from '../services/vulndb-handle.js';

/** The job kind of Harbor's scans: only processes holding the authorizations (serve) claim it, never `portcullis worker`. */
export const HARBOR_SCAN_JOB = 'harbor-scan';

/** How long an accepted request's pull authorization is held at most (Harbor's robot tokens live about as long). */
export const AUTHORIZATION_TTL_MS = 60 * 60_000;

/** How long a scan request id is answered: far beyond Harbor's polling, which ends with the report. */
export const REQUEST_ID_TTL_MS = 7 * 24 * 3600_000;

/** Seconds Harbor is told to wait before asking again (Harbor reads Refresh-After as an 8-bit integer: 1..127). */
export const REFRESH_AFTER_SECONDS = 5;

/** What a job of HARBOR_SCAN_JOB carries: where to pull from, never the authorization itself. */
const harborJobSchema = z.object({
  repository: z.string(),
  digest: z.string(),
  backend: z.literal(EMBEDDED_BACKEND),
  registryUrl: z.string(),
  /** Whether Harbor sent an authorization (held in memory under `registryUrl digest`). */
  authorized: z.boolean(),
});

/** Pull authorizations of accepted scan requests, in memory only (see the module comment). */
export class PullAuthorizations {
  private readonly held = new Map<string, { value: string; until: number }>();

  constructor(
    private readonly ttlMs: number = AUTHORIZATION_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  hold(key: string, value: string): void {
    this.sweep();
    this.held.set(key, { value, until: this.now() + this.ttlMs });
  }

  get(key: string): string | undefined {
    this.sweep();
    return this.held.get(key)?.value;
  }

  release(key: string): void {
    this.held.delete(key);
  }

  /** How many are held (tests check that a finished job released its own). */
  get size(): number {
    this.sweep();
    return this.held.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.held) if (entry.until <= now) this.held.delete(key);
  }
}

/** Where a Harbor scan request stands. */
export type HarborReportState =
  | { state: 'pending'; request: HarborScanRequest; refreshAfter: number }
  | { state: 'failed'; request: HarborScanRequest; reason: string }
  | { state: 'ready'; request: HarborScanRequest; scan: ScanRow; findings: Finding[]; inventory: () => Promise<Inventory> };

export interface HarborScannerDeps {
  config: ServiceConfig;
  store: Store;
  catalog: CatalogStore;
  queue: JobQueue;
  vulndb: VulnDbHandle;
  cacheDir?: string;
  heartbeatMs: number;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** The pino logger of the engine's work (see ServiceRuntimeOptions.engineLog). */
  engineLog?: Logger;
}

export class HarborScanner {
  readonly worker: ScanWorker;
  readonly authorizations = new PullAuthorizations();
  private readonly requests: HarborRequestStore;
  /** Origins of the registries a request may name: `registry.url` and `harbor_scanner.allowed_registries`. */
  private readonly allowedOrigins: ReadonlySet<string>;

  constructor(private readonly deps: HarborScannerDeps) {
    this.requests = new HarborRequestStore(deps.store);
    const allowed = [deps.config.registry.url, ...deps.config.harbor_scanner.allowed_registries].filter((u) => u !== '');
    this.allowedOrigins = new Set(allowed.map((u) => registryOrigin(u)).filter((o): o is string => o !== undefined));
    this.worker = new ScanWorker({
      queue: deps.queue,
      catalog: deps.catalog,
      kind: HARBOR_SCAN_JOB,
      runners: new Map([[EMBEDDED_BACKEND, this.runner()]]),
      concurrency: deps.config.workers.concurrency,
      heartbeatMs: deps.heartbeatMs,
      log: deps.log,
    });
  }

  /** built_at of the vulnerability DB scans match against; undefined when there is none. */
  databaseBuiltAt(): string | undefined {
    try {
      return this.deps.vulndb.available() ? this.deps.vulndb.current().builtAt : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Accepts a scan request (already shaped by {@link scanRequestSchema}): E_MEDIA_TYPE for an artifact
   * this scanner does not consume, E_UNSUPPORTED for a registry it may not pull from or an
   * authorization of another scheme, HarborCapabilityError for a capability it lacks (501 in v1.2).
   * Returns the id Harbor polls with. The scan itself runs later, in the worker.
   */
  async accept(body: HarborScanRequestBody): Promise<string> {
    const { registry, artifact } = body;
    if (!(CONSUMED_MIME_TYPES as readonly string[]).includes(artifact.mime_type)) {
      throw new PortcullisError('E_MEDIA_TYPE', `artifact.mime_type: ${artifact.mime_type} is not a type this scanner consumes (${CONSUMED_MIME_TYPES.join(', ')})`);
    }
    const origin = registryOrigin(registry.url);
    if (origin === undefined) throw new PortcullisError('E_UNSUPPORTED', 'registry.url: expected an http:// or https:// URL');
    if (!this.allowedOrigins.has(origin)) {
      throw new PortcullisError('E_UNSUPPORTED', `registry.url: ${origin} is not a registry this scanner pulls from (registry.url or harbor_scanner.allowed_registries)`);
    }
    if (registry.authorization !== undefined && registry.authorization !== '' && pullCredentials(registry.authorization) === undefined) {
      throw new PortcullisError('E_UNSUPPORTED', 'registry.authorization: expected "Basic <base64 user:password>" or "Bearer <token>"');
    }
    for (const capability of body.enabled_capabilities ?? []) {
      const formats = capability.parameters?.sbom_media_types;
      if (capability.type === 'sbom' && formats !== undefined && formats.length > 0 && !formats.includes('application/vnd.cyclonedx+json')) {
        throw new HarborCapabilityError(`SBOM formats ${formats.join(', ')}: this scanner makes ${SBOM_MEDIA_TYPES[1]} only`);
      }
    }

    await this.requests.deleteOlderThan(new Date(Date.now() - REQUEST_ID_TTL_MS));
    const id = randomUUID();
    const request = await this.requests.add({ id, registryUrl: origin, repository: artifact.repository, digest: artifact.digest, ...(artifact.tag ? { tag: artifact.tag } : {}), mimeType: artifact.mime_type });
    const stored = await this.embeddedScan(artifact.digest);
    if (stored?.status === 'scanned') return id;

    const authorized = registry.authorization !== undefined && registry.authorization !== '';
    if (authorized) this.authorizations.hold(secretKey(origin, artifact.digest), registry.authorization ?? '');
    await this.deps.catalog.queueScan(artifact.digest, EMBEDDED_BACKEND, `requested by Harbor (scan request ${id})`);
    await this.deps.queue.enqueue({
      kind: HARBOR_SCAN_JOB,
      payload: { repository: request.repository, digest: request.digest, backend: EMBEDDED_BACKEND, registryUrl: origin, authorized } satisfies z.infer<typeof harborJobSchema>,
      dedupeKey: `${HARBOR_SCAN_JOB}:${origin}:${artifact.digest}`,
    });
    this.worker.wake();
    return id;
  }

  /** Where the request `id` stands; undefined for an id this scanner never gave out. */
  async report(id: string): Promise<HarborReportState | undefined> {
    const request = await this.requests.get(id);
    if (request === undefined) return undefined;
    const scan = await this.embeddedScan(request.digest);
    if (scan === undefined || scan.status === 'queued' || scan.status === 'scanning') return { state: 'pending', request, refreshAfter: REFRESH_AFTER_SECONDS };
    if (scan.status !== 'scanned') return { state: 'failed', request, reason: `the scan of ${request.digest} ${scan.status === 'unsupported' ? 'is not supported' : 'failed'}: ${scan.reason ?? 'no reason recorded'}` };
    return { state: 'ready', request, scan, findings: reportFindings(scan), inventory: () => storedInventory(this.deps.catalog, request.digest) };
  }

  private async embeddedScan(digest: string): Promise<ScanRow | undefined> {
    return (await this.deps.catalog.scans(digest)).find((s) => s.backend === EMBEDDED_BACKEND);
  }

  /** The worker's runner: the embedded backend, reading the image from the request's registry with the request's authorization. */
  private runner(): BackendRunner {
    return async (job, signal, run) => {
      const payload = harborJobSchema.parse(job);
      const key = secretKey(payload.registryUrl, payload.digest);
      let access: RegistryAccess;
      if (payload.authorized) {
        const authorization = this.authorizations.get(key);
        if (authorization === undefined) {
          throw new PortcullisError('E_AUTH', `the pull authorization Harbor sent for ${payload.digest} is no longer held by this process (restarted, or older than ${AUTHORIZATION_TTL_MS / 60_000} min); Harbor sends a new one when it scans again`);
        }
        access = registryAccess({ url: payload.registryUrl, username: '', password: '', ...pullCredentials(authorization) });
      } else {
        access = registryAccess({ url: payload.registryUrl, username: '', password: '' });
      }
      const scan = embeddedBackend({
        registry: access,
        catalog: this.deps.catalog,
        vulndb: this.deps.vulndb,
        ...(this.deps.cacheDir ? { cacheDir: this.deps.cacheDir } : {}),
        ...(this.deps.engineLog ? { logger: this.deps.engineLog } : {}),
      });
      const result = await scan(payload, signal, run);
      this.authorizations.release(key);
      return result;
    };
  }
}

/** A scan request asks for a capability this scanner does not have: 501 in spec v1.2. */
export class HarborCapabilityError extends PortcullisError {
  constructor(message: string) {
    super('E_UNSUPPORTED', message);
  }
}

/** `scheme://host[:port]` of a registry URL, lower case; undefined when it is not an http(s) URL. */
export function registryOrigin(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.origin : undefined;
  } catch {
    return undefined;
  }
}

/** Registry credentials from an Authorization header value: Basic -> user and password, Bearer -> the token as is. */
export function pullCredentials(authorization: string): { username: string; password: string } | { registryToken: string } | undefined {
  const basic = /^Basic[ \t]+([A-Za-z0-9+/=]+)$/i.exec(authorization.trim());
  if (basic?.[1] !== undefined) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon > 0 ? { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) } : undefined;
  }
  const bearer = /^Bearer[ \t]+(\S+)$/i.exec(authorization.trim());
  return bearer?.[1] !== undefined ? { registryToken: bearer[1] } : undefined;
}

function secretKey(origin: string, digest: string): string {
  return `${origin} ${digest}`;
}
