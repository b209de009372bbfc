/**
 * Sign-in of the web UI against a real `portcullis serve` process: users made with the real CLI
 * (password piped), the cookie's flags, CSRF on state-changing requests, roles, the failure
 * throttle, sign-out, anonymous reads and the security headers. Session expiry runs on an
 * in-process service whose clock the test moves.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { DEFAULT_SERVICE_CONFIG } from '../../src/config/service-config.js';
import { startService } from '../../src/server/start-service.js';
import { createUser } from '../../src/store/users.js';
import { runCli } from '../support/run-cli.js';
import { startServe, type ServeProcess } from '../support/serve.js';
import { repoRoot } from '../support/shared-data.js';

const ADMIN_PASSWORD = 'portcullis-admin-pw-1';
const VIEWER_PASSWORD = 'portcullis-viewer-pw-2';

interface SignedIn {
  cookie: string;
  csrfToken: string;
  setCookie: string;
}

async function signIn(url: string, username: string, password: string): Promise<SignedIn> {
  const res = await fetch(`${url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  assert.equal(res.status, 200, await res.clone().text());
  const body = (await res.json()) as { csrfToken: string };
  const setCookie = res.headers.get('set-cookie') ?? '';
  const m = /^portcullis_session=([A-Za-z0-9_-]+);/.exec(setCookie);
  assert.ok(m?.[1], setCookie);
  return { cookie: `portcullis_session=${m[1]}`, csrfToken: body.csrfToken, setCookie };
}

function checkSecurityHeaders(res: Response, what: string): void {
  const csp = res.headers.get('content-security-policy') ?? '';
  for (const directive of ["default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"]) assert.ok(csp.includes(directive), `${what}: CSP has ${directive}: ${csp}`);
  assert.ok(!csp.includes('unsafe-inline'), `${what}: no unsafe-inline`);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff', what);
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer', what);
}

describe('sign-in against a real portcullis serve', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let serve: ServeProcess;
  let readToken: string;
  let scanToken: string;
  let cliOutput = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-sign-in-'));
    env = { PORTCULLIS_DATA_DIR: join(dir, 'data'), PORTCULLIS_DB: join(dir, 'vuln.db'), HOME: dir };
    const admin = await runCli(['user', 'add', 'alice', '--admin'], { env, input: `${ADMIN_PASSWORD}\n` });
    assert.equal(admin.code, 0, admin.stderr);
    const viewer = await runCli(['user', 'add', 'victor'], { env, input: VIEWER_PASSWORD });
    assert.equal(viewer.code, 0, viewer.stderr);
    cliOutput = admin.stdout + admin.stderr + viewer.stdout + viewer.stderr;
    readToken = (await runCli(['token', 'create', 'reader', '--scope', 'read'], { env })).stdout.trim();
    scanToken = (await runCli(['token', 'create', 'ci', '--scope', 'scan'], { env })).stdout.trim();
    serve = await startServe([], env);
  });
  after(async () => {
    await serve?.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  test('user add/list/remove/passwd: password from stdin, never printed; short and empty passwords refused with a typed error', async () => {
    assert.match(cliOutput, /created user "alice" \(role admin\)/);
    assert.match(cliOutput, /created user "victor" \(role viewer\)/);
    assert.ok(!cliOutput.includes(ADMIN_PASSWORD) && !cliOutput.includes(VIEWER_PASSWORD), 'no password echoed');
    const list = await runCli(['user', 'list'], { env });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^NAME\s+ROLE\s+CREATED\s+DISABLED\nalice\s+admin\s+\S+\s+no\nvictor\s+viewer\s+\S+\s+no\n$/);
    assert.ok(!/scrypt/.test(list.stdout), 'no hash listed');

    const short = await runCli(['user', 'add', 'shorty'], { env, input: 'tooshort\n' });
    assert.equal(short.code, 2);
    assert.match(short.stderr, /the password is too short: use at least 12 characters \[E_INPUT\]/);
    assert.ok(!short.stderr.includes('tooshort'));
    const empty = await runCli(['user', 'add', 'shorty'], { env, input: '' });
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /the password is empty \[E_INPUT\]/);
    const taken = await runCli(['user', 'add', 'alice'], { env, input: `${ADMIN_PASSWORD}\n` });
    assert.equal(taken.code, 2);
    assert.match(taken.stderr, /a user named "alice" already exists \(see `portcullis user list`\) \[E_INPUT\]/);

    const temp = await runCli(['user', 'add', 'temp'], { env, input: 'first password 123\n' });
    assert.equal(temp.code, 0, temp.stderr);
    const session = await signIn(serve.url, 'temp', 'first password 123');
    const passwd = await runCli(['user', 'passwd', 'temp'], { env, input: 'second password 456\n' });
    assert.equal(passwd.code, 0, passwd.stderr);
    assert.equal((await fetch(`${serve.url}/api/v1/session`, { headers: { cookie: session.cookie } })).status, 401, 'a new password ends the sessions');
    await signIn(serve.url, 'temp', 'second password 456');
    const removed = await runCli(['user', 'remove', 'temp'], { env });
    assert.equal(removed.code, 0, removed.stderr);
    const again = await runCli(['user', 'remove', 'temp'], { env });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /no user named "temp" \(see `portcullis user list`\) \[E_NOT_FOUND\]/);
  });

  test('user add on a terminal: prompts twice on a pseudo-terminal (util-linux script) and echoes nothing typed', { skip: spawnSync('script', ['--version']).status !== 0 && 'util-linux script(1) is not installed' }, async () => {
    const password = 'typed on a tty 42';
    const child = spawn('script', ['-qec', `${process.execPath} --import tsx ${join(repoRoot, 'test', 'support', 'cli.ts')} user add tty-user`, '/dev/null'], { cwd: repoRoot, env: { ...process.env, ...env, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const waitFor = async (pattern: RegExp): Promise<void> => {
      const deadline = Date.now() + 60_000;
      while (!pattern.test(screen)) {
        if (Date.now() > deadline) throw new Error(`no ${String(pattern)} on the terminal: ${screen}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => (screen += d));
    try {
      await waitFor(/Password: /);
      child.stdin.write(`${password}\r`);
      await waitFor(/Repeat password: /);
      child.stdin.write(`${password}\r`);
      await waitFor(/created user "tty-user"/);
      child.stdin.end();
      assert.equal(await exited, 0, screen);
    } finally {
      child.kill('SIGKILL');
    }
    assert.ok(!screen.includes(password), `nothing typed is echoed: ${screen}`);
    const session = await signIn(serve.url, 'tty-user', password);
    assert.ok(session.csrfToken);
    assert.equal((await runCli(['user', 'remove', 'tty-user'], { env })).code, 0);
  });

  test('the OpenAPI document stays valid and documents the session routes and the cookie scheme', async () => {
    const res = await fetch(`${serve.url}/api/openapi.json`, { headers: { authorization: `Bearer ${readToken}` } });
    const raw = (await res.json()) as Record<string, unknown>;
    const result = await new Validator().validate(raw);
    assert.equal(result.valid, true, JSON.stringify(result.errors));
    const doc = raw as { paths: Record<string, Record<string, unknown>>; components: { securitySchemes: Record<string, unknown> } };
    assert.deepEqual(Object.keys(doc.paths['/api/v1/session'] ?? {}).sort(), ['delete', 'get', 'post']);
    assert.deepEqual(doc.components.securitySchemes.sessionCookie, {
      type: 'apiKey',
      in: 'cookie',
      name: 'portcullis_session',
      description: 'A sign-in session (POST /api/v1/session): acts as scope read (viewer) or admin (admin); POST/PUT/PATCH/DELETE also need the X-CSRF-Token header.',
    });
  });

  test('sign in: 200 with the user and a CSRF token; the cookie is HttpOnly, SameSite=Strict, Path=/, not Secure over plain HTTP', async () => {
    const res = await fetch(`${serve.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'alice', password: ADMIN_PASSWORD }) });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { user: unknown; csrfToken: string };
    assert.deepEqual(body.user, { name: 'alice', role: 'admin' });
    assert.match(body.csrfToken, /^[A-Za-z0-9_-]{43}$/);
    const setCookie = res.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /^portcullis_session=[A-Za-z0-9_-]{43}; /);
    const attributes = setCookie.split(';').slice(1).map((a) => a.trim().toLowerCase());
    assert.ok(attributes.includes('httponly'), setCookie);
    assert.ok(attributes.includes('samesite=strict'), setCookie);
    assert.ok(attributes.includes('path=/'), setCookie);
    assert.ok(!attributes.includes('secure'), 'plain HTTP without http.secure_cookies');
    assert.ok(!serve.stderr().includes(ADMIN_PASSWORD), 'the password is never logged');
  });

  test('the cookie reads the API; GET /api/v1/session returns the user and the same CSRF token; no cookie -> 401', async () => {
    const alice = await signIn(serve.url, 'alice', ADMIN_PASSWORD);
    const repos = await fetch(`${serve.url}/api/v1/repositories`, { headers: { cookie: alice.cookie } });
    assert.equal(repos.status, 200);
    assert.deepEqual(await repos.json(), { repositories: [] });
    const current = await fetch(`${serve.url}/api/v1/session`, { headers: { cookie: alice.cookie } });
    assert.equal(current.status, 200);
    assert.deepEqual(await current.json(), { user: { name: 'alice', role: 'admin' }, csrfToken: alice.csrfToken });
    const whoami = await fetch(`${serve.url}/api/v1/tokens/whoami`, { headers: { cookie: alice.cookie } });
    assert.deepEqual(await whoami.json(), { name: 'alice', scope: 'admin' });
    assert.equal((await fetch(`${serve.url}/api/v1/session`)).status, 401);
    assert.equal((await fetch(`${serve.url}/api/v1/repositories`)).status, 401, 'anonymous_read is off by default');
    assert.equal((await fetch(`${serve.url}/api/v1/repositories`, { headers: { cookie: `portcullis_session=${'A'.repeat(43)}` } })).status, 401, 'a made-up session id');
  });

  test('POST /api/v1/scans by cookie: no X-CSRF-Token 403, a wrong one 403, the right one reaches the route; a bearer token needs none', async () => {
    const alice = await signIn(serve.url, 'alice', ADMIN_PASSWORD);
    const post = (headers: Record<string, string>) => fetch(`${serve.url}/api/v1/scans`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ image: 'team/app:1' }) });
    const missing = await post({ cookie: alice.cookie });
    assert.equal(missing.status, 403);
    assert.match(((await missing.json()) as { error: { message: string } }).error.message, /missing x-csrf-token/);
    const wrong = await post({ cookie: alice.cookie, 'x-csrf-token': `${alice.csrfToken.slice(0, -1)}x` });
    assert.equal(wrong.status, 403);
    assert.match(((await wrong.json()) as { error: { message: string } }).error.message, /wrong x-csrf-token/);
    const other = await signIn(serve.url, 'alice', ADMIN_PASSWORD);
    assert.equal((await post({ cookie: alice.cookie, 'x-csrf-token': other.csrfToken })).status, 403, "another session's token does not fit");
    // The route's own answer: this service watches no registry, so it has nothing to scan on demand.
    const right = await post({ cookie: alice.cookie, 'x-csrf-token': alice.csrfToken });
    assert.equal(right.status, 400);
    assert.match(((await right.json()) as { error: { message: string } }).error.message, /watches no registry/);
    const bearer = await post({ authorization: `Bearer ${scanToken}` });
    assert.equal(bearer.status, 400, 'a bearer token reaches the route without a CSRF token');
    assert.equal((await post({ authorization: `Bearer ${readToken}` })).status, 403, 'token scopes still apply');
  });

  test('a viewer reads but cannot use scan or admin routes (403)', async () => {
    const victor = await signIn(serve.url, 'victor', VIEWER_PASSWORD);
    assert.equal((await fetch(`${serve.url}/api/v1/repositories`, { headers: { cookie: victor.cookie } })).status, 200);
    const tokens = await fetch(`${serve.url}/api/v1/tokens`, { headers: { cookie: victor.cookie } });
    assert.equal(tokens.status, 403);
    assert.match(((await tokens.json()) as { error: { message: string } }).error.message, /user "victor" \(role viewer\) may not do this; this route needs admin/);
    const scan = await fetch(`${serve.url}/api/v1/scans`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: victor.cookie, 'x-csrf-token': victor.csrfToken }, body: JSON.stringify({ image: 'team/app:1' }) });
    assert.equal(scan.status, 403);
    const alice = await signIn(serve.url, 'alice', ADMIN_PASSWORD);
    assert.equal((await fetch(`${serve.url}/api/v1/tokens`, { headers: { cookie: alice.cookie } })).status, 200, 'an admin may');
  });

  test('a wrong password and an unknown user get the same 401 body', async () => {
    const attempt = (username: string, password: string) => fetch(`${serve.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    const wrong = await attempt('victor', 'not the right password');
    const unknown = await attempt('mallory', 'not the right password');
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    const wrongBody = await wrong.text();
    assert.equal(wrongBody, await unknown.text());
    assert.equal(wrongBody, JSON.stringify({ error: { code: 'E_AUTH', message: 'wrong user name or password' } }));
    assert.equal(wrong.headers.get('set-cookie'), null);
  });

  test('10 failed sign-ins of one name from one address within 15 min -> 429 with Retry-After, even with the right password; other names are not affected', async () => {
    const attempt = (username: string, password: string) => fetch(`${serve.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    await runCli(['user', 'add', 'target'], { env, input: 'target password 789\n' });
    for (let i = 0; i < 10; i++) assert.equal((await attempt('target', `guess number ${i}`)).status, 401, `failure ${i + 1}`);
    const limited = await attempt('target', 'target password 789');
    assert.equal(limited.status, 429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= 900, String(retryAfter));
    assert.equal(((await limited.json()) as { error: { code: string } }).error.code, 'E_RATE_LIMITED');
    assert.equal((await attempt('victor', VIEWER_PASSWORD)).status, 200, 'another name from the same address');
  });

  test('sign-out: 204, the cookie cleared, and the old cookie is refused afterwards (ended server-side); without the CSRF token it is refused', async () => {
    const victor = await signIn(serve.url, 'victor', VIEWER_PASSWORD);
    const noToken = await fetch(`${serve.url}/api/v1/session`, { method: 'DELETE', headers: { cookie: victor.cookie } });
    assert.equal(noToken.status, 403);
    assert.equal((await fetch(`${serve.url}/api/v1/session`, { headers: { cookie: victor.cookie } })).status, 200, 'still signed in');
    const out = await fetch(`${serve.url}/api/v1/session`, { method: 'DELETE', headers: { cookie: victor.cookie, 'x-csrf-token': victor.csrfToken } });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie') ?? '', /^portcullis_session=; .*Expires=Thu, 01 Jan 1970/);
    assert.equal((await fetch(`${serve.url}/api/v1/session`, { headers: { cookie: victor.cookie } })).status, 401);
    const reads = await fetch(`${serve.url}/api/v1/repositories`, { headers: { cookie: victor.cookie } });
    assert.equal(reads.status, 401);
    assert.match(((await reads.json()) as { error: { message: string } }).error.message, /expired or was signed out/);
  });

  test('security headers (CSP without unsafe-inline, nosniff, no-referrer) on /, API answers, errors and /healthz', async () => {
    checkSecurityHeaders(await fetch(`${serve.url}/`), '/');
    checkSecurityHeaders(await fetch(`${serve.url}/api/v1/repositories`, { headers: { authorization: `Bearer ${readToken}` } }), 'API 200');
    checkSecurityHeaders(await fetch(`${serve.url}/api/v1/repositories`), 'API 401');
    checkSecurityHeaders(await fetch(`${serve.url}/healthz`), '/healthz');
  });
});

describe('auth.anonymous_read on a real portcullis serve', () => {
  let dir: string;
  let serve: ServeProcess;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-anonymous-'));
    serve = await startServe([], { PORTCULLIS_DATA_DIR: join(dir, 'data'), PORTCULLIS_DB: join(dir, 'vuln.db'), HOME: dir, PORTCULLIS_AUTH_ANONYMOUS_READ: 'true' });
  });
  after(async () => {
    await serve?.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  test('read routes answer without credentials; scan and admin routes, /metrics and whoami still need them', async () => {
    const repos = await fetch(`${serve.url}/api/v1/repositories`);
    assert.equal(repos.status, 200);
    assert.deepEqual(await repos.json(), { repositories: [] });
    assert.equal((await fetch(`${serve.url}/api/v1/queue`)).status, 200);
    assert.equal((await fetch(`${serve.url}/api/v1/scans`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image: 'team/app:1' }) })).status, 401);
    assert.equal((await fetch(`${serve.url}/api/v1/tokens`)).status, 401);
    assert.equal((await fetch(`${serve.url}/metrics`)).status, 401, '/metrics stays behind a read token');
    assert.equal((await fetch(`${serve.url}/api/v1/tokens/whoami`)).status, 401, 'anonymous is nobody');
    assert.equal((await fetch(`${serve.url}/api/v1/repositories`, { headers: { authorization: 'Bearer wrong' } })).status, 401, 'a wrong token is still refused');
  });
});

describe('session expiry by the clock (in-process service, real HTTP)', () => {
  test('idle 12 h and absolute 7 d by default; an expired cookie is refused; http.secure_cookies marks the cookie Secure on plain HTTP', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-expiry-'));
    let now = Date.parse('2026-12-01T00:00:00.000Z');
    const config = structuredClone(DEFAULT_SERVICE_CONFIG);
    config.http.secure_cookies = true;
    const service = await startService(config, {
      env: { PORTCULLIS_DATA_DIR: dir, HOME: dir },
      listen: '127.0.0.1:0',
      vulnDbPath: join(dir, 'vuln.db'),
      workers: false,
      logDestination: new Writable({ write: (_c, _e, done) => done() }),
      now: () => new Date(now),
    });
    try {
      await createUser(service.store, 'erin', 'erin password 0123', 'viewer');
      const reads = (who: SignedIn) => fetch(`${service.url}/api/v1/repositories`, { headers: { cookie: who.cookie } }).then((r) => r.status);
      const idle = await signIn(service.url, 'erin', 'erin password 0123');
      assert.ok(idle.setCookie.split(';').some((a) => a.trim() === 'Secure'), idle.setCookie);
      now += 11 * 3_600_000;
      assert.equal(await reads(idle), 200);
      now += 11 * 3_600_000;
      assert.equal(await reads(idle), 200, 'used within 12 h: still live 22 h after sign-in');
      now += 12 * 3_600_000;
      assert.equal(await reads(idle), 401, 'unused for 12 h');

      const absolute = await signIn(service.url, 'erin', 'erin password 0123');
      for (let h = 0; h < 7 * 24 - 10; h += 10) {
        now += 10 * 3_600_000;
        assert.equal(await reads(absolute), 200, `${h + 10} h`);
      }
      now += 10 * 3_600_000;
      assert.equal(await reads(absolute), 401, 'past 7 days, however busy');
      assert.equal((await service.store.db.selectFrom('sessions').select('id_hash').execute()).length, 0, 'expired sessions are deleted');
    } finally {
      await service.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
