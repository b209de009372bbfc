import type { LanguageEcosystemDescriptor } from '../descriptor.js';
import { buildPurl } from '../purl-builder.js';
import { javaArchiveDetector } from './java-archive-detector.js';

export const mavenEcosystem: LanguageEcosystemDescriptor<'maven'> = {
  id: 'maven',
  kind: 'language',
  scheme: 'maven',
  purlType: 'maven',
  purlNamespaceSeparator: ':',
  osvEcosystem: 'Maven',
  osvFetchedByDefault: true,
  detectors: [javaArchiveDetector],
  /**
   * `pkg:maven/group/artifact@1.0` (`name` is `group:artifact`). A Maven purl needs a group; an
   * archive identified without one (manifest or file name only) gets `pkg:generic/artifact@1.0`,
   * a valid purl that claims no Maven coordinates.
   */
  purl: ({ name, version }) => {
    const colon = name.indexOf(':');
    if (colon === -1) return buildPurl('generic', undefined, name, version);
    return buildPurl('maven', name.slice(0, colon), name.slice(colon + 1), version);
  },
};
