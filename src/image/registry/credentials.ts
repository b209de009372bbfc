import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as z from 'zod';
import { PortcullisError } from '../../domain/errors.js';
import { DOCKER_HUB, DOCKER_HUB_API_HOST } from '../reference.js';

/** A user name and password (or token used as password) for one registry. */
export interface RegistryCredentials {
  username: string;
  password: string;
  /**
   * Docker's identity token (a credential helper answering user `<token>`, or `identitytoken` in
   * config.json): an OAuth2 refresh token exchanged at the registry's token server instead of
   * sending username and password. When set, username and password are empty.
   */
  identityToken?: string;
  /**
   * A registry bearer token issued elsewhere (Harbor hands its scanner a `Bearer <jwt>` pull
   * authorization): sent as is on every request, never exchanged. When set, username and password are empty.
   */
  registryToken?: string;
}

/** Where credentials may come from, in order of precedence. */
export interface CredentialSources {
  /** From CLI flags: used for every registry. */
  credentials?: RegistryCredentials;
  /** PORTCULLIS_REGISTRY_USERNAME / PORTCULLIS_REGISTRY_PASSWORD are read from here (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Docker's config.json; default $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
  dockerConfigPath?: string;
  /** How long a credential helper may take before it is killed (default 20 s). */
  helperTimeoutMs?: number;
}

/** Credentials found for a registry, and where they came from (for debug logs, never the secret). */
export interface ResolvedCredentials {
  credentials?: RegistryCredentials;
  source: 'options' | 'env' | 'docker-config' | 'credential-helper' | 'none';
  /** The helper program that was run, for source 'credential-helper' (and a helper that found nothing). */
  helper?: string;
}

const DockerConfigSchema = z.object({
  auths: z
    .record(
      z.string(),
      z
        .object({
          auth: z.string().optional(),
          username: z.string().optional(),
          password: z.string().optional(),
          identitytoken: z.string().optional(),
        })
        .catch({}),
    )
    .optional()
    .catch(undefined),
  credsStore: z.string().optional().catch(undefined),
  credHelpers: z.record(z.string(), z.string()).optional().catch(undefined),
});

/** What a credential helper prints for `get` (docker-credential-helpers protocol). */
const HelperAnswerSchema = z.object({ ServerURL: z.string().optional(), Username: z.string(), Secret: z.string() });

/** How one run of a credential helper ended. */
interface HelperRun {
  code: number | null;
  stdout: string;
  stderr: string;
  error?: NodeJS.ErrnoException;
  timedOut: boolean;
}

/** The user name a helper answers with when its Secret is an identity token. */
const IDENTITY_TOKEN_USER = '<token>';
const DEFAULT_HELPER_TIMEOUT_MS = 20_000;
/** Docker Hub's credentials are stored (by `docker login` and every helper) under this server URL. */
const DOCKER_HUB_SERVER_URL = 'https://index.docker.io/v1/';

/** The default docker config path for an environment. */
export function defaultDockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env['DOCKER_CONFIG'];
  return dir ? join(dir, 'config.json') : join(homedir(), '.docker', 'config.json');
}

/**
 * Finds credentials for `registry` (a host as references name it, e.g. `docker.io`,
 * `localhost:5000`): options first, then both environment variables, then Docker's config.json as
 * Docker reads it: a credential helper from `credHelpers[host]`, else from `credsStore`, is run as
 * `docker-credential-<helper> get` with the server URL on stdin; without a helper,
 * `auths[host]` (`auth` as base64 `user:pass`, `username`/`password`, or `identitytoken`; keys may
 * carry a scheme and path, as `https://index.docker.io/v1/` does). A helper that has nothing for the
 * host means anonymous access, as in Docker. Returns source 'none' when nothing matches or the
 * config file does not exist. Throws E_CONFIG when the config file exists but is not valid JSON, and
 * E_AUTH naming the helper when it is missing, fails, answers garbage or does not answer in time.
 */
export async function resolveCredentials(registry: string, sources: CredentialSources = {}): Promise<ResolvedCredentials> {
  if (sources.credentials) return { credentials: sources.credentials, source: 'options' };
  const env = sources.env ?? process.env;
  const user = env['PORTCULLIS_REGISTRY_USERNAME'];
  const pass = env['PORTCULLIS_REGISTRY_PASSWORD'];
  if (user && pass !== undefined) return { credentials: { username: user, password: pass }, source: 'env' };

  const path = sources.dockerConfigPath ?? defaultDockerConfigPath(env);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return { source: 'none' };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new PortcullisError('E_CONFIG', `registry: docker config ${path} is not valid JSON: ${(err as Error).message}`, { path });
  }
  const parsed = DockerConfigSchema.safeParse(raw);
  if (!parsed.success) return { source: 'none' };
  const wanted = hostAliases(registry);
  const helperFor = Object.entries(parsed.data.credHelpers ?? {}).find(([key]) => wanted.has(configKeyHost(key)));
  const helper = helperFor?.[1] || parsed.data.credsStore || undefined;
  if (helper !== undefined) {
    const serverUrl = wanted.has(DOCKER_HUB) ? DOCKER_HUB_SERVER_URL : registry;
    const origin = helperFor ? `credHelpers["${helperFor[0]}"]` : 'credsStore';
    const credentials = await runCredentialHelper(helper, serverUrl, {
      env,
      timeoutMs: sources.helperTimeoutMs ?? DEFAULT_HELPER_TIMEOUT_MS,
      origin: `${origin} in ${path}`,
    });
    return credentials ? { credentials, source: 'credential-helper', helper } : { source: 'none', helper };
  }
  for (const [key, entry] of Object.entries(parsed.data.auths ?? {})) {
    if (!wanted.has(configKeyHost(key))) continue;
    const creds = entryCredentials(entry);
    if (creds) return { credentials: creds, source: 'docker-config' };
  }
  return { source: 'none' };
}

