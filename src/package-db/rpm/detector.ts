import type { CapturedFile, Detector, DetectorOutput, FileInfo } from '../../detectors/types.js';
import { parseRpmDatabase } from './rpm-db.js';

/**
 * rpm database locations: var/lib/rpm (classic) and usr/lib/sysimage/rpm (Fedora >= 36, openSUSE,
 * SLE 15; there var/lib/rpm is a symlink). Packages = Berkeley DB, Packages.db = ndb, rpmdb.sqlite = SQLite.
 */
const RPM_DB_DIRS = ['var/lib/rpm/', 'usr/lib/sysimage/rpm/'];
const RPM_DB_FILES = new Set(['Packages', 'Packages.db', 'rpmdb.sqlite']);

/**
 * RHEL/UBI, CentOS, Rocky, Alma, Fedora, Amazon Linux, SUSE, Mariner... packages from the rpm database,
 * whatever its storage format, with the files each installed (`ownedFiles`). `gpg-pubkey` entries are not packages and are left out. Emits no packages
 * for an empty database; a file that is no rpm database at all makes parse throw (a per-file warning).
 */
export const rpmDetector: Detector = {
  id: 'rpm',
  version: 2,
  // Databases of large hosts reach a few hundred MiB (file lists, changelogs are in every header).
  maxBytes: 256 * 1024 * 1024,
  oversize: 'error',
  wants(file: FileInfo): boolean {
    for (const dir of RPM_DB_DIRS) {
      if (file.path.startsWith(dir)) return RPM_DB_FILES.has(file.path.slice(dir.length));
    }
    return false;
  },
  parse(file: CapturedFile): DetectorOutput {
    const { packages, warnings, ownedFiles } = parseRpmDatabase(file.bytes, file.path);
    return { packages, warnings, ...(ownedFiles.length > 0 ? { ownedFiles } : {}) };
  },
};
