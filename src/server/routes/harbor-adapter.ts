/**
 * The Harbor pluggable scanner adapter API (spec v1.0-v1.2) under `harbor_scanner.base`: Harbor
 * registers `http://host:port<base>` and calls `<base>/api/v1/metadata`, `POST <base>/api/v1/scan`
 * and `GET <base>/api/v1/scan/{id}/report`. Every answer carries the spec's media type; every
 * error the spec's error media type and `{"error": {"message"}}`. Harbor's client gives each call
 * 5 s and follows no redirect, so metadata and scan requests answer from the store at once (the
 * scan runs after the 202) and a report not ready yet is a 302 with `Refresh-After` (1..127).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as z from 'zod';
import { CONSUMED_MIME_TYPES, HARBOR_MEDIA_TYPES, normalizeHarborMediaType, SBOM_MEDIA_TYPES, scanRequestSchema, type HarborMetadata } from '../../backends/harbor/protocol.js';
import { PortcullisError } from '../../domain/errors.js';
import { HARBOR_SCANNER, harborSbomReport, harborVulnerabilityReport, type HarborArtifact } from '../../report/harbor.js';
import { HarborCapabilityError, type HarborScanner, type HarborReportState } from '../../service/harbor-scanner.js';
import { toHttpError, withStore } from '../errors.js';

const SCAN_REQUEST_TYPES = [HARBOR_MEDIA_TYPES.scanRequestV10, HARBOR_MEDIA_TYPES.scanRequestV11, 'application/json'].map(normalizeHarborMediaType);

/** Report kinds a GET may ask for, by normalized media type. */
const REPORT_TYPES = new Map<string, 'v1.0' | 'v1.1' | 'sbom'>([
  [normalizeHarborMediaType(HARBOR_MEDIA_TYPES.vulnReportV10), 'v1.0'],
  [normalizeHarborMediaType(HARBOR_MEDIA_TYPES.vulnReportV11), 'v1.1'],
  [normalizeHarborMediaType(HARBOR_MEDIA_TYPES.sbomReport), 'sbom'],
]);

/** Registers the adapter routes; `app` is the plugin instance under the configured prefix. */
export async function harborAdapterRoutes(app: FastifyInstance, options: { scanner: HarborScanner }): Promise<void> {
  const { scanner } = options;

  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const answer = toHttpError(err, request.id);
    const status = err instanceof HarborCapabilityError ? 501 : answer.status;
    if (answer.internal) request.log.error({ err }, 'harbor adapter request failed');
    else request.log.info({ code: answer.body.error.code, status }, answer.body.error.message);
    if (status === 401) void reply.header('www-authenticate', 'Basic realm="portcullis", Bearer realm="portcullis"');
    return sendJson(reply, status, HARBOR_MEDIA_TYPES.error, { error: { message: answer.body.error.message } });
  });

  // Harbor's own request type (and plain JSON for people with curl); anything else is 415.
  app.addContentTypeParser(/^application\/vnd\.scanner\.adapter\.scan\.request\+json/i, { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, JSON.parse(typeof body === 'string' ? body : body.toString('utf8')) as unknown);
    } catch (err) {
      done(new PortcullisError('E_INPUT', `invalid JSON: ${err instanceof Error ? err.message : String(err)}`), undefined);
    }
  });

  app.get('/api/v1/metadata', { config: { access: 'harbor-adapter' }, schema: { hide: true } }, async (request, reply) => {
    const v11 = acceptList(request.headers.accept).includes(normalizeHarborMediaType(HARBOR_MEDIA_TYPES.metadataV11));
    const builtAt = scanner.databaseBuiltAt();
    const metadata: HarborMetadata = {
      scanner: { ...HARBOR_SCANNER },
      // Both capabilities, typed, whatever version is asked: Harbor's client asks for the v1.0
      // metadata type even where it reads capability types (as the Trivy adapter answers too), and
      // v1.0's schema allows the extra fields.
      capabilities: [
        { type: 'vulnerability', consumes_mime_types: [...CONSUMED_MIME_TYPES], produces_mime_types: [HARBOR_MEDIA_TYPES.vulnReportV10, HARBOR_MEDIA_TYPES.vulnReportV11] },
        { type: 'sbom', consumes_mime_types: [...CONSUMED_MIME_TYPES], produces_mime_types: [HARBOR_MEDIA_TYPES.sbomReport], additional_attributes: { sbom_media_types: ['application/vnd.cyclonedx+json'] } },
      ],
      properties: {
        'harbor.scanner-adapter/scanner-type': 'os-package-vulnerability',
        ...(builtAt !== undefined ? { 'harbor.scanner-adapter/vulnerability-database-updated-at': builtAt } : {}),
      },
    };
    return sendJson(reply, 200, v11 ? HARBOR_MEDIA_TYPES.metadataV11 : HARBOR_MEDIA_TYPES.metadataV10, metadata);
  });

  app.post('/api/v1/scan', { config: { access: 'harbor-adapter' }, schema: { hide: true } }, async (request, reply) => {
    const contentType = request.headers['content-type'];
    if (contentType === undefined || !SCAN_REQUEST_TYPES.includes(normalizeHarborMediaType(contentType))) {
      throw new PortcullisError('E_CONTENT_TYPE', `expected Content-Type: ${HARBOR_MEDIA_TYPES.scanRequestV10} (or version=1.1)`);
    }
    const parsed = scanRequestSchema.safeParse(request.body);
    if (!parsed.success) throw scanRequestError(parsed.error, request.body);
    const id = await withStore(request, 'recording a Harbor scan request', () => scanner.accept(parsed.data));
    return sendJson(reply, 202, HARBOR_MEDIA_TYPES.scanResponse, { id });
  });

  app.get('/api/v1/scan/:id/report', { config: { access: 'harbor-adapter' }, schema: { hide: true } }, async (request, reply) => {
    const { id } = z.object({ id: z.string() }).parse(request.params);
    const query = z.object({ sbom_media_type: z.string().optional() }).safeParse(request.query);
    if (!query.success) throw new PortcullisError('E_INPUT', 'sbom_media_type: expected one value');
    const kind = reportKind(request.headers.accept, query.data.sbom_media_type);
    const state = /^[0-9a-f-]{36}$/.test(id) ? await withStore(request, 'reading a Harbor scan request', () => scanner.report(id)) : undefined;
    if (state === undefined) throw new PortcullisError('E_NOT_FOUND', `no scan request ${id}`);
    return answerReport(reply, state, kind);
  });
}

