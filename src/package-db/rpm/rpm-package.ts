import { PortcullisError } from '../../domain/errors.js';
import type { PackageRecord } from '../../domain/package.js';
import { ownedImagePath } from '../owned-paths.js';
import { RPMTAG, headerInt32, headerInt32Array, headerString, headerStringArray, parseRpmHeader, type RpmHeader } from './header.js';

/**
 * Names that `rpm -qa` lists but that are not software: `gpg-pubkey` entries are the signing keys
 * `rpm --import` stored as pseudo-packages (no arch, no source rpm, version = key id). They carry no
 * code and no feed speaks of them, so they are left out of the inventory. Compare with
 * `rpm -qa | grep -v '^gpg-pubkey-'`.
 */
export const RPM_PSEUDO_PACKAGES: readonly string[] = ['gpg-pubkey'];

/**
 * Splits a source rpm file name (`openssl-3.0.7-27.el9.src.rpm`, or `.nosrc.rpm`) into name and
 * `version-release`. Undefined when the name does not have that shape.
 */
export function splitSourceRpm(sourceRpm: string): { name: string; versionRelease: string } | undefined {
  const m = /^(.+)-([^-]+)-([^-]+)\.(?:no)?src\.rpm$/.exec(sourceRpm);
  if (!m?.[1] || !m[2] || !m[3]) return undefined;
  return { name: m[1], versionRelease: `${m[2]}-${m[3]}` };
}

/**
 * Turns one header blob from an rpm database into a package record, or undefined for a pseudo
 * package (see RPM_PSEUDO_PACKAGES). `version` is `[epoch:]version-release`, with the epoch written
 * whenever the header has an EPOCH tag (as rpm's own %{EVR} does); `epoch` holds it as a number.
 * `sourceName`/`sourceVersion` come from the SOURCERPM file name; that name carries no epoch, and rpm
 * gives every subpackage the epoch of the spec it was built from, so the binary epoch is prefixed.
 * Throws a PortcullisError (E_INPUT, `rpm: ...`) for a corrupt blob or one without name, version or release.
 */
export function rpmHeaderToRecord(blob: Uint8Array, path: string): PackageRecord | undefined {
  return recordOf(parseRpmHeader(blob), path);
}

/**
 * rpmHeaderToRecord, with the files the package installed (image paths, as `rpm -ql` lists them:
 * DIRNAMES[DIRINDEXES[i]] + BASENAMES[i], or the OLDFILENAMES of old headers). A file list that
 * cannot be read costs the list, not the package: `files` is then empty and `filesError` says why.
 */
export function rpmHeaderToPackage(blob: Uint8Array, path: string): { record: PackageRecord; files: string[]; filesError?: string } | undefined {
  const header = parseRpmHeader(blob);
  const record = recordOf(header, path);
  if (record === undefined) return undefined;
  try {
    return { record, files: rpmHeaderFiles(header) };
  } catch (err) {
    return { record, files: [], filesError: err instanceof Error ? err.message.replace(/^rpm: /, '') : String(err) };
  }
}

/** The header's file list as image paths (see rpmHeaderToPackage). Throws on a damaged list. */
export function rpmHeaderFiles(header: RpmHeader): string[] {
  const basenames = headerStringArray(header, RPMTAG.BASENAMES);
  const listed: string[] = [];
  if (basenames !== undefined) {
    const dirnames = headerStringArray(header, RPMTAG.DIRNAMES) ?? [];
    const dirindexes = headerInt32Array(header, RPMTAG.DIRINDEXES) ?? [];
    if (dirindexes.length !== basenames.length) throw new PortcullisError('E_INPUT', `rpm: ${basenames.length} BASENAMES but ${dirindexes.length} DIRINDEXES`);
    basenames.forEach((base, i) => {
      const dir = dirnames[dirindexes[i] ?? -1];
      if (dir === undefined) throw new PortcullisError('E_INPUT', `rpm: DIRINDEXES[${i}] points past the ${dirnames.length} DIRNAMES`);
      listed.push(`${dir}${base}`);
    });
  } else {
    listed.push(...(headerStringArray(header, RPMTAG.OLDFILENAMES) ?? []));
  }
  return listed.flatMap((p) => {
    const image = ownedImagePath(p);
    return image === undefined ? [] : [image];
  });
}

function recordOf(header: RpmHeader, path: string): PackageRecord | undefined {
  const name = headerString(header, RPMTAG.NAME);
  const version = headerString(header, RPMTAG.VERSION);
  const release = headerString(header, RPMTAG.RELEASE);
  if (!name || version === undefined || release === undefined) {
    throw new PortcullisError('E_INPUT', `rpm: header without ${!name ? 'NAME' : version === undefined ? 'VERSION' : 'RELEASE'}`);
  }
  if (RPM_PSEUDO_PACKAGES.includes(name)) return undefined;

  const epoch = headerInt32(header, RPMTAG.EPOCH);
  const epochPrefix = epoch === undefined ? '' : `${epoch}:`;
  const record: PackageRecord = { ecosystem: 'rpm', name, version: `${epochPrefix}${version}-${release}`, path };
  if (epoch !== undefined) record.epoch = epoch;

  const arch = headerString(header, RPMTAG.ARCH);
  if (arch) record.arch = arch;

  const sourceRpm = headerString(header, RPMTAG.SOURCERPM);
  const source = sourceRpm ? splitSourceRpm(sourceRpm) : undefined;
  if (sourceRpm && source) {
    record.sourceName = source.name;
    record.sourceVersion = `${epochPrefix}${source.versionRelease}`;
  }
  if (sourceRpm) record.attributes = { sourceRpm };

  const license = headerString(header, RPMTAG.LICENSE);
  if (license) record.license = license;
  const modularityLabel = headerString(header, RPMTAG.MODULARITYLABEL);
  if (modularityLabel) record.modularityLabel = modularityLabel;
  return record;
}
