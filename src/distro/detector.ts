import type { CapturedFile, Detector, DetectorOutput, FileInfo } from '../detectors/types.js';
import { RELEASE_FILE_PATHS, parseReleaseFile } from './release-files.js';

const WANTED = new Set<string>(RELEASE_FILE_PATHS);

/**
 * Release facts from os-release and the legacy release files (RELEASE_FILE_PATHS). Each file yields
 * at most one Distro candidate; the image's distribution is chosen among the candidates of the final
 * filesystem by chooseDistro. A file that names no release yields an empty output.
 */
export const osReleaseDetector: Detector = {
  id: 'os-release',
  version: 1,
  // Release files are a few hundred bytes; anything large is not one.
  maxBytes: 64 * 1024,
  oversize: 'skip',
  wants(file: FileInfo): boolean {
    return WANTED.has(file.path);
  },
  parse(file: CapturedFile): DetectorOutput {
    const distro = parseReleaseFile(file.path, new TextDecoder('utf-8', { fatal: false }).decode(file.bytes));
    return distro ? { distro } : {};
  },
};
