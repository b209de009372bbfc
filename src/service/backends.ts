/**
 * The scanner backends the service runs beside its embedded scanner, built from the `security:`
 * section exactly as Portus enabled them: a backend is on when its `server` is set, and several
 * may be on at once. Each becomes a queue runner that stores its findings per (digest, backend).
 */
import type { ServiceConfig } from '../config/service-config.js';
import { ClairV2Backend } from '../backends/clair-v2/backend.js';
import { DummyBackend } from '../backends/dummy/backend.js';
import type { BackendPackageFindings, BackendReport, ScannerBackend, ScanTarget, TargetLayer } from '../backends/types.js';
import { ZypperBackend } from '../backends/zypper/backend.js';
import { PortcullisError } from '../domain/errors.js';
import { IMAGE_MANIFEST_MEDIA_TYPES, normalizeMediaType } from '../image/media-types.js';
import { parseManifest } from '../image/manifest.js';
import type { CatalogStore } from '../store/catalog.js';
import { EMBEDDED_BACKEND } from './embedded-backend.js';
import type { RegistryAccess } from './registry-access.js';
import type { BackendRunner } from './scan-worker.js';

/** Docker's empty gzip layer (`FROM scratch` filler): no scanner learns anything from it, and Portus skipped it too. */
export const EMPTY_LAYER_DIGEST = 'sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4';

/**
 * The external backends `security` enables, in Portus's order (clair, zypper, dummy). The embedded
 * scanner is not among them: it is enabled by `security.embedded.enabled` and runs through its own
 * runner. Throws E_CONFIG for a dummy fixture that cannot be read, so a bad value stops the service at start.
 */
export function configuredBackends(security: ServiceConfig['security']): ScannerBackend[] {
  const backends: ScannerBackend[] = [];
  if (security.clair.server !== '') {
    backends.push(new ClairV2Backend({ server: security.clair.server, healthPort: security.clair.health_port, timeoutMs: security.clair.timeout * 1000 }));
  }
  if (security.zypper.server !== '') backends.push(new ZypperBackend({ server: security.zypper.server }));
  if (security.dummy.server !== '') backends.push(DummyBackend.fromServerSetting(security.dummy.server));
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
}

/**
 * A queue runner for `backend`: builds the scan target (the manifest's layers and blob URLs, a pull
 * authorization for the repository, the tags naming the digest), runs the scan, and wraps the
 * findings into a {@link BackendReport} with counts per severity (one per package and vulnerability).
 */
export function backendRunner(backend: ScannerBackend, deps: BackendRunnerDeps): BackendRunner {
  return async (job, signal) => {
    const tags = (await deps.catalog.tagsOfDigest(job.digest)).filter((t) => t.repository === job.repository).map((t) => t.name);
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
    return { report, counts: findingCounts(packages) };
  };
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
