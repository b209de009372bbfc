// Test harness: a REAL Docker Distribution registry (Debian package docker-registry) on a free
// 127.0.0.1 port with filesystem storage in a temporary directory, optionally behind Basic
// (htpasswd, bcrypt) or token authentication. For token auth a small token server runs here: it
// checks Basic credentials and issues ES256 JWTs with the `access` claim, signed by a key whose
// self-signed certificate (made by `openssl req -x509`) is the registry's rootcertbundle; the
// certificate travels in the JWT's x5c header, which Distribution verifies against that bundle.
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How the registry authenticates clients. */
export type RegistryAuth = 'none' | 'basic' | 'token';

/** Options of {@link startRegistry}. */
export interface StartRegistryOptions {
  auth?: RegistryAuth;
  /** Credentials accepted for basic/token auth (default harness / harness-pass). */
  username?: string;
  password?: string;
  /** When set, the registry POSTs its notification events here. */
  notificationsUrl?: string;
  /** Headers the registry sends with each notification (e.g. `Authorization: Bearer <token>`). */
  notificationHeaders?: Record<string, string>;
  /** Token auth only: the OAuth2 refresh token (Docker's identity token) the token server accepts (default harness-identity-token). */
  identityToken?: string;
}

/** One line of the registry's access log. */
export interface AccessLogEntry {
  method: string;
  /** Request URI (path and query). */
  uri: string;
  status: number;
}

/** A running registry. */
export interface RunningRegistry {
  /** `127.0.0.1:PORT`, as image references name it. */
  host: string;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  auth: RegistryAuth;
  username?: string;
  password?: string;
  /** Token auth only: the identity token accepted by the token server's OAuth2 refresh-token grant. */
  identityToken?: string;
  /** Root of the registry's filesystem storage. */
  storageDir: string;
  /** Path of a blob's data file in the storage (for corrupting it on purpose). */
  blobDataPath(digest: string): string;
  /** The access log so far (all requests that have completed). */
  accessLog(): Promise<AccessLogEntry[]>;
  /** URIs of successful (200/206/307) `GET /v2/<name>/blobs/<digest>` requests so far, oldest first. */
  blobGets(): Promise<string[]>;
  /** How many tokens the token server issued (token auth only; 0 otherwise). */
  tokensIssued(): number;
  /** Stops the registry (and token server) and removes the storage directory. Safe to call twice. */
  stop(): Promise<void>;
}

const DEFAULT_USER = 'harness';
const DEFAULT_PASSWORD = 'harness-pass';
const DEFAULT_IDENTITY_TOKEN = 'harness-identity-token';
const SERVICE = 'harness-registry';
const ISSUER = 'harness-issuer';
const REGISTRY_BINARY = '/usr/bin/docker-registry';
const READY_TIMEOUT_MS = 20_000;

// The registry runs under a small shell that stops it when asked (SIGTERM) and also when this test
// process disappears without cleaning up (killed by a timeout, crashed): it polls our pid once a
// second, then stops the registry and removes its directory. Without it, a killed test run would
// leave registries listening for ever.
const WATCHDOG = [
  '"$2" serve "$3" </dev/null & reg=$!',
  "trap 'kill $reg 2>/dev/null; wait $reg; exit 0' TERM INT",
  // once the test process is gone our stderr is a broken pipe: the shell's own "Terminated"
  // notice must not kill it before it has cleaned up
  "trap '' PIPE",
  // our parent is the test process until it dies (then we are re-parented); /proc/self/stat's 4th
  // field is the parent pid. `kill -0` on the test's pid would not do: a killed but unreaped
  // process still answers it.
  'parent() { cut -d" " -f4 /proc/$$/stat; }',
  'while [ "$(parent)" = "$1" ] && kill -0 $reg 2>/dev/null; do sleep 1 & wait $!; done',
  'kill $reg 2>/dev/null; wait $reg 2>/dev/null; code=$?',
  '[ "$(parent)" = "$1" ] || rm -rf "$4"',
  'exit $code',
].join('\n');

/** Registries (watchdog shells) still running, with their directories, for the exit hook. */
const live = new Map<ChildProcess, string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test that forgot stop(): end its registry and remove its storage when node exits normally.
  process.once('exit', () => {
    for (const [proc, dir] of live) {
      proc.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** A free TCP port on 127.0.0.1 (the kernel picks it; the socket is closed before returning). */
export async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/**
 * Starts a registry and resolves once `GET /v2/` answers (200, or 401 when auth is on). The port is
 * chosen free; if another process grabs it in between, start-up is retried on a new port.
 */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<RunningRegistry> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      lastError = err;
      if (!String((err as Error).message).includes('address already in use')) throw err;
    }
  }
  throw lastError;
}