/** The report kind asked for, or the spec's 400 / 501. */
function reportKind(accept: string | undefined, sbomMediaType: string | undefined): 'v1.0' | 'v1.1' | 'sbom' {
  const wanted = acceptList(accept);
  const kinds = wanted.map((t) => REPORT_TYPES.get(t));
  const known = kinds.find((k) => k !== undefined);
  if (sbomMediaType !== undefined) {
    if (!(SBOM_MEDIA_TYPES as readonly string[]).includes(sbomMediaType)) throw new PortcullisError('E_INPUT', `sbom_media_type: expected one of ${SBOM_MEDIA_TYPES.join(', ')}`);
    if (known !== 'sbom') throw new PortcullisError('E_INPUT', `sbom_media_type goes with Accept: ${HARBOR_MEDIA_TYPES.sbomReport}`);
    if (sbomMediaType !== 'application/vnd.cyclonedx+json') throw new HarborCapabilityError(`this scanner makes CycloneDX SBOMs only, not ${sbomMediaType}`);
    return 'sbom';
  }
  if (known === 'sbom') throw new PortcullisError('E_INPUT', 'an SBOM report needs ?sbom_media_type=application/vnd.cyclonedx+json');
  if (known !== undefined) return known;
  // No Accept (or any type): the spec's default, Harbor's v1.0 report.
  if (wanted.length === 0 || wanted.some((t) => t === '*/*' || t === 'application/*')) return 'v1.0';
  throw new HarborCapabilityError(`no report of the types ${wanted.join(', ')}; this scanner makes ${[HARBOR_MEDIA_TYPES.vulnReportV10, HARBOR_MEDIA_TYPES.vulnReportV11, HARBOR_MEDIA_TYPES.sbomReport].join(', ')}`);
}

async function answerReport(reply: FastifyReply, state: HarborReportState, kind: 'v1.0' | 'v1.1' | 'sbom'): Promise<FastifyReply> {
  if (state.state === 'pending') return reply.status(302).header('refresh-after', String(state.refreshAfter)).send();
  if (state.state === 'failed') return sendJson(reply, 500, HARBOR_MEDIA_TYPES.error, { error: { message: state.reason } });
  const { request } = state;
  const artifact: HarborArtifact = { repository: request.repository, digest: request.digest, ...(request.tag !== undefined ? { tag: request.tag } : {}), mime_type: request.mimeType };
  const generatedAt = state.scan.finishedAt ?? new Date().toISOString();
  if (kind === 'sbom') return sendJson(reply, 200, HARBOR_MEDIA_TYPES.sbomReport, harborSbomReport(await state.inventory(), { artifact, generatedAt }));
  const version = kind === 'v1.1' ? '1.1' : '1.0';
  return sendJson(reply, 200, kind === 'v1.1' ? HARBOR_MEDIA_TYPES.vulnReportV11 : HARBOR_MEDIA_TYPES.vulnReportV10, harborVulnerabilityReport(state.findings, { artifact, generatedAt, version }));
}

/**
 * A ScanRequest that does not fit: 400 when a value has the wrong JSON type (the spec's "wrong
 * type of JSON values"), 422 when a field is missing or its value is not acceptable.
 */
function scanRequestError(error: z.ZodError, body: unknown): PortcullisError {
  const issue = error.issues[0];
  const where = issue?.path.map(String).join('.') ?? 'body';
  const message = `${where === '' ? 'body' : where}: ${issue?.message ?? 'invalid'}`;
  const present = issue !== undefined && valueAt(body, issue.path) !== undefined;
  if (issue?.code === 'invalid_type' && present) return new PortcullisError('E_INPUT', `invalid scan request: ${message}`);
  return new PortcullisError('E_UNSUPPORTED', `invalid scan request: ${message}`);
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let node = value;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = Reflect.get(node, key) as unknown;
  }
  return node;
}

/** The media types of an Accept header, normalized, in the client's order (q-values are not used: Harbor sends one type). */
function acceptList(accept: string | undefined): string[] {
  if (accept === undefined) return [];
  return accept
    .split(',')
    .map((part) => normalizeHarborMediaType(part.replace(/;\s*q=[0-9.]+/i, '')))
    .filter((t) => t !== '');
}

/**
 * Sends `body` as JSON under the spec's media type, byte for byte as the spec writes it: as a
 * Buffer, because the framework rewrites the type of a text body (`version="1.0"; charset=utf-8`)
 * and several of the spec's types have no `json` suffix for it to serialize an object under.
 */
function sendJson(reply: FastifyReply, status: number, mediaType: string, body: unknown): FastifyReply {
  return reply.status(status).header('content-type', mediaType).send(Buffer.from(JSON.stringify(body), 'utf8'));
}
