/**
 * Which version scheme orders each ecosystem's versions: the ecosystems' binding to versioning
 * (versioning itself knows no ecosystem).
 */
import type { Ecosystem } from '../domain/package.js';
import { getScheme } from '../versioning/index.js';
import type { VersionScheme, VersionSchemeId } from '../versioning/types.js';

/** A Record, so a new ecosystem cannot be forgotten. */
export const ECOSYSTEM_SCHEMES: Readonly<Record<Ecosystem, VersionSchemeId>> = {
  deb: 'dpkg',
  rpm: 'rpm',
  apk: 'apk',
  npm: 'npm',
  pypi: 'pep440',
  maven: 'maven',
  golang: 'go',
  gem: 'gem',
  cargo: 'cargo',
};

/** The scheme for a package ecosystem (deb -> dpkg, pypi -> pep440, golang -> go ...). */
export function schemeForEcosystem(ecosystem: Ecosystem): VersionScheme {
  return getScheme(ECOSYSTEM_SCHEMES[ecosystem]);
}