async function startOnce(options: StartRegistryOptions): Promise<RunningRegistry> {
  installExitHook();
  const auth = options.auth ?? 'none';
  const username = options.username ?? DEFAULT_USER;
  const password = options.password ?? DEFAULT_PASSWORD;
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-registry-'));
  const storageDir = join(dir, 'registry-data');
  mkdirSync(storageDir);
  let tokenServer: TokenServer | undefined;
  let child: ChildProcess | undefined;
  const cleanup = async (): Promise<void> => {
    if (child) await stopProcess(child);
    if (tokenServer) await tokenServer.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    let authYaml = '';
    if (auth === 'basic') {
      const line = execFileSync('htpasswd', ['-Bbn', username, password], { encoding: 'utf8' }).trim();
      writeFileSync(join(dir, 'htpasswd'), `${line}\n`);
      authYaml = `auth:\n  htpasswd:\n    realm: ${SERVICE}\n    path: ${join(dir, 'htpasswd')}\n`;
    } else if (auth === 'token') {
      tokenServer = await startTokenServer(dir, username, password, options.identityToken ?? DEFAULT_IDENTITY_TOKEN);
      authYaml =
        `auth:\n  token:\n    realm: ${tokenServer.url}/token\n    service: ${SERVICE}\n    issuer: ${ISSUER}\n` +
        `    rootcertbundle: ${tokenServer.certPath}\n`;
    }
    const notifications = options.notificationsUrl
      ? `notifications:\n  events:\n    includereferences: true\n  endpoints:\n    - name: harness-listener\n      url: ${options.notificationsUrl}\n${notificationHeadersYaml(options.notificationHeaders)}      timeout: 2s\n      threshold: 3\n      backoff: 1s\n`
      : '';
    const config =
      `version: 0.1\nlog:\n  level: warn\n  formatter: text\n` +
      `storage:\n  filesystem:\n    rootdirectory: ${storageDir}\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false\n` +
      `http:\n  addr: ${host}\n  secret: harness-secret-${randomUUID()}\n  headers:\n    X-Content-Type-Options: [nosniff]\n` +
      authYaml +
      notifications;
    writeFileSync(join(dir, 'config.yml'), config);

    const access: string[] = [];
    let stdoutRest = '';
    let stderrText = '';
    const proc = spawn('sh', ['-c', WATCHDOG, 'registry-watchdog', String(process.pid), REGISTRY_BINARY, join(dir, 'config.yml'), dir], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    live.set(proc, dir);
    proc.once('exit', () => live.delete(proc));
    proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const text = stdoutRest + chunk;
      const lines = text.split('\n');
      stdoutRest = lines.pop() ?? '';
      access.push(...lines.filter((l) => l !== ''));
    });
    proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderrText = (stderrText + chunk).slice(-8000);
    });
    let dead = false;
    // 'close' rather than 'exit': by then stderr has been read, so the message holds the reason.
    const exited = new Promise<never>((_, reject) => {
      proc.once('close', (code, sig) => {
        dead = true;
        reject(new Error(`docker-registry exited (${code ?? sig}) during start-up: ${stderrText.trim()}`));
      });
      proc.once('error', (err) => {
        dead = true;
        reject(err);
      });
    });
    exited.catch(() => undefined);
    await Promise.race([waitReady(`http://${host}/v2/`, () => dead), exited]);

    const url = `http://${host}`;
    const parseLog = (): AccessLogEntry[] => access.map(parseAccessLine).filter((e): e is AccessLogEntry => e !== undefined);
    // Log lines are written after each response; a marker request issued afterwards and seen in
    // the log means every earlier request's line has been read too.
    const sync = async (): Promise<void> => {
      const marker = `/v2/?harness-sync=${randomUUID()}`;
      await fetch(`${url}${marker}`).then((r) => r.arrayBuffer());
      const deadline = Date.now() + 5000;
      while (!access.some((l) => l.includes(marker))) {
        if (Date.now() > deadline) throw new Error('registry harness: access log did not show the sync marker');
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    let stopped = false;
    const running: RunningRegistry = {
      host,
      url,
      auth,
      storageDir,
      blobDataPath(digest) {
        const [alg, hex] = digest.split(':');
        return join(storageDir, 'docker', 'registry', 'v2', 'blobs', alg!, hex!.slice(0, 2), hex!, 'data');
      },
      async accessLog() {
        await sync();
        return parseLog().filter((e) => !e.uri.includes('harness-sync='));
      },
      async blobGets() {
        await sync();
        return parseLog()
          .filter((e) => e.method === 'GET' && /^\/v2\/.+\/blobs\/[a-z0-9]+:[0-9a-f]+$/.test(e.uri) && [200, 206, 307].includes(e.status))
          .map((e) => e.uri);
      },
      tokensIssued: () => tokenServer?.issued() ?? 0,
      async stop() {
        if (stopped) return;
        stopped = true;
        await cleanup();
      },
    };
    if (auth !== 'none') {
      running.username = username;
      running.password = password;
    }
    if (auth === 'token') running.identityToken = options.identityToken ?? DEFAULT_IDENTITY_TOKEN;
    return running;
  } catch (err) {
    await cleanup();
    throw err;
  }
}

