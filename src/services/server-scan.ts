/**
 * `portcullis scan --server URL IMAGE`: the CI gate with the analysis done by a Portcullis service.
 * The image is one of the service's registry; the service is asked to scan it (POST /api/v1/scans),
 * polled until its embedded scanner's scans ended (or `timeoutMs` passed), and the embedded scanner's full report of
 * each chosen image manifest is fetched, so the caller applies exactly the gate and formats of a
 * local scan. Every answer is validated before use; the token goes only into the Authorization
 * header, never into a message.
 */
import * as z from 'zod';
import { ERROR_CATALOG, PortcullisError, type ErrorCode } from '../domain/errors.js';
import type { ScanReport } from '../domain/finding.js';
import { parseInventory } from '../domain/inventory.js';
import type { ScanWarning } from '../domain/warning.js';
import { hostPlatform, selectPlatforms } from '../image/platform.js';
import type { Platform, PlatformSelector } from '../image/types.js';
import type { ScanOutcome } from './scan-service.js';

export interface ServerScanRequest {
  /** The service's base URL (`http://scanner:8080`). */
  server: string;
  /** The image in the service's registry (`repo:tag`, `host:port/repo:tag`, `repo@sha256:...`). */
  image: string;
  /** An API token of scope scan. */
  token: string | undefined;
  /** How long to wait for the service's scans to end. */
  timeoutMs: number;
  /** Which platform of a multi-platform image (default: this host's). */
  platform?: PlatformSelector;
  /** Between two looks at the scan state (default 1 s). */
  pollMs?: number;
}

/** The backend whose report the gate reads: the one that produces a Portcullis ScanReport. */
const EMBEDDED_BACKEND = 'embedded';
/** The largest report read (an image with every package vulnerable is far below). */
const MAX_REPORT_BYTES = 256 * 1024 * 1024;

const scanStatusSchema = z.enum(['queued', 'scanning', 'scanned', 'failed', 'unsupported']);
const backendStateSchema = z.object({ backend: z.string(), status: scanStatusSchema, reason: z.string().nullable() });
const imageViewSchema = z.object({ digest: z.string(), kind: z.enum(['image', 'index']), platform: z.string().optional(), scan: z.object({ backends: z.array(backendStateSchema) }) });
const stateSchema = z.object({
  digest: z.string(),
  status: scanStatusSchema,
  poll: z.string().startsWith('/api/v1/scans/'),
  manifest: imageViewSchema.extend({ children: z.array(imageViewSchema).optional() }),
});
type ScanState = z.infer<typeof stateSchema>;
type ImageView = z.infer<typeof imageViewSchema>;

const findingSchema = z.looseObject({
  id: z.string(),
  aliases: z.array(z.string()),
  package: z.looseObject({ ecosystem: z.string(), name: z.string(), version: z.string(), purl: z.string(), path: z.string(), layer: z.string(), layerIndex: z.number() }),
  state: z.string(),
  fixedVersions: z.array(z.string()),
  severity: z.string(),
  severitySource: z.string(),
  ratings: z.array(z.unknown()),
  namespace: z.string(),
  feed: z.looseObject({ id: z.string() }),
  links: z.array(z.string()),
  why: z.looseObject({ package: z.string(), advisory: z.string(), rule: z.string() }),
  /** Absent in reports a service stored before schema version 2. */
  evidence: z.looseObject({ package: z.looseObject({}), matches: z.array(z.unknown()) }).optional(),
});
const reportAnswerSchema = z.object({
  digest: z.string(),
  report: z.looseObject({
    schema: z.literal('https://portcullis.dev/schemas/scan-report/v1'),
    // Version 2 added each finding's evidence; a service may still hold reports it stored as version 1.
    schemaVersion: z.union([z.literal(1), z.literal(2)]),
    tool: z.looseObject({ name: z.string(), version: z.string() }),
    createdAt: z.string(),
    image: z.looseObject({}),
    packageCount: z.number(),
    findings: z.array(findingSchema),
    db: z.looseObject({ feeds: z.array(z.unknown()) }),
    inventory: z.unknown(),
  }),
  warnings: z.array(z.looseObject({ code: z.string(), message: z.string() })),
});
const errorBodySchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** Asks the service for `image`'s results and returns one outcome per chosen image manifest. */
export async function scanWithServer(request: ServerScanRequest): Promise<ScanOutcome[]> {
  const base = serverBase(request.server);
  if (request.token === undefined || request.token === '') {
    throw new PortcullisError('E_AUTH', `--server: no API token; set PORTCULLIS_TOKEN to a token of scope scan (portcullis token create NAME --scope scan, on the service)`);
  }
  const api = new ServiceApi(base, request.token);
  const deadline = Date.now() + request.timeoutMs;
  let state = parseAnswer(stateSchema, await api.call('POST', '/api/v1/scans', { image: request.image }), 'scan state');
  const platform = request.platform ?? hostPlatform();
  // Only the embedded scanner's result is gated: other backends still at work do not hold the run up.
  const embeddedOf = (image: ImageView) => image.scan.backends.find((b) => b.backend === EMBEDDED_BACKEND);
  const unfinished = (images: ImageView[]) => images.filter((i) => ['queued', 'scanning'].includes(embeddedOf(i)?.status ?? 'scanned'));
  let images = chosenImages(state, platform, request.image);
  while (unfinished(images).length > 0) {
    if (Date.now() >= deadline) {
      const waiting = unfinished(images).map((i) => `${i.digest}: ${embeddedOf(i)?.status ?? '?'}`).join(', ');
      throw new PortcullisError('E_PENDING', `--server: the service is still scanning ${request.image} (${waiting}) after ${Math.round(request.timeoutMs / 1000)} s; raise --timeout or ask again later`, { digest: state.digest });
    }
    await new Promise((resolve) => setTimeout(resolve, request.pollMs ?? 1000));
    state = parseAnswer(stateSchema, await api.call('GET', state.poll), 'scan state');
    images = chosenImages(state, platform, request.image);
  }
  const outcomes: ScanOutcome[] = [];
  for (const image of images) {
    const embedded = embeddedOf(image);
    if (embedded === undefined) throw new PortcullisError('E_UNSUPPORTED', `--server: the service has no result of its embedded scanner for ${image.digest} (is security.embedded.enabled off?)`);
    if (embedded.status === 'unsupported') throw new PortcullisError('E_UNSUPPORTED', `--server: the service cannot scan ${request.image} (${image.digest}): ${embedded.reason ?? 'unsupported'}`, { digest: image.digest });
    if (embedded.status !== 'scanned') {
      const reason = embedded.reason ?? 'no reason recorded';
      throw new PortcullisError(codeOfReason(reason), `--server: the service's scan of ${request.image} (${image.digest}) failed: ${reason}`, { digest: image.digest, status: embedded.status });
    }
    const answer = parseAnswer(reportAnswerSchema, await api.call('GET', `/api/v1/manifests/${image.digest}/report`), 'report');
    let inventory: ScanReport['inventory'];
    try {
      inventory = parseInventory(answer.report.inventory, `--server: the inventory in the report of ${image.digest}`);
    } catch (err) {
      throw new PortcullisError('E_INTERNAL', err instanceof Error ? err.message : String(err));
    }
    // The inventory checked above and the report's shape are what the gate and every report format read; the rest passed through as the service wrote it.
    const report: ScanReport = { ...(answer.report as unknown as ScanReport), inventory };
    // A version-1 report has its evidence in words only (`why`): no structured records to show.
    for (const f of report.findings) f.evidence ??= { package: { file: f.package.path, layer: f.package.layer, layerIndex: f.package.layerIndex }, matches: [] };
    outcomes.push({ report, warnings: answer.warnings.map((w): ScanWarning => ({ ...w })) });
  }
  return outcomes;
}

