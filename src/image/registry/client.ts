import { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import * as z from 'zod';
import { PortcullisError } from '../../domain/errors.js';
import { digestOf, parseDigest, verifyBytes } from '../digest.js';
import { assertNotSchema1, malformed, type Descriptor } from '../manifest.js';
import { MANIFEST_ACCEPT, MEDIA_TYPES } from '../media-types.js';
import { DOCKER_HUB, DOCKER_HUB_API_HOST, parseRegistryReference } from '../reference.js';
import { MAX_MANIFEST_BYTES } from '../resolve.js';
import { Authenticator, parseWwwAuthenticate } from './auth.js';
import { resolveCredentials, type CredentialSources, type RegistryCredentials } from './credentials.js';
import { httpStatusError, isAbortError, isRetryableNetworkError, isTlsError, networkError } from './http-errors.js';
import { backoffDelay, DEFAULT_RETRY, MAX_RETRY_AFTER_MS, parseRetryAfter, sleep, type RetryPolicy } from './retry.js';

/** Options of a {@link RegistryClient}. */
export interface RegistryClientOptions {
  /** Allow plain HTTP (after HTTPS fails) and skip TLS certificate verification. */
  insecure?: boolean;
  /** Credentials already resolved; see {@link createRegistryClient} to resolve them from flags/env/config. */
  credentials?: RegistryCredentials;
  retry?: RetryPolicy;
  logger?: { debug(obj: object, msg: string): void };
  /** Milliseconds to wait for a connection, for response headers, and between body chunks. */
  timeouts?: { connectMs?: number; headersMs?: number; bodyMs?: number };
  userAgent?: string;
}

/** A manifest as fetched: raw bytes, the Content-Type and the digest (verified). */
export interface FetchedManifest {
  bytes: Buffer;
  contentType?: string;
  digest: string;
}

interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  url: URL;
}

interface GetOptions {
  scope?: string;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** Names the request in error messages. */
  what: string;
  /** Statuses returned to the caller instead of raised (e.g. 404 for a foreign-layer fallback). */
  allow?: number[];
}

const TagListSchema = z.object({ name: z.string().optional(), tags: z.array(z.string()).nullish() });
const CatalogSchema = z.object({ repositories: z.array(z.string()).nullish() });
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
const MAX_LIST_BYTES = 16 * 1024 * 1024;

/**
 * A client of one registry (OCI Distribution API v2): resolves HTTP vs HTTPS once, authenticates
 * (anonymous, Basic, Bearer token), retries 429/5xx and network resets with exponential backoff
 * honouring Retry-After, follows blob redirects (dropping credentials when the origin changes), and
 * maps failures onto the error catalog.
 */
export class RegistryClient {
  /** Registry as references name it (`docker.io`, `localhost:5000`). */
  readonly registry: string;
  /** Host the API is served on (`registry-1.docker.io` for docker.io). */
  readonly apiHost: string;
  private readonly agent: Agent;
  private readonly retry: RetryPolicy;
  private readonly auth: Authenticator;
  private basePromise: Promise<string> | undefined;

  constructor(
    registry: string,
    private readonly options: RegistryClientOptions = {},
  ) {
    this.registry = registry;
    this.apiHost = registry === DOCKER_HUB ? DOCKER_HUB_API_HOST : registry;
    this.retry = options.retry ?? DEFAULT_RETRY;
    const t = options.timeouts ?? {};
    this.agent = new Agent({
      connect: { timeout: t.connectMs ?? 10_000, rejectUnauthorized: !options.insecure },
      headersTimeout: t.headersMs ?? 60_000,
      bodyTimeout: t.bodyMs ?? 60_000,
    });
    this.auth = new Authenticator(registry, options.credentials, (url, authorization, signal, form) => this.fetchToken(url, authorization, signal, form));
  }

  /** Releases the connection pool. The client must not be used afterwards. */
  async close(): Promise<void> {
    await this.agent.close();
  }

  /**
   * The registry's base URL (`https://host` or, with `insecure`, `http://host` when HTTPS fails),
   * found by pinging `/v2/` once; the answer's auth challenge is remembered. Throws E_UNREACHABLE
   * when no scheme connects, E_REGISTRY when `/v2/` is not a registry API.
   */
  baseUrl(signal?: AbortSignal): Promise<string> {
    this.basePromise ??= this.detectBase(signal).catch((err: unknown) => {
      this.basePromise = undefined;
      throw err;
    });
    return this.basePromise;
  }

