import type { CapturedFile, Detector, DetectorOutput, FileInfo } from '../../detectors/types.js';
import { parseDpkgStatus } from './dpkg-status.js';

const STATUS_PATH = 'var/lib/dpkg/status';
const STATUS_D_PREFIX = 'var/lib/dpkg/status.d/';

/** True for distroless one-file-per-package entries (`status.d/<pkg>`), not their `.md5sums` siblings. */
function isStatusDEntry(path: string): boolean {
  if (!path.startsWith(STATUS_D_PREFIX)) return false;
  const name = path.slice(STATUS_D_PREFIX.length);
  return name !== '' && !name.includes('/') && !name.endsWith('.md5sums') && !name.startsWith('.');
}

/**
 * Debian/Ubuntu packages from dpkg's database: the classic `var/lib/dpkg/status`, and the distroless
 * layout where each package is one file under `var/lib/dpkg/status.d/` (its `.md5sums` siblings are
 * not wanted). Which dpkg states count as installed: see DPKG_PRESENT_STATES. A status.d file without
 * a Status field is an installed package. Emits no packages for a status file with no installed package.
 */
export const dpkgDetector: Detector = {
  id: 'dpkg',
  version: 1,
  // A full Debian desktop's status file is a few MiB; 64 MiB leaves room without reading anything absurd.
  maxBytes: 64 * 1024 * 1024,
  oversize: 'error',
  wants(file: FileInfo): boolean {
    return file.path === STATUS_PATH || isStatusDEntry(file.path);
  },
  parse(file: CapturedFile): DetectorOutput {
    const distroless = file.path !== STATUS_PATH;
    const { packages, warnings } = parseDpkgStatus(file.bytes, file.path, { missingStatusMeansInstalled: distroless });
    return { packages, warnings };
  },
};
