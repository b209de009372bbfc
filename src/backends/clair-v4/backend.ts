/**
 * Clair v4 (the scanner Quay runs) as a backend of the service, through the CI gate's client
 * (client.ts) and converter (convert.ts):
 *
 * 1. the Manifest: `hash` = the manifest digest, `layers` base first, each with `uri` = the blob URL
 *    in the registry and `headers.Authorization` = a pull authorization for the repository (Clair's
 *    indexer downloads the blobs itself);
 * 2. `POST /indexer/api/v1/index_report` with `If-None-Match` = the indexer state this backend last
 *    saw the manifest indexed at: 412 means "already indexed at this state" and goes straight to the
 *    report; otherwise the IndexReport is polled until its state is final (IndexFinished or
 *    IndexError, within the timeout);
 * 3. `GET /matcher/api/v1/vulnerability_report/{digest}` -> per-package findings, severities from
 *    `normalized_severity` (Clair's scale is Portcullis's) with Clair's own word kept.
 *
 * Every request carries a fresh PSK JWT when `psk` is set. Failures are typed as the other backends'
 * (src/backends/README.md): 5xx, non-JSON and bodies of another shape E_INTERNAL, no (complete)
 * answer in time E_UNREACHABLE, 422 E_UNSUPPORTED, 404 of the report E_NOT_FOUND, an IndexError
 * E_INTERNAL with Clair's `err` (often a layer fetch that may work next time), a report for another
 * manifest E_INTERNAL.
 *
 * The index state per manifest lives in `indexStates`: the app database in the service (shared by
 * every worker, kept across restarts), this process's memory otherwise.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isPortcullisError, PortcullisError } from '../../domain/errors.js';
import type { Finding } from '../../domain/finding.js';
import type { BackendHealth, BackendPackageFindings, BackendScanOutput, BackendVulnerability, ScannerBackend, ScanTarget } from '../types.js';
import { ClairV4Client, isIndexFailed, isIndexFinished } from './client.js';
import { vulnerabilityReportToFindings } from './convert.js';
import type { ClairIndexReport, ClairManifest, ClairVulnerabilityReport } from './schemas.js';

/** Where the indexer state each manifest was indexed at is kept (the service: its app database, src/store/backend-index-state.ts). */
export interface ManifestStates {
  get(digest: string): Promise<string | undefined>;
  set(digest: string, state: string): Promise<void>;
}

/** States kept in this process only (a backend used without a store: tests, one-shot use). */
export function memoryManifestStates(): ManifestStates {
  const states = new Map<string, string>();
  return {
    get: (digest) => Promise.resolve(states.get(digest)),
    set: (digest, state) => {
      states.set(digest, state);
      return Promise.resolve();
    },
  };
}

/** The backend's name: the results are stored under it and `security.clair_v4` enables it. */
export const CLAIR_V4_BACKEND = 'clair-v4';

export interface ClairV4BackendOptions {
  /** `security.clair_v4.server`: Clair in combined mode, or its indexer (and notifier). */
  server: string;
  /** `security.clair_v4.matcher`: the matcher when it runs apart ("" or absent = on `server`). */
  matcher?: string;
  /** `security.clair_v4.psk` (base64 key, issuer); absent = requests unauthenticated. */
  psk?: { key: string; issuer: string };
  /** `security.clair_v4.timeout` in ms: each request, and the wait for the index to finish. */
  timeoutMs: number;
  /** Between polls of an unfinished index report (default 1 s, clair-scanner's and Quay's pace). */
  pollIntervalMs?: number;
  /** Where the indexer state each manifest was indexed at is kept (default: this process's memory). */
  indexStates?: ManifestStates;
}

/** The Clair v4 backend (see the module comment). */
export class ClairV4Backend implements ScannerBackend {
  readonly name = CLAIR_V4_BACKEND;
  readonly needs = 'layer-urls' as const;
  readonly client: ClairV4Client;
  readonly #separateMatcher: boolean;
  /** Indexer state (`ETag`) each manifest was last seen indexed at. */
  readonly #indexStates: ManifestStates;

  constructor(private readonly options: ClairV4BackendOptions) {
    const matcher = options.matcher !== undefined && options.matcher !== '' ? options.matcher : undefined;
    this.#separateMatcher = matcher !== undefined;
    this.#indexStates = options.indexStates ?? memoryManifestStates();
    this.client = new ClairV4Client({
      url: options.server,
      ...(matcher !== undefined ? { matcherUrl: matcher } : {}),
      ...(options.psk !== undefined && options.psk.key !== '' ? { psk: options.psk } : {}),
      timeoutMs: options.timeoutMs,
      failureCode: 'E_INTERNAL',
    });
  }

