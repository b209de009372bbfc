import type { PackageRecord } from '../domain/package.js';
import type { ScanWarning } from '../domain/warning.js';

/** A warning as a package-database parser reports it (the layer walk adds layer and detector). */
export type PackageDbWarning = Omit<ScanWarning, 'layer' | 'detector'>;

/** What a package-database parser returns: the records it could read and why it skipped the others. */
export interface PackageDbResult {
  packages: PackageRecord[];
  warnings: PackageDbWarning[];
}

/**
 * Decodes database text as UTF-8 (what dpkg and apk write). Invalid byte sequences become U+FFFD
 * rather than failing the file: a stray Latin-1 byte in a description must not hide the packages.
 */
export function decodeText(bytes: Uint8Array | string): string {
  if (typeof bytes === 'string') return bytes;
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}
