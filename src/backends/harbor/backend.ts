/**
 * A Harbor pluggable-scanner adapter (Trivy's, Clair's, or another Portcullis) as a backend,
 * stored as `harbor-<name>`. The adapter pulls the image itself, as it does for Harbor:
 * - `GET /api/v1/metadata` for health and to pick the report type: the vulnerability capability
 *   that consumes the image's manifest type, v1.1's report when it makes it, else v1.0's;
 * - `POST /api/v1/scan` with the registry's URL and a pull authorization for the repository;
 * - `GET /api/v1/scan/{id}/report` until it is no longer 302, waiting `Refresh-After` seconds
 *   between asks (no redirect followed, as Harbor's own client), within `timeout` for the whole scan.
 * Every other answer is a typed failure, never an empty result: 500 with the adapter's error
 * message, 404 (the adapter forgot the request: the retry submits it again), non-JSON, a body of
 * another shape, a report about another digest (E_INTERNAL), and no answer in time (E_UNREACHABLE).
 */
import * as z from 'zod';
import { PortcullisError } from '../../domain/errors.js';
import { zodReason } from '../../policy/input.js';
import { backendFetch, parseJsonBody, type BackendAnswer } from '../http.js';
import { backendSeverity } from '../severity.js';
import type { BackendHealth, BackendPackageFindings, BackendScanOutput, ScannerBackend, ScanTarget } from '../types.js';
import { CONSUMED_MIME_TYPES, errorBodySchema, HARBOR_MEDIA_TYPES, metadataSchema, sameMediaType, scanResponseSchema, vulnerabilityReportSchema, type HarborMetadata, type HarborVulnerabilityReport } from './protocol.js';

/** `security.harbor[]` entry. */
export interface HarborAdapterOptions {
  /** Short name; results are stored under `harbor-<name>`. */
  name: string;
  /** The adapter's base URL as Harbor would register it (`http://trivy-adapter:8080`). */
  url: string;
  /** The Authorization header value the adapter expects (`Bearer xyz`, `Basic ...`); "" = none. A secret: never logged. */
  auth: string;
  /** The whole scan, polling included. */
  timeoutMs: number;
  /** Per request (default 30 s, never beyond the scan's own timeout). */
  requestTimeoutMs?: number;
  /** Upper bound of one wait between polls, whatever Refresh-After says (default 60 s). */
  maxPollWaitMs?: number;
}

/** The name results of adapter `name` are stored under. */
export function harborBackendName(name: string): string {
  return `harbor-${name}`;
}

export class HarborAdapterBackend implements ScannerBackend {
  readonly name: string;
  readonly needs = 'layer-urls' as const;
  private readonly base: string;
  private readonly requestTimeoutMs: number;

  constructor(private readonly options: HarborAdapterOptions) {
    this.name = harborBackendName(options.name);
    this.base = `${options.url.replace(/\/+$/, '')}/api/v1`;
    this.requestTimeoutMs = Math.min(options.requestTimeoutMs ?? 30_000, options.timeoutMs);
  }

  async health(signal?: AbortSignal): Promise<BackendHealth> {
    try {
      const metadata = await this.metadata(signal);
      const report = reportTypeOf(metadata, CONSUMED_MIME_TYPES[0]);
      return { ok: report !== undefined, detail: `${metadata.scanner.name} ${metadata.scanner.version} (${metadata.scanner.vendor})${report !== undefined ? `: ${report}` : ': makes no vulnerability report Portcullis reads'}` };
    } catch (err) {
      return { ok: false, detail: err instanceof Error ? err.message : String(err) };
    }
  }

  async scan(target: ScanTarget, jobSignal: AbortSignal): Promise<BackendScanOutput> {
    const deadline = AbortSignal.timeout(this.options.timeoutMs);
    const signal = AbortSignal.any([jobSignal, deadline]);
    try {
      return await this.scanWithin(target, signal);
    } catch (err) {
      if (jobSignal.aborted) throw jobSignal.reason;
      if (deadline.aborted && !(err instanceof PortcullisError && err.code !== 'E_UNREACHABLE')) {
        throw new PortcullisError('E_UNREACHABLE', `${this.name}: no report for ${target.digest} within ${this.options.timeoutMs / 1000} s`, { backend: this.name });
      }
      throw err;
    }
  }

