/**
 * The registry of version schemes: one plain array, checked for duplicate ids when this module
 * loads. Which ecosystem uses which scheme is the ecosystems' knowledge (src/ecosystems/version-schemes.ts):
 * versioning imports nothing of the project.
 */
import { apkScheme } from './apk/index.js';
import { cargoScheme } from './cargo/index.js';
import { dpkgScheme } from './dpkg/index.js';
import { gemScheme } from './gem/index.js';
import { goScheme } from './go/index.js';
import { mavenScheme } from './maven/index.js';
import { npmScheme } from './npm/index.js';
import { nugetScheme } from './nuget/index.js';
import { pep440Scheme } from './pep440/index.js';
import { rpmScheme } from './rpm/index.js';
import { VERSION_SCHEME_IDS, type VersionScheme, type VersionSchemeId } from './types.js';

/** Every version scheme, one per id. */
export const VERSION_SCHEMES: readonly VersionScheme[] = [
  dpkgScheme,
  rpmScheme,
  apkScheme,
  npmScheme,
  pep440Scheme,
  mavenScheme,
  goScheme,
  gemScheme,
  cargoScheme,
  nugetScheme,
];

/**
 * Indexes schemes by id. Throws when two schemes share an id (a registry mistake must fail at
 * start-up, not pick one silently); an empty list gives an empty map.
 */
export function indexSchemes(schemes: readonly VersionScheme[]): ReadonlyMap<VersionSchemeId, VersionScheme> {
  const byId = new Map<VersionSchemeId, VersionScheme>();
  for (const scheme of schemes) {
    if (byId.has(scheme.id)) throw new Error(`versioning: duplicate version scheme id "${scheme.id}"`);
    byId.set(scheme.id, scheme);
  }
  return byId;
}

const BY_ID = indexSchemes(VERSION_SCHEMES);

/** True when `id` names a version scheme (for ids that come from users or files). */
export function isVersionSchemeId(id: string): id is VersionSchemeId {
  return (VERSION_SCHEME_IDS as readonly string[]).includes(id);
}

/** The scheme with this id. Throws when none is registered (a programming error: ids are a closed union). */
export function getScheme(id: VersionSchemeId): VersionScheme {
  const scheme = BY_ID.get(id);
  if (scheme === undefined) throw new Error(`versioning: no version scheme "${id}"`);
  return scheme;
}

export { InvalidRangeError, InvalidVersionError, VERSION_SCHEME_IDS } from './types.js';
export type { Comparison, VersionScheme, VersionSchemeId } from './types.js';
