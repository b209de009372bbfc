/**
 * Package records: what a detector reads from one file, before the image-level view (layers,
 * distribution, purl) is known.
 */

/** Package kinds, named after their purl type. */
export const ECOSYSTEMS = ['deb', 'apk', 'rpm', 'npm', 'pypi', 'golang', 'maven', 'gem', 'cargo', 'nuget'] as const;
export type Ecosystem = (typeof ECOSYSTEMS)[number];

/**
 * The ecosystems of OS package managers (their packages come from the distribution, not a language
 * registry, and their package managers list the files each package installed). The one list: the
 * ecosystem registry (src/ecosystems/registry.ts) requires an OS descriptor for exactly these.
 */
export const OS_ECOSYSTEM_IDS = ['deb', 'rpm', 'apk'] as const satisfies readonly Ecosystem[];
export type OsEcosystem = (typeof OS_ECOSYSTEM_IDS)[number];

export const OS_ECOSYSTEMS: ReadonlySet<string> = new Set<string>(OS_ECOSYSTEM_IDS);

/** True for the ecosystems of OS package managers (deb, rpm, apk). */
export function isOsEcosystem(ecosystem: string): ecosystem is OsEcosystem {
  return OS_ECOSYSTEMS.has(ecosystem);
}

export interface PackageRecord {
  ecosystem: Ecosystem;
  name: string;
  /**
   * The version as the ecosystem's version scheme compares it: dpkg `[epoch:]upstream[-revision]`,
   * rpm `[epoch:]version-release`, apk `1.2.3-r4`, Go `v1.2.3` (stdlib too: `go1.21.5` becomes `v1.21.5`, the raw toolchain string kept in attributes.toolchain), others as written.
   */
  version: string;
  /** Source package (dpkg Source, apk origin, rpm source rpm name). */
  sourceName?: string;
  sourceVersion?: string;
  arch?: string;
  /** rpm only: the pieces of `version`, kept for display and purl. */
  epoch?: number;
  /** rpm module stream label (`name:stream:version:context`). */
  modularityLabel?: string;
  license?: string;
  /** Image path (no leading slash) of the file this record was read from. */
  path: string;
  /** Ecosystem-specific facts worth keeping (e.g. Go `main`/`stdlib` role, Maven groupId). */
  attributes?: Record<string, string>;
}

/**
 * A project whose dependencies a lockfile pins, as one file tells of it: npm's root entry of
 * `package-lock.json` (`packages[""]`), or the `package.json` beside a lockfile. It is the code
 * being scanned, not a package: it is listed (SBOM application component) but never matched.
 */
export interface ProjectRecord {
  ecosystem: 'npm';
  /** Which kind of file this was read from: a lockfile (its root entry, or only its presence) or the manifest. */
  source: 'lockfile' | 'manifest';
  /** Absent when the file does not say (yarn.lock and pnpm-lock.yaml name no project). */
  name?: string;
  version?: string;
  /** Image path of the file read. */
  path: string;
  /** Names of the project's direct dependencies (all kinds: prod, dev, optional, peer); absent when the file does not list them. */
  dependencies?: string[];
}

/** A project of the image (see ProjectRecord): a lockfile with the project it belongs to. */
export interface InventoryProject {
  ecosystem: 'npm';
  name: string;
  version?: string;
  purl: string;
  /** The lockfile (image path) whose dependencies are this project's. */
  lockfile: string;
  /** The `package.json` beside it, when the image has one. */
  manifest?: string;
  /** Names of its direct dependencies, sorted. */
  dependencies: string[];
  /** Layer of the lockfile's current version. */
  layer: string;
  layerIndex: number;
}

/**
 * The files one OS package installed, as its package manager's database lists them (dpkg
 * `info/<pkg>[:arch].list`, rpm header file lists, apk `F:`/`R:` lines). Paths are image paths
 * (no leading slash). `version` is absent when the list does not say it (dpkg's lists name the
 * package only; its version comes from the status database at inventory time).
 */
export interface OwnedFiles {
  ecosystem: OsEcosystem;
  name: string;
  arch?: string;
  version?: string;
  files: string[];
}

/**
 * The OS package that installed a language package's files (a Debian `python3-requests` that holds
 * `requests-2.28.1.egg-info`): the distribution may have backported fixes under the upstream version.
 */
export interface OsOwner {
  ecosystem: OsEcosystem;
  name: string;
  version: string;
  sourceName?: string;
  sourceVersion?: string;
  arch?: string;
}

/** `deb python3-requests 2.28.1+dfsg-1 (source requests)`: an owner in words, for reports. */
export function describeOwner(owner: OsOwner): string {
  const source = owner.sourceName && owner.sourceName !== owner.name ? ` (source ${owner.sourceName}${owner.sourceVersion && owner.sourceVersion !== owner.version ? ` ${owner.sourceVersion}` : ''})` : '';
  return `${owner.ecosystem} ${owner.name} ${owner.version}${source}`;
}

/** A package in the image-level inventory: a record placed in its layer and given a purl. */
export interface InventoryPackage extends PackageRecord {
  purl: string;
  /** Digest of the layer that introduced this exact package version. */
  layer: string;
  layerIndex: number;
  /**
   * Language packages only: the OS package whose file list holds this package's file (`path`).
   * Absent for packages no OS package owns, and where the image has no file lists to tell.
   */
  osOwner?: OsOwner;
}
