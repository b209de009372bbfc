/**
 * Who may call a route. Every route needs an API bearer token of at least the scope it declares
 * (`config.access`, default `read`), except the ones declared `public` (health probes) and the
 * registry webhook, which takes the registry's notification token instead. The check runs in
 * onRequest, before the body is read, so an unauthenticated client cannot make the service parse
 * anything. Clair v4's notifier webhook (`clair-notifier`) takes the PSK JWT Clair signs it with
 * when `security.clair_v4.psk` is set, else an API token of scope `scan`.
 *
 * The web UI signs in instead (routes/session.ts): a valid `portcullis_session` cookie counts as a
 * token of scope `read` (role viewer) or `admin` (role admin). A bearer token, when sent, wins over
 * the cookie. A state-changing request (POST/PUT/PATCH/DELETE) authenticated by the cookie must
 * also carry `X-CSRF-Token` equal to its session's token: the browser attaches the cookie to any
 * request, a token from the session's answer only the UI's own script can send (synchronizer token
 * pattern; bearer requests need none: no browser adds a bearer header by itself). With
 * `auth.anonymous_read`, routes of scope read answer a request with no credentials at all.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PortcullisError } from '../domain/errors.js';
import type { Store } from '../store/open-store.js';
import { CLAIR_NOTIFIER_ISSUER, pskTokenProblem } from '../backends/clair-v4/client.js';
import { withStore } from './errors.js';
import { authenticateToken, scopeAllows, secretsEqual, type TokenInfo, type TokenScope } from '../store/tokens.js';
import { findSession, type SessionInfo, type SessionLimits } from '../store/users.js';

/** The cookie that carries the session id (256 random bits, base64url). */
export const SESSION_COOKIE = 'portcullis_session';
/** The header a cookie-authenticated state-changing request carries its session's CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';
/** Methods that do not change state (RFC 9110 safe methods): no CSRF token needed. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Sign-in settings of the access check. */
export interface SessionAuthOptions {
  /** `auth.anonymous_read`: read-scope routes answer without credentials. */
  anonymousRead: boolean;
  limits: SessionLimits;
  /** The clock sessions expire by (tests move it). */
  now: () => Date;
}

/** Default session settings: the configuration's defaults (12 h idle, 7 d absolute), no anonymous reads. */
export const DEFAULT_SESSION_AUTH: SessionAuthOptions = { anonymousRead: false, limits: { idleMs: 12 * 3_600_000, absoluteMs: 7 * 86_400_000 }, now: () => new Date() };

/** The scope a signed-in user's session acts with. */
export function sessionScope(session: SessionInfo): TokenScope {
  return session.user.role === 'admin' ? 'admin' : 'read';
}

/** The session id the request's cookie carries, or undefined. */
export function sessionCookie(request: FastifyRequest): string | undefined {
  const value = request.cookies[SESSION_COOKIE];
  return typeof value === 'string' && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
}

/** The live session of the request's cookie, or undefined. */
export async function requestSession(request: FastifyRequest, store: Store, auth: SessionAuthOptions): Promise<SessionInfo | undefined> {
  const id = sessionCookie(request);
  if (id === undefined) return undefined;
  return withStore(request, 'checking the session', () => findSession(store, id, auth.limits, auth.now()));
}

/** E_FORBIDDEN unless a state-changing request carries its session's CSRF token. */
export function checkCsrf(request: FastifyRequest, session: SessionInfo): void {
  if (SAFE_METHODS.has(request.method)) return;
  const sent = request.headers[CSRF_HEADER];
  if (typeof sent !== 'string' || sent === '') throw new PortcullisError('E_FORBIDDEN', `missing ${CSRF_HEADER} header: a request signed in by cookie that changes state must send the session's csrfToken (GET /api/v1/session)`);
  if (!secretsEqual(sent, session.csrfToken)) throw new PortcullisError('E_FORBIDDEN', `wrong ${CSRF_HEADER}: send the csrfToken of this session (GET /api/v1/session)`);
}

/** A route's access rule. */
export type RouteAccess = 'public' | 'registry-webhook' | 'clair-notifier' | 'harbor-adapter' | TokenScope;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; absent = `read`. */
    access?: RouteAccess;
    /** false: `auth.anonymous_read` does not open this read route (e.g. /metrics); absent = true. */
    anonymousRead?: boolean;
  }
  interface FastifyRequest {
    /** The API token the request was authenticated with (routes of scope read, scan or admin). */
    apiToken?: TokenInfo;
    /** The sign-in session the request was authenticated with (cookie), when no token was sent. */
    userSession?: SessionInfo;
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
export function installAuth(app: FastifyInstance, options: { store: Store; notificationToken: string; clairPsk?: { key: string; issuer: string }; session?: SessionAuthOptions }): void {
  const auth = options.session ?? DEFAULT_SESSION_AUTH;
  app.decorateRequest('apiToken', undefined);
  app.decorateRequest('userSession', undefined);
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
    if (presented === undefined && access !== 'clair-notifier') {
      const session = await requestSession(request, options.store, auth);
      if (session !== undefined) {
        const scope = sessionScope(session);
        if (!scopeAllows(scope, needed)) throw new PortcullisError('E_FORBIDDEN', `user "${session.user.name}" (role ${session.user.role}) may not do this; this route needs ${needed}`, { needed });
        checkCsrf(request, session);
        request.userSession = session;
        return;
      }
      if (auth.anonymousRead && needed === 'read' && request.routeOptions.config.anonymousRead !== false) return;
      if (sessionCookie(request) !== undefined) throw new PortcullisError('E_AUTH', 'the session has expired or was signed out: sign in again (POST /api/v1/session)');
    }
    if (presented === undefined) throw new PortcullisError('E_AUTH', 'missing "Authorization: Bearer <token>" (create one with `portcullis token create`) or a sign-in session');
    const token = await withStore(request, 'checking the token', () => authenticateToken(options.store, presented));
    if (token === undefined) throw new PortcullisError('E_AUTH', 'unknown or revoked token');
    if (!scopeAllows(token.scope, needed)) throw new PortcullisError('E_FORBIDDEN', `token "${token.name}" has scope ${token.scope}; this route needs ${needed}`, { needed });
    request.apiToken = token;
  });
}