/** The image manifests to gate: the manifest itself, or the index's children the platform picks. */
function chosenImages(state: ScanState, platform: PlatformSelector, what: string): ImageView[] {
  const manifest = state.manifest;
  if (manifest.kind === 'image') return [manifest];
  const children = (manifest.children ?? []).map((c) => ({ view: c, ...(c.platform ? { platform: platformOf(c.platform) } : {}) }));
  return selectPlatforms(children, platform, what).map((c) => c.view);
}

function platformOf(text: string): Platform {
  const [os = '', architecture = '', variant] = text.split('/');
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

/** The catalog code a worker's reason ends with (`... [E_UNREACHABLE]`), else E_INTERNAL. */
function codeOfReason(reason: string): ErrorCode {
  const code = /\[(E_[A-Z_]+)\]\s*$/.exec(reason)?.[1];
  return code !== undefined && isErrorCode(code) ? code : 'E_INTERNAL';
}

function isErrorCode(text: string): text is ErrorCode {
  return Object.hasOwn(ERROR_CATALOG, text);
}

function serverBase(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PortcullisError('E_USAGE', `--server: ${JSON.stringify(text)} is not a URL (e.g. http://scanner:8080)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new PortcullisError('E_USAGE', `--server: ${JSON.stringify(text)} is not an http:// or https:// URL`);
  return url.href.replace(/\/+$/, '');
}

function parseAnswer<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new PortcullisError('E_INTERNAL', `--server: the service's ${what} is not what this client understands: ${z.prettifyError(parsed.error).split('\n').slice(0, 3).join('; ')}`);
  return parsed.data;
}

/** The service's API as this client uses it: JSON in and out, failures mapped onto the error catalog. */
class ServiceApi {
  constructor(
    private readonly base: string,
    private readonly token: string,
  ) {}

  async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const url = `${this.base}${path}`;
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method,
        redirect: 'manual',
        signal: AbortSignal.timeout(120_000),
        headers: { accept: 'application/json', authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const length = Number(res.headers.get('content-length') ?? '0');
      if (length > MAX_REPORT_BYTES) throw new PortcullisError('E_TOO_LARGE', `--server: ${method} ${path}: answer of ${length} bytes is over ${MAX_REPORT_BYTES}`);
      text = await res.text();
    } catch (err) {
      if (err instanceof PortcullisError) throw err;
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
      throw new PortcullisError('E_UNREACHABLE', `--server: cannot reach the Portcullis service at ${this.base} (${cause})`, { url: this.base }, { cause: err });
    }
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new PortcullisError(res.status >= 500 ? 'E_UNREACHABLE' : 'E_INTERNAL', `--server: ${method} ${path} answered ${res.status} with a body that is not JSON (is ${this.base} a Portcullis service?)`);
    }
    if (res.ok) return json;
    const error = errorBodySchema.safeParse(json);
    const message = error.success ? error.data.error.message : `HTTP ${res.status}`;
    if (res.status === 401) throw new PortcullisError('E_AUTH', `--server: the service refused the token in PORTCULLIS_TOKEN (${message}); create one with \`portcullis token create NAME --scope scan\` on the service`);
    if (res.status === 403) throw new PortcullisError('E_FORBIDDEN', `--server: the token in PORTCULLIS_TOKEN may not do this (${message}); it needs scope scan`);
    const sent = error.success ? error.data.error.code : '';
    const code: ErrorCode = isErrorCode(sent) ? sent : res.status >= 500 ? 'E_UNREACHABLE' : 'E_INPUT';
    throw new PortcullisError(code, `--server: ${message}`, { status: res.status });
  }
}
