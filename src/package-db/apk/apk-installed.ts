import type { OwnedFiles, PackageRecord } from '../../domain/package.js';
import { textLines, type PackageDbResult, type PackageDbWarning } from '../common.js';
import { ownedImagePath } from '../owned-paths.js';

/** apk's database read: its packages, and the files each of them installed (`F:` folder + `R:` file lines). */
export interface ApkInstalledResult extends PackageDbResult {
  ownedFiles: OwnedFiles[];
}

/**
 * Parses apk's installed database (`lib/apk/db/installed`) into `apk` package records.
 *
 * The format is apk-tools' own: one record per package, records separated by a blank line, each line
 * `X:value` with a one-letter field key. Used here: `P` name, `V` version, `A` architecture, `o`
 * origin (the aports source package, which shares the version), `L` licence, and the file list:
 * each `R:` file lies in the folder of the `F:` line before it. Every other key
 * (checksums, dependencies, the Z/a/M file attributes, ...) is read past without interpretation, so new
 * or unknown keys cannot break parsing. Hand-written because it is ten lines of logic and no npm
 * package reads this file.
 *
 * A record without P or V is skipped with a warning; a line that is not `X:value` is ignored with a
 * warning; the rest of the file is kept. CRLF line ends are tolerated. Returns no packages for an
 * empty database (a freshly created root).
 */
export function parseApkInstalled(bytes: Uint8Array | string, path: string): ApkInstalledResult {
  const packages: PackageRecord[] = [];
  const warnings: PackageDbWarning[] = [];
  const ownedFiles: OwnedFiles[] = [];

  let fields = new Map<string, string>();
  let files: string[] = [];
  let folder = '';
  let startLine = 0;
  const flush = (): void => {
    if (fields.size > 0) {
      const record = toRecord(fields, path, startLine, warnings);
      if (record) {
        packages.push(record);
        if (files.length > 0) ownedFiles.push({ ecosystem: 'apk', name: record.name, version: record.version, ...(record.arch ? { arch: record.arch } : {}), files });
      }
    }
    fields = new Map();
    files = [];
    folder = '';
  };

  // Line by line: only the current record is held (see textLines).
  let i = -1;
  for (const raw of textLines(bytes)) {
    i += 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') {
      flush();
      continue;
    }
    if (fields.size === 0) startLine = i + 1;
    if (line.length < 2 || line[1] !== ':') {
      warnings.push({ code: 'apk-malformed-line', message: `apk: ${path} line ${i + 1}: not a 'X:value' line; ignored`, path });
      continue;
    }
    const key = line[0] ?? '';
    if (key === 'F') {
      folder = line.slice(2);
      const dir = ownedImagePath(folder);
      if (dir !== undefined) files.push(dir);
    } else if (key === 'R') {
      const file = ownedImagePath(`${folder}/${line.slice(2)}`);
      if (file !== undefined) files.push(file);
    }
    // Per-package keys appear once; the file-list keys repeat, and only the first of each is kept.
    if (!fields.has(key)) fields.set(key, line.slice(2));
  }
  flush();
  return { packages, warnings, ownedFiles };
}

function toRecord(fields: Map<string, string>, path: string, line: number, warnings: PackageDbWarning[]): PackageRecord | undefined {
  const name = fields.get('P')?.trim();
  const version = fields.get('V')?.trim();
  if (!name || !version || /\s/.test(version)) {
    const what = !name ? 'no package name (P:)' : !version ? `package '${name}' has no version (V:)` : `package '${name}' has an invalid version '${version}'`;
    warnings.push({ code: 'apk-malformed-record', message: `apk: ${path} line ${line}: ${what}; record skipped`, path });
    return undefined;
  }
  const record: PackageRecord = {
    ecosystem: 'apk',
    name,
    version,
    // aports builds every subpackage from its origin's APKBUILD, so they share pkgver-pkgrel.
    sourceName: fields.get('o')?.trim() || name,
    sourceVersion: version,
    path,
  };
  const arch = fields.get('A')?.trim();
  if (arch) record.arch = arch;
  const license = fields.get('L')?.trim();
  if (license) record.license = license;
  return record;
}
