/**
 * The scanner backends the service runs beside its embedded scanner, built from the `security:`
 * section exactly as Portus enabled them: a backend is on when its `server` is set, and several
 * may be on at once. Each becomes a queue runner that stores its findings per (digest, backend).
 */
import type { ServiceConfig } from '../config/service-config.js';
import { ClairV2Backend } from '../backends/clair-v2/backend.js';
import { ClairV4Backend, CLAIR_V4_BACKEND } from '../backends/clair-v4/backend.js';
import { storedManifestStates } from '../store/backend-index-state.js';
import type { Store } from '../store/open-store.js';
import { DummyBackend } from '../backends/dummy/backend.js';
import { HarborAdapterBackend } from '../backends/harbor/backend.js';
import type { BackendPackageFindings, BackendReport, ScannerBackend, ScanTarget, TargetLayer } from '../backends/types.js';
import { ZypperBackend } from '../backends/zypper/backend.js';
import { PortcullisError } from '../domain/errors.js';
import { IMAGE_MANIFEST_MEDIA_TYPES, normalizeMediaType } from '../image/media-types.js';
import { parseManifest } from '../image/manifest.js';
import type { CatalogStore } from '../store/catalog.js';
import * as z from 'zod';
import type { WebhookStore } from '../store/webhooks.js';
import { EMBEDDED_BACKEND } from './embedded-backend.js';
import type { RegistryAccess } from './registry-access.js';
import type { FindingSummary, ManifestDiff } from './rematch.js';
import { queueFindingsChanged, type WebhookTarget } from './webhooks.js';
import type { BackendRunner } from './scan-worker.js';

/** Docker's empty gzip layer (`FROM scratch` filler): no scanner learns anything from it, and Portus skipped it too. */
export const EMPTY_LAYER_DIGEST = 'sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4';

/**
 * The external backends `security` enables, in Portus's order (clair, zypper, dummy; Clair v4 after
 * Clair v2), then each Harbor adapter of `security.harbor` (`harbor-<name>`). The embedded
 * scanner is not among them: it is enabled by `security.embedded.enabled` and runs through its own
 * runner. With `store`, backends keep what they remember per manifest there (Clair v4's index
 * states). Throws E_CONFIG for a dummy fixture that cannot be read, so a bad value stops the service at start.
 */