  private async detectBase(signal?: AbortSignal): Promise<string> {
    const schemes = this.options.insecure ? ['https', 'http'] : ['https'];
    let lastError: unknown;
    for (const scheme of schemes) {
      const base = `${scheme}://${this.apiHost}`;
      let res: Response;
      try {
        res = await this.requestWithRetry(new URL('/v2/', base), 'GET', {}, signal);
      } catch (err) {
        if (isAbortError(err, signal)) throw err;
        lastError = err;
        this.log({ scheme, host: this.apiHost, error: (err as Error).message }, 'registry: ping failed');
        continue;
      }
      this.auth.learn(parseWwwAuthenticate(res.headers['www-authenticate']));
      const text = await readText(res.body, 64 * 1024);
      if (res.status === 200 || res.status === 401) {
        this.log({ base, status: res.status }, 'registry: base URL resolved');
        return base;
      }
      if (res.status === 404) {
        throw new PortcullisError('E_REGISTRY', `registry: ${this.apiHost} does not serve the registry API (GET /v2/ answered 404)`, { host: this.apiHost });
      }
      throw httpStatusError(res.status, 'GET /v2/', this.apiHost, text);
    }
    throw networkError(lastError, this.apiHost, this.options.insecure === true);
  }

  /**
   * Fetches a manifest by tag or digest with the Accept header for OCI and Docker v2 manifests and
   * indexes. A digest reference is verified against the bytes; a tag's digest is computed (in the
   * algorithm of Docker-Content-Digest when sent) and must equal that header. Throws E_UNSUPPORTED
   * for schema 1, E_DIGEST_MISMATCH, E_TOO_LARGE above 4 MiB, and the HTTP mapping otherwise.
   */
  async getManifest(repository: string, reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const what = `manifest ${repository}${reference.includes(':') ? '@' : ':'}${reference}`;
    // Schema 1 is accepted last so that a registry holding only schema 1 answers with it and we can
    // refuse it with a clear message instead of a bare 404.
    const accept = [...MANIFEST_ACCEPT, `${MEDIA_TYPES.dockerSchema1Signed};q=0.1`, `${MEDIA_TYPES.dockerSchema1};q=0.1`].join(', ');
    const res = await this.get(`/v2/${repository}/manifests/${reference}`, { scope: pullScope(repository), signal, what, headers: { accept } });
    const bytes = await readBytes(res.body, MAX_MANIFEST_BYTES, what);
    const contentType = header(res.headers, 'content-type');
    assertNotSchema1(bytes, contentType);
    const headerDigest = header(res.headers, 'docker-content-digest');
    let digest: string;
    if (reference.includes(':')) {
      verifyBytes(bytes, reference, what);
      digest = reference;
    } else {
      const algorithm = headerDigest !== undefined ? safeAlgorithm(headerDigest) : 'sha256';
      digest = digestOf(bytes, algorithm);
    }
    if (headerDigest !== undefined && headerDigest !== digest) {
      throw new PortcullisError('E_DIGEST_MISMATCH', `digest: ${what} hashes to ${digest} but the registry says ${headerDigest}`, {
        expected: headerDigest,
        actual: digest,
      });
    }
    return contentType !== undefined ? { bytes, contentType, digest } : { bytes, digest };
  }

  /**
   * The Authorization header value that lets a third party pull `repository`'s blobs itself (a
   * scanner such as Clair v2 fetching layer URLs): a Bearer token scoped to pull, the Basic
   * credentials, or undefined when the registry asks for none. The registry is pinged first so its
   * auth scheme is known.
   */
  async pullAuthorization(repository: string, signal?: AbortSignal): Promise<string | undefined> {
    await this.baseUrl(signal);
    return this.auth.authorization(pullScope(repository), signal);
  }

  /**
   * Opens a blob's stored bytes (unverified: the caller verifies). Redirects to storage are followed;
   * a connection dropped mid-body is resumed with a Range request (or by skipping what was already
   * read when the server ignores Range). Foreign layers absent from the registry (404) are fetched
   * from their descriptor `urls`. Throws E_NOT_FOUND and the other HTTP/network mappings.
   */
  async openBlob(repository: string, desc: Descriptor, signal?: AbortSignal): Promise<Readable> {
    parseDigest(desc.digest);
    const path = `/v2/${repository}/blobs/${desc.digest}`;
    const what = `blob ${repository}@${desc.digest}`;
    const scope = pullScope(repository);
    const first = await this.get(path, { scope, signal, what, allow: desc.urls?.length ? [404] : [] });
    if (first.status === 404) {
      await first.body.dump();
      return this.openForeign(desc, what, signal);
    }
    const reopen = (offset: number): Promise<Response> => this.get(path, { scope, signal, what, headers: { range: `bytes=${offset}-` } });
    return Readable.from(this.resumable(first, reopen, what, signal), { objectMode: false });
  }

