/**
 * `db update`: fetch each feed's upstream URLs (or their mirror), unpack, parse, build.
 *
 * Outbound requests go only to the configured URLs: the feeds' own upstream list, replaced per
 * feed by `upstreams`, or rewritten onto `mirror`. Redirects are followed only within the same
 * origin. A feed whose download fails is not rebuilt: its rows from the previous DB are kept, and
 * the failure is reported. Nothing is written until every fetch has ended, and the DB itself is
 * swapped atomically (see build.ts), so an interrupted update leaves the previous DB usable.
 */
import { Agent, EnvHttpProxyAgent, request, type Dispatcher } from 'undici';
import { PortcullisError } from '../domain/errors.js';
import { FEEDS } from '../feeds/registry.js';
import type { Feed, FeedFile, FeedUpstream } from '../feeds/types.js';
import { cancelled, mapBounded } from '../util/concurrency.js';
import { TOOL_VERSION } from '../version.js';
import { DEFAULT_ZIP_LIMITS, gunzip, looksLikeZip, untarGzFiles, untarZstFiles, unzipFiles } from './archive.js';
import { buildVulnDb, type BuildInput, type BuildSummary } from './build.js';
import { defaultDbPath } from './paths.js';

export interface UpdateOptions {
  /** DB file to write (default: defaultDbPath()). */
  target?: string;
  /** Feed ids to update (default: every feed that has upstream URLs). Others are kept from the DB. */
  feeds?: string[];
  /**
   * Base URL of a mirror: `https://host/path/x.json` is fetched as `<mirror>/host/path/x.json`
   * (also $PORTCULLIS_FEED_MIRROR through the CLI).
   */
  mirror?: string;
  /** Per-feed replacement of the upstream list (configuration). */
  upstreams?: Record<string, FeedUpstream[]>;
  /** Abort one request when no byte arrives for this long (default 60 s). */
  timeoutMs?: number;
  /** Attempts after the first on network errors, 429 and 5xx (default 3). */
  retries?: number;
  /** First back-off delay, doubled per retry (default 1 s). */
  retryDelayMs?: number;
  /** Feeds fetched at once (default 3). */
  concurrency?: number;
  /** Largest payload accepted per URL (default 2 GiB). */
  maxBytes?: number;
  /** The feed registry (default: FEEDS). */
  registry?: readonly Feed[];
  /** HTTP dispatcher (default: an agent honouring HTTP(S)_PROXY/NO_PROXY when set). */
  dispatcher?: Dispatcher;
  /** Progress lines for people (`fetching ...`). */
  onEvent?: (event: UpdateEvent) => void;
  signal?: AbortSignal;
  now?: () => Date;
}

export type UpdateEvent =
  | { type: 'fetch'; feed: string; url: string; attempt: number }
  | { type: 'fetched'; feed: string; url: string; bytes: number }
  | { type: 'retry'; feed: string; url: string; attempt: number; error: string }
  | { type: 'failed'; feed: string; error: string };

export interface FeedFailure {
  feed: string;
  url?: string;
  error: string;
}

export interface UpdateSummary {
  /** Undefined when nothing could be fetched (the DB was left as it was). */
  build?: BuildSummary;
  updated: string[];
  failed: FeedFailure[];
}

/** The URL actually fetched for an upstream URL, given an optional mirror base. */
export function mirroredUrl(url: string, mirror: string | undefined): string {
  if (mirror === undefined || mirror === '') return url;
  const u = new URL(url);
  return `${mirror.replace(/\/+$/, '')}/${u.host}${u.pathname}${u.search}`;
}

class RetryableError extends Error {}

/** A URL that could not be fetched once retries were spent. */
class FetchFailed extends Error {
  constructor(
    readonly url: string,
    message: string,
  ) {
    super(message);
  }
}

