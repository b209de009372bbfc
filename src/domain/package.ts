/**
 * Package records: what a detector reads from one file, before the image-level view (layers,
 * distribution, purl) is known.
 */

/** Package kinds, named after their purl type. */
export const ECOSYSTEMS = ['deb', 'apk', 'rpm', 'npm', 'pypi', 'golang', 'maven', 'gem', 'cargo'] as const;
export type Ecosystem = (typeof ECOSYSTEMS)[number];

export interface PackageRecord {
  ecosystem: Ecosystem;
  name: string;
  /**
   * The version as the ecosystem's version scheme compares it: dpkg `[epoch:]upstream[-revision]`,
   * rpm `[epoch:]version-release`, apk `1.2.3-r4`, Go `v1.2.3` (stdlib too: `go1.21.5` becomes `v1.21.5`, the raw toolchain string kept in attributes.toolchain), others as written.
   */
  version: string;
  /** Source package (dpkg Source, apk origin, rpm source rpm name). */
  sourceName?: string;
  sourceVersion?: string;
  arch?: string;
  /** rpm only: the pieces of `version`, kept for display and purl. */
  epoch?: number;
  /** rpm module stream label (`name:stream:version:context`). */
  modularityLabel?: string;
  license?: string;
  /** Image path (no leading slash) of the file this record was read from. */
  path: string;
  /** Ecosystem-specific facts worth keeping (e.g. Go `main`/`stdlib` role, Maven groupId). */
  attributes?: Record<string, string>;
}

/** A package in the image-level inventory: a record placed in its layer and given a purl. */
export interface InventoryPackage extends PackageRecord {
  purl: string;
  /** Digest of the layer that introduced this exact package version. */
  layer: string;
  layerIndex: number;
}