const ACCESS_LINE = /^\S+ \S+ \S+ \[[^\]]+\] "([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) /;

function parseAccessLine(line: string): AccessLogEntry | undefined {
  const m = ACCESS_LINE.exec(line);
  if (!m) return undefined;
  return { method: m[1]!, uri: m[2]!, status: Number(m[3]) };
}

async function waitReady(url: string, dead: () => boolean): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!dead()) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`registry harness: ${url} not ready after ${READY_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

interface TokenServer {
  url: string;
  certPath: string;
  issued(): number;
  close(): Promise<void>;
}

/** Base64url without padding, as JWTs use. */
function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

async function startTokenServer(dir: string, username: string, password: string, identityToken: string): Promise<TokenServer> {
  const tokenDir = join(dir, 'token');
  mkdirSync(tokenDir);
  const keyPath = join(tokenDir, 'key.pem');
  const certPath = join(tokenDir, 'cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=portcullis-harness-token'],
    { stdio: 'ignore' },
  );
  const key = createPrivateKey(readFileSync(keyPath));
  const certDer = pemToDer(readFileSync(certPath, 'utf8'));
  let issued = 0;
  const server: Server = createServer((req, res) => {
    handleToken(req, res, { key, certDer, username, password, identityToken, onIssue: () => issued++ });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    certPath,
    issued: () => issued,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function pemToDer(pem: string): Buffer {
  const body = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return Buffer.from(body, 'base64');
}

/**
 * The token endpoint, as Distribution's token spec describes it: GET with Basic credentials and
 * `scope` parameters, or (Docker's OAuth2 flow for identity tokens) a form POST with
 * `grant_type=refresh_token`, the refresh token, `service` and space-separated `scope`.
 */
function handleToken(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: { key: KeyObject; certDer: Buffer; username: string; password: string; identityToken: string; onIssue(): void },
): void {
  const url = new URL(req.url ?? '/', 'http://token.invalid');
  const send = (status: number, body: object): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (url.pathname !== '/token') return send(404, { errors: [{ code: 'NOT_FOUND', message: 'no such endpoint' }] });
  if (req.method === 'POST') {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      if (form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== ctx.identityToken) {
        return send(400, { error: 'invalid_grant', error_description: 'unknown refresh token' });
      }
      const scopes = (form.get('scope') ?? '').split(' ').filter((x) => x !== '');
      const token = issueToken(ctx, scopes, form.get('service'));
      send(200, { access_token: token, refresh_token: ctx.identityToken, expires_in: 300 });
    });
    return;
  }
  const authz = req.headers.authorization ?? '';
  const m = /^Basic (.+)$/i.exec(authz);
  const decoded = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
  if (decoded !== `${ctx.username}:${ctx.password}`) {
    res.setHeader('www-authenticate', `Basic realm="${SERVICE}-token"`);
    return send(401, { errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] });
  }
  const now = Math.floor(Date.now() / 1000);
  const token = issueToken(ctx, url.searchParams.getAll('scope'), url.searchParams.get('service'));
  send(200, { token, access_token: token, expires_in: 300, issued_at: new Date(now * 1000).toISOString() });
}

/** A signed JWT granting every action the scopes ask for: authorization policy is not under test. */
function issueToken(ctx: { key: KeyObject; certDer: Buffer; username: string; onIssue(): void }, scopes: string[], service: string | null): string {
  const access = scopes.flatMap((scope) => {
    const parts = scope.split(':');
    if (parts.length < 3) return [];
    const actions = parts[parts.length - 1]!.split(',').filter((a) => a !== '');
    return [{ type: parts[0], name: parts.slice(1, -1).join(':'), actions }];
  });
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'ES256', typ: 'JWT', x5c: [ctx.certDer.toString('base64')] };
  const claims = {
    iss: ISSUER,
    sub: ctx.username,
    aud: service ?? SERVICE,
    exp: now + 300,
    nbf: now - 10,
    iat: now,
    jti: createHash('sha256').update(randomUUID()).digest('hex').slice(0, 32),
    access,
  };
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(signingInput), { key: ctx.key, dsaEncoding: 'ieee-p1363' });
  ctx.onIssue();
  return `${signingInput}.${b64url(signature)}`;
}

/** The `headers:` block of a notification endpoint (values JSON-quoted, which YAML reads as is). */
function notificationHeadersYaml(headers: Record<string, string> | undefined): string {
  if (headers === undefined || Object.keys(headers).length === 0) return '';
  return `      headers:\n${Object.entries(headers).map(([k, v]) => `        ${k}: [${JSON.stringify(v)}]\n`).join('')}`;
}

/**
 * Pushes an OCI layout image to a registry with skopeo (`skopeo copy oci:DIR[:TAG]
 * docker://HOST/REPO:TAG`), TLS verification off (the harness registry speaks plain HTTP). `all`
 * copies every platform of an index; `format` forces the manifest type. Asynchronous on purpose:
 * the token server runs in this process, and a blocking exec would leave skopeo's token request
 * unanswered for ever.
 */
