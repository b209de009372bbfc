import type { LanguageEcosystemDescriptor } from '../descriptor.js';
import { buildPurl } from '../purl-builder.js';
import { gemspecDetector } from './gemspec-detector.js';

export const gemEcosystem: LanguageEcosystemDescriptor<'gem'> = {
  id: 'gem',
  kind: 'language',
  scheme: 'gem',
  purlType: 'gem',
  osvEcosystem: 'RubyGems',
  osvFetchedByDefault: true,
  detectors: [gemspecDetector],
  /** `pkg:gem/name@1.0`, with `?platform=` when the spec names one. */
  purl: ({ name, version, attributes }) => {
    const platform = attributes?.['platform'];
    return buildPurl('gem', undefined, name, version, platform === undefined || platform === '' ? undefined : { platform });
  },
};
