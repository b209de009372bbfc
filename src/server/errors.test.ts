import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { pino } from 'pino';
import * as z from 'zod';
import { ERROR_CATALOG, PortcullisError } from '../domain/errors.js';
import { upstreamFailure } from '../service/upstream.js';
import { installErrorHandlers, toHttpError } from './errors.js';

/** A real Fastify app with the service's error handling and routes that fail in each way. */
async function appWithFailures(logLines: string[]) {
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => void (logLines.push(chunk.toString('utf8')), done()) });
  const logger: FastifyBaseLogger = pino(sink);
  const app = Fastify({ loggerInstance: logger });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandlers(app);
  const routes = app.withTypeProvider<ZodTypeProvider>();
  routes.get('/typed/:code', (request) => {
    const code = (request.params as { code: keyof typeof ERROR_CATALOG }).code;
    throw new PortcullisError(code, `failed with ${code}`);
  });
  routes.get('/bug', () => {
    throw new TypeError("Cannot read properties of undefined (reading 'secret')");
  });
  routes.post('/validated', { schema: { body: z.object({ limit: z.number().int().max(1000) }) } }, () => ({ ok: true }));
  await app.ready();
  return app;
}

test('a PortcullisError answers with its catalog status and { error: { code, message } }', async () => {
  const app = await appWithFailures([]);
  for (const [code, status] of [['E_NOT_FOUND', 404], ['E_AUTH', 401], ['E_FORBIDDEN', 403], ['E_DB', 503], ['E_REGISTRY', 502], ['E_INPUT', 400], ['E_PAYLOAD_TOO_LARGE', 413]] as const) {
    const res = await app.inject({ method: 'GET', url: `/typed/${code}` });
    assert.equal(res.statusCode, status, code);
    assert.equal(ERROR_CATALOG[code].httpStatus, status);
    assert.deepEqual(res.json(), { error: { code, message: `failed with ${code}` } });
  }
  await app.close();
});

test('a bug answers 500 with a generic message and the request id; the stack goes to the log only', async () => {
  const logs: string[] = [];
  const app = await appWithFailures(logs);
  const res = await app.inject({ method: 'GET', url: '/bug' });
  assert.equal(res.statusCode, 500);
  const body = res.json<{ error: { code: string; message: string } }>();
  assert.equal(body.error.code, 'E_INTERNAL');
  assert.match(body.error.message, /^internal error; the service log has the details \(request id \S+\)$/);
  assert.doesNotMatch(res.body, /secret|TypeError|at /, 'nothing of the failure leaks to the client');
  assert.ok(logs.some((l) => l.includes('TypeError') && l.includes('"stack"')), 'the log has the stack');
  await app.close();
});

test('framework client errors get catalog codes: validation 400, bad JSON 400, unknown route 404, wrong content type 415', async () => {
  const app = await appWithFailures([]);
  const invalid = await app.inject({ method: 'POST', url: '/validated', payload: { limit: 1e9 } });
  assert.equal(invalid.statusCode, 400);
  assert.equal(invalid.json<{ error: { code: string } }>().error.code, 'E_INPUT');
  assert.match(invalid.json<{ error: { message: string } }>().error.message, /^invalid request: body\.limit: /);
  const badJson = await app.inject({ method: 'POST', url: '/validated', headers: { 'content-type': 'application/json' }, payload: '{"limit": ' });
  assert.deepEqual([badJson.statusCode, badJson.json<{ error: { code: string } }>().error.code], [400, 'E_INPUT']);
  const unknown = await app.inject({ method: 'GET', url: '/nowhere?x=1' });
  assert.deepEqual(unknown.json(), { error: { code: 'E_NOT_FOUND', message: 'no route GET /nowhere' } });
  const wrongType = await app.inject({ method: 'POST', url: '/validated', headers: { 'content-type': 'application/xml' }, payload: '<a/>' });
  assert.deepEqual([wrongType.statusCode, wrongType.json<{ error: { code: string } }>().error.code], [415, 'E_CONTENT_TYPE']);
  await app.close();
});

test('failures of a service the service called (marked upstreamFailure) follow one rule: 401/403 and a foreign 404 are 502, the caller\'s missing manifest stays 404', () => {
  const registry401 = new PortcullisError('E_AUTH', 'registry: r:5000 refused the manifest (401 unauthorized)', { host: 'r:5000', status: 401 });
  const registry403 = new PortcullisError('E_FORBIDDEN', 'registry: r:5000 forbids the manifest (403)', { host: 'r:5000', status: 403 });
  const registry404 = new PortcullisError('E_NOT_FOUND', 'registry: r:5000 has no manifest team/app:9', { host: 'r:5000', status: 404 });
  const asked = { service: 'registry', subject: 'r:5000/team/app:9', notFoundIsCallers: true };

  for (const [err, status] of [[registry401, 401], [registry403, 403]] as const) {
    const answer = toHttpError(upstreamFailure(err, asked), 'req-1');
    assert.equal(answer.status, 502);
    assert.equal(answer.body.error.code, 'E_REGISTRY');
    assert.deepEqual(answer.body.error.upstream, { service: 'registry', status });
    assert.match(answer.body.error.message, /^r:5000\/team\/app:9: the registry refused the service's own credentials/);
    // Unmarked, the same failure is the caller's own (the CLI and routes that act for the caller).
    assert.equal(toHttpError(err, 'req-1').status, status);
  }
  const missing = toHttpError(upstreamFailure(registry404, asked), 'req-1');
  assert.deepEqual([missing.status, missing.body.error.code, missing.body.error.upstream], [404, 'E_NOT_FOUND', undefined]);

  // A backend that lost what the service gave it, or refuses the service's key: 502 E_UPSTREAM.
  const backend404 = new PortcullisError('E_NOT_FOUND', 'clair: no index report', { status: 404 });
  const lost = toHttpError(upstreamFailure(backend404, { service: 'clair', subject: 'sha256:aa', notFoundIsCallers: false }), 'req-1');
  assert.deepEqual([lost.status, lost.body.error.code, lost.body.error.upstream], [502, 'E_UPSTREAM', { service: 'clair', status: 404 }]);

  // Other codes keep their own status (a registry that is down is already 502 E_UNREACHABLE).
  const down = toHttpError(upstreamFailure(new PortcullisError('E_UNREACHABLE', 'registry: r:5000 unreachable'), asked), 'req-1');
  assert.deepEqual([down.status, down.body.error.code], [502, 'E_UNREACHABLE']);
  // Anything that is not a typed error (an app database failure) passes unmarked.
  const dbFailure = new Error('SQLITE_BUSY');
  assert.equal(upstreamFailure(dbFailure, asked), dbFailure);
});
