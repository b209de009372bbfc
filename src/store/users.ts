/**
 * Local users of the web UI and their sign-in sessions.
 *
 * Passwords are hashed with scrypt (node:crypto, memory-hard) with a per-user random salt; the
 * parameters are stored with the hash (`scrypt$N$r$p$salt$hash`) so they can be raised later
 * without invalidating existing passwords. Sessions are 256 random bits handed to the browser in a
 * cookie; the store keeps only their SHA-256, so a copy of the database signs nobody in.
 */
import { createHash, randomBytes, randomUUID, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { PortcullisError } from '../domain/errors.js';
import type { Store } from './open-store.js';

/** What a user may do: `viewer` reads (like a token of scope read), `admin` does everything. */
export const USER_ROLES = ['admin', 'viewer'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** Shorter passwords are refused: 12 characters is the floor current guidance (OWASP ASVS 2.1.1) sets. */
export const MIN_PASSWORD_LENGTH = 12;
/** Longer input is refused rather than hashed: a sign-in must not accept megabytes of "password". */
export const MAX_PASSWORD_LENGTH = 1024;

/** User names: what `user list` shows and the sign-in form takes. */
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/**
 * scrypt cost: N = 2^15, r = 8, p = 1 (RFC 7914's interactive-login figures, and OWASP's password
 * storage minimum for scrypt). Memory is 128 * N * r = 32 MiB per hash, which makes GPU/ASIC
 * guessing expensive, and one hash takes tens of milliseconds: fine for a sign-in, costly for a
 * brute force. Stored with each hash, so raising them later only affects new passwords.
 */
const SCRYPT_PARAMS = { N: 2 ** 15, r: 8, p: 1 } as const;
const SCRYPT_KEY_BYTES = 32;
const SALT_BYTES = 16;

/** A user as listed (never the password hash). */
export interface UserInfo {
  id: string;
  name: string;
  role: UserRole;
  disabled: boolean;
  createdAt: string;
}

/** A live session: whom it signs in and the CSRF token its state-changing requests must carry. */
export interface SessionInfo {
  user: UserInfo;
  csrfToken: string;
  createdAt: string;
  lastSeenAt: string;
}

/** How long a session lives: `idleMs` after its last use, and never more than `absoluteMs` after sign-in. */
export interface SessionLimits {
  idleMs: number;
  absoluteMs: number;
}

function scryptAsync(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  // Node's default maxmem (32 MiB) is exactly 128*N*r for N=2^15, r=8 and scrypt needs a little more.
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => scrypt(password, salt, SCRYPT_KEY_BYTES, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** The stored form of `password`: `scrypt$N$r$p$<salt>$<hash>` (base64). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scryptAsync(password, salt, SCRYPT_PARAMS);
  return ['scrypt', SCRYPT_PARAMS.N, SCRYPT_PARAMS.r, SCRYPT_PARAMS.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** True when `password` matches `stored` (compared in constant time); false for a malformed record. */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
  if (m === null) return false;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const expected = Buffer.from(m[5] ?? '', 'base64');
  if (expected.length === 0) return false;
  const key = await scryptAsync(password, Buffer.from(m[4] ?? '', 'base64'), { N, r, p });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** E_INPUT unless the password is acceptable (length only: composition rules do not help, NIST SP 800-63B). */
export function checkPasswordPolicy(password: string): void {
  if (password.length === 0) throw new PortcullisError('E_INPUT', 'the password is empty');
  if ([...password].length < MIN_PASSWORD_LENGTH) throw new PortcullisError('E_INPUT', `the password is too short: use at least ${MIN_PASSWORD_LENGTH} characters`);
  if (password.length > MAX_PASSWORD_LENGTH) throw new PortcullisError('E_INPUT', `the password is too long: use at most ${MAX_PASSWORD_LENGTH} characters`);
}

/** Creates a user. E_INPUT for a bad name, role or password, or a name already taken. */
export async function createUser(store: Store, name: string, password: string, role: string, now: Date = new Date()): Promise<UserInfo> {
  if (!USER_NAME.test(name)) throw new PortcullisError('E_INPUT', `user name "${name}": use 1-64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit`, { name });
  if (!isRole(role)) throw new PortcullisError('E_INPUT', `user role "${role}": expected one of ${USER_ROLES.join(', ')}`, { role });
  checkPasswordPolicy(password);
  const existing = await store.db.selectFrom('users').select('name').where('name', '=', name).executeTakeFirst();
  if (existing !== undefined) throw new PortcullisError('E_INPUT', `a user named "${name}" already exists (see \`portcullis user list\`)`, { name });
  const user = { id: randomUUID(), name, role, disabled: 0, created_at: now.toISOString() };
  await store.db.insertInto('users').values({ ...user, password_hash: await hashPassword(password) }).execute();
  return toUserInfo(user);
}

/** Every user, oldest first. */
export async function listUsers(store: Store): Promise<UserInfo[]> {
  const rows = await store.db.selectFrom('users').select(['id', 'name', 'role', 'disabled', 'created_at']).orderBy('created_at').orderBy('name').execute();
  return rows.map(toUserInfo);
}

/** Removes a user and signs out every session of theirs. E_NOT_FOUND for an unknown name. */
export async function removeUser(store: Store, name: string): Promise<void> {
  const user = await userByName(store, name);
  await store.db.transaction().execute(async (tx) => {
    await tx.deleteFrom('sessions').where('user_id', '=', user.id).execute();
    await tx.deleteFrom('users').where('id', '=', user.id).execute();
  });
}

/** Sets a new password and ends every session of the user (a changed password signs out everywhere). */
export async function setPassword(store: Store, name: string, password: string): Promise<void> {
  checkPasswordPolicy(password);
  const user = await userByName(store, name);
  const hash = await hashPassword(password);
  await store.db.transaction().execute(async (tx) => {
    await tx.updateTable('users').set({ password_hash: hash }).where('id', '=', user.id).execute();
    await tx.deleteFrom('sessions').where('user_id', '=', user.id).execute();
  });
}

/** Disables or enables a user; disabling ends their sessions. */
export async function setUserDisabled(store: Store, name: string, disabled: boolean): Promise<void> {
  const user = await userByName(store, name);
  await store.db.transaction().execute(async (tx) => {
    await tx.updateTable('users').set({ disabled: disabled ? 1 : 0 }).where('id', '=', user.id).execute();
    if (disabled) await tx.deleteFrom('sessions').where('user_id', '=', user.id).execute();
  });
}

/** A hash of a random password, verified against for unknown names so they cost as long as known ones. */
let decoyHash: Promise<string> | undefined;

/** Computes the decoy hash ahead (at start), so even the first unknown name costs one scrypt, not two. */
export function prepareDecoyHash(): Promise<string> {
  decoyHash ??= hashPassword(randomBytes(32).toString('base64'));
  return decoyHash;
}

/**
 * The active user `name`/`password` identify, or undefined: an unknown name, a wrong password and a
 * disabled user look the same to the caller, and each runs one scrypt (no user enumeration by time).
 */
export async function verifyCredentials(store: Store, name: string, password: string): Promise<UserInfo | undefined> {
  if (password.length > MAX_PASSWORD_LENGTH) return undefined;
  const row = USER_NAME.test(name) ? await store.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst() : undefined;
  const matches = await verifyPassword(row?.password_hash ?? (await prepareDecoyHash()), password);
  if (row === undefined || !matches || row.disabled !== 0) return undefined;
  return toUserInfo(row);
}

/** SHA-256 of a session id, hex: what the sessions table stores. */
export function hashSessionId(sessionId: string): string {
  return createHash('sha256').update(sessionId, 'utf8').digest('hex');
}

/** Starts a session for `user`; returns the session id (for the cookie, never stored) and its CSRF token. */
export async function createSession(store: Store, user: UserInfo, now: Date = new Date()): Promise<{ sessionId: string; csrfToken: string }> {
  const sessionId = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  const at = now.toISOString();
  await store.db.insertInto('sessions').values({ id_hash: hashSessionId(sessionId), user_id: user.id, csrf_token: csrfToken, created_at: at, last_seen_at: at }).execute();
  return { sessionId, csrfToken };
}

/** How often a session's last use is written: a busy page must not turn every read into a write. */
const LAST_SEEN_RESOLUTION_MS = 60_000;

/**
 * The live session `sessionId` names, or undefined (unknown, expired, or its user disabled or
 * gone). An expired session is deleted when met; a live one has its last use moved to `now`.
 */
export async function findSession(store: Store, sessionId: string, limits: SessionLimits, now: Date = new Date()): Promise<SessionInfo | undefined> {
  const idHash = hashSessionId(sessionId);
  const row = await store.db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select(['sessions.id_hash', 'sessions.csrf_token', 'sessions.created_at as session_created_at', 'sessions.last_seen_at', 'users.id', 'users.name', 'users.role', 'users.disabled', 'users.created_at'])
    .where('sessions.id_hash', '=', idHash)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  const t = now.getTime();
  const expired = t - Date.parse(row.last_seen_at) >= limits.idleMs || t - Date.parse(row.session_created_at) >= limits.absoluteMs;
  if (expired || row.disabled !== 0) {
    await store.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
    return undefined;
  }
  let lastSeenAt = row.last_seen_at;
  if (t - Date.parse(row.last_seen_at) >= LAST_SEEN_RESOLUTION_MS) {
    lastSeenAt = now.toISOString();
    await store.db.updateTable('sessions').set({ last_seen_at: lastSeenAt }).where('id_hash', '=', idHash).execute();
  }
  return { user: toUserInfo(row), csrfToken: row.csrf_token, createdAt: row.session_created_at, lastSeenAt };
}

/** Ends a session (sign-out); unknown ids are ignored. */
export async function deleteSession(store: Store, sessionId: string): Promise<void> {
  await store.db.deleteFrom('sessions').where('id_hash', '=', hashSessionId(sessionId)).execute();
}

/** Deletes sessions past either limit; returns how many. */
export async function deleteExpiredSessions(store: Store, limits: SessionLimits, now: Date = new Date()): Promise<number> {
  const result = await store.db
    .deleteFrom('sessions')
    .where((eb) => eb.or([eb('last_seen_at', '<=', new Date(now.getTime() - limits.idleMs).toISOString()), eb('created_at', '<=', new Date(now.getTime() - limits.absoluteMs).toISOString())]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

async function userByName(store: Store, name: string): Promise<{ id: string }> {
  const row = await store.db.selectFrom('users').select('id').where('name', '=', name).executeTakeFirst();
  if (row === undefined) throw new PortcullisError('E_NOT_FOUND', `no user named "${name}" (see \`portcullis user list\`)`, { name });
  return row;
}

function isRole(text: string): text is UserRole {
  return (USER_ROLES as readonly string[]).includes(text);
}

function toUserInfo(row: { id: string; name: string; role: UserRole; disabled: number; created_at: string }): UserInfo {
  return { id: row.id, name: row.name, role: row.role, disabled: row.disabled !== 0, createdAt: row.created_at };
}