  /** The indexer's `GET /indexer/api/v1/index_state`, and the matcher's update operations when it runs apart. */
  async health(signal?: AbortSignal): Promise<BackendHealth> {
    const probe = AbortSignal.timeout(Math.min(this.options.timeoutMs, 10_000));
    const within = signal ? AbortSignal.any([signal, probe]) : probe;
    try {
      const state = await this.client.indexState(within);
      if (this.#separateMatcher) await this.client.matcherUpdateOperations(within);
      return { ok: true, detail: `clair-v4 is reachable (indexer state ${state}${this.#separateMatcher ? '; matcher answers' : ''})` };
    } catch (err) {
      return { ok: false, detail: `clair-v4 is not reachable: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  async scan(target: ScanTarget, signal: AbortSignal): Promise<BackendScanOutput> {
    const layers = await target.registry.layers(signal);
    if (layers.length === 0) throw new PortcullisError('E_UNSUPPORTED', `${this.name}: ${target.repository}@${target.digest} has no layers to index`);
    const authorization = await target.registry.authorization(signal);
    const headers: Record<string, string[]> = authorization !== undefined ? { Authorization: [authorization] } : {};
    const manifest: ClairManifest = { hash: target.digest, layers: layers.map((l) => ({ hash: l.digest, uri: l.url, headers })) };
    const known = await this.#indexStates.get(target.digest);
    const unchanged = await this.#index(manifest, known, signal);
    let report: ClairVulnerabilityReport;
    try {
      report = await this.client.getVulnerabilityReport(target.digest, signal);
    } catch (err) {
      // Clair's 412 compares the indexer state only: a Clair whose database was reset since answers
      // 412 and then 404 for the report. Index once more without the precondition.
      if (!unchanged || !isPortcullisError(err, 'E_NOT_FOUND')) throw err;
      await this.#index(manifest, undefined, signal);
      report = await this.client.getVulnerabilityReport(target.digest, signal);
    }
    this.#sameManifest(report.manifest_hash, target.digest, `GET /matcher/api/v1/vulnerability_report/${target.digest}`);
    const findings = vulnerabilityReportToFindings(report, { layers: layers.map((l) => l.digest) });
    return { packageCount: Object.keys(report.packages).length, packages: packageFindings(findings) };
  }

  /** Indexes `manifest` unless Clair answers 412 to `ifNoneMatch` (returns true then), waiting for the index to be final. */
  async #index(manifest: ClairManifest, ifNoneMatch: string | undefined, signal: AbortSignal): Promise<boolean> {
    const submitted = await this.client.indexUnlessUnchanged(manifest, ifNoneMatch, signal);
    if (submitted.unchanged) return true;
    this.#sameManifest(submitted.report.manifest_hash, manifest.hash, 'POST /indexer/api/v1/index_report');
    await this.#finished(submitted.report, manifest.hash, signal);
    if (submitted.state !== undefined && submitted.state !== '') await this.#indexStates.set(manifest.hash, submitted.state);
    return false;
  }

  /** The indexer state `digest` was last seen indexed at (what the next scan sends as If-None-Match). */
  indexStateOf(digest: string): Promise<string | undefined> {
    return this.#indexStates.get(digest);
  }

  /** Polls until the index report is final; throws its IndexError, or E_UNREACHABLE when it does not finish within the timeout. */
  async #finished(first: ClairIndexReport, digest: string, signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + this.options.timeoutMs;
    let report: ClairIndexReport | undefined = first;
    for (;;) {
      if (report !== undefined) {
        if (isIndexFailed(report)) throw new PortcullisError('E_INTERNAL', `${this.name}: indexing ${digest} failed: ${report.err || report.state}`, { backend: this.name });
        if (isIndexFinished(report)) return;
      }
      if (Date.now() >= deadline) {
        throw new PortcullisError('E_UNREACHABLE', `${this.name}: the index report of ${digest} was not finished within ${this.options.timeoutMs / 1000} s (state ${report?.state || 'unknown'})`, { backend: this.name });
      }
      await sleep(this.options.pollIntervalMs ?? 1000, undefined, { signal });
      // A 404 right after the POST is an indexer that has not stored the manifest yet: poll on.
      report = await this.client.getIndexReport(digest, signal);
      if (report !== undefined) this.#sameManifest(report.manifest_hash, digest, `GET /indexer/api/v1/index_report/${digest}`);
    }
  }

  #sameManifest(answered: string, asked: string, what: string): void {
    if (answered !== asked) throw new PortcullisError('E_INTERNAL', `${this.name}: ${what} answered for manifest ${JSON.stringify(answered)}, not the one asked for`, { backend: this.name });
  }
}

/** Findings (one per package and advisory) grouped into the backends' per-package shape. */
export function packageFindings(findings: readonly Finding[]): BackendPackageFindings[] {
  const byPackage = new Map<string, BackendPackageFindings>();
  for (const f of findings) {
    const key = `${f.package.name}\u0000${f.package.version}\u0000${f.namespace}`;
    let entry = byPackage.get(key);
    if (entry === undefined) {
      entry = { name: f.package.name, version: f.package.version, ...(f.namespace !== '' ? { namespace: f.namespace } : {}), ...(f.package.layer !== '' ? { addedBy: f.package.layer } : {}), vulnerabilities: [] };
      byPackage.set(key, entry);
    }
    const vendor = f.ratings.find((r) => r.type === 'vendor');
    const vulnerability: BackendVulnerability = {
      id: f.id,
      severity: f.severity,
      backendSeverity: vendor?.value ?? f.severity,
      ...(f.fixedVersions[0] !== undefined ? { fixedBy: f.fixedVersions[0] } : {}),
      ...(f.links[0] !== undefined ? { link: f.links[0] } : {}),
      ...(f.description !== undefined ? { description: f.description } : {}),
      ...(f.namespace !== '' ? { namespace: f.namespace } : {}),
      ...(f.aliases.length > 0 || f.title !== undefined ? { metadata: { ...(f.aliases.length > 0 ? { aliases: f.aliases } : {}), ...(f.title !== undefined ? { name: f.title } : {}) } } : {}),
    };
    entry.vulnerabilities.push(vulnerability);
  }
  return [...byPackage.values()];
}
