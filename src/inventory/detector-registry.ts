import { osReleaseDetector } from '../distro/index.js';
import { DECLARING_DETECTORS as DECLARING, languageDetectors, osDetectors } from '../ecosystems/registry.js';
import type { Detector } from '../detectors/types.js';

/**
 * Detectors whose records declare what a project depends on (lockfiles) rather than what is
 * installed, each with the directory beside the lockfile its ecosystem installs into. When both are
 * present the installed record wins (see build-inventory). From the ecosystems' descriptors.
 */
export const DECLARING_DETECTORS: ReadonlyMap<string, string> = DECLARING;

/** Checks a plugin list for duplicate ids (at start-up, so a clash never reaches a cache key). */
export function assertUniqueIds<T extends { id: string }>(family: string, plugins: readonly T[]): readonly T[] {
  const seen = new Set<string>();
  for (const p of plugins) {
    if (seen.has(p.id)) throw new Error(`${family}: duplicate id ${p.id}`);
    seen.add(p.id);
  }
  return plugins;
}

/** Every detector, in one explicit list: release files, OS package databases, then language ecosystems. */
export const DETECTORS: readonly Detector[] = assertUniqueIds('detectors', [osReleaseDetector, ...osDetectors, ...languageDetectors]);
