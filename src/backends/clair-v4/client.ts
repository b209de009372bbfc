/**
 * A Clair v4 client: the indexer and matcher APIs a scanner front-end needs.
 *
 * - `POST /indexer/api/v1/index_report` with the Manifest (`{hash, layers[{hash, uri, headers}]}`,
 *   layers base first) -> IndexReport (201);
 * - `GET /indexer/api/v1/index_report/{hash}` polled until the state is `IndexFinished` (or the
 *   report says `success`) or `IndexError`, at most `maxPollAttempts` times, `pollIntervalMs` apart
 *   (clair-scanner 14.x polls every second, 30 times; 404 means "not there yet" for it, and here);
 * - `GET /matcher/api/v1/vulnerability_report/{hash}` -> VulnerabilityReport;
 * - `GET /indexer/api/v1/index_state` -> the indexer's opaque state;
 * - `POST /indexer/api/v1/index_report` with `If-None-Match` (the service's backend): 412 when the
 *   manifest is already indexed at that indexer state, else the IndexReport and its `ETag`;
 * - `GET` / `DELETE /notifier/api/v1/notification/{id}` (the notifier's pages, `?next=`).
 *
 * Errors: Clair's `{code, message}` bodies become ClairError (a PortcullisError) by HTTP status:
 * 400 E_INPUT, 401 E_AUTH, 403 E_FORBIDDEN, 404 E_NOT_FOUND, 422 E_UNSUPPORTED, others E_UNREACHABLE
 * (a bad gateway). A connection failure or timeout is E_UNREACHABLE; so is a body that is not the
 * documented JSON (`failureCode` makes 5xx answers and bodies of another shape E_INTERNAL instead,
 * as the service's backends report them). Auth: a static bearer token, or Clair's PSK mode (an HS256 JWT signed with the
 * base64 `auth.psk.key` and issuer `auth.psk.iss`), made fresh for each request.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { PortcullisError, type ErrorCode } from '../../domain/errors.js';
import { clairError, clairIndexReport, clairNotificationPage, clairVulnerabilityReport, type ClairIndexReport, type ClairManifest, type ClairNotificationPage, type ClairVulnerabilityReport } from './schemas.js';

const MODULE = 'clair-v4';

/** Where Clair is, how to authenticate, and how long to wait. */
export interface ClairV4Options {
  /** Base URL of Clair (combined mode) or of its indexer, e.g. `http://127.0.0.1:6060`. */
  url: string;
  /** Base URL of the matcher when it runs apart from the indexer. */
  matcherUrl?: string;
  /** Static bearer token sent as `Authorization`. */
  token?: string;
  /** Clair PSK auth: base64 key and issuer, as in Clair's `auth.psk` config. */
  psk?: { key: string; issuer: string };
  /** Poll attempts for the index report (default 30). */
  maxPollAttempts?: number;
  /** Delay between polls in ms (default 1000). */
  pollIntervalMs?: number;
  /** Per-request timeout in ms (default 900000, Clair's and Portus's default). */
  timeoutMs?: number;
  /** Code of a 5xx answer or a body that is not the documented JSON (default E_UNREACHABLE, the CI gate's). */
  failureCode?: ErrorCode;
  /** Injected for tests. */
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** A Clair failure: the HTTP status and Clair's own code/message when it sent them. */
export class ClairError extends PortcullisError {
  readonly status: number | undefined;
  readonly clairCode: string | undefined;
  constructor(code: ErrorCode, message: string, status?: number, clairCode?: string, options?: { cause?: unknown }) {
    super(code, message, { status, clairCode }, options);
    this.name = 'ClairError';
    this.status = status;
    this.clairCode = clairCode;
  }
}

function codeForStatus(status: number, failureCode: ErrorCode): ErrorCode {
  switch (status) {
    case 400:
      return 'E_INPUT';
    case 401:
      return 'E_AUTH';
    case 403:
      return 'E_FORBIDDEN';
    case 404:
      return 'E_NOT_FOUND';
    case 422:
      return 'E_UNSUPPORTED';
    default:
      return status >= 500 ? failureCode : 'E_UNREACHABLE';
  }
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/** An HS256 JWT for Clair's PSK auth (iss, iat, nbf, exp 5 minutes later). */
export function clairPskToken(psk: { key: string; issuer: string }, nowSeconds: number): string {
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const claims = base64url(JSON.stringify({ iss: psk.issuer, iat: nowSeconds, nbf: nowSeconds - 60, exp: nowSeconds + 300 }));
  const signature = createHmac('sha256', Buffer.from(psk.key, 'base64')).update(`${header}.${claims}`).digest('base64url');
  return `${header}.${claims}.${signature}`;
}

/** The issuer Clair's notifier signs its webhook deliveries with (quay/clair `initialize/services.go` NotifierIssuer). */
export const CLAIR_NOTIFIER_ISSUER = 'clair-notifier';

const jwtHeader = z.looseObject({ alg: z.literal('HS256') });
const jwtClaims = z.looseObject({ iss: z.string().optional(), exp: z.number().optional(), nbf: z.number().optional() });

/**
 * Checks a PSK JWT the way Clair's `auth.psk` middleware does: HS256 under the base64 key, an issuer
 * among `issuers`, and `nbf`/`exp` (when present) around now, with Go jose's one minute of leeway.
 * Returns why it is refused, or undefined when it is good. Written out rather than taken from a JWT
 * library because it is the exact counterpart of {@link clairPskToken} and nothing else is needed.
 */
export function pskTokenProblem(token: string, psk: { key: string }, issuers: readonly string[], nowSeconds: number): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return 'not a JWT';
  const [header = '', claims = '', signature = ''] = parts;
  const expected = createHmac('sha256', Buffer.from(psk.key, 'base64')).update(`${header}.${claims}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad signature';
  const decode = (part: string): unknown => {
    try {
      return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    } catch {
      return undefined;
    }
  };
  if (!jwtHeader.safeParse(decode(header)).success) return 'not an HS256 JWT';
  const parsed = jwtClaims.safeParse(decode(claims));
  if (!parsed.success) return 'unreadable claims';
  const { iss, exp, nbf } = parsed.data;
  const leeway = 60;
  if (iss === undefined || !issuers.includes(iss)) return `issuer ${JSON.stringify(iss ?? '')} is not accepted`;
  if (exp !== undefined && nowSeconds > exp + leeway) return 'expired';
  if (nbf !== undefined && nowSeconds < nbf - leeway) return 'not valid yet';
  return undefined;
}

function errnoOf(err: unknown): string {
  let e: unknown = err;
  for (let i = 0; i < 4 && e instanceof Error; i += 1) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timeout';
    e = (e as Error & { cause?: unknown }).cause;
  }
  return err instanceof Error ? err.message : String(err);
}

/** A client of one Clair v4 deployment (see the module comment). Stateless between calls. */
export class ClairV4Client {
  readonly #indexer: string;
  readonly #matcher: string;
  readonly #opts: ClairV4Options;
  readonly #fetch: typeof fetch;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: ClairV4Options) {
    this.#opts = options;
    this.#indexer = options.url.replace(/\/+$/, '');
    this.#matcher = (options.matcherUrl ?? options.url).replace(/\/+$/, '');
    this.#fetch = options.fetch ?? fetch;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  get #failureCode(): ErrorCode {
    return this.#opts.failureCode ?? 'E_UNREACHABLE';
  }

  #headers(json: boolean, extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { Accept: 'application/json', ...extra };
    if (json) headers['Content-Type'] = 'application/json';
    if (this.#opts.psk) headers.Authorization = `Bearer ${clairPskToken(this.#opts.psk, Math.floor((this.#opts.now?.() ?? Date.now()) / 1000))}`;
    else if (this.#opts.token) headers.Authorization = `Bearer ${this.#opts.token}`;
    return headers;
  }

  /** One request; returns status, headers and parsed JSON body (undefined when empty, the text when not JSON). Transport errors throw. */
  async #request(method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown, signal?: AbortSignal, extraHeaders?: Record<string, string>): Promise<{ status: number; headers: Headers; body: unknown }> {
    const timeoutMs = this.#opts.timeoutMs ?? 900_000;
    const timeout = AbortSignal.timeout(timeoutMs);
    // A deadline that passed (connecting, waiting, or mid-body) says so, rather than "cannot reach".
    const late = (): ClairError | undefined => (timeout.aborted && !signal?.aborted ? new ClairError('E_UNREACHABLE', `${MODULE}: ${method} ${url}: no complete answer within ${timeoutMs % 1000 === 0 ? `${timeoutMs / 1000} s` : `${timeoutMs} ms`}`) : undefined);
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method,
        headers: this.#headers(body !== undefined, extraHeaders),
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      throw late() ?? new ClairError('E_UNREACHABLE', `${MODULE}: cannot reach ${url}: ${errnoOf(err)}`, undefined, undefined, { cause: err });
    }
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      throw late() ?? new ClairError('E_UNREACHABLE', `${MODULE}: reading the response of ${url} failed: ${errnoOf(err)}`, response.status, undefined, { cause: err });
    }
    let parsed: unknown;
    if (text.trim() !== '') {
      try {
        parsed = JSON.parse(text) as unknown;
      } catch {
        parsed = text;
      }
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }

  #fail(method: string, url: string, status: number, body: unknown): ClairError {
    const e = clairError.safeParse(body);
    const clairCode = e.success ? e.data.code : undefined;
    const detail = e.success && (e.data.message || e.data.code) ? `${e.data.code ?? 'error'}: ${e.data.message ?? ''}`.trim() : typeof body === 'string' ? body.slice(0, 200) : 'no error body';
    return new ClairError(codeForStatus(status, this.#failureCode), `${MODULE}: ${method} ${url} answered ${status} (${detail})`, status, clairCode);
  }

  #parse<T extends z.ZodType>(schema: T, url: string, status: number, body: unknown): z.infer<T> {
    if (typeof body === 'string') throw new ClairError(this.#failureCode, `${MODULE}: unexpected response from ${url}: ${status} with a body that is not JSON: ${body.slice(0, 200)}`, status);
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ClairError(this.#failureCode, `${MODULE}: unexpected response from ${url}: ${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid body'}`, status);
    }
    return parsed.data as z.infer<T>;
  }

  /** Submits a manifest for indexing; returns the IndexReport Clair answers with (maybe still in progress). */
  async index(manifest: ClairManifest, signal?: AbortSignal): Promise<ClairIndexReport> {
    const url = `${this.#indexer}/indexer/api/v1/index_report`;
    const { status, body } = await this.#request('POST', url, manifest, signal);
    if (status !== 201 && status !== 200) throw this.#fail('POST', url, status, body);
    return this.#parse(clairIndexReport, url, status, body);
  }

  /**
   * Submits a manifest unless Clair already indexed it at indexer state `ifNoneMatch` (its answer
   * 412): `unchanged`, or the IndexReport (maybe still in progress) and the indexer state (`ETag`).
   */
  async indexUnlessUnchanged(manifest: ClairManifest, ifNoneMatch: string | undefined, signal?: AbortSignal): Promise<{ unchanged: true } | { unchanged: false; report: ClairIndexReport; state: string | undefined }> {
    const url = `${this.#indexer}/indexer/api/v1/index_report`;
    const { status, headers, body } = await this.#request('POST', url, manifest, signal, ifNoneMatch !== undefined ? { 'If-None-Match': ifNoneMatch } : {});
    if (status === 412) return { unchanged: true };
    if (status !== 201 && status !== 200) throw this.#fail('POST', url, status, body);
    return { unchanged: false, report: this.#parse(clairIndexReport, url, status, body), state: headers.get('etag') ?? undefined };
  }

  /** One page of a notification (`next` from the previous page; none for the first). */
  async notificationPage(id: string, next: string | undefined, signal?: AbortSignal): Promise<ClairNotificationPage> {
    const url = `${this.#indexer}/notifier/api/v1/notification/${encodeURIComponent(id)}${next !== undefined ? `?next=${encodeURIComponent(next)}` : ''}`;
    const { status, body } = await this.#request('GET', url, undefined, signal);
    if (status !== 200) throw this.#fail('GET', url, status, body);
    return this.#parse(clairNotificationPage, url, status, body);
  }

  /** Tells the notifier the notification was handled (else it delivers it again). */
  async deleteNotification(id: string, signal?: AbortSignal): Promise<void> {
    const url = `${this.#indexer}/notifier/api/v1/notification/${encodeURIComponent(id)}`;
    const { status, body } = await this.#request('DELETE', url, undefined, signal);
    if (status !== 200 && status !== 204) throw this.#fail('DELETE', url, status, body);
  }

  /** The current IndexReport of a manifest, or undefined when Clair does not know it (404). */
  async getIndexReport(hash: string, signal?: AbortSignal): Promise<ClairIndexReport | undefined> {
    const url = `${this.#indexer}/indexer/api/v1/index_report/${encodeURIComponent(hash)}`;
    const { status, body } = await this.#request('GET', url, undefined, signal);
    if (status === 404) return undefined;
    if (status !== 200) throw this.#fail('GET', url, status, body);
    return this.#parse(clairIndexReport, url, status, body);
  }

  /**
   * Polls the index report until it is finished (returned) or failed (E_UNSUPPORTED with Clair's
   * `err`), at most `maxPollAttempts` times; running out is E_UNREACHABLE.
   */
  async waitForIndex(hash: string, signal?: AbortSignal): Promise<ClairIndexReport> {
    const attempts = this.#opts.maxPollAttempts ?? 30;
    let last = 'not found';
    for (let i = 0; i < attempts; i += 1) {
      if (i > 0) await this.#sleep(this.#opts.pollIntervalMs ?? 1000);
      const report = await this.getIndexReport(hash, signal);
      if (report !== undefined) {
        if (isIndexFailed(report)) throw new ClairError('E_UNSUPPORTED', `${MODULE}: indexing ${hash} failed: ${report.err || report.state}`);
        if (isIndexFinished(report)) return report;
        last = `state ${report.state || 'unknown'}`;
      }
    }
    throw new ClairError('E_UNREACHABLE', `${MODULE}: index report for ${hash} not finished after ${attempts} attempts (${last})`);
  }

  /** The VulnerabilityReport of an indexed manifest (404: E_NOT_FOUND, the manifest was not indexed). */
  async getVulnerabilityReport(hash: string, signal?: AbortSignal): Promise<ClairVulnerabilityReport> {
    const url = `${this.#matcher}/matcher/api/v1/vulnerability_report/${encodeURIComponent(hash)}`;
    const { status, body } = await this.#request('GET', url, undefined, signal);
    // The openapi document says 201, the handler writes 200: accept both.
    if (status !== 200 && status !== 201) throw this.#fail('GET', url, status, body);
    return this.#parse(clairVulnerabilityReport, url, status, body);
  }

  /** The indexer's opaque state (changes when its scanners change, so reports should be redone). */
  async indexState(signal?: AbortSignal): Promise<string> {
    const url = `${this.#indexer}/indexer/api/v1/index_state`;
    const { status, body } = await this.#request('GET', url, undefined, signal);
    if (status !== 200) throw this.#fail('GET', url, status, body);
    const state = (body as { state?: unknown } | undefined)?.state;
    if (typeof state !== 'string') throw new ClairError('E_UNREACHABLE', `${MODULE}: unexpected response from ${url}: no state`, status);
    return state;
  }

  /** The matcher's latest update operations (`GET /matcher/api/v1/internal/update_operation`): a probe of a matcher that runs apart. */
  async matcherUpdateOperations(signal?: AbortSignal): Promise<void> {
    const url = `${this.#matcher}/matcher/api/v1/internal/update_operation`;
    const { status, body } = await this.#request('GET', url, undefined, signal);
    if (status !== 200) throw this.#fail('GET', url, status, body);
  }

  /** Index, wait, and fetch the vulnerability report of one manifest. */
  async scan(manifest: ClairManifest, signal?: AbortSignal): Promise<{ index: ClairIndexReport; report: ClairVulnerabilityReport }> {
    const submitted = await this.index(manifest, signal);
    if (isIndexFailed(submitted)) throw new ClairError('E_UNSUPPORTED', `${MODULE}: indexing ${manifest.hash} failed: ${submitted.err || submitted.state}`);
    const index = isIndexFinished(submitted) ? submitted : await this.waitForIndex(manifest.hash, signal);
    return { index, report: await this.getVulnerabilityReport(manifest.hash, signal) };
  }
}

/** Finished: state IndexFinished, or (older Clair 4 releases, whose last state was ScanFinished) success. */
export function isIndexFinished(report: ClairIndexReport): boolean {
  return report.state === 'IndexFinished' || (report.success === true && report.err === '');
}

/** Failed: state IndexError, or the report carries an `err`. */
export function isIndexFailed(report: ClairIndexReport): boolean {
  return report.state === 'IndexError' || report.err !== '';
}