export async function pushImage(
  ociLayoutRef: string,
  registryRef: string,
  creds?: { username: string; password: string },
  options: { all?: boolean; format?: 'oci' | 'v2s2' } = {},
): Promise<void> {
  const args = ['copy', '--quiet', '--insecure-policy', '--dest-tls-verify=false'];
  if (options.all) args.push('--all');
  if (options.format) args.push('--format', options.format);
  if (creds) args.push('--dest-creds', `${creds.username}:${creds.password}`);
  else args.push('--dest-no-creds');
  const source = ociLayoutRef.startsWith('oci:') ? ociLayoutRef : `oci:${ociLayoutRef}`;
  const dest = registryRef.startsWith('docker://') ? registryRef : `docker://${registryRef}`;
  args.push(source, dest);
  await new Promise<void>((resolve, reject) => {
    execFile('skopeo', args, { encoding: 'utf8', timeout: 300_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`skopeo copy ${source} ${dest} failed: ${stderr || err.message}`));
      else resolve();
    });
  });
}

/** Uploads one blob to an anonymous or Basic-auth harness registry (monolithic upload). */
export async function putBlob(registry: RunningRegistry, repository: string, bytes: Buffer): Promise<string> {
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const headers = basicHeaders(registry);
  const start = await fetch(`${registry.url}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers });
  await start.arrayBuffer();
  if (start.status !== 202) throw new Error(`registry harness: starting upload answered ${start.status}`);
  const location = new URL(start.headers.get('location') ?? '', registry.url);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/octet-stream' },
    body: bytes,
  });
  const text = await put.text();
  if (put.status !== 201) throw new Error(`registry harness: blob upload answered ${put.status}: ${text}`);
  return digest;
}

/** Puts a manifest (any bytes, any media type the registry accepts) under a tag or digest. */
export async function putManifest(registry: RunningRegistry, repository: string, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
  const res = await fetch(`${registry.url}/v2/${repository}/manifests/${reference}`, {
    method: 'PUT',
    headers: { ...basicHeaders(registry), 'content-type': mediaType },
    body: bytes,
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`registry harness: manifest upload answered ${res.status}: ${text}`);
  return res.headers.get('docker-content-digest') ?? '';
}

function basicHeaders(registry: RunningRegistry): Record<string, string> {
  if (registry.auth === 'token') throw new Error('registry harness: raw uploads support anonymous and basic registries only');
  if (registry.auth === 'basic') {
    return { authorization: `Basic ${Buffer.from(`${registry.username}:${registry.password}`).toString('base64')}` };
  }
  return {};
}
