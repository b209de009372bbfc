import { osReleaseDetector } from '../distro/index.js';
import { languageDetectors } from '../ecosystems/index.js';
import { apkDetector } from '../package-db/apk/detector.js';
import { dpkgDetector } from '../package-db/dpkg/detector.js';
import { dpkgFileListDetector } from '../package-db/dpkg/file-list-detector.js';
import { rpmDetector } from '../package-db/rpm/detector.js';
import type { Detector } from '../detectors/types.js';

/**
 * Detectors whose records declare what a project depends on (lockfiles) rather than what is
 * installed. When both are present the installed record wins (see build-inventory).
 */
export const DECLARING_DETECTORS: ReadonlySet<string> = new Set(['npm-package-lock', 'npm-yarn-lock', 'npm-pnpm-lock']);

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
export const DETECTORS: readonly Detector[] = assertUniqueIds('detectors', [osReleaseDetector, dpkgDetector, dpkgFileListDetector, apkDetector, rpmDetector, ...languageDetectors]);
