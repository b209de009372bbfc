/**
 * Image names as the policy files speak of them: a registry host (optional) and a repository path,
 * without tag or digest. clair-scanner keyed its per-image whitelist with `strings.Split(image, ":")[0]`,
 * which cuts `host:5000/ns/repo:tag` at the port (its README calls this a bug, issue #74); here the
 * tag is only what follows the last `:` after the last `/`, so registry ports survive.
 */

/** Registry host names that all mean Docker Hub. */
const DOCKER_HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** Transport prefixes a user may put before a registry reference (`registry:` is not one: it is a valid host name). */
const TRANSPORT_PREFIXES = ['docker://'];

/** A repository reference without tag or digest. `registry` is absent when the name did not give one. */
export interface ImageRepositoryName {
  registry?: string;
  /** Repository path (`ns/repo`, `repo`), lower-cased as registries store it. */
  path: string;
}

/**
 * Splits an image reference into registry and repository path, dropping tag and digest:
 * `host:5000/ns/repo:tag` -> `{registry: 'host:5000', path: 'ns/repo'}`, `ubuntu:22.04` -> `{path: 'ubuntu'}`,
 * `repo@sha256:...` -> `{path: 'repo'}`. The first path component is a registry only when it contains
 * `.` or `:` or is `localhost` (the Docker rule). Docker Hub host aliases become `docker.io`. Returns
 * `{path: ''}` for an empty string.
 */
export function parseImageRepository(reference: string): ImageRepositoryName {
  let ref = reference.trim();
  for (const prefix of TRANSPORT_PREFIXES) {
    if (ref.startsWith(prefix)) {
      ref = ref.slice(prefix.length);
      break;
    }
  }
  const at = ref.indexOf('@');
  if (at >= 0) ref = ref.slice(0, at);
  const lastSlash = ref.lastIndexOf('/');
  const lastColon = ref.lastIndexOf(':');
  if (lastColon > lastSlash) ref = ref.slice(0, lastColon);
  const parts = ref.split('/').filter((p) => p !== '');
  if (parts.length === 0) return { path: '' };
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    const host = first.toLowerCase();
    return { registry: DOCKER_HUB_HOSTS.has(host) ? 'docker.io' : host, path: parts.slice(1).join('/').toLowerCase() };
  }
  return { path: parts.join('/').toLowerCase() };
}

/** The repository path as Docker Hub spells it in full: single-component names live under `library/`. */
function hubPath(path: string): string {
  return path.includes('/') ? path : `library/${path}`;
}

/**
 * Whether a policy key (whitelist `images:` key, VEX image product) names the scanned image.
 *
 * - A key with a registry (`host:5000/ns/repo`) matches only that registry and path.
 * - A key without a registry (`ns/repo`, `repo`) matches that exact repository path in any registry,
 *   so `ns/repo` approves `host:5000/ns/repo:tag` (what clair-scanner issue #74 asked for).
 * - Docker Hub spellings are equivalent: `ubuntu`, `library/ubuntu`, `docker.io/library/ubuntu`.
 * - A bare last component never matches a longer path (`repo` does not match `ns/repo`): two teams'
 *   `repo` images would otherwise share one whitelist.
 * Tags and digests on either side are ignored. Empty keys match nothing.
 */
export function imageNameMatches(key: string, imageName: string): boolean {
  const k = parseImageRepository(key);
  const image = parseImageRepository(imageName);
  if (k.path === '' || image.path === '') return false;
  const imageRegistry = image.registry ?? 'docker.io';
  if (k.registry !== undefined) {
    if (k.registry !== imageRegistry) return false;
    return k.registry === 'docker.io' ? hubPath(k.path) === hubPath(image.path) : k.path === image.path;
  }
  if (k.path === image.path) return true;
  return imageRegistry === 'docker.io' && hubPath(k.path) === hubPath(image.path);
}
