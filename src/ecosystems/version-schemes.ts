/**
 * Which version scheme orders each ecosystem's versions: the ecosystems' binding to versioning
 * (versioning itself knows no ecosystem), derived from the registry's descriptors.
 */
import type { Ecosystem } from '../domain/package.js';
import { getScheme } from '../versioning/index.js';
import type { VersionScheme } from '../versioning/types.js';
import { ecosystemDescriptor } from './registry.js';

/** The scheme for a package ecosystem (deb -> dpkg, pypi -> pep440, golang -> go ...). */
export function schemeForEcosystem(ecosystem: Ecosystem): VersionScheme {
  return getScheme(ecosystemDescriptor(ecosystem).scheme);
}
