import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file lives in test/support/). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Root of the real test data: `test/data` in this repository (the files of the shared corpus the
 * tests read, with their provenance in test/data/MANIFEST.tsv), or $PORTCULLIS_SHARED_DATA to use a
 * full copy of the corpus instead.
 */
export const sharedDataRoot = process.env.PORTCULLIS_SHARED_DATA ?? join(repoRoot, 'test', 'data');

/** Absolute path of a file under the test data root; throws when it is missing so a test can never pass vacuously. */
export function sharedData(...parts: string[]): string {
  const path = join(sharedDataRoot, ...parts);
  if (!existsSync(path)) throw new Error(`test data missing: ${path} (see test/data/README.md)`);
  return path;
}

/**
 * The Go binary of Debian's docker-registry 2.8.2+ds1-1 (amd64), read from where the package
 * installs it (`.ci/run` installs the package for the registry harness) rather than kept as a
 * 19 MiB copy in test/data. Its recorded `go version -m` output stays in test/data. Throws, naming
 * the package, when the installed file is missing or is not that exact build.
 */
export function debianDockerRegistryBinary(): Buffer {
  const path = '/usr/bin/docker-registry';
  if (!existsSync(path)) throw new Error(`test data missing: ${path} (apt-get install docker-registry=${DOCKER_REGISTRY_DEB})`);
  const bytes = readFileSync(path);
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest !== DOCKER_REGISTRY_SHA256) throw new Error(`${path} is not the build of docker-registry ${DOCKER_REGISTRY_DEB} the tests expect (sha256 ${digest})`);
  return bytes;
}

const DOCKER_REGISTRY_DEB = '2.8.2+ds1-1';
const DOCKER_REGISTRY_SHA256 = '6ef17abe17337366675271b24591684c5dbe7514adfe9e95f57290c5c4eb9149';