  private async scanWithin(target: ScanTarget, signal: AbortSignal): Promise<BackendScanOutput> {
    const layers = await target.registry.layers(signal);
    const mimeType = manifestTypeOf(layers.map((l) => l.mediaType));
    const metadata = await this.metadata(signal);
    const reportType = reportTypeOf(metadata, mimeType);
    if (reportType === undefined) throw new PortcullisError('E_UNSUPPORTED', `${this.name}: the adapter makes no vulnerability report Portcullis reads for ${mimeType}`, { backend: this.name });
    const authorization = await target.registry.authorization(signal);
    const registryUrl = `${target.registry.imageOptions.insecure === true ? 'http' : 'https'}://${target.registry.reference.split('/')[0] ?? ''}`;

    const request = {
      registry: { url: registryUrl, ...(authorization !== undefined ? { authorization } : {}) },
      artifact: { repository: target.repository, digest: target.digest, ...(target.tags[0] !== undefined ? { tag: target.tags[0] } : {}), mime_type: mimeType },
    };
    const accepted = await this.call('POST /scan', `${this.base}/scan`, { method: 'POST', json: request, headers: { 'content-type': HARBOR_MEDIA_TYPES.scanRequestV10, accept: HARBOR_MEDIA_TYPES.scanResponse } }, signal);
    if (accepted.status !== 202) throw this.failure('POST /scan', accepted);
    const id = this.shaped('POST /scan', accepted, scanResponseSchema).id;

    const what = `GET /scan/${id}/report`;
    for (;;) {
      const answer = await this.call(what, `${this.base}/scan/${encodeURIComponent(id)}/report`, { headers: { accept: reportType } }, signal);
      if (answer.status === 302) {
        await sleep(this.pollWaitMs(answer), signal);
        continue;
      }
      if (answer.status === 404) throw new PortcullisError('E_INTERNAL', `${this.name}: ${what} answered 404: the adapter no longer knows the scan request (a retry submits it again)`, { backend: this.name, status: 404 });
      if (answer.status !== 200) throw this.failure(what, answer);
      const report = this.shaped(what, answer, vulnerabilityReportSchema);
      const digest = report.artifact?.digest;
      if (digest !== undefined && digest !== target.digest) throw new PortcullisError('E_INTERNAL', `${this.name}: ${what} answered a report for ${digest}, not ${target.digest}`, { backend: this.name });
      return { packages: packageFindings(report) };
    }
  }

  private async metadata(signal: AbortSignal | undefined): Promise<HarborMetadata> {
    const answer = await this.call('GET /metadata', `${this.base}/metadata`, { headers: { accept: `${HARBOR_MEDIA_TYPES.metadataV11}, ${HARBOR_MEDIA_TYPES.metadataV10}` } }, signal);
    if (answer.status !== 200) throw this.failure('GET /metadata', answer);
    return this.shaped('GET /metadata', answer, metadataSchema);
  }

  private async call(what: string, url: string, request: { method?: 'GET' | 'POST'; json?: unknown; headers: Record<string, string> }, signal: AbortSignal | undefined): Promise<BackendAnswer> {
    const headers = { ...request.headers, ...(this.options.auth !== '' ? { authorization: this.options.auth } : {}) };
    return backendFetch(url, { ...request, headers, backend: `${this.name} ${what}`, timeoutMs: this.requestTimeoutMs, ...(signal ? { signal } : {}) });
  }

  /** A status the protocol does not allow here: E_INTERNAL with the adapter's own message when it sent one. */
  private failure(what: string, answer: BackendAnswer): PortcullisError {
    let message = answer.text.trim().slice(0, 300) || '(empty body)';
    try {
      const parsed = errorBodySchema.safeParse(JSON.parse(answer.text) as unknown);
      if (parsed.success) message = parsed.data.error.message;
    } catch {
      // not JSON: the text itself says what went wrong
    }
    return new PortcullisError('E_INTERNAL', `${this.name}: ${what} answered ${answer.status}: ${message}`, { backend: this.name, status: answer.status });
  }

