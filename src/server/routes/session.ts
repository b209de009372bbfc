/**
 * Sign-in of the web UI: `POST /api/v1/session` (name + password -> session cookie and CSRF
 * token), `GET /api/v1/session` (who is signed in), `DELETE /api/v1/session` (sign out). These
 * routes are `public` for the access check and authenticate by themselves: the sign-in takes a
 * password, the other two the session cookie (src/server/auth.ts).
 *
 * Sign-in CSRF: the body must be JSON (the app parses nothing else), which a cross-site HTML form
 * cannot send and a cross-site script can only send after a CORS preflight this service never
 * grants, so no CSRF token is needed before there is a session.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import * as z from 'zod';
import { PortcullisError } from '../../domain/errors.js';
import type { Store } from '../../store/open-store.js';
import { createSession, deleteExpiredSessions, deleteSession, MAX_PASSWORD_LENGTH, prepareDecoyHash, USER_ROLES, verifyCredentials } from '../../store/users.js';
import { checkCsrf, requestSession, SESSION_COOKIE, sessionCookie, type SessionAuthOptions } from '../auth.js';
import { errorResponseSchema, withStore } from '../errors.js';

/** What the UI gets on sign-in and on `GET /api/v1/session`. */
const sessionAnswer = z.object({ user: z.object({ name: z.string(), role: z.enum(USER_ROLES) }), csrfToken: z.string() }).meta({ id: 'Session' });

/** One message for an unknown name, a wrong password and a disabled user: no user enumeration. */
const SIGN_IN_REFUSED = 'wrong user name or password';

/** Failed sign-ins allowed per client address and user name within the window, before 429. */
export const SIGN_IN_FAILURES_ALLOWED = 10;
export const SIGN_IN_WINDOW_MS = 15 * 60_000;
/** Bounds the throttle's memory when many addresses fail: the oldest entries are dropped first. */
const THROTTLE_MAX_KEYS = 10_000;

/**
 * Failed sign-ins per (client address, user name), in memory. Written by hand because
 * @fastify/rate-limit counts every request of a route, not only failed ones, and keys by request
 * before the body (the user name) is read; a successful sign-in must not use up the allowance.
 */
export class SignInThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly allowed = SIGN_IN_FAILURES_ALLOWED,
    private readonly windowMs = SIGN_IN_WINDOW_MS,
  ) {}

  /** Seconds until `key` may try again, or 0 when it may now. */
  retryAfterSeconds(key: string, now: number): number {
    const recent = this.recent(key, now);
    if (recent.length < this.allowed) return 0;
    const oldest = recent[recent.length - this.allowed] ?? now;
    return Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000));
  }

  fail(key: string, now: number): void {
    const recent = this.recent(key, now);
    recent.push(now);
    this.failures.delete(key);
    this.failures.set(key, recent);
    if (this.failures.size > THROTTLE_MAX_KEYS) {
      const oldestKey = this.failures.keys().next().value;
      if (oldestKey !== undefined) this.failures.delete(oldestKey);
    }
  }

  succeed(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => now - t < this.windowMs);
  }
}

/** Registers the session routes. `secureCookies`: mark the cookie Secure on plain HTTP too (`http.secure_cookies`). */
export function sessionRoutes(app: FastifyInstance, options: { store: Store; auth: SessionAuthOptions; secureCookies: boolean; throttle?: SignInThrottle }): void {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const throttle = options.throttle ?? new SignInThrottle();
  void prepareDecoyHash();
  const cookieOptions = (request: FastifyRequest) => ({ path: '/', httpOnly: true, sameSite: 'strict' as const, secure: options.secureCookies || request.protocol === 'https' });
  const clearCookie = (request: FastifyRequest, reply: FastifyReply): void => void reply.clearCookie(SESSION_COOKIE, cookieOptions(request));

  routes.post(
    '/api/v1/session',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Sign in with a local user (portcullis user add): sets the portcullis_session cookie and returns the CSRF token for state-changing requests',
        tags: ['session'],
        security: [],
        body: z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(MAX_PASSWORD_LENGTH) }),
        response: { 200: sessionAnswer, 400: errorResponseSchema, 401: errorResponseSchema, 429: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const key = `${request.ip}\u0000${username.toLowerCase()}`;
      const now = options.auth.now();
      const wait = throttle.retryAfterSeconds(key, now.getTime());
      if (wait > 0) {
        void reply.header('retry-after', String(wait));
        throw new PortcullisError('E_RATE_LIMITED', `too many failed sign-ins for this user from this address; try again in ${wait} s`, { retryAfter: wait });
      }
      const user = await withStore(request, 'checking the password', () => verifyCredentials(options.store, username, password));
      if (user === undefined) {
        throttle.fail(key, now.getTime());
        throw new PortcullisError('E_AUTH', SIGN_IN_REFUSED);
      }
      throttle.succeed(key);
      // A fresh id on every sign-in (no session fixation); a session the browser still had is ended.
      const previous = sessionCookie(request);
      if (previous !== undefined) await withStore(request, 'ending the previous session', () => deleteSession(options.store, previous));
      const session = await withStore(request, 'starting a session', async () => {
        // Sessions nobody comes back to are deleted here rather than by a timer: sign-ins are rare and cheap to piggyback on.
        await deleteExpiredSessions(options.store, options.auth.limits, now);
        return createSession(options.store, user, now);
      });
      void reply.setCookie(SESSION_COOKIE, session.sessionId, cookieOptions(request));
      request.log.info({ user: user.name }, 'signed in');
      return { user: { name: user.name, role: user.role }, csrfToken: session.csrfToken };
    },
  );

  routes.get(
    '/api/v1/session',
    {
      config: { access: 'public' },
      schema: { summary: 'The signed-in user and the session\'s CSRF token', tags: ['session'], security: [{ sessionCookie: [] }], response: { 200: sessionAnswer, 401: errorResponseSchema } },
    },
    async (request) => {
      const session = await requestSession(request, options.store, options.auth);
      if (session === undefined) throw new PortcullisError('E_AUTH', 'not signed in (POST /api/v1/session)');
      return { user: { name: session.user.name, role: session.user.role }, csrfToken: session.csrfToken };
    },
  );

  routes.delete(
    '/api/v1/session',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Sign out: ends the session server-side and clears the cookie (needs X-CSRF-Token while the session is live)',
        tags: ['session'],
        security: [{ sessionCookie: [] }],
        response: { 204: z.null().describe('signed out'), 403: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const session = await requestSession(request, options.store, options.auth);
      const id = sessionCookie(request);
      if (session !== undefined && id !== undefined) {
        // Without the token any site could sign the user out (a nuisance, and a step of session-swapping attacks).
        checkCsrf(request, session);
        await withStore(request, 'ending the session', () => deleteSession(options.store, id));
      }
      clearCookie(request, reply);
      return reply.status(204).send(null);
    },
  );
}
