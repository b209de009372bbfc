/**
 * Scans on demand (`POST /api/v1/scans`, `portcullis scan --server`): an image of the watched
 * registry, named by tag or digest, is resolved through the registry, recorded in the catalog the
 * way a push event records it (the event processor's code path), and its image manifests queued
 * for every enabled backend that has no current result. Only the registry of `registry.url` is
 * ever asked: a reference naming another host is refused before anything goes out.
 */
import { PortcullisError } from '../domain/errors.js';
import { assertTransportAllowed, type EngineContext } from '../engine/context.js';
import { formatRegistryReference, parseRegistryReference } from '../image/reference.js';
import type { CatalogStore, ScanStatus } from '../store/catalog.js';
import type { JobQueue } from '../store/jobs.js';
import { recordPush } from './event-processor.js';
import { manifestView, type ManifestView } from './queries.js';
import type { RegistryAccess } from './registry-access.js';
import { upstreamFailure } from './upstream.js';

/** What engine work for the service may open (see serviceEngineContext). */
const SERVICE_TRANSPORTS = { allowedTransports: ['registry'] } as const satisfies Pick<EngineContext, 'allowedTransports'>;

/** An image of the watched registry: a repository and a tag or a digest. */
export interface WatchedImage {
  /** `host/repo:tag` or `host/repo@digest`, as the service names it. */
  canonical: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/** Where the state of a requested scan can be read. */
export function scanStatePath(digest: string): string {
  return `/api/v1/scans/${digest}`;
}

/** Where the embedded scanner's full report of an image manifest can be read. */
export function reportPath(digest: string): string {
  return `/api/v1/manifests/${digest}/report`;
}

/** The state of the scans of a manifest (an index: of each platform manifest), per backend. */
export interface ScanRequestState {
  digest: string;
  /**
   * Over every backend of every image manifest: `queued`/`scanning` while any is, then `failed`
   * when any failed, `unsupported` when all are, else `scanned`.
   */
  status: ScanStatus;
  /** The manifest with its scan state (per backend), and an index's platform manifests with theirs. */
  manifest: ManifestView;
  /** The path to poll for this state. */
  poll: string;
}

/**
 * Reads `text` as an image of the registry at `registryHost`: `repo:tag`, `repo@sha256:...`, or
 * the same prefixed with `registryHost/`. E_REFERENCE for bad syntax; E_INPUT for another registry
 * host (nothing is requested from it); E_FORBIDDEN for a local path (`dir:`, `oci:`, archives).
 */
export function watchedImage(text: string, registryHost: string): WatchedImage {
  // A local image path would have the service read its own host's files: refused as the service's
  // engine context refuses it (E_FORBIDDEN naming the transport), before anything is parsed or read.
  const local = /^(oci|oci-archive|docker-archive|dir):/.exec(text)?.[1];
  if (local !== undefined) assertTransportAllowed(SERVICE_TRANSPORTS, local === 'oci-archive' ? 'oci' : local === 'dir' || local === 'oci' ? local : 'docker-archive', text);
  const slash = text.indexOf('/');
  const first = slash >= 0 ? text.slice(0, slash) : '';
  // Docker's rule for whether the first component is a host (see parseRegistryReference).
  const namesHost = first.includes('.') || first.includes(':') || first === 'localhost';
  if (namesHost && first !== registryHost) {
    throw new PortcullisError('E_INPUT', `image ${JSON.stringify(text)} is in registry ${first}; this service scans only images of the registry it watches, ${registryHost} (registry.url)`, { registry: first });
  }
  const ref = parseRegistryReference(namesHost ? text : `${registryHost}/${text}`, text);
  const image: WatchedImage = { canonical: formatRegistryReference(ref), repository: ref.repository };
  if (ref.digest !== undefined) image.digest = ref.digest;
  else if (ref.tag !== undefined) image.tag = ref.tag;
  return image;
}

export interface ScanRequestDeps {
  catalog: CatalogStore;
  queue: JobQueue;
  /** undefined when the service watches no registry (`registry.url` ""). */
  registry: RegistryAccess | undefined;
  /** The enabled backends, as the workers run them. */
  backends: readonly string[];
  /** Told when scans were queued (wakes an in-process worker). */
  onQueued?: () => void;
}

/** The answer to a scan request: the image, its state, and whether every result is already there. */
export interface ScanRequestOutcome {
  image: string;
  repository: string;
  /** True when nothing is left to do: every backend has a result for every image manifest. */
  complete: boolean;
  state: ScanRequestState;
}

/** Scans on demand over one catalog, queue and registry. */
export class ScanRequests {
  constructor(private readonly deps: ScanRequestDeps) {}

  /**
   * Resolves `text` in the watched registry, records it as a push would, queues what has no
   * current result. The registry's failures are thrown marked as upstream (upstreamFailure), so
   * the error table answers them: 404 for an unknown repository, tag or digest; 502 for the
   * registry refusing the service's credentials (E_REGISTRY: not the caller's 401) or being down
   * (E_UNREACHABLE). E_FORBIDDEN for a local path, E_INPUT for another registry.
   */
  async request(text: string): Promise<ScanRequestOutcome> {
    const registry = this.deps.registry;
    if (registry === undefined) throw new PortcullisError('E_INPUT', 'this service watches no registry (registry.url is empty), so it has no images to scan on demand');
    const image = watchedImage(text, registry.host);
    const reference = image.digest ?? image.tag ?? 'latest';
    let pushed: Awaited<ReturnType<typeof recordPush>>;
    const client = await registry.client();
    try {
      pushed = await recordPush(client, image.repository, reference, image.tag, this.deps, { scanUntagged: true });
    } catch (err) {
      // The image the caller named, asked of the registry with the service's credentials: the
      // error table answers a refusal as 502 and a missing tag or manifest as 404 (upstream.ts).
      throw upstreamFailure(err, { service: 'registry', subject: image.canonical, notFoundIsCallers: true });
    } finally {
      await client.close();
    }
    if (pushed.queued.length > 0) this.deps.onQueued?.();
    const state = await this.state(pushed.digest);
    if (state === undefined) throw new PortcullisError('E_INTERNAL', `${pushed.digest} was recorded but cannot be read back`);
    return { image: image.canonical, repository: image.repository, complete: state.status !== 'queued' && state.status !== 'scanning', state };
  }

  /** The scan state of a recorded manifest; undefined when the catalog does not know it. */
  async state(digest: string): Promise<ScanRequestState | undefined> {
    const manifest = await manifestView(this.deps.catalog, digest);
    if (manifest === undefined) return undefined;
    const images = manifest.kind === 'index' ? (manifest.children ?? []) : [manifest];
    const statuses = images.flatMap((m) => (m.scan.backends.length > 0 ? m.scan.backends.map((b) => b.status) : ['queued' as const]));
    const status: ScanStatus = statuses.includes('scanning')
      ? 'scanning'
      : statuses.includes('queued') || statuses.length === 0
        ? 'queued'
        : statuses.includes('failed')
          ? 'failed'
          : statuses.every((s) => s === 'unsupported')
            ? 'unsupported'
            : 'scanned';
    return { digest, status, manifest, poll: scanStatePath(digest) };
  }
}
