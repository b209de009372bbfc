/**
 * The registry of package ecosystems: one line per ecosystem, each a descriptor from its own folder
 * (see descriptor.ts). The key order is the order detectors run in (OS package databases first).
 * `satisfies EcosystemRegistry` makes a missing ecosystem, or a descriptor of the wrong kind or
 * with a missing piece, a compile error; every per-ecosystem table below is derived from it.
 */
import type { Detector } from '../detectors/types.js';
import { ECOSYSTEMS, type Ecosystem, type PackageRecord } from '../domain/package.js';
import { apkEcosystem } from './apk/index.js';
import { cargoEcosystem } from './cargo/index.js';
import { debEcosystem } from './deb/index.js';
import type { EcosystemDescriptor, EcosystemRegistry, LanguageEcosystemDescriptor, OsEcosystemDescriptor } from './descriptor.js';
import { gemEcosystem } from './gem/index.js';
import { golangEcosystem } from './golang/index.js';
import { mavenEcosystem } from './maven/index.js';
import { npmEcosystem } from './npm/index.js';
import { nugetEcosystem } from './nuget/index.js';
import { pypiEcosystem } from './pypi/index.js';
import { rpmEcosystem } from './rpm/index.js';

export const ECOSYSTEM_REGISTRY = {
  deb: debEcosystem,
  apk: apkEcosystem,
  rpm: rpmEcosystem,
  npm: npmEcosystem,
  pypi: pypiEcosystem,
  golang: golangEcosystem,
  maven: mavenEcosystem,
  gem: gemEcosystem,
  cargo: cargoEcosystem,
  nuget: nugetEcosystem,
} as const satisfies EcosystemRegistry;

const registry: EcosystemRegistry = ECOSYSTEM_REGISTRY;

/** Every descriptor, in registry order. */
export const ECOSYSTEM_DESCRIPTORS: readonly EcosystemDescriptor[] = Object.values<EcosystemDescriptor>(registry);

export const OS_ECOSYSTEM_DESCRIPTORS: readonly OsEcosystemDescriptor[] = ECOSYSTEM_DESCRIPTORS.filter((d): d is OsEcosystemDescriptor => d.kind === 'os');
export const LANGUAGE_ECOSYSTEM_DESCRIPTORS: readonly LanguageEcosystemDescriptor[] = ECOSYSTEM_DESCRIPTORS.filter((d): d is LanguageEcosystemDescriptor => d.kind === 'language');

/** The descriptor of one ecosystem. */
export function ecosystemDescriptor(ecosystem: Ecosystem): EcosystemDescriptor {
  return registry[ecosystem];
}

/** The language descriptor of an ecosystem; undefined for OS ecosystems. */
export function languageDescriptor(ecosystem: Ecosystem): LanguageEcosystemDescriptor | undefined {
  const d = registry[ecosystem];
  return d.kind === 'language' ? d : undefined;
}

/** True when `value` names an ecosystem (for strings that come from files or databases). */
export function isEcosystem(value: string): value is Ecosystem {
  return (ECOSYSTEMS as readonly string[]).includes(value);
}

/**
 * The OSV ecosystem name of a language ecosystem, which is also the namespace its advisories are
 * matched in (`PyPI`, `crates.io`); undefined for OS ecosystems (matched in the distribution's namespace).
 */
export function languageNamespace(ecosystem: Ecosystem): string | undefined {
  return languageDescriptor(ecosystem)?.osvEcosystem;
}

/** The language ecosystem OSV calls `osvEcosystem` (`PyPI` -> pypi); undefined for any other name. */
export function languageEcosystemOfOsv(osvEcosystem: string): LanguageEcosystemDescriptor | undefined {
  return LANGUAGE_ECOSYSTEM_DESCRIPTORS.find((d) => d.osvEcosystem === osvEcosystem);
}

/** The key a package name is compared and stored by: the ecosystem's normalisation (PEP 503 for PyPI), else the name. */
export function packageNameKey(ecosystem: Ecosystem, name: string): string {
  return registry[ecosystem].normalizeName?.(name) ?? name;
}

/** The version a record's advisories are judged against (see LanguageEcosystemDescriptor.matchVersion). */
export function matchVersionOf(record: Pick<PackageRecord, 'ecosystem' | 'name' | 'version'>): string {
  return languageDescriptor(record.ecosystem)?.matchVersion?.(record) ?? record.version;
}

/** The OS package database detectors, in registry order. */
export const osDetectors: readonly Detector[] = OS_ECOSYSTEM_DESCRIPTORS.flatMap((d) => d.detectors);

/** Every language-package detector, in registry order. Never empty. */
export const languageDetectors: readonly Detector[] = LANGUAGE_ECOSYSTEM_DESCRIPTORS.flatMap((d) => d.detectors);

/** Detectors whose records declare (lockfiles) rather than install, with the install directory beside them. */
export const DECLARING_DETECTORS: ReadonlyMap<string, string> = new Map(LANGUAGE_ECOSYSTEM_DESCRIPTORS.flatMap((d) => (d.installedBeside ? d.installedBeside.declaringDetectors.map((id): [string, string] => [id, d.installedBeside?.installDir ?? '']) : [])));
