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
 * The lines of a database's text, split at `\n`, one at a time: bytes are decoded line by line as
 * UTF-8 (what dpkg and apk write), so a 200,000-record database is never one string plus an array
 * of all its lines. Invalid byte sequences become U+FFFD rather than failing the file (a stray
 * Latin-1 byte in a description must not hide the packages); a leading byte-order mark is dropped.
 */
export function* textLines(text: Uint8Array | string): Generator<string> {
  let first = true;
  for (const line of splitLines(text)) {
    yield first && line.startsWith('\uFEFF') ? line.slice(1) : line;
    first = false;
  }
}

function* splitLines(text: Uint8Array | string): Generator<string> {
  if (typeof text === 'string') {
    let start = 0;
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
      yield text.slice(start, end);
      start = end + 1;
    }
    yield text.slice(start);
    return;
  }
  const bytes = Buffer.from(text.buffer, text.byteOffset, text.byteLength);
  let start = 0;
  for (let end = bytes.indexOf(0x0a); end >= 0; end = bytes.indexOf(0x0a, start)) {
    yield bytes.toString('utf8', start, end);
    start = end + 1;
  }
  yield bytes.toString('utf8', start);
}