export function configuredBackends(security: ServiceConfig['security'], options: { store?: Store } = {}): ScannerBackend[] {
  const backends: ScannerBackend[] = [];
  if (security.clair.server !== '') {
    backends.push(new ClairV2Backend({ server: security.clair.server, healthPort: security.clair.health_port, timeoutMs: security.clair.timeout * 1000 }));
  }
  const v4 = security.clair_v4;
  if (v4.server !== '') {
    const indexStates = options.store !== undefined ? storedManifestStates(options.store, CLAIR_V4_BACKEND) : undefined;
    backends.push(new ClairV4Backend({ server: v4.server, matcher: v4.matcher, ...(v4.psk.key !== '' ? { psk: v4.psk } : {}), timeoutMs: v4.timeout * 1000, ...(indexStates ? { indexStates } : {}) }));
  }
  if (security.zypper.server !== '') backends.push(new ZypperBackend({ server: security.zypper.server }));
  if (security.dummy.server !== '') backends.push(DummyBackend.fromServerSetting(security.dummy.server));
  const names = security.harbor.map((a) => a.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new PortcullisError('E_CONFIG', `config: security.harbor: the name "${twice}" is given twice (results are stored under harbor-<name>)`, { key: 'security.harbor' });
  for (const adapter of security.harbor) backends.push(new HarborAdapterBackend({ name: adapter.name, url: adapter.url, auth: adapter.auth, timeoutMs: adapter.timeout * 1000 }));
  return backends;
}

/** The names of every backend that scans each image: the embedded scanner (when enabled) first, then `scanners`. */
export function enabledBackendNames(security: ServiceConfig['security'], scanners: readonly ScannerBackend[] = configuredBackends(security)): string[] {
  return [...(security.embedded.enabled ? [EMBEDDED_BACKEND] : []), ...scanners.map((s) => s.name)];
}

/** What a backend runner needs from the service. */
export interface BackendRunnerDeps {
  registry: RegistryAccess;
  catalog: CatalogStore;
  /** The outgoing webhooks: a re-scan that changes a stored result queues a findings.changed notice (as a DB re-match does). */
  webhooks?: { targets: readonly WebhookTarget[]; store: WebhookStore };
}

/**
 * A queue runner for `backend`: builds the scan target (the manifest's layers and blob URLs, a pull
 * authorization for the repository, the tags naming the digest), runs the scan, and wraps the
 * findings into a {@link BackendReport} with counts per severity (one per package and vulnerability).
 */
export function backendRunner(backend: ScannerBackend, deps: BackendRunnerDeps): BackendRunner {
  return async (job, signal) => {
    const tags = (await deps.catalog.tagsOfDigest(job.digest)).filter((t) => t.repository === job.repository).map((t) => t.name);
    const previous = (await deps.catalog.scans(job.digest)).find((s) => s.backend === backend.name)?.report ?? null;
    const target: ScanTarget = { repository: job.repository, digest: job.digest, tags, registry: targetAccess(deps.registry, job.repository, job.digest) };
    const output = await backend.scan(target, signal);
    const packages = [...output.packages].sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
    const report: BackendReport = {
      schema: 'https://portcullis.dev/schemas/backend-report/v1',
      backend: backend.name,
      repository: job.repository,
      digest: job.digest,
      ...(output.packageCount !== undefined ? { packageCount: output.packageCount } : {}),
      packages,
      ...(output.seenPackages !== undefined ? { seenPackages: output.seenPackages } : {}),
    };
    const webhooks = deps.webhooks;
    if (previous !== null && webhooks !== undefined && webhooks.targets.length > 0) {
      // Queued before the worker stores the result: a store that then fails retries the job, which
      // diffs against the same previous result again (at worst a repeated notice, never a lost one).
      const diff = diffBackendPackages(job.digest, storedPackages(previous), packages);
      if (diff.introduced.length + diff.fixed.length + diff.severityChanged.length > 0) {
        await queueFindingsChanged([diff], '', webhooks.targets, { catalog: deps.catalog, webhooks: webhooks.store }, backend.name);
      }
    }
    return { report, counts: findingCounts(packages) };
  };
}

const storedVulnerability = z.object({ id: z.string(), severity: z.string(), fixedBy: z.string().optional() });
const storedReport = z.object({ packages: z.array(z.object({ name: z.string(), version: z.string(), namespace: z.string().optional(), vulnerabilities: z.array(storedVulnerability) })) });

/** The packages of a stored backend report; [] for one of another shape (a store outlives versions). */
function storedPackages(json: string): z.infer<typeof storedReport>['packages'] {
  try {
    const parsed = storedReport.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data.packages : [];
  } catch {
    return [];
  }
}

/** Introduced, fixed and re-rated findings between two results of one backend for one manifest (the namespace stands in for a path). */
export function diffBackendPackages(digest: string, before: z.infer<typeof storedReport>['packages'], after: readonly BackendPackageFindings[]): ManifestDiff {
  type Row = FindingSummary;
  const rows = (packages: z.infer<typeof storedReport>['packages']): Map<string, Row> =>
    new Map(packages.flatMap((p) => p.vulnerabilities.map((v): [string, Row] => [`${v.id}\u0000${p.name}\u0000${p.version}\u0000${p.namespace ?? ''}`, { id: v.id, package: p.name, version: p.version, path: p.namespace ?? '', severity: v.severity, fixedVersions: v.fixedBy !== undefined ? [v.fixedBy] : [] }])));
  const old = rows(before);
  const now = rows([...after]);
  const diff: ManifestDiff = { digest, introduced: [], fixed: [], severityChanged: [] };
  for (const [k, f] of now) {
    const was = old.get(k);
    if (was === undefined) diff.introduced.push(f);
    else if (was.severity !== f.severity) diff.severityChanged.push({ ...f, previousSeverity: was.severity });
  }
  for (const [k, f] of old) if (!now.has(k)) diff.fixed.push(f);
  return diff;
}

/** Findings per severity, one per (package, vulnerability); {} when there is none. */
export function findingCounts(packages: readonly BackendPackageFindings[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const p of packages) for (const v of p.vulnerabilities) counts[v.severity] = (counts[v.severity] ?? 0) + 1;
  return counts;
}

/** Registry access for one manifest, each part fetched only when a backend asks for it. */
function targetAccess(registry: RegistryAccess, repository: string, digest: string): ScanTarget['registry'] {
  return {
    reference: registry.reference(repository, digest),
    imageOptions: registry.imageOptions(),
    layers: async (signal) => {
      const client = await registry.client();
      try {
        const fetched = await client.getManifest(repository, digest, signal);
        const parsed = parseManifest(fetched.bytes, { ...(fetched.contentType ? { contentType: fetched.contentType } : {}), what: `${repository}@${digest}` });
        if (parsed.kind !== 'image' || !IMAGE_MANIFEST_MEDIA_TYPES.has(normalizeMediaType(parsed.mediaType))) {
          throw new PortcullisError('E_MANIFEST', `${repository}@${digest} is not an image manifest`);
        }
        const base = await client.baseUrl(signal);
        return parsed.layers
          .filter((l) => l.digest !== EMPTY_LAYER_DIGEST)
          .map((l): TargetLayer => ({ digest: l.digest, mediaType: l.mediaType, size: l.size, url: `${base}/v2/${repository}/blobs/${l.digest}` }));
      } finally {
        await client.close();
      }
    },
    authorization: async (signal) => {
      const client = await registry.client();
      try {
        return await client.pullAuthorization(repository, signal);
      } finally {
        await client.close();
      }
    },
  };
}