  private shaped<T>(what: string, answer: BackendAnswer, schema: z.ZodType<T>): T {
    const parsed = schema.safeParse(parseJsonBody(answer, this.name, what));
    if (!parsed.success) throw new PortcullisError('E_INTERNAL', `${this.name}: ${what}: unexpected answer: ${zodReason(parsed.error)}`, { backend: this.name });
    return parsed.data;
  }

  /** Refresh-After in seconds (Harbor's own default of 5 s when missing or unreadable), capped. */
  private pollWaitMs(answer: BackendAnswer): number {
    const header = answer.headers.get('refresh-after');
    const seconds = header !== null && /^\d{1,6}$/.test(header.trim()) ? Number(header.trim()) : 5;
    return Math.min(Math.max(seconds, 1) * 1000, this.options.maxPollWaitMs ?? 60_000);
  }
}

/**
 * The report type to ask for: that of a vulnerability capability (typed so, or untyped as before
 * spec v1.2) consuming `mimeType`, v1.1 preferred for its CVSS details, else v1.0.
 */
export function reportTypeOf(metadata: HarborMetadata, mimeType: string): string | undefined {
  const produced = metadata.capabilities
    .filter((c) => (c.type === undefined || c.type === 'vulnerability') && c.consumes_mime_types.some((t) => sameMediaType(t, mimeType)))
    .flatMap((c) => c.produces_mime_types);
  if (produced.some((t) => sameMediaType(t, HARBOR_MEDIA_TYPES.vulnReportV11))) return HARBOR_MEDIA_TYPES.vulnReportV11;
  if (produced.some((t) => sameMediaType(t, HARBOR_MEDIA_TYPES.vulnReportV10))) return HARBOR_MEDIA_TYPES.vulnReportV10;
  return undefined;
}

/** The manifest type of an image by its layers' types (the target carries no manifest type): OCI layers come in OCI manifests. */
function manifestTypeOf(layerTypes: readonly string[]): string {
  return layerTypes.some((t) => t.startsWith('application/vnd.docker.')) ? 'application/vnd.docker.distribution.manifest.v2+json' : 'application/vnd.oci.image.manifest.v1+json';
}

/** The report's items grouped per package and version, sorted, each vulnerability once per package. */
export function packageFindings(report: HarborVulnerabilityReport): BackendPackageFindings[] {
  const byPackage = new Map<string, BackendPackageFindings>();
  for (const item of report.vulnerabilities) {
    const key = `${item.package}\u0000${item.version}`;
    let entry = byPackage.get(key);
    if (entry === undefined) {
      entry = { name: item.package, version: item.version, vulnerabilities: [] };
      byPackage.set(key, entry);
    }
    // The same advisory for the same package installed at two paths is one finding here.
    if (entry.vulnerabilities.some((v) => v.id === item.id)) continue;
    const cvss = item.preferred_cvss;
    entry.vulnerabilities.push({
      id: item.id,
      severity: backendSeverity(item.severity),
      backendSeverity: item.severity,
      ...(item.fix_version !== undefined && item.fix_version !== '' ? { fixedBy: item.fix_version } : {}),
      ...(item.links?.[0] !== undefined ? { link: item.links[0] } : {}),
      ...(item.description !== undefined ? { description: item.description } : {}),
      ...(cvss !== undefined || item.cwe_ids !== undefined || item.vendor_attributes !== undefined
        ? { metadata: { ...(cvss !== undefined ? { preferred_cvss: cvss } : {}), ...(item.cwe_ids !== undefined ? { cwe_ids: item.cwe_ids } : {}), ...(item.vendor_attributes !== undefined ? { vendor_attributes: item.vendor_attributes } : {}) } }
        : {}),
    });
  }
  return [...byPackage.values()].sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
}

/** Waits `ms`, or until `signal` aborts (then throws its reason). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
