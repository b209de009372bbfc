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

export { ECOSYSTEM_REGISTRY, ECOSYSTEM_DESCRIPTORS, ecosystemDescriptor, languageDescriptor, languageDetectors, osDetectors } from './registry.js';
export type { EcosystemDescriptor, LanguageEcosystemDescriptor, OsEcosystemDescriptor } from './descriptor.js';
