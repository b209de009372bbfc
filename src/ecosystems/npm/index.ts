import type { LanguageEcosystemDescriptor } from '../descriptor.js';
import { buildPurl, splitLast } from '../purl-builder.js';
import { npmPackageJsonDetector } from './package-json-detector.js';
import { npmLockfileDetector } from './package-lock-detector.js';
import { npmProjectManifestDetector } from './project-manifest-detector.js';
import { pnpmLockDetector, yarnLockDetector } from './yarn-pnpm-lock-detectors.js';

export const npmEcosystem: LanguageEcosystemDescriptor<'npm'> = {
  id: 'npm',
  kind: 'language',
  scheme: 'npm',
  purlType: 'npm',
  purlNamespaceSeparator: '/',
  osvEcosystem: 'npm',
  osvFetchedByDefault: true,
  detectors: [npmLockfileDetector, npmPackageJsonDetector, yarnLockDetector, pnpmLockDetector, npmProjectManifestDetector],
  /** `pkg:npm/%40scope/name@1.0.0`: the scope is the namespace (`@` encoded, lower-cased). */
  purl: ({ name, version }) => {
    const [scope, base] = name.startsWith('@') ? splitLast(name) : [undefined, name];
    return buildPurl('npm', scope, base, version);
  },
  installedBeside: { declaringDetectors: [npmLockfileDetector.id, yarnLockDetector.id, pnpmLockDetector.id], installDir: 'node_modules' },
};
