/**
 * The one place where failures become HTTP answers. A PortcullisError answers with its catalog
 * status (ERROR_CATALOG.httpStatus); the framework's own client errors (validation, bad JSON, body
 * too large, wrong content type, no such route) get the matching catalog code; anything else is a
 * bug and answers 500 with a generic message: never a stack, never internal detail.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import * as z from 'zod';
import { ERROR_CATALOG, PortcullisError, type ErrorCode } from '../domain/errors.js';
import { upstreamOf, upstreamStatus } from '../service/upstream.js';

/** The body of every error answer. */
export const errorResponseSchema = z.object({
  error: z.object({
    /** A stable code from the error catalog (E_AUTH, E_INPUT, ...), for programs. */
    code: z.string(),
    /** For people. */
    message: z.string(),
    /** For 502 answers about a service the service called: which one, and the status it answered with. */
    upstream: z.object({ service: z.string(), status: z.number().int().optional() }).optional(),
  }),
});

/** `{ error: { code, message } }`. */
export type ErrorResponse = z.infer<typeof errorResponseSchema>;

/** An error answer: its status and body. */
export interface HttpError {
  status: number;
  body: ErrorResponse;
  /** True for failures that are bugs or outages (logged at error level with their stack). */
  internal: boolean;
}

/** Framework statuses of client errors and the catalog code each is reported with. */
const CLIENT_STATUS_CODES: Readonly<Record<number, ErrorCode>> = {
  400: 'E_INPUT',
  401: 'E_AUTH',
  403: 'E_FORBIDDEN',
  404: 'E_NOT_FOUND',
  413: 'E_PAYLOAD_TOO_LARGE',
  415: 'E_CONTENT_TYPE',
  429: 'E_RATE_LIMITED',
};

/** Maps anything thrown while handling a request to its answer. */
export function toHttpError(err: unknown, requestId: string): HttpError {
  if (err instanceof PortcullisError && err.code !== 'E_INTERNAL') {
    const upstream = upstreamOf(err);
    if (upstream !== undefined) return upstreamAnswer(err, upstream);
    return { status: err.httpStatus, body: { error: { code: err.code, message: err.message } }, internal: err.httpStatus >= 500 };
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    return { status: 400, body: { error: { code: 'E_INPUT', message: validationMessage(err) } }, internal: false };
  }
  const status = frameworkStatus(err);
  if (status !== undefined && status < 500) {
    const code = CLIENT_STATUS_CODES[status] ?? 'E_INPUT';
    return { status, body: { error: { code, message: (err as FastifyError).message } }, internal: false };
  }
  return {
    status: ERROR_CATALOG.E_INTERNAL.httpStatus,
    body: { error: { code: 'E_INTERNAL', message: `internal error; the service log has the details (request id ${requestId})` } },
    internal: true,
  };
}

/** Codes whose HTTP status would name the caller's own problem (401, 403, 404). */
const CALLER_FACING: ReadonlySet<ErrorCode> = new Set(['E_AUTH', 'E_FORBIDDEN', 'E_NOT_FOUND']);

/**
 * The one rule for failures of services the service called on its own behalf (marked with
 * upstreamFailure): their 401/403, and a 404 that is not about what the caller named, are the
 * service's problem, so the caller gets 502 (E_REGISTRY for the registry, E_UPSTREAM for a
 * backend) with the upstream and its status; a missing manifest the caller asked about stays
 * 404; every other code keeps its own status.
 */
function upstreamAnswer(err: PortcullisError, upstream: { service: string; subject: string; notFoundIsCallers: boolean }): HttpError {
  const status = upstreamStatus(err);
  const about = { service: upstream.service, ...(status !== undefined ? { status } : {}) };
  if (err.code === 'E_NOT_FOUND' && upstream.notFoundIsCallers) {
    return { status: 404, body: { error: { code: 'E_NOT_FOUND', message: `${upstream.subject}: no such repository, tag or manifest in the ${upstream.service} (${err.message})` } }, internal: false };
  }
  if (!CALLER_FACING.has(err.code)) {
    return { status: err.httpStatus, body: { error: { code: err.code, message: err.message, upstream: about } }, internal: err.httpStatus >= 500 };
  }
  const code: ErrorCode = upstream.service === 'registry' ? 'E_REGISTRY' : 'E_UPSTREAM';
  const refused = err.code === 'E_NOT_FOUND' ? 'could not find what the service needs' : `refused the service's own credentials${upstream.service === 'registry' ? ' (registry.username/password)' : ''}`;
  const message = `${upstream.subject}: the ${upstream.service} ${refused}${status !== undefined ? ` (it answered ${status})` : ''}: ${err.message}`;
  return { status: ERROR_CATALOG[code].httpStatus, body: { error: { code, message, upstream: about } }, internal: true };
}

/**
 * Runs a store operation of a request; a failure of the database (down, locked, destroyed) becomes
 * E_DB, 503, so clients retry, instead of a 500. The driver's message goes to the log only.
 */
export async function withStore<T>(request: FastifyRequest, what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof PortcullisError) throw err;
    request.log.error({ err }, `app database failed: ${what}`);
    throw new PortcullisError('E_DB', `the app database is unavailable (${what}); try again later`, {}, { cause: err });
  }
}

/** Installs the error and not-found handlers on an app. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const answer = toHttpError(err, request.id);
    if (answer.internal) request.log.error({ err }, 'request failed');
    else request.log.info({ code: answer.body.error.code, status: answer.status }, answer.body.error.message);
    if (answer.status === 401) void reply.header('www-authenticate', 'Bearer realm="portcullis"');
    return reply.status(answer.status).send(answer.body);
  });
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    return reply.status(404).send({ error: { code: 'E_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0] ?? ''}` } } satisfies ErrorResponse);
  });
}

function frameworkStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const status = (err as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599 ? status : undefined;
}

/** `body.events[0].id: expected string` from the validation issues (the first three). */
function validationMessage(err: FastifyError & { validation: { instancePath: string; message?: string }[] }): string {
  const where = err.validationContext ?? 'request';
  const parts = err.validation.slice(0, 3).map((v) => {
    const path = v.instancePath.split('/').filter((p) => p !== '').map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join('');
    return `${where}${path}: ${v.message ?? 'invalid'}`;
  });
  const more = err.validation.length > 3 ? ` (and ${err.validation.length - 3} more)` : '';
  return `invalid request: ${parts.join('; ')}${more}`;
}
