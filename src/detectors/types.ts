import type { Distro } from '../domain/distro.js';
import type { OwnedFiles, PackageRecord, ProjectRecord } from '../domain/package.js';
import type { ScanWarning } from '../domain/warning.js';

/** What the layer walk knows about a file before reading it. */
export interface FileInfo {
  /** Normalized image path: relative, `/`-separated, no `.`/`..` segments, no leading slash. */
  path: string;
  size: number;
  /** Unix permission bits (e.g. 0o755). */
  mode: number;
}

/** A file's bytes, handed to the detector that asked for it. */
export interface CapturedFile extends FileInfo {
  bytes: Buffer;
}

/** What a detector read from one file. Every field may be empty. */
export interface DetectorOutput {
  packages?: PackageRecord[];
  /** Release facts (only distribution detectors fill this). */
  distro?: Distro;
  /** Which OS package installed which files (only OS package-database detectors fill this). */
  ownedFiles?: OwnedFiles[];
  /** The project a lockfile or manifest belongs to (only project detectors fill this). */
  projects?: ProjectRecord[];
  /** Malformed records skipped, with the reason; the rest of the file is kept. */
  warnings?: Omit<ScanWarning, 'layer' | 'detector'>[];
}

/**
 * A detector reads packages (or release facts) out of files it asks for by path. It never sees the
 * tar: the layer walk routes each wanted file's bytes to it, once per layer. Detectors are pure:
 * same bytes in, same output out, which is what makes their results cacheable per layer digest.
 */
export interface Detector {
  /** Stable id, used in cache keys and reports (e.g. `dpkg`, `npm-package-json`). */
  readonly id: string;
  /** Bump when the output for the same bytes changes; cached layer results are then re-computed. */
  readonly version: number;
  /** Decides from path, size and mode alone whether this detector needs the file's bytes. Must be cheap. */
  wants(file: FileInfo): boolean;
  /** Largest file this detector will read. */
  readonly maxBytes: number;
  /** What an oversized wanted file means: a hard error (package databases) or a skip with a warning (binaries). */
  readonly oversize: 'error' | 'skip';
  /** Parses one file. Throwing marks the file as unreadable (a warning), it does not fail the scan. */
  parse(file: CapturedFile): DetectorOutput | Promise<DetectorOutput>;
}
