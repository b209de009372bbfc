import { dpkgDetector } from '../../package-db/dpkg/detector.js';
import { dpkgFileListDetector } from '../../package-db/dpkg/file-list-detector.js';
import type { OsEcosystemDescriptor } from '../descriptor.js';

/** Debian-family packages: the dpkg status database and its per-package file lists. */
export const debEcosystem: OsEcosystemDescriptor<'deb'> = {
  id: 'deb',
  kind: 'os',
  scheme: 'dpkg',
  purlType: 'deb',
  databasePath: 'var/lib/dpkg/status',
  detectors: [dpkgDetector, dpkgFileListDetector],
};