  private async openForeign(desc: Descriptor, what: string, signal?: AbortSignal): Promise<Readable> {
    let lastError: unknown;
    for (const raw of desc.urls ?? []) {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        continue;
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') continue;
      try {
        const res = await this.follow(await this.requestWithRetry(url, 'GET', {}, signal), {}, signal);
        if (res.status >= 200 && res.status < 300) {
          const reopen = async (offset: number): Promise<Response> =>
            this.follow(await this.requestWithRetry(url, 'GET', { range: `bytes=${offset}-` }, signal), {}, signal);
          return Readable.from(this.resumable(res, reopen, what, signal), { objectMode: false });
        }
        lastError = httpStatusError(res.status, what, url.host, await readText(res.body, 64 * 1024));
      } catch (err) {
        if (isAbortError(err, signal)) throw err;
        lastError = err;
      }
    }
    throw lastError instanceof PortcullisError
      ? lastError
      : new PortcullisError('E_NOT_FOUND', `registry: ${what} not found on ${this.apiHost} nor at its URLs`, { host: this.apiHost });
  }

  private async *resumable(first: Response, reopen: (offset: number) => Promise<Response>, what: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
    let body: AsyncIterable<Buffer> = first.body as AsyncIterable<Buffer>;
    let received = 0;
    let failures = 0;
    for (;;) {
      try {
        for await (const chunk of body) {
          received += chunk.length;
          yield chunk;
        }
        return;
      } catch (err) {
        if (isAbortError(err, signal)) throw err;
        failures++;
        if (!isRetryableNetworkError(err) || failures >= this.retry.attempts) throw networkError(err, this.apiHost, this.options.insecure === true);
        const delayMs = backoffDelay(this.retry, failures);
        this.log({ what, received, failures, delayMs, error: (err as Error).message }, 'registry: blob download interrupted, resuming');
        await sleep(delayMs, signal);
        const res = await reopen(received);
        if (res.status === 206) {
          const range = /^bytes (\d+)-/.exec(header(res.headers, 'content-range') ?? '');
          if (!range || Number(range[1]) !== received) {
            await res.body.dump();
            throw new PortcullisError('E_REGISTRY', `registry: ${this.apiHost} resumed ${what} at the wrong offset`, { host: this.apiHost });
          }
          body = res.body as AsyncIterable<Buffer>;
        } else {
          body = skipBytes(res.body as AsyncIterable<Buffer>, received);
        }
      }
    }
  }

  /**
   * Every tag of a repository, following `Link: <...>; rel="next"` pages. Returns [] for a repository
   * without tags. Throws E_NOT_FOUND for an unknown repository.
   */
  async listTags(repository: string, options: { pageSize?: number; signal?: AbortSignal } = {}): Promise<string[]> {
    const first = `/v2/${repository}/tags/list${options.pageSize ? `?n=${options.pageSize}` : ''}`;
    const tags: string[] = [];
    await this.paginate(first, pullScope(repository), `tags of ${repository}`, options.signal, (body) => {
      const parsed = TagListSchema.safeParse(body);
      if (!parsed.success) throw malformed(`tag list of ${repository}`, parsed.error);
      tags.push(...(parsed.data.tags ?? []));
    });
    return tags;
  }

  /** Every repository of the registry's catalog, following pages. Returns [] for an empty registry. */
  async listRepositories(options: { pageSize?: number; signal?: AbortSignal } = {}): Promise<string[]> {
    const first = `/v2/_catalog${options.pageSize ? `?n=${options.pageSize}` : ''}`;
    const repos: string[] = [];
    await this.paginate(first, 'registry:catalog:*', 'catalog', options.signal, (body) => {
      const parsed = CatalogSchema.safeParse(body);
      if (!parsed.success) throw malformed('catalog', parsed.error);
      repos.push(...(parsed.data.repositories ?? []));
    });
    return repos;
  }

