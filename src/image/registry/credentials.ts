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
}

/** Where credentials may come from, in order of precedence. */
export interface CredentialSources {
  /** From CLI flags: used for every registry. */
  credentials?: RegistryCredentials;
  /** PORTCULLIS_REGISTRY_USERNAME / PORTCULLIS_REGISTRY_PASSWORD are read from here (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Docker's config.json; default $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
  dockerConfigPath?: string;
}

/** Credentials found for a registry, and where they came from (for debug logs, never the secret). */
export interface ResolvedCredentials {
  credentials?: RegistryCredentials;
  source: 'options' | 'env' | 'docker-config' | 'none';
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
        })
        .catch({}),
    )
    .optional()
    .catch(undefined),
});

/** The default docker config path for an environment. */
export function defaultDockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env['DOCKER_CONFIG'];
  return dir ? join(dir, 'config.json') : join(homedir(), '.docker', 'config.json');
}

/**
 * Finds credentials for `registry` (a host as references name it, e.g. `docker.io`,
 * `localhost:5000`): options first, then both environment variables, then Docker's config.json
 * (`auths[host].auth` as base64 `user:pass`, or `username`/`password`; keys may carry a scheme and
 * path, as `https://index.docker.io/v1/` does). Returns source 'none' when nothing matches or the
 * config file does not exist. Credential helpers (`credsStore`, `credHelpers`) are not run. Throws
 * E_CONFIG when the config file exists but is not valid JSON.
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
  if (!parsed.success || !parsed.data.auths) return { source: 'none' };
  const wanted = hostAliases(registry);
  for (const [key, entry] of Object.entries(parsed.data.auths)) {
    if (!wanted.has(configKeyHost(key))) continue;
    const creds = entryCredentials(entry);
    if (creds) return { credentials: creds, source: 'docker-config' };
  }
  return { source: 'none' };
}

function entryCredentials(entry: { auth?: string; username?: string; password?: string }): RegistryCredentials | undefined {
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
