import { PortcullisError } from '../../domain/errors.js';
import type { Detector, DetectorOutput } from '../../detectors/types.js';
import type { PackageRecord } from '../../domain/package.js';
import { normalizePythonName } from './name.js';

export { normalizePythonName } from './name.js';

/**
 * Parses the RFC 822-style header block of a core-metadata file (METADATA, PKG-INFO): `Key: value`
 * lines, continuation lines starting with whitespace, ending at the first empty line (the
 * description body follows). Keys are returned lower-cased, every value of repeated keys kept.
 */
export function parseMetadataHeaders(text: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  let lastKey: string | undefined;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line === '') break;
    if ((line[0] === ' ' || line[0] === '\t') && lastKey !== undefined) {
      const values = headers.get(lastKey) ?? [];
      values[values.length - 1] = `${values[values.length - 1] ?? ''}\n${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      lastKey = undefined;
      continue;
    }
    lastKey = line.slice(0, colon).trim().toLowerCase();
    const values = headers.get(lastKey) ?? [];
    values.push(line.slice(colon + 1).trim());
    headers.set(lastKey, values);
  }
  return headers;
}

/** Longest free-text `License:` value taken as a licence name; longer ones are licence texts. */
const MAX_LICENSE_NAME = 100;

/**
 * The licence, by preference: `License-Expression` (PEP 639, SPDX), a short one-line `License`
 * field, the `License ::` trove classifiers (last element of each, joined by ", "), else undefined.
 */
export function pythonLicense(headers: Map<string, string[]>): string | undefined {
  const expr = headers.get('license-expression')?.[0];
  if (expr !== undefined && expr !== '') return expr;
  const free = headers.get('license')?.[0];
  const freeUsable = free !== undefined && free !== '' && free.toUpperCase() !== 'UNKNOWN' && !free.includes('\n') && free.length <= MAX_LICENSE_NAME;
  if (freeUsable) return free;
  const classifiers = (headers.get('classifier') ?? [])
    .filter((c) => c.startsWith('License ::'))
    .map((c) => c.split('::').pop()?.trim() ?? '')
    .filter((c) => c !== '');
  if (classifiers.length > 0) return classifiers.join(', ');
  return undefined;
}

/** Where Debian's python3-* packages install; pip's own installs go to /usr/local instead. */
const DEBIAN_DIST_PACKAGES = /^usr\/lib\/python3(\.\d+)?\/dist-packages\//;

/**
 * Reads one installed distribution's core metadata. The record's `name` is the PEP 503 normalized
 * name (what feeds key on); the name as written is kept in `attributes.displayName`.
 * Returns a warning and no record when Name or Version is missing. Throws (E_INPUT,
 * "pypi-metadata: ...") for files that are not text metadata at all (binary garbage).
 */
export function parsePythonMetadata(path: string, bytes: Buffer): DetectorOutput {
  if (bytes.includes(0)) throw new PortcullisError('E_INPUT', `pypi-metadata: ${path} is binary, not a metadata file`, { path });
  const headers = parseMetadataHeaders(bytes.toString('utf8').replace(/^\uFEFF/, ''));
  const displayName = headers.get('name')?.[0];
  const version = headers.get('version')?.[0];
  if (displayName === undefined || displayName === '' || version === undefined || version === '') {
    return { warnings: [{ code: 'malformed-record', message: `pypi-metadata: ${path} has no Name or Version`, path }] };
  }
  const attributes: Record<string, string> = { displayName };
  if (DEBIAN_DIST_PACKAGES.test(path)) attributes['distroPackaged'] = 'debian';
  const rec: PackageRecord = { ecosystem: 'pypi', name: normalizePythonName(displayName), version, path, attributes };
  const license = pythonLicense(headers);
  if (license !== undefined) rec.license = license;
  return { packages: [rec] };
}

const METADATA_PATH = /(^|\/)[^/]+\.(dist-info\/METADATA|egg-info\/PKG-INFO|egg-info)$/;

/**
 * Installed Python distributions anywhere in the image (site-packages, Debian's dist-packages,
 * virtualenvs): `*.dist-info/METADATA` (wheels), `*.egg-info/PKG-INFO` and single-file
 * `*.egg-info` (setuptools, Debian's python3-* packages).
 */
export const pythonMetadataDetector: Detector = {
  id: 'pypi-metadata',
  version: 1,
  maxBytes: 8 * 1024 * 1024,
  oversize: 'skip',
  wants: (file) => METADATA_PATH.test(file.path),
  parse: (file) => parsePythonMetadata(file.path, file.bytes),
};
