import { apkDetector } from '../../package-db/apk/detector.js';
import type { OsEcosystemDescriptor } from '../descriptor.js';

/** Alpine-family packages (Alpine, Wolfi, Chainguard): the apk installed database. */
export const apkEcosystem: OsEcosystemDescriptor<'apk'> = {
  id: 'apk',
  kind: 'os',
  scheme: 'apk',
  purlType: 'apk',
  databasePath: 'lib/apk/db/installed',
  detectors: [apkDetector],
};
