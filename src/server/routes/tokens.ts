/**
 * Token routes: who the caller is (any scope) and, for admins, the list of tokens (never a token
 * or its hash).
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import * as z from 'zod';
import { PortcullisError } from '../../domain/errors.js';
import type { Store } from '../../store/open-store.js';
import { listTokens, TOKEN_SCOPES } from '../../store/tokens.js';
import { sessionScope } from '../auth.js';
import { errorResponseSchema, withStore } from '../errors.js';

const tokenInfoSchema = z.object({
  name: z.string(),
  scope: z.enum(TOKEN_SCOPES),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

/** The error answers of every token-protected route, for the OpenAPI document. */
export const AUTH_ERRORS = { 401: errorResponseSchema, 403: errorResponseSchema } as const;

/** Registers `GET /api/v1/tokens/whoami` (scope read) and `GET /api/v1/tokens` (scope admin). */
export function tokenRoutes(app: FastifyInstance, options: { store: Store }): void {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  routes.get(
    '/api/v1/tokens/whoami',
    { config: { access: 'read' }, schema: { summary: 'The token this request is authenticated with', tags: ['tokens'], response: { 200: z.object({ name: z.string(), scope: z.enum(TOKEN_SCOPES) }).meta({ id: 'WhoAmI' }), ...AUTH_ERRORS } } },
    (request) => {
      const token = request.apiToken;
      if (token !== undefined) return { name: token.name, scope: token.scope };
      // Signed in by cookie: the user and the scope the session acts with.
      const session = request.userSession;
      if (session !== undefined) return { name: session.user.name, scope: sessionScope(session) };
      throw new PortcullisError('E_AUTH', 'not authenticated');
    },
  );
  routes.get(
    '/api/v1/tokens',
    { config: { access: 'admin' }, schema: { summary: 'Every API token (name, scope, dates; never the token)', tags: ['tokens'], response: { 200: z.object({ tokens: z.array(tokenInfoSchema) }), ...AUTH_ERRORS } } },
    async (request) => ({ tokens: await withStore(request, 'listing tokens', () => listTokens(options.store)) }),
  );
}
