/**
 * How the service reaches the registry it watches (config `registry:`): a registry client with the
 * configured credentials (basic, or the token flow when the registry asks for it), and image
 * references the engine can open. Plain-HTTP registries (`http://` URL) are allowed explicitly.
 */
import { PortcullisError } from '../domain/errors.js';
import type { OpenImageOptions } from '../image/open-image.js';
import { createRegistryClient, type RegistryClient } from '../image/registry/client.js';

export interface RegistryAccess {
  /** `host:port` as image references name the registry. */
  readonly host: string;
  /** An engine reference to one manifest of a repository: `host/repo@digest`. */
  reference(repository: string, digest: string): string;
  /** Options for openImage: credentials from the config only (never the host's docker config or environment). */
  imageOptions(): Omit<OpenImageOptions, 'signal'>;
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
  const credentials =
    registry.registryToken !== undefined ? { username: '', password: '', registryToken: registry.registryToken } : registry.username !== '' ? { username: registry.username, password: registry.password } : undefined;
  // An empty environment and a docker config path that cannot exist: the service uses the
  // credentials its configuration names, not whatever the host it runs on has lying around.
  const isolation = { env: {}, dockerConfigPath: '/nonexistent/portcullis-service/config.json' };
  return {
    host,
    reference: (repository, digest) => `${host}/${repository}@${digest}`,
    imageOptions: () => ({ insecure, ...isolation, ...(credentials ? { credentials } : {}) }),
    client: () => createRegistryClient(host, { insecure, ...isolation, ...(credentials ? { credentials } : {}) }),
  };
}