  private async paginate(first: string, scope: string, what: string, signal: AbortSignal | undefined, onPage: (body: unknown) => void): Promise<void> {
    let next: string | undefined = first;
    const seen = new Set<string>();
    while (next !== undefined && !seen.has(next)) {
      seen.add(next);
      const res = await this.get(next, { scope, signal, what });
      const text = (await readBytes(res.body, MAX_LIST_BYTES, what)).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new PortcullisError('E_REGISTRY', `registry: ${this.apiHost} sent ${what} that is not JSON`, { host: this.apiHost });
      }
      onPage(body);
      next = nextLink(header(res.headers, 'link'));
    }
  }

  /**
   * GET with auth, retries and redirects; returns a 2xx response (or an allowed status) and raises
   * the catalog mapping for the rest.
   */
  private async get(path: string, opts: GetOptions): Promise<Response> {
    const base = await this.baseUrl(opts.signal);
    const url = new URL(path, base);
    const extra = opts.headers ?? {};
    let authorization = await this.auth.authorization(opts.scope, opts.signal);
    let res = await this.requestWithRetry(url, 'GET', withAuth(extra, authorization), opts.signal);
    if (res.status === 401) {
      const challenges = parseWwwAuthenticate(res.headers['www-authenticate']);
      const text = await readText(res.body, 64 * 1024);
      const next = await this.auth.respondTo(challenges, opts.scope, authorization, opts.signal);
      if (next === undefined) throw this.unauthorized(opts.what, text);
      authorization = next;
      res = await this.requestWithRetry(url, 'GET', withAuth(extra, authorization), opts.signal);
      if (res.status === 401) throw this.unauthorized(opts.what, await readText(res.body, 64 * 1024));
    }
    res = await this.follow(res, extra, opts.signal, authorization);
    if ((res.status >= 200 && res.status < 300) || opts.allow?.includes(res.status)) return res;
    throw httpStatusError(res.status, opts.what, this.apiHost, await readText(res.body, 64 * 1024));
  }

  private unauthorized(what: string, body: string): PortcullisError {
    if (!this.auth.hasCredentials) {
      return new PortcullisError(
        'E_AUTH',
        `registry: ${this.apiHost} requires authentication for ${what} and no credentials were found (use --username/--password, PORTCULLIS_REGISTRY_USERNAME/PORTCULLIS_REGISTRY_PASSWORD, or docker login)`,
        { host: this.apiHost, status: 401 },
      );
    }
    return httpStatusError(401, what, this.apiHost, body);
  }

  /** Follows redirects; the Authorization header goes only to the origin it was meant for. */
  private async follow(res: Response, headers: Record<string, string>, signal?: AbortSignal, authorization?: string): Promise<Response> {
    let current = res;
    const origin = res.url.origin;
    for (let hops = 0; REDIRECT_STATUSES.has(current.status); hops++) {
      const location = header(current.headers, 'location');
      if (location === undefined) return current;
      await current.body.dump();
      if (hops >= MAX_REDIRECTS) throw new PortcullisError('E_REGISTRY', `registry: too many redirects from ${this.apiHost}`, { host: this.apiHost });
      const target = new URL(location, current.url);
      const sameOrigin = target.origin === origin;
      current = await this.requestWithRetry(target, 'GET', sameOrigin ? withAuth(headers, authorization) : headers, signal);
    }
    return current;
  }

  /** GET with Basic credentials, or (with `form`, an OAuth2 refresh-token grant) a form POST. */
  private async fetchToken(url: URL, authorization: string | undefined, signal?: AbortSignal, form?: URLSearchParams): Promise<{ status: number; body: string }> {
    const first = form
      ? await this.requestWithRetry(url, 'POST', { 'content-type': 'application/x-www-form-urlencoded' }, signal, form.toString())
      : await this.requestWithRetry(url, 'GET', withAuth({}, authorization), signal);
    const res = await this.follow(first, {}, signal);
    return { status: res.status, body: await readText(res.body, 1024 * 1024) };
  }

  /** One request, retried on 429/5xx (honouring Retry-After) and on transient network errors. */
  private async requestWithRetry(url: URL, method: 'GET' | 'POST', headers: Record<string, string>, signal?: AbortSignal, body?: string): Promise<Response> {
    const allHeaders = { 'user-agent': this.options.userAgent ?? 'portcullis', ...headers };
    for (let attempt = 1; ; attempt++) {
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, { method, headers: allHeaders, dispatcher: this.agent, signal, ...(body !== undefined ? { body } : {}) });
      } catch (err) {
        if (isAbortError(err, signal)) throw signal?.reason ?? err;
        if (!isRetryableNetworkError(err) || isTlsError(err) || attempt >= this.retry.attempts) {
          throw networkError(err, url.host, this.options.insecure === true);
        }
        const delayMs = backoffDelay(this.retry, attempt);
        this.log({ url: loggableUrl(url), attempt, delayMs, error: (err as Error).message }, 'registry: network error, retrying');
        await sleep(delayMs, signal);
        continue;
      }
      const status = res.statusCode;
      const retryable = status === 429 || (status >= 500 && status !== 501 && status !== 505);
      if (!retryable || attempt >= this.retry.attempts) return { status, headers: res.headers, body: res.body, url };
      const retryAfter = parseRetryAfter(res.headers['retry-after']);
      const delayMs = retryAfter !== undefined ? Math.min(retryAfter, MAX_RETRY_AFTER_MS) : backoffDelay(this.retry, attempt);
      await res.body.dump().catch(() => undefined);
      this.log({ url: loggableUrl(url), status, attempt, delayMs, retryAfter: retryAfter !== undefined }, 'registry: retrying after status');
      await sleep(delayMs, signal);
    }
  }

  private log(obj: object, msg: string): void {
    this.options.logger?.debug(obj, msg);
  }
}

