/**
 * What one package ecosystem knows, in one place (`src/ecosystems/<id>/index.ts`). The registry
 * (`registry.ts`) lists one descriptor per Ecosystem; every per-ecosystem table of the engine (purl
 * types, OSV names, version schemes, name normalisation, detectors) is derived from it, so adding
 * an ecosystem is one folder plus one registry line, and a missing piece is a compile error.
 */
import type { Detector } from '../detectors/types.js';
import type { Ecosystem, OsEcosystem, PackageRecord } from '../domain/package.js';
import type { VersionSchemeId } from '../versioning/types.js';

interface CommonDescriptor<E extends Ecosystem> {
  readonly id: E;
  /** The version scheme that orders this ecosystem's versions. */
  readonly scheme: VersionSchemeId;
  /** Its package URL type (`pkg:<type>/...`), by which SBOMs of other tools are read back. */
  readonly purlType: string;
  /** The detectors that produce this ecosystem's records, in the order they run. */
  readonly detectors: readonly Detector[];
  /**
   * The key package names are compared and stored by (PEP 503 for PyPI). Absent: names are exact
   * (only surrounding whitespace is dropped where names are stored).
   */
  readonly normalizeName?: (name: string) => string;
}

/**
 * An OS package manager's ecosystem: its packages come from the distribution, are matched in the
 * distribution release's namespace, and their purls need the distribution (`inventory/os-purl.ts`).
 */
export interface OsEcosystemDescriptor<E extends OsEcosystem = OsEcosystem> extends CommonDescriptor<E> {
  readonly kind: 'os';
  /** Where its package database lives when an SBOM of another tool does not say. */
  readonly databasePath: string;
}

/** A language registry's ecosystem: matched in its OSV ecosystem, whatever the distribution. */
/** The ecosystems of language registries: every ecosystem that is not an OS one. */
export type LanguageEcosystem = Exclude<Ecosystem, OsEcosystem>;

export interface LanguageEcosystemDescriptor<E extends LanguageEcosystem = LanguageEcosystem> extends CommonDescriptor<E> {
  readonly kind: 'language';
  /**
   * OSV's name for it (`affected[].package.ecosystem`: `PyPI`, `crates.io`, `NuGet`), which is also
   * the namespace its advisories are filed and matched under.
   */
  readonly osvEcosystem: string;
  /** Whether `db update` fetches OSV's `all.zip` of this ecosystem by default. */
  readonly osvFetchedByDefault: boolean;
  /** The package URL of one of its records (packageurl-js applies the per-type normalisation). */
  readonly purl: (record: PackageRecord) => string;
  /** How a purl's namespace joins its name back into the record's name (npm scope, Go module path `/`, Maven group `:`); absent: the namespace is dropped. */
  readonly purlNamespaceSeparator?: '/' | ':';
  /**
   * The version an advisory's ranges are judged against, when the record may spell it otherwise
   * (Go's toolchain `go1.21.5` against the vulnerability data's `v1.21.5`). Absent: the version.
   */
  readonly matchVersion?: (record: Pick<PackageRecord, 'name' | 'version'>) => string;
  /**
   * Lockfiles that declare what an install directory beside them holds: records of these detectors
   * give way to the installed record of the same package under `<lockfile dir>/<installDir>/`.
   */
  readonly installedBeside?: { readonly declaringDetectors: readonly string[]; readonly installDir: string };
}

/** The descriptor kind an ecosystem must have: OS ecosystems are exactly the domain's OsEcosystem. */
export type EcosystemDescriptorOf<E extends Ecosystem> = E extends OsEcosystem ? OsEcosystemDescriptor<E> : E extends LanguageEcosystem ? LanguageEcosystemDescriptor<E> : never;

export type EcosystemDescriptor = OsEcosystemDescriptor | LanguageEcosystemDescriptor;

/** One descriptor per ecosystem, keyed by its id: a missing ecosystem or piece does not compile. */
export type EcosystemRegistry = { readonly [E in Ecosystem]: EcosystemDescriptorOf<E> };
