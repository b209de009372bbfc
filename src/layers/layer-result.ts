import type { DetectorOutput } from '../detectors/types.js';

/** One file a detector parsed in a layer, and what it found. */
export interface FileResult {
  path: string;
  output: DetectorOutput;
}

/** A link entry at a path some detector wanted (targets are resolved later, in the merged view). */
export interface LinkRecord {
  path: string;
  target: string;
  kind: 'symlink' | 'hardlink';
}

/** What one detector found in one layer: the unit the layer cache stores. */
export interface DetectorLayerResult {
  detector: string;
  version: number;
  files: FileResult[];
  links: LinkRecord[];
}

/** Deletions a layer applies to the layers below it (OCI whiteouts). */
export interface LayerDeletions {
  /** Paths removed by `.wh.<name>` entries. */
  whiteouts: string[];
  /** Directories whose lower contents are hidden by `.wh..wh..opq`. */
  opaqueDirs: string[];
}

/** A regular file, link or special file the layer holds, as detectors' `wants()` sees it. */
export interface IndexedEntry {
  path: string;
  size: number;
  mode: number;
  /** Absent for a regular file. `other` is a FIFO, device or socket (directories are not indexed). */
  type?: 'symlink' | 'hardlink' | 'other';
  /** A link's target as the tar names it (a hardlink's normalized like entry names). */
  target?: string;
}

/** The result of one pass over one layer. */
export interface LayerWalkResult extends LayerDeletions {
  detectors: DetectorLayerResult[];
  /**
   * Every regular file, link and special file of the layer (no bytes), in tar order. Cached so that a
   * new or changed detector can tell, without reading the layer again, that the layer has nothing for
   * it, and so that links at wanted paths can be resolved in the merged filesystem (coalesce).
   */
  index: IndexedEntry[];
  entries: number;
  /** Uncompressed tar bytes read. */
  tarBytes: number;
}
