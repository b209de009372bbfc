import { rpmDetector } from '../../package-db/rpm/detector.js';
import type { OsEcosystemDescriptor } from '../descriptor.js';

/** Red Hat-family and SUSE packages: the rpm database (sqlite, bdb or ndb). */
export const rpmEcosystem: OsEcosystemDescriptor<'rpm'> = {
  id: 'rpm',
  kind: 'os',
  scheme: 'rpm',
  purlType: 'rpm',
  databasePath: 'var/lib/rpm',
  detectors: [rpmDetector],
};
