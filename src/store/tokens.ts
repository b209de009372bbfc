/**
 * API bearer tokens. A token is shown once, when created; the store keeps only its SHA-256, so a
 * copy of the database gives no usable token. Tokens are 256 random bits, so a fast hash is enough
 * (no password-style stretching).
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { PortcullisError } from '../domain/errors.js';
import type { Store } from './open-store.js';
import type { Token } from './schema.js';

/** What a token may do; each scope includes the ones before it. */
export const TOKEN_SCOPES = ['read', 'scan', 'admin'] as const;
/** `read` (results), `scan` (also ask for scans), `admin` (also manage tokens). */
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** Token names: what `token list` shows and `token revoke` takes. */
const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Recognisable prefix, so a leaked token can be found by secret scanners. */
const TOKEN_PREFIX = 'pcl_';

/** A stored token as listed (never the token itself, nor its hash). */
export interface TokenInfo {
  name: string;
  scope: TokenScope;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** True when `granted` allows what `needed` asks (read < scan < admin). */
export function scopeAllows(granted: TokenScope, needed: TokenScope): boolean {
  return TOKEN_SCOPES.indexOf(granted) >= TOKEN_SCOPES.indexOf(needed);
}

/** SHA-256 of a token, hex: what the tokens table stores. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Equality of two secrets in time independent of where they differ (hashing first evens out the lengths). */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a, 'utf8').digest(), createHash('sha256').update(b, 'utf8').digest());
}

/**
 * Creates a token and returns it: the only time it exists outside the caller. E_INPUT for a bad
 * name or scope, or a name already taken (revoked tokens keep their names, so the log stays readable).
 */
export async function createToken(store: Store, name: string, scope: string, now: Date = new Date()): Promise<string> {
  if (!TOKEN_NAME.test(name)) throw new PortcullisError('E_INPUT', `token name "${name}": use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`, { name });
  if (!isScope(scope)) throw new PortcullisError('E_INPUT', `token scope "${scope}": expected one of ${TOKEN_SCOPES.join(', ')}`, { scope });
  const existing = await store.db.selectFrom('tokens').select('name').where('name', '=', name).executeTakeFirst();
  if (existing !== undefined) throw new PortcullisError('E_INPUT', `a token named "${name}" already exists (see \`portcullis token list\`)`, { name });
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  await store.db
    .insertInto('tokens')
    .values({ id: randomUUID(), name, scope, hash: hashToken(token), created_at: now.toISOString(), last_used_at: null, revoked_at: null })
    .execute();
  return token;
}

/** Every token, oldest first. */
export async function listTokens(store: Store): Promise<TokenInfo[]> {
  const rows = await store.db.selectFrom('tokens').selectAll().orderBy('created_at').orderBy('name').execute();
  return rows.map(toInfo);
}

/**
 * Revokes a token by name; its requests are refused from then on. E_NOT_FOUND for an unknown name.
 * Returns false when it was already revoked (nothing changes).
 */
export async function revokeToken(store: Store, name: string, now: Date = new Date()): Promise<boolean> {
  const row = await store.db.selectFrom('tokens').select(['name', 'revoked_at']).where('name', '=', name).executeTakeFirst();
  if (row === undefined) throw new PortcullisError('E_NOT_FOUND', `no token named "${name}" (see \`portcullis token list\`)`, { name });
  if (row.revoked_at !== null) return false;
  await store.db.updateTable('tokens').set({ revoked_at: now.toISOString() }).where('name', '=', name).execute();
  return true;
}

/** How often a token's last use is written: a busy client must not turn every read into a write. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * The live (not revoked) token `presented` is, or undefined. The lookup is by hash, so the token
 * itself never reaches the database; the stored hash is then compared in constant time.
 */
export async function authenticateToken(store: Store, presented: string, now: Date = new Date()): Promise<TokenInfo | undefined> {
  const hash = hashToken(presented);
  const row = await store.db.selectFrom('tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
  if (row === undefined || row.revoked_at !== null) return undefined;
  if (!timingSafeEqual(Buffer.from(row.hash, 'hex'), Buffer.from(hash, 'hex'))) return undefined;
  if (row.last_used_at === null || now.getTime() - Date.parse(row.last_used_at) >= LAST_USED_RESOLUTION_MS) {
    await store.db.updateTable('tokens').set({ last_used_at: now.toISOString() }).where('id', '=', row.id).execute();
    row.last_used_at = now.toISOString();
  }
  return toInfo(row);
}

function isScope(text: string): text is TokenScope {
  return (TOKEN_SCOPES as readonly string[]).includes(text);
}

function toInfo(row: Token): TokenInfo {
  return { name: row.name, scope: row.scope, createdAt: row.created_at, lastUsedAt: row.last_used_at, revokedAt: row.revoked_at };
}
