import type { LanguageEcosystemDescriptor } from '../descriptor.js';
import { buildPurl } from '../purl-builder.js';
import { cargoAuditableDetector } from './auditable-detector.js';
import { cargoLockDetector } from './cargo-lock-detector.js';

export const cargoEcosystem: LanguageEcosystemDescriptor<'cargo'> = {
  id: 'cargo',
  kind: 'language',
  scheme: 'cargo',
  purlType: 'cargo',
  osvEcosystem: 'crates.io',
  osvFetchedByDefault: true,
  detectors: [cargoLockDetector, cargoAuditableDetector],
  purl: ({ name, version }) => buildPurl('cargo', undefined, name, version),
};
