import * as z from 'zod';
import { PortcullisError } from '../../domain/errors.js';
import type { RegistryCredentials } from './credentials.js';
import { registryErrorText } from './http-errors.js';

/** One challenge of a WWW-Authenticate header: `Bearer realm="...",service="...",scope="..."`. */
export interface AuthChallenge {
  /** Lower-cased scheme (`basic`, `bearer`). */
  scheme: string;
  /** Lower-cased parameter names to their (unquoted) values. */
  params: Record<string, string>;
}

/**
 * Parses WWW-Authenticate header value(s) (RFC 7235: comma-separated challenges, each a scheme and
 * `name=value` parameters, values as tokens or quoted strings with `\` escapes). Returns [] for an
 * absent or empty header; unparseable tails are ignored rather than failing the request.
 */
export function parseWwwAuthenticate(header: string | string[] | undefined): AuthChallenge[] {
  if (header === undefined) return [];
  if (Array.isArray(header)) return header.flatMap((h) => parseWwwAuthenticate(h));
  const out: AuthChallenge[] = [];
  let i = 0;
  const s = header;
  const skipSpace = (): void => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < s.length && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  let current: AuthChallenge | undefined;
  while (i < s.length) {
    skipSpace();
    if (s[i] === ',') {
      i++;
      continue;
    }
    const token = readToken();
    if (token === '') {
      i++; // an unexpected character: skip it
      continue;
    }
    skipSpace();
    if (s[i] === '=' && current !== undefined) {
      i++;
      skipSpace();
      let value: string;
      if (s[i] === '"') {
        i++;
        value = '';
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i];
          i++;
        }
        i++; // closing quote
      } else {
        value = readToken();
      }
      current.params[token.toLowerCase()] = value;
      continue;
    }
    // A token not followed by `=` starts a new challenge.
    current = { scheme: token.toLowerCase(), params: {} };
    out.push(current);
  }
  return out;
}

/**
 * What the Authenticator needs from the HTTP layer to ask a token server: a GET of `url` with the
 * Authorization header, or, when `form` is given, a POST of that form (OAuth2 refresh-token grant).
 */
export type TokenFetcher = (url: URL, authorization: string | undefined, signal?: AbortSignal, form?: URLSearchParams) => Promise<{ status: number; body: string }>;

const TokenResponseSchema = z.object({
  token: z.string().optional(),
  access_token: z.string().optional(),
  expires_in: z.number().optional().catch(undefined),
});

/** Docker's rule: tokens live at least 60 s even when the server claims less. */
const MIN_TOKEN_LIFETIME_S = 60;
/** Tokens are refreshed this long before they expire, so a request never carries a stale one. */
const EXPIRY_MARGIN_MS = 5_000;

type Scheme = { kind: 'basic' } | { kind: 'bearer'; realm: string; service?: string };

/** The OAuth2 client id sent with refresh-token grants (Docker sends its own name likewise). */
const OAUTH_CLIENT_ID = 'portcullis';

/**
 * Registry authentication: anonymous, Basic, or Bearer tokens from the challenge's realm (asked with
 * the Basic credentials when there are any, or, for an identity token, with an OAuth2
 * refresh-token grant as Docker does), cached per realm, service and scope until expiry.
 */
export class Authenticator {
  private scheme: Scheme | undefined;
  private readonly tokens = new Map<string, { value: string; expiresAt: number }>();

  constructor(
    private readonly host: string,
    private readonly credentials: RegistryCredentials | undefined,
    private readonly fetchToken: TokenFetcher,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether any credentials are configured (for error messages). */
  get hasCredentials(): boolean {
    return this.credentials !== undefined;
  }

  /** Remembers the scheme a registry announced (Bearer preferred over Basic). Ignores unknown schemes. */
  learn(challenges: AuthChallenge[]): void {
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params['realm']);
    if (bearer) {
      const realm = bearer.params['realm']!;
      const service = bearer.params['service'];
      this.scheme = service !== undefined ? { kind: 'bearer', realm, service } : { kind: 'bearer', realm };
      return;
    }
    if (challenges.some((c) => c.scheme === 'basic')) this.scheme = { kind: 'basic' };
  }

  /**
   * The Authorization header to send for a request needing `scope` (e.g. `repository:ns/repo:pull`),
   * or undefined for anonymous access (no challenge seen yet, or Basic without credentials).
   */
  async authorization(scope: string | undefined, signal?: AbortSignal): Promise<string | undefined> {
    if (this.credentials?.registryToken !== undefined) return `Bearer ${this.credentials.registryToken}`;
    const scheme = this.scheme;
    if (!scheme) return undefined;
    if (scheme.kind === 'basic') return this.basicHeader();
    const token = await this.token(scheme, scope, false, signal);
    return `Bearer ${token}`;
  }

