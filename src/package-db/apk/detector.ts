import type { CapturedFile, Detector, DetectorOutput, FileInfo } from '../../detectors/types.js';
import { parseApkInstalled } from './apk-installed.js';

/** Where apk-tools keeps its installed database (usr/lib/... on roots where apk follows the /usr merge). */
const APK_DB_PATHS = new Set(['lib/apk/db/installed', 'usr/lib/apk/db/installed']);

/**
 * Alpine, Wolfi and other apk-based packages from apk's installed database, with the files each
 * installed (`ownedFiles`, joined with language packages at inventory time). Emits no packages for
 * an empty database.
 */
export const apkDetector: Detector = {
  id: 'apk',
  version: 2,
  // The database lists every installed file; even large images stay well under 64 MiB.
  maxBytes: 64 * 1024 * 1024,
  oversize: 'error',
  wants(file: FileInfo): boolean {
    return APK_DB_PATHS.has(file.path);
  },
  parse(file: CapturedFile): DetectorOutput {
    const { packages, warnings, ownedFiles } = parseApkInstalled(file.bytes, file.path);
    return { packages, warnings, ...(ownedFiles.length > 0 ? { ownedFiles } : {}) };
  },
};