/** Options of {@link createRegistryClient}: client options plus where to look for credentials. */
export interface CreateRegistryClientOptions extends Omit<RegistryClientOptions, 'credentials'>, CredentialSources {}

/**
 * A client for `registry` with credentials resolved from options, environment and docker config
 * (in that order). The caller closes it.
 */
export async function createRegistryClient(registry: string, options: CreateRegistryClientOptions = {}): Promise<RegistryClient> {
  const resolved = await resolveCredentials(registry, options);
  options.logger?.debug({ registry, credentials: resolved.source }, 'registry: credentials resolved');
  const clientOptions: RegistryClientOptions = { ...options };
  if (resolved.credentials) clientOptions.credentials = resolved.credentials;
  return new RegistryClient(registry, clientOptions);
}

/**
 * Every tag of a repository named as an image reference without tag (`host:5000/ns/repo`,
 * `ubuntu`), following pages. Returns [] when the repository has no tags.
 */
export async function listTags(repository: string, options: CreateRegistryClientOptions & { pageSize?: number; signal?: AbortSignal } = {}): Promise<string[]> {
  const ref = parseRegistryReference(repository);
  const client = await createRegistryClient(ref.registry, options);
  try {
    return await client.listTags(ref.repository, options);
  } finally {
    await client.close();
  }
}

/** Every repository in a registry's catalog (`host:port`), following pages; [] for an empty registry. */
export async function listRepositories(registry: string, options: CreateRegistryClientOptions & { pageSize?: number; signal?: AbortSignal } = {}): Promise<string[]> {
  const client = await createRegistryClient(registry, options);
  try {
    return await client.listRepositories(options);
  } finally {
    await client.close();
  }
}

/** The pull scope of a repository, as token servers expect it. */
export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

/** The target of a `Link: <url>; rel="next"` header, if any. */
export function nextLink(value: string | undefined): string | undefined {
  if (!value) return undefined;
  for (const part of value.split(',')) {
    const m = /<([^>]*)>\s*;(.*)$/.exec(part.trim());
    if (m && /(?:^|;)\s*rel="?next"?\s*(?:;|$)/i.test(m[2] ?? '')) return m[1];
  }
  return undefined;
}

function withAuth(headers: Record<string, string>, authorization: string | undefined): Record<string, string> {
  return authorization === undefined ? headers : { ...headers, authorization };
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function safeAlgorithm(digest: string): 'sha256' | 'sha512' {
  try {
    return parseDigest(digest).algorithm;
  } catch {
    return 'sha256';
  }
}

async function readBytes(body: AsyncIterable<unknown> & { destroy(): void }, maxBytes: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    total += buf.length;
    if (total > maxBytes) {
      body.destroy();
      throw new PortcullisError('E_TOO_LARGE', `registry: ${what} is larger than ${maxBytes} bytes`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

async function readText(body: AsyncIterable<unknown> & { destroy(): void }, maxBytes: number): Promise<string> {
  try {
    return (await readBytes(body, maxBytes, 'response')).toString('utf8');
  } catch {
    return '';
  }
}

async function* skipBytes(body: AsyncIterable<Buffer>, skip: number): AsyncGenerator<Buffer> {
  let remaining = skip;
  for await (const chunk of body) {
    if (remaining >= chunk.length) {
      remaining -= chunk.length;
      continue;
    }
    yield remaining > 0 ? chunk.subarray(remaining) : chunk;
    remaining = 0;
  }
}

/** A URL as logs may show it: no query (a redirect's signed storage URL carries its signature there), no user info. */
function loggableUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
