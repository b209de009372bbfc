/**
 * How the service reaches the registry it watches (config `registry:`): a registry client with the
 * configured credentials (basic, or the token flow when the registry asks for it), and image
 * references the engine can open. Plain-HTTP registries (`http://` URL) are allowed explicitly.
 */
import type { Logger } from 'pino';
import { PortcullisError } from '../domain/errors.js';
import { credentialLookup, serviceEngineContext, type EngineContext, type RegistrySecret } from '../engine/context.js';
import type { OpenImageOptions } from '../image/open-image.js';
import { createRegistryClient, type RegistryClient } from '../image/registry/client.js';

export interface RegistryAccess {
  /** `host:port` as image references name the registry. */
  readonly host: string;
  /** An engine reference to one manifest of a repository: `host/repo@digest`. */
  reference(repository: string, digest: string): string;
  /** Options for openImage (plain HTTP for an `http://` registry URL). */
  imageOptions(): OpenImageOptions;
  /**
   * The engine context of work for the service: registry references only, the configured
   * credentials only (never the host's docker config or environment), `logger` with `bindings`.
   */
  engineContext(logger: Logger, bindings: { job?: string | number; digest?: string; backend?: string }, signal?: AbortSignal): EngineContext;
  /** A new client; the caller closes it. */
  client(): Promise<RegistryClient>;
}

/** Registry access from the `registry:` section; E_CONFIG when the URL is empty or malformed. */
export function registryAccess(registry: { url: string; username: string; password: string; registryToken?: string }): RegistryAccess {
  let url: URL;
  try {
    url = new URL(registry.url);
  } catch {
    throw new PortcullisError('E_CONFIG', `config: registry.url: ${JSON.stringify(registry.url)} is not a URL`, { key: 'registry.url' });
  }
  const host = url.host;
  const insecure = url.protocol === 'http:';
  const credentials: RegistrySecret | undefined =
    registry.registryToken !== undefined ? { username: '', password: '', registryToken: registry.registryToken } : registry.username !== '' ? { username: registry.username, password: registry.password } : undefined;
  return {
    host,
    reference: (repository, digest) => `${host}/${repository}@${digest}`,
    imageOptions: () => ({ insecure }),
    engineContext: (logger, bindings, signal) => serviceEngineContext({ logger, bindings, ...(credentials ? { credentials } : {}), ...(signal ? { signal } : {}) }),
    // The same lookup as the engine context's: the configured credentials, not whatever the host it runs on has lying around.
    client: () => createRegistryClient(host, { insecure, ...credentialLookup(credentials ? { kind: 'given', credentials } : { kind: 'none' }) }),
  };
}
