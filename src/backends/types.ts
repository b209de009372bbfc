/**
 * The contract every scanner backend of the service fulfils (Clair v2, zypper-docker, dummy; later
 * Clair v4 and Harbor adapters), and the shape of what they produce. Each backend lives in its own
 * folder under src/backends/; the service turns a backend into a queue runner (src/service/backends.ts)
 * and stores its result per (manifest digest, backend).
 *
 * A backend reports per-package findings or throws a PortcullisError whose code tells the worker
 * what to do: E_UNSUPPORTED (the backend cannot scan this image: state `unsupported`, no retry),
 * E_PENDING (still working: asked again after the queue's backoff), anything else a failed scan
 * with its reason (retried by the queue's policy). A backend never reports "no findings" for a
 * scan that did not happen.
 */
import type { Severity } from '../domain/severity.js';
import type { OpenImageOptions } from '../image/open-image.js';

/** One layer of the image to scan, as the registry serves it. */
export interface TargetLayer {
  /** Blob digest (`sha256:...`). */
  digest: string;
  mediaType: string;
  size: number;
  /** Where the blob can be fetched from: `<registry base>/v2/<repository>/blobs/<digest>`. */
  url: string;
}

/**
 * How a backend reaches the image. Backends that fetch blobs themselves (Clair v2, Harbor adapters)
 * use the layer URLs and the Authorization header; backends that read local bytes use the engine
 * reference and options; backends that only need a name (zypper-docker) use `repository` and `tags`.
 */
export interface TargetRegistryAccess {
  /** The image manifest's layers, base first, with their blob URLs. */
  layers(signal: AbortSignal): Promise<TargetLayer[]>;
  /** An Authorization header value valid for pulling this repository, or undefined for an anonymous registry. */
  authorization(signal: AbortSignal): Promise<string | undefined>;
  /** An engine reference to the manifest (`host/repo@digest`) for backends that read the bytes through the engine (openImage). */
  reference: string;
  /** openImage options for `reference` (credentials travel in the engine context, never here). */
  imageOptions: OpenImageOptions;
}

/** What one scan is about. */
export interface ScanTarget {
  /** Repository in the watched registry (`team/app`). */
  repository: string;
  /** Digest of the image manifest (never an index: the service scans each platform child). */
  digest: string;
  /** Tags of the repository pointing at the digest ([] for an untagged manifest). */
  tags: string[];
  registry: TargetRegistryAccess;
}

/** One vulnerability a backend reports for a package. */
export interface BackendVulnerability {
  /** The advisory's id as the backend names it (`CVE-2024-0727`). */
  id: string;
  /** On Portcullis's scale (Clair v2's Defcon1 is Critical here). */
  severity: Severity;
  /** The severity word the backend used, kept as it was (`Defcon1`, `important`). */
  backendSeverity: string;
  /** The version that fixes it, when the backend knows one. */
  fixedBy?: string;
  link?: string;
  description?: string;
  /** The advisory's namespace (`debian:12`). */
  namespace?: string;
  /** Backend-specific extras passed through (Clair's NVD scores). */
  metadata?: Record<string, unknown>;
}

/** A package and what a backend found in it. */
export interface BackendPackageFindings {
  name: string;
  version: string;
  /** The backend's namespace of the package (`debian:12`); absent when it gave none. */
  namespace?: string;
  /** The layer (as the backend names it) that added the package. */
  addedBy?: string;
  vulnerabilities: BackendVulnerability[];
}

/** The JSON a backend's scan is stored as (the embedded backend stores its ScanReport instead). */
export interface BackendReport {
  schema: 'https://portcullis.dev/schemas/backend-report/v1';
  backend: string;
  repository: string;
  digest: string;
  /** Packages the backend saw (with or without findings); undefined when it does not say. */
  packageCount?: number;
  /** Packages with at least one finding, sorted by name and version. */
  packages: BackendPackageFindings[];
  /** Every package the backend saw, when it lists them: what lets the aggregate say "saw the package, did not report the advisory". */
  seenPackages?: SeenPackage[];
}

/** A package a backend saw, as it names it (Clair v2 names a Debian package by its source package). */
export interface SeenPackage {
  name: string;
  version: string;
  namespace?: string;
}

/** What a backend's scan produces; the service adds the envelope and the counts. */
export interface BackendScanOutput {
  packageCount?: number;
  packages: BackendPackageFindings[];
  seenPackages?: SeenPackage[];
}

/** A backend's health as probes and `/readyz` show it. */
export interface BackendHealth {
  ok: boolean;
  /** Why, in words (`clair is reachable`, `GET http://clair:6061/health answered 500`). */
  detail: string;
}

/** A scanner backend of the service. */
export interface ScannerBackend {
  /** The `security:` key that enables it, and the name its results are stored under (`clair`). */
  readonly name: string;
  /** Whether it reaches the image through layer URLs (it pulls blobs itself), local bytes, or by name only. */
  readonly needs: 'layer-urls' | 'local-bytes' | 'image-name';
  /** Probes the backend; never throws. */
  health(signal?: AbortSignal): Promise<BackendHealth>;
  /** Scans one image manifest; throws a PortcullisError (see the module comment) when it cannot. */
  scan(target: ScanTarget, signal: AbortSignal): Promise<BackendScanOutput>;
}
