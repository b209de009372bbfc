/**
 * Largest executable the binary detectors read. The walk holds the whole file in memory while
 * detectors look at it; 256 MiB covers the big programs seen in images (kubelet, terraform
 * providers ~100-200 MiB) while bounding what one hostile file can cost. Larger files are skipped
 * with a warning.
 */
export const BINARY_MAX_BYTES = 256 * 1024 * 1024;

/** Smallest file that can hold an executable header; anything smaller is not worth reading. */
const MIN_EXECUTABLE_BYTES = 64;

/**
 * True for regular files with any execute bit that are big enough to be executables. Size caps
 * are left to the walk so that an oversized binary is reported, not silently ignored.
 */
export function wantsExecutable(file: { mode: number; size: number }): boolean {
  return (file.mode & 0o111) !== 0 && file.size >= MIN_EXECUTABLE_BYTES;
}
