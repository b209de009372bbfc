import type { LanguageEcosystemDescriptor } from '../descriptor.js';
import { buildPurl } from '../purl-builder.js';
import { pythonMetadataDetector } from './metadata-detector.js';
import { normalizePythonName } from './name.js';

export const pypiEcosystem: LanguageEcosystemDescriptor<'pypi'> = {
  id: 'pypi',
  kind: 'language',
  scheme: 'pep440',
  purlType: 'pypi',
  osvEcosystem: 'PyPI',
  osvFetchedByDefault: true,
  detectors: [pythonMetadataDetector],
  normalizeName: normalizePythonName,
  /** `pkg:pypi/zope.interface@5.4.0` from `attributes.displayName` (packageurl-js lower-cases, `_` -> `-`). */
  purl: (record) => buildPurl('pypi', undefined, record.attributes?.['displayName'] ?? record.name, record.version),
};
