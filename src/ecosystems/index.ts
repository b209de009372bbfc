import type { Detector } from '../detectors/types.js';
import { cargoAuditableDetector } from './cargo/auditable-detector.js';
import { cargoLockDetector } from './cargo/cargo-lock-detector.js';
import { gemspecDetector } from './gem/gemspec-detector.js';
import { goBinaryDetector } from './golang/go-binary-detector.js';
import { javaArchiveDetector } from './maven/java-archive-detector.js';
import { npmPackageJsonDetector } from './npm/package-json-detector.js';
import { npmLockfileDetector } from './npm/package-lock-detector.js';
import { npmProjectManifestDetector } from './npm/project-manifest-detector.js';
import { pnpmLockDetector, yarnLockDetector } from './npm/yarn-pnpm-lock-detectors.js';
import { pythonMetadataDetector } from './pypi/metadata-detector.js';

export { cargoAuditableDetector } from './cargo/auditable-detector.js';
export { cargoLockDetector } from './cargo/cargo-lock-detector.js';
export { gemspecDetector } from './gem/gemspec-detector.js';
export { goBinaryDetector } from './golang/go-binary-detector.js';
export { javaArchiveDetector } from './maven/java-archive-detector.js';
export { npmPackageJsonDetector } from './npm/package-json-detector.js';
export { npmLockfileDetector } from './npm/package-lock-detector.js';
export { npmProjectManifestDetector } from './npm/project-manifest-detector.js';
export { pnpmLockDetector, yarnLockDetector } from './npm/yarn-pnpm-lock-detectors.js';
export { pythonMetadataDetector } from './pypi/metadata-detector.js';
export { languagePurl } from './purl.js';

/**
 * Every language-package detector, in a fixed order (the registry of this plugin family; the
 * caller rejects duplicate ids at start-up). Never empty.
 */
export const languageDetectors: readonly Detector[] = [
  npmLockfileDetector,
  npmPackageJsonDetector,
  yarnLockDetector,
  pnpmLockDetector,
  npmProjectManifestDetector,
  pythonMetadataDetector,
  goBinaryDetector,
  javaArchiveDetector,
  gemspecDetector,
  cargoLockDetector,
  cargoAuditableDetector,
];
