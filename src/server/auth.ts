/**
 * Who may call a route. Every route needs an API bearer token of at least the scope it declares
 * (`config.access`, default `read`), except the ones declared `public` (health probes) and the
 * registry webhook, which takes the registry's notification token instead. The check runs in
 * onRequest, before the body is read, so an unauthenticated client cannot make the service parse
 * anything. Clair v4's notifier webhook (`clair-notifier`) takes the PSK JWT Clair signs it with
 * when `security.clair_v4.psk` is set, else an API token of scope `scan`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PortcullisError } from '../domain/errors.js';
import type { Store } from '../store/open-store.js';
import { CLAIR_NOTIFIER_ISSUER, pskTokenProblem } from '../backends/clair-v4/client.js';
import { withStore } from './errors.js';
import { authenticateToken, scopeAllows, secretsEqual, type TokenInfo, type TokenScope } from '../store/tokens.js';

/** A route's access rule. */
export type RouteAccess = 'public' | 'registry-webhook' | 'clair-notifier' | 'harbor-adapter' | TokenScope;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; absent = `read`. */
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** The API token the request was authenticated with (routes of scope read, scan or admin). */
    apiToken?: TokenInfo;
  }
}

/** The `Authorization: Bearer <token>` credential of a request, or undefined. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m?.[1];
}

/**
 * The API token a Harbor adapter route is called with: Harbor registers a scanner with either
 * `Bearer <token>` or Basic credentials, so a token is taken as the bearer credential or as the
 * Basic password (the username is not checked: Harbor's form asks for one).
 */
export function harborCredential(request: FastifyRequest): string | undefined {
  const bearer = bearerToken(request);
  if (bearer !== undefined) return bearer;
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const m = /^Basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i.exec(header);
  if (m?.[1] === undefined) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 && colon < decoded.length - 1 ? decoded.slice(colon + 1) : undefined;
}

/** Installs the access check. `notificationToken` "" disables the webhook (every call is 401). */
export function installAuth(app: FastifyInstance, options: { store: Store; notificationToken: string; clairPsk?: { key: string; issuer: string } }): void {
  app.decorateRequest('apiToken', undefined);
  app.addHook('onRequest', async (request) => {
    const access: RouteAccess = request.routeOptions.config.access ?? 'read';
    if (access === 'public') return;
    const presented = bearerToken(request);
    if (access === 'registry-webhook') {
      if (options.notificationToken === '') throw new PortcullisError('E_AUTH', 'the registry webhook is disabled until registry.notification_token is set');
      if (presented === undefined) throw new PortcullisError('E_AUTH', 'missing "Authorization: Bearer <registry.notification_token>"');
      if (!secretsEqual(presented, options.notificationToken)) throw new PortcullisError('E_AUTH', 'wrong notification token');
      return;
    }
    if (access === 'harbor-adapter') {
      const credential = harborCredential(request);
      if (credential === undefined) throw new PortcullisError('E_AUTH', 'missing "Authorization: Bearer <token>" or Basic credentials with a token of scope scan as the password');
      const token = await withStore(request, 'checking the token', () => authenticateToken(options.store, credential));
      if (token === undefined) throw new PortcullisError('E_AUTH', 'unknown or revoked token');
      // Harbor's adapter API knows no 403: a token of too small a scope is refused as unauthorized.
      if (!scopeAllows(token.scope, 'scan')) throw new PortcullisError('E_AUTH', `token "${token.name}" has scope ${token.scope}; the Harbor adapter needs scope scan`);
      request.apiToken = token;
      return;
    }
    const psk = options.clairPsk;
    if (access === 'clair-notifier' && psk !== undefined && psk.key !== '') {
      if (presented === undefined) throw new PortcullisError('E_AUTH', 'missing "Authorization: Bearer <JWT>" signed with security.clair_v4.psk (Clair\'s notifier.webhook.signed: true)');
      const issuers = [CLAIR_NOTIFIER_ISSUER, ...(psk.issuer !== '' ? [psk.issuer] : [])];
      const problem = pskTokenProblem(presented, psk, issuers, Math.floor(Date.now() / 1000));
      if (problem !== undefined) throw new PortcullisError('E_AUTH', `Clair PSK token refused: ${problem}`);
      return;
    }
    const needed: TokenScope = access === 'clair-notifier' ? 'scan' : access;
    if (presented === undefined) throw new PortcullisError('E_AUTH', 'missing "Authorization: Bearer <token>" (create one with `portcullis token create`)');
    const token = await withStore(request, 'checking the token', () => authenticateToken(options.store, presented));
    if (token === undefined) throw new PortcullisError('E_AUTH', 'unknown or revoked token');
    if (!scopeAllows(token.scope, needed)) throw new PortcullisError('E_FORBIDDEN', `token "${token.name}" has scope ${token.scope}; this route needs ${needed}`, { needed });
    request.apiToken = token;
  });
}
