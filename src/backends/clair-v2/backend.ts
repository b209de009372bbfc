/**
 * Clair v2 (v2.0.x, the API Portus spoke) as a backend. For each layer of the manifest, base first,
 * `POST /v1/layers` with the layer's blob URL in the registry, an Authorization header valid for the
 * repository (Clair downloads the blob itself) and the previous layer as `ParentName`; then
 * `GET /v1/layers/{top}?features&vulnerabilities` and its features with vulnerabilities become the
 * findings.
 *
 * Unlike Portus:
 * - layer names are derived from the manifest digest and the blob digest together, so two images
 *   sharing a blob never share a Clair layer whose ancestry (and so feature list) is the other's;
 * - every failure is a failed scan with Clair's reason (never "0 vulnerabilities"): 422 is
 *   E_UNSUPPORTED (Clair cannot read the layer; retrying cannot help), 400/404 name the request
 *   Clair refused, 500 and network failures are retried by the queue's policy.
 */
import { createHash } from 'node:crypto';
import { PortcullisError } from '../../domain/errors.js';
import { backendFetch, errorMessageOf, parseJsonBody, type BackendAnswer } from '../http.js';
import type { BackendHealth, BackendScanOutput, ScannerBackend, ScanTarget } from '../types.js';
import { convertLayer, parseLayerEnvelope } from './convert.js';

/** The Clair v2 backend's name (its `security:` key, as in Portus, and the name its results are stored under). */
export const CLAIR_BACKEND = 'clair';

export interface ClairV2BackendOptions {
  /** `security.clair.server`, e.g. `http://clair:6060`. */
  server: string;
  /** `security.clair.health_port` (Clair v2's health server, default 6061). */
  healthPort: number;
  /** `security.clair.timeout` in milliseconds, for each request. */
  timeoutMs: number;
}

/**
 * The Clair layer name of `layerDigest` within the image `manifestDigest`: `sha256:` + the SHA-256
 * of both. Hashed, not joined, because Clair v2 keeps layer names in a VARCHAR(128) column and two
 * digests joined are 142 characters.
 */
export function clairLayerName(manifestDigest: string, layerDigest: string): string {
  return `sha256:${createHash('sha256').update(`${manifestDigest}\n${layerDigest}`).digest('hex')}`;
}

/** The Clair v2 backend. */
export class ClairV2Backend implements ScannerBackend {
  readonly name = CLAIR_BACKEND;
  readonly needs = 'layer-urls' as const;
  private readonly server: string;

  constructor(private readonly options: ClairV2BackendOptions) {
    this.server = withScheme(options.server).replace(/\/+$/, '');
  }

  /** `GET /health` on the health port (Portus's check: the server URL with its port replaced). */
  async health(signal?: AbortSignal): Promise<BackendHealth> {
    const url = new URL(this.server);
    url.port = String(this.options.healthPort);
    url.pathname = '/health';
    try {
      const answer = await backendFetch(url.href, { backend: this.name, timeoutMs: Math.min(this.options.timeoutMs, 10_000), ...(signal ? { signal } : {}) });
      return answer.status === 200 ? { ok: true, detail: 'clair is reachable' } : { ok: false, detail: `clair is not reachable: GET ${url.href} answered ${answer.status}` };
    } catch (err) {
      return { ok: false, detail: `clair is not reachable: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  async scan(target: ScanTarget, signal: AbortSignal): Promise<BackendScanOutput> {
    const layers = await target.registry.layers(signal);
    if (layers.length === 0) throw new PortcullisError('E_UNSUPPORTED', `clair: ${target.repository}@${target.digest} has no layers to index`);
    const authorization = await target.registry.authorization(signal);
    let parent = '';
    for (const layer of layers) {
      const name = clairLayerName(target.digest, layer.digest);
      const body = {
        Layer: {
          Name: name,
          Path: layer.url,
          ...(authorization !== undefined ? { Headers: { Authorization: authorization } } : {}),
          ParentName: parent,
          Format: 'Docker',
        },
      };
      const answer = await this.request('POST', '/v1/layers', signal, body);
      if (answer.status !== 200 && answer.status !== 201) throw this.refusal(answer, `POST /v1/layers (layer ${layer.digest})`);
      parent = name;
    }
    const what = `GET /v1/layers/${parent}?features&vulnerabilities`;
    const answer = await this.request('GET', `/v1/layers/${encodeURIComponent(parent)}?features&vulnerabilities`, signal);
    if (answer.status !== 200) throw this.refusal(answer, what);
    const layer = parseLayerEnvelope(parseJsonBody(answer, this.name, what), what);
    if (layer.Name !== parent) throw new PortcullisError('E_INTERNAL', `clair: ${what} answered for layer ${JSON.stringify(layer.Name)}, not the one asked for`, { backend: this.name });
    return convertLayer(layer);
  }

  private request(method: 'GET' | 'POST', path: string, signal: AbortSignal, json?: unknown): Promise<BackendAnswer> {
    return backendFetch(`${this.server}${path}`, { method, backend: this.name, timeoutMs: this.options.timeoutMs, signal, ...(json !== undefined ? { json } : {}) });
  }

  /** The typed error for a non-success answer, after Clair's API doc (422 never retry, 500 retry, 400/404 change the request). */
  private refusal(answer: BackendAnswer, what: string): PortcullisError {
    const reason = `clair: ${what} answered ${answer.status}: ${errorMessageOf(answer.text)}`;
    const details = { backend: this.name, status: answer.status };
    if (answer.status === 422) return new PortcullisError('E_UNSUPPORTED', reason, details);
    // 400 and 404 come back the same for the same request: a retry would only repeat them.
    if (answer.status === 400 || answer.status === 404) return new PortcullisError('E_INPUT', reason, details);
    return new PortcullisError('E_INTERNAL', reason, details);
  }
}

/** Portus accepted a server without a scheme and assumed http://. */
function withScheme(server: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server : `http://${server}`;
}