  /**
   * After a 401: learns the new challenge and returns the header to retry with, or undefined when a
   * retry cannot help (Basic challenge without credentials, or the same Basic header already sent).
   * Bearer challenges always fetch a fresh token for the challenge's own scope.
   */
  async respondTo(challenges: AuthChallenge[], scope: string | undefined, sent: string | undefined, signal?: AbortSignal): Promise<string | undefined> {
    this.learn(challenges);
    // A token issued elsewhere cannot be renewed here: sent once, a refusal is final.
    if (this.credentials?.registryToken !== undefined) {
      const header = `Bearer ${this.credentials.registryToken}`;
      return header !== sent ? header : undefined;
    }
    const scheme = this.scheme;
    if (!scheme) return undefined;
    if (scheme.kind === 'basic') {
      const header = this.basicHeader();
      return header !== undefined && header !== sent ? header : undefined;
    }
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const challengeScope = bearer?.params['scope'] ?? scope;
    const token = await this.token(scheme, challengeScope, true, signal);
    if (scope !== undefined && challengeScope !== scope) this.tokens.set(this.key(scheme, scope), this.tokens.get(this.key(scheme, challengeScope))!);
    const header = `Bearer ${token}`;
    return header !== sent ? header : undefined;
  }

  private basicHeader(): string | undefined {
    // An identity token is only good at a token server; Docker sends no Basic header for it either.
    if (!this.credentials || this.credentials.identityToken !== undefined || this.credentials.registryToken !== undefined) return undefined;
    return `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}`;
  }

  private key(scheme: { realm: string; service?: string }, scope: string | undefined): string {
    return `${scheme.realm}\n${scheme.service ?? ''}\n${scope ?? ''}`;
  }

  private async token(scheme: { realm: string; service?: string }, scope: string | undefined, fresh: boolean, signal?: AbortSignal): Promise<string> {
    const key = this.key(scheme, scope);
    const cached = this.tokens.get(key);
    if (!fresh && cached && cached.expiresAt - EXPIRY_MARGIN_MS > this.now()) return cached.value;
    let url: URL;
    try {
      url = new URL(scheme.realm);
    } catch {
      throw new PortcullisError('E_REGISTRY', `registry: ${this.host} announced an invalid token realm ${JSON.stringify(scheme.realm)}`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new PortcullisError('E_REGISTRY', `registry: ${this.host} announced a token realm that is not http(s): ${scheme.realm}`);
    }
    if (scheme.service !== undefined) url.searchParams.set('service', scheme.service);
    // Several scopes may be requested at once; Distribution joins them with spaces in challenges.
    const scopes = scope ? scope.split(' ').filter((x) => x !== '') : [];
    const identityToken = this.credentials?.identityToken;
    let res: { status: number; body: string };
    if (identityToken !== undefined) {
      // Docker's OAuth2 flow: realm and service as challenged, scopes space-joined in one field.
      url.searchParams.delete('service');
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: identityToken, client_id: OAUTH_CLIENT_ID });
      if (scheme.service !== undefined) form.set('service', scheme.service);
      if (scopes.length > 0) form.set('scope', scopes.join(' '));
      res = await this.fetchToken(url, undefined, signal, form);
    } else {
      for (const s of scopes) url.searchParams.append('scope', s);
      res = await this.fetchToken(url, this.basicHeader(), signal);
    }
    // OAuth2 token endpoints answer a bad grant with 400 (RFC 6749 5.2), not 401.
    if (res.status === 401 || res.status === 403 || (identityToken !== undefined && res.status === 400)) {
      const detail = registryErrorText(res.body) || oauthErrorText(res.body);
      throw new PortcullisError(
        'E_AUTH',
        this.credentials
          ? `registry: token server ${url.origin} rejected the ${identityToken !== undefined ? 'identity token' : 'credentials'} for ${this.host}${detail ? `: ${detail}` : ''}`
          : `registry: ${this.host} requires authentication and no credentials were found (use --username/--password, PORTCULLIS_REGISTRY_USERNAME/PORTCULLIS_REGISTRY_PASSWORD, or docker login)`,
        { host: this.host, status: res.status },
      );
    }
    if (res.status < 200 || res.status >= 300) {
      throw new PortcullisError('E_REGISTRY', `registry: token server ${url.origin} answered ${res.status}`, { host: this.host, status: res.status });
    }
    let body: unknown;
    try {
      body = JSON.parse(res.body);
    } catch {
      throw new PortcullisError('E_REGISTRY', `registry: token server ${url.origin} sent a response that is not JSON`, { host: this.host });
    }
    const parsed = TokenResponseSchema.safeParse(body);
    const value = parsed.success ? (parsed.data.token ?? parsed.data.access_token) : undefined;
    if (!parsed.success || !value) {
      throw new PortcullisError('E_REGISTRY', `registry: token server ${url.origin} sent no token`, { host: this.host });
    }
    const lifetimeS = Math.max(parsed.data.expires_in ?? MIN_TOKEN_LIFETIME_S, MIN_TOKEN_LIFETIME_S);
    // Lifetime is counted from receipt on our clock: issued_at comes from a clock that may be skewed.
    this.tokens.set(key, { value, expiresAt: this.now() + lifetimeS * 1000 });
    return value;
  }
}

/** `error: error_description` of an OAuth2 error response (RFC 6749 5.2), or ''. */
function oauthErrorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; error_description?: unknown };
    return [parsed.error, parsed.error_description].filter((x) => typeof x === 'string' && x !== '').join(': ');
  } catch {
    return '';
  }
}
