import type { CapturedFile, Detector, DetectorOutput, FileInfo } from '../../detectors/types.js';
import { textLines } from '../common.js';
import { ownedImagePath } from '../owned-paths.js';

const INFO_DIR = 'var/lib/dpkg/info/';
const LIST_SUFFIX = '.list';

/**
 * The package (and, for `Multi-Arch: same` packages, the architecture) a dpkg file list belongs
 * to: `info/<package>.list` or `info/<package>:<arch>.list`. Undefined for anything else in `info/`.
 */
export function dpkgListOwner(path: string): { name: string; arch?: string } | undefined {
  if (!path.startsWith(INFO_DIR) || !path.endsWith(LIST_SUFFIX)) return undefined;
  const stem = path.slice(INFO_DIR.length, -LIST_SUFFIX.length);
  if (stem === '' || stem.includes('/') || stem.startsWith('.')) return undefined;
  const colon = stem.indexOf(':');
  if (colon < 0) return { name: stem };
  const name = stem.slice(0, colon);
  const arch = stem.slice(colon + 1);
  return name === '' || arch === '' ? undefined : { name, arch };
}

/**
 * Parses one dpkg file list (one absolute path per line, directories included, as dpkg wrote them
 * when it unpacked the package) into image paths. Lines that are no path inside the root are dropped.
 */
export function parseDpkgFileList(bytes: Uint8Array | string): string[] {
  const files: string[] = [];
  for (const line of textLines(bytes)) {
    const path = ownedImagePath(line.endsWith('\r') ? line.slice(0, -1) : line);
    if (path !== undefined) files.push(path);
  }
  return files;
}

/**
 * Which files each dpkg package installed, from dpkg's own lists (`var/lib/dpkg/info/<pkg>[:arch].list`).
 * Emits no packages: inventory building joins these lists with the `dpkg` detector's packages to
 * name the OS package that owns a language package (a Debian `python3-requests` holding
 * `requests-2.28.1.egg-info`). A list whose package is no longer installed joins nothing.
 */
export const dpkgFileListDetector: Detector = {
  id: 'dpkg-file-lists',
  version: 1,
  // The largest lists (texlive, linux-image) are a few MiB.
  maxBytes: 32 * 1024 * 1024,
  // Ownership is a refinement: an absurd list is skipped with a warning, the scan goes on.
  oversize: 'skip',
  wants(file: FileInfo): boolean {
    return dpkgListOwner(file.path) !== undefined;
  },
  parse(file: CapturedFile): DetectorOutput {
    const owner = dpkgListOwner(file.path);
    if (owner === undefined) return {};
    return { ownedFiles: [{ ecosystem: 'deb', ...owner, files: parseDpkgFileList(file.bytes) }] };
  },
};
