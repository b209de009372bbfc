/**
 * The names of the version schemes (how `1.2.3-1` and `1.2.3` compare depends on which one applies).
 * Part of the domain's vocabulary because advisories name the scheme their ranges are written in;
 * the schemes themselves live in src/versioning.
 */
export const VERSION_SCHEME_IDS = ['dpkg', 'rpm', 'apk', 'npm', 'pep440', 'maven', 'go', 'gem', 'cargo', 'nuget'] as const;
export type VersionSchemeId = (typeof VERSION_SCHEME_IDS)[number];
