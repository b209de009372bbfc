import type { LanguageEcosystemDescriptor } from '../descriptor.js';
import { buildPurl } from '../purl-builder.js';
import { nugetDepsJsonDetector, nugetNuspecDetector, nugetPackagesLockDetector } from './detectors.js';

/** NuGet packages of .NET applications. */
export const nugetEcosystem: LanguageEcosystemDescriptor<'nuget'> = {
  id: 'nuget',
  kind: 'language',
  scheme: 'nuget',
  purlType: 'nuget',
  osvEcosystem: 'NuGet',
  osvFetchedByDefault: true,
  detectors: [nugetDepsJsonDetector, nugetPackagesLockDetector, nugetNuspecDetector],
  // Package ids are case-insensitive (nuget.org treats `Newtonsoft.Json` and `newtonsoft.json` as one).
  normalizeName: (name) => name.trim().toLowerCase(),
  purl: ({ name, version }) => buildPurl('nuget', undefined, name, version),
};