async function fetchOnce(url: string, opts: Required<Pick<UpdateOptions, 'timeoutMs' | 'maxBytes'>> & { dispatcher: Dispatcher; signal?: AbortSignal }): Promise<Buffer> {
  const origin = new URL(url).origin;
  let current = url;
  for (let hop = 0; hop <= 5; hop++) {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(current, {
        method: 'GET',
        dispatcher: opts.dispatcher,
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
        headers: { 'user-agent': `portcullis/${TOOL_VERSION}`, accept: '*/*' },
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      const message = err instanceof Error ? err.message : String(err);
      // A host that does not resolve will not resolve a second later: fail the feed at once.
      if (errorCode(err) === 'ENOTFOUND') throw new Error(message, { cause: err });
      throw new RetryableError(message);
    }
    const status = res.statusCode;
    if (status >= 300 && status < 400) {
      await res.body.dump();
      const location = res.headers.location;
      const next = typeof location === 'string' ? new URL(location, current) : undefined;
      // Only same-origin redirects: requests must not wander off the configured hosts.
      if (next === undefined || next.origin !== origin) throw new Error(`HTTP ${status} redirect to ${next?.origin ?? '(none)'} refused (only ${origin} is configured)`);
      current = next.toString();
      continue;
    }
    if (status !== 200) {
      await res.body.dump();
      if (status === 429 || status >= 500) throw new RetryableError(`HTTP ${status}`);
      throw new Error(`HTTP ${status}`);
    }
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > opts.maxBytes) {
      await res.body.dump();
      throw new Error(`payload of ${declared} bytes exceeds the ${opts.maxBytes}-byte limit`);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of res.body) {
        const buf = chunk as Buffer;
        total += buf.length;
        if (total > opts.maxBytes) {
          res.body.destroy();
          throw new Error(`payload exceeds the ${opts.maxBytes}-byte limit`);
        }
        chunks.push(buf);
      }
    } catch (err) {
      if (err instanceof Error && /byte limit/.test(err.message)) throw err;
      // Connection dropped or stalled mid-body: worth another try.
      throw new RetryableError(`download interrupted after ${total} bytes: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (Number.isFinite(declared) && total !== declared) throw new RetryableError(`download truncated: ${total} of ${declared} bytes`);
    return Buffer.concat(chunks);
  }
  throw new Error('too many redirects');
}

/** The system error code of an undici failure (undici puts it on the error or on its cause). */
function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = e?.code ?? e?.cause?.code;
  return typeof code === 'string' ? code : undefined;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      },
      { once: true },
    );
  });
}

/** A readable name for a fetched payload: host and path, with the extension its format implies. */
function payloadName(url: string, format: FeedUpstream['format']): string {
  const u = new URL(url);
  let name = `${u.host}${decodeURIComponent(u.pathname)}`.replace(/\/+$/, '');
  if (format === 'gzip-json') name = name.replace(/\.gz$/i, '');
  // An extension-less URL (`.../tracker/data/json`) gets the one its format implies, for parsers
  // that tell JSON from YAML by name; a name with an extension is left as served.
  const ext: Partial<Record<FeedUpstream['format'], string>> = { json: '.json', 'gzip-json': '.json', yaml: '.yaml', csv: '.csv' };
  const wanted = ext[format];
  const last = name.split('/').pop() ?? '';
  if (wanted !== undefined && !last.includes('.')) name += wanted;
  return name;
}

/** Unpacks one payload by its declared format; archives keep only the files the feed recognizes. */
async function unpack(feed: Feed, upstream: FeedUpstream, url: string, bytes: Buffer): Promise<FeedFile[]> {
  const label = url;
  switch (upstream.format) {
    case 'zip': {
      if (!looksLikeZip(bytes)) throw new Error('payload is not a zip archive');
      return unzipFiles({ bytes }, label, DEFAULT_ZIP_LIMITS, (f) => feed.recognizes(f));
    }
    case 'tar-gz':
      return (await untarGzFiles(bytes, label)).filter((f) => feed.recognizes(f));
    case 'tar-zst':
      return (await untarZstFiles(bytes, label)).filter((f) => feed.recognizes(f));
    case 'gzip-json':
      return [{ name: payloadName(url, upstream.format), bytes: gunzip(bytes, label) }];
    case 'bzip2-json':
      throw new PortcullisError('E_UNSUPPORTED', 'vulndb: bzip2 payloads are not supported; configure an uncompressed or gzip upstream');
    default:
      return [{ name: payloadName(url, upstream.format), bytes }];
  }
}

/**
 * Fetches the selected feeds and rebuilds the DB with them, keeping the other feeds' rows. Feeds
 * whose download or unpacking fails are listed in `failed` and keep their previous rows. Throws
 * E_USAGE for an unknown feed id, and E_FEED when every selected feed failed (the DB is then not
 * touched). Returns after the new DB is in place.
 */
export async function updateFeeds(options: UpdateOptions = {}): Promise<UpdateSummary> {
  const registry = options.registry ?? FEEDS;
  const upstreamOf = (feed: Feed): FeedUpstream[] => options.upstreams?.[feed.id] ?? feed.upstream;
  let selected: Feed[];
  if (options.feeds !== undefined && options.feeds.length > 0) {
    selected = options.feeds.map((id) => {
      const feed = registry.find((f) => f.id === id);
      if (feed === undefined) throw new PortcullisError('E_USAGE', `vulndb: unknown feed ${JSON.stringify(id)} (known: ${registry.map((f) => f.id).join(', ')})`);
      if (upstreamOf(feed).length === 0) throw new PortcullisError('E_USAGE', `vulndb: feed ${id} has no upstream URL to update from; use \`portcullis db import\``);
      return feed;
    });
  } else {
    selected = registry.filter((f) => upstreamOf(f).length > 0);
  }
  const timeoutMs = options.timeoutMs ?? 60_000;
  const retries = options.retries ?? 3;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const maxBytes = options.maxBytes ?? 2 * 1024 ** 3;
  const proxied = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'].some((k) => (process.env[k] ?? '') !== '');
  const ownDispatcher = options.dispatcher === undefined ? (proxied ? new EnvHttpProxyAgent() : new Agent()) : undefined;
  const dispatcher = options.dispatcher ?? (ownDispatcher as Dispatcher);
  const emit = options.onEvent ?? (() => undefined);

  /** Fetches one URL with retries; throws FetchFailed (with the URL) once retries are spent. */
  const fetchWithRetries = async (feedId: string, url: string): Promise<Buffer> => {
    for (let attempt = 1; ; attempt++) {
      emit({ type: 'fetch', feed: feedId, url, attempt });
      try {
        const bytes = await fetchOnce(url, { timeoutMs, maxBytes, dispatcher, ...(options.signal ? { signal: options.signal } : {}) });
        emit({ type: 'fetched', feed: feedId, url, bytes: bytes.length });
        return bytes;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (options.signal?.aborted) throw cancelled(options.signal, `vulndb: update (fetching ${url})`);
        if (err instanceof RetryableError && attempt <= retries) {
          emit({ type: 'retry', feed: feedId, url, attempt, error: message });
          await sleep(retryDelayMs * 2 ** (attempt - 1), options.signal);
          continue;
        }
        throw new FetchFailed(url, message);
      }
    }
  };

  /** Resolves an `indirect` upstream: its URL serves the name of the current payload, relative to it. */
  const resolvePayloadUrl = async (feedId: string, upstream: FeedUpstream, url: string): Promise<string> => {
    if (upstream.indirect !== true) return url;
    const pointer = (await fetchWithRetries(feedId, url)).toString('utf8');
    const name = pointer.split(/\r?\n/).map((l) => l.trim()).find((l) => l !== '');
    if (name === undefined) throw new FetchFailed(url, 'the pointer file names no payload');
    const target = new URL(name, url);
    // The pointer must not send us anywhere the configuration did not name.
    if (target.origin !== new URL(url).origin) throw new FetchFailed(url, `the pointer file names ${target.origin}, not ${new URL(url).origin}`);
    return target.toString();
  };

  /** Fetches and unpacks every upstream of one feed: its build input, or why it failed. */
  const fetchFeed = async (feed: Feed): Promise<{ input: BuildInput } | { failure: FeedFailure }> => {
    const files: FeedFile[] = [];
    const sources: string[] = [];
    for (const upstream of upstreamOf(feed)) {
      const configured = mirroredUrl(upstream.url, options.mirror);
      try {
        const url = await resolvePayloadUrl(feed.id, upstream, configured);
        const bytes = await fetchWithRetries(feed.id, url);
        files.push(...(await unpack(feed, upstream, url, bytes)));
        sources.push(url);
      } catch (err) {
        if (err instanceof PortcullisError && (err.code === 'E_FEED' || err.code === 'E_CANCELLED')) throw err;
        const failure = err instanceof FetchFailed ? { feed: feed.id, url: err.url, error: err.message } : { feed: feed.id, url: configured, error: err instanceof Error ? err.message : String(err) };
        emit({ type: 'failed', feed: feed.id, error: failure.error });
        return { failure };
      }
    }
    return { input: { feed, files, source: sources.join(' '), fetchedAt: (options.now?.() ?? new Date()).toISOString() } };
  };

  const inputs: BuildInput[] = [];
  const failed: FeedFailure[] = [];
  try {
    // A few feeds at once: downloads overlap, while payloads held in memory stay bounded.
    for (const outcome of await mapBounded(selected, options.concurrency ?? 3, fetchFeed, { ...(options.signal ? { signal: options.signal } : {}), what: 'vulndb: update' })) {
      if ('input' in outcome) inputs.push(outcome.input);
      else failed.push(outcome.failure);
    }
  } finally {
    await ownDispatcher?.close();
  }
  if (inputs.length === 0) {
    const detail = failed.map((f) => `${f.feed}: ${f.error}${f.url ? ` (${f.url})` : ''}`).join('; ');
    throw new PortcullisError('E_FEED', `vulndb: update failed, the database was left as it was: ${detail || 'no feed selected'}`, { failed });
  }
  const target = options.target ?? defaultDbPath();
  const build = await buildVulnDb(target, inputs, { keepFrom: target, ...(options.now ? { now: options.now } : {}), ...(options.signal ? { signal: options.signal } : {}) });
  return { build, updated: inputs.map((i) => i.feed.id), failed };
}
