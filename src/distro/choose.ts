import type { Distro } from '../domain/distro.js';
import { RELEASE_FILE_PATHS } from './release-files.js';

/**
 * How trustworthy a release file is, lower is better: `etc/os-release` (what the image says now),
 * then `usr/lib/os-release` (the vendor default it may override), then the legacy files, the
 * vendor-specific ones before the generic ones (CentOS ships both centos-release and a
 * redhat-release; Ubuntu ships a debian_version naming the Debian it forked from, so that file comes
 * last). Paths that are no release file rank after all of them.
 */
export function distroSourceRank(path: string): number {
  const i = (RELEASE_FILE_PATHS as readonly string[]).indexOf(path);
  return i < 0 ? RELEASE_FILE_PATHS.length : i;
}

/**
 * Picks the distribution of an image from the release facts found in its final filesystem: the
 * candidate read from the best-ranked file (see distroSourceRank); between candidates from equally
 * ranked files, the last one given. Returns undefined when there is no candidate (scratch images,
 * static binaries). Does not merge candidates: each is one file's complete statement.
 */
export function chooseDistro(candidates: readonly Distro[]): Distro | undefined {
  let best: Distro | undefined;
  let bestRank = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const rank = distroSourceRank(c.source);
    if (rank <= bestRank) {
      best = c;
      bestRank = rank;
    }
  }
  return best;
}