/**
 * Runs `docker-credential-<helper> get` with `serverUrl` on stdin, as Docker does, and returns the
 * credentials it prints (`{"ServerURL","Username","Secret"}`; user `<token>` makes Secret an identity
 * token). undefined when the helper has none for the server ("credentials not found"). Throws
 * E_AUTH naming the helper when it is not installed, exits with another error, prints something
 * else, or runs past `timeoutMs` (it is killed then).
 */
export async function runCredentialHelper(
  helper: string,
  serverUrl: string,
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; origin?: string } = {},
): Promise<RegistryCredentials | undefined> {
  const program = `docker-credential-${helper}`;
  const named = `credential helper ${program}${options.origin ? ` (${options.origin})` : ''}`;
  const fail = (why: string, cause?: unknown): PortcullisError =>
    new PortcullisError('E_AUTH', `registry: ${named} ${why}`, { helper: program, serverUrl }, cause === undefined ? undefined : { cause });
  if (!/^[A-Za-z0-9._-]+$/.test(helper)) throw fail('has a name that is not a program name');
  const timeoutMs = options.timeoutMs ?? DEFAULT_HELPER_TIMEOUT_MS;
  const { code, stdout, stderr, error, timedOut } = await new Promise<HelperRun>((resolve) => {
    const child = spawn(program, ['get'], { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let settled = false;
    const finish = (run: HelperRun): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(run);
    };
    // Resolved here rather than on 'close': a process the helper started may keep its pipes open.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      child.stdout.destroy();
      child.stderr.destroy();
      finish({ code: null, stdout: out, stderr: err, timedOut: true });
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', (e: NodeJS.ErrnoException) => finish({ code: null, stdout: out, stderr: err, error: e, timedOut: false }));
    // A helper that exits without reading its input must not crash us with EPIPE.
    child.stdin.on('error', () => undefined);
    child.on('close', (exitCode) => finish({ code: exitCode, stdout: out, stderr: err, timedOut: false }));
    child.stdin.end(serverUrl);
  });
  if (error?.code === 'ENOENT') throw fail('is not installed (no such program on PATH)', error);
  if (error) throw fail(`could not be run: ${error.message}`, error);
  if (timedOut) throw fail(`did not answer within ${Math.round(timeoutMs / 1000)} s for ${serverUrl}`);
  const said = (stdout.trim() || stderr.trim()).split('\n')[0] ?? '';
  if (code !== 0) {
    // docker-credential-helpers' errCredentialsNotFound: Docker treats it as "no credentials".
    if (/credentials not found/i.test(said)) return undefined;
    throw fail(`failed for ${serverUrl} (exit ${code ?? 'by signal'}): ${said || 'no message'}`);
  }
  let answer: unknown;
  try {
    answer = JSON.parse(stdout);
  } catch {
    throw fail(`printed something that is not JSON credentials for ${serverUrl}`);
  }
  const parsed = HelperAnswerSchema.safeParse(answer);
  if (!parsed.success) throw fail(`printed JSON without Username and Secret for ${serverUrl}`);
  const { Username: username, Secret: secret } = parsed.data;
  if (username === IDENTITY_TOKEN_USER) return { username: '', password: '', identityToken: secret };
  return { username, password: secret };
}

function entryCredentials(entry: { auth?: string; username?: string; password?: string; identitytoken?: string }): RegistryCredentials | undefined {
  if (entry.identitytoken) return { username: '', password: '', identityToken: entry.identitytoken };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username && entry.password !== undefined) return { username: entry.username, password: entry.password };
  return undefined;
}

/** `https://index.docker.io/v1/` -> `index.docker.io`; `Host:5000` -> `host:5000`. */
function configKeyHost(key: string): string {
  return key
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
}

function hostAliases(registry: string): Set<string> {
  const host = registry.toLowerCase();
  if (host === DOCKER_HUB || host === 'index.docker.io' || host === DOCKER_HUB_API_HOST) {
    return new Set([DOCKER_HUB, 'index.docker.io', DOCKER_HUB_API_HOST]);
  }
  return new Set([host]);
}
