import { DEBIAN_RELEASES } from '../../domain/debian-releases.js';

export { DEBIAN_RELEASES };

/** The namespace of the rolling unstable distribution (`sid`). */
export const DEBIAN_UNSTABLE_NAMESPACE = 'debian:unstable';

/**
 * Maps a Debian codename as the security tracker writes it (`bookworm`, `sid`, also `jessie-lts` or
 * `buster-security`, whose suffix names a suite of the same release) to its namespace (`debian:12`,
 * `debian:unstable`). Returns undefined for names it does not know (`experimental`, a future codename),
 * which callers leave out rather than guess.
 */
export function debianNamespace(codename: string): string | undefined {
  const base = codename.trim().toLowerCase().replace(/-(lts|security|elts)$/, '');
  if (base === 'sid' || base === 'unstable') return DEBIAN_UNSTABLE_NAMESPACE;
  if (Object.hasOwn(DEBIAN_RELEASES, base)) return `debian:${DEBIAN_RELEASES[base as keyof typeof DEBIAN_RELEASES]}`;
  return undefined;
}
