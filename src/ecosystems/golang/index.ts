import type { LanguageEcosystemDescriptor } from '../descriptor.js';
import { buildPurl, splitLast } from '../purl-builder.js';
import { goBinaryDetector, goVersionToSemver } from './go-binary-detector.js';

export const golangEcosystem: LanguageEcosystemDescriptor<'golang'> = {
  id: 'golang',
  kind: 'language',
  scheme: 'go',
  purlType: 'golang',
  purlNamespaceSeparator: '/',
  osvEcosystem: 'Go',
  osvFetchedByDefault: true,
  detectors: [goBinaryDetector],
  /** `pkg:golang/github.com/a/b@v1.2.3` (module path split at its last `/`); the toolchain is `pkg:golang/stdlib@v1.21.5`. */
  purl: ({ name, version }) => {
    const [namespace, base] = splitLast(name);
    return buildPurl('golang', namespace, base, version);
  },
  // The Go vulnerability data names the toolchain as module `stdlib` in semver (`v1.19.8`); an
  // inventory may carry the toolchain's own spelling (`go1.19.8`, from an SBOM).
  matchVersion: ({ name, version }) => (name === 'stdlib' && /^go\d/.test(version) ? (goVersionToSemver(version) ?? version) : version),
};
