import type { PackageRecord } from '../../domain/package.js';
import type { PackageDbResult, PackageDbWarning } from '../common.js';
import { controlStanzas, type ControlStanza } from './control.js';

/**
 * The dpkg package states (third word of `Status:`) whose package is reported as present.
 *
 * `dpkg-query -W` lists every package whose state is not `not-installed`; of those we drop only
 * `config-files` (the package was removed, only its conffiles remain, so none of its code is in the
 * image). Kept: `installed`, and the transitional states of an interrupted or pending dpkg run
 * (`half-installed`, `unpacked`, `half-configured`, `triggers-awaited`, `triggers-pending`), whose
 * files are on disk and therefore can be vulnerable. The want flag (install/hold/deinstall/purge) and
 * the error flag (ok/reinstreq) do not matter: a package marked for removal is still installed.
 */
export const DPKG_PRESENT_STATES = [
  'installed',
  'half-installed',
  'unpacked',
  'half-configured',
  'triggers-awaited',
  'triggers-pending',
] as const;

/** States dpkg knows but that we do not report (the package's files are not in the image). */
export const DPKG_ABSENT_STATES = ['not-installed', 'config-files'] as const;

const PRESENT = new Set<string>(DPKG_PRESENT_STATES);
const ABSENT = new Set<string>(DPKG_ABSENT_STATES);

export interface DpkgParseOptions {
  /**
   * What a stanza without a `Status:` field means. In `var/lib/dpkg/status` dpkg reads it as
   * `not-installed` (dpkg-query does not list it); distroless `status.d/*` files carry no Status at
   * all and every file is an installed package. Default false (the status-file reading).
   */
  missingStatusMeansInstalled?: boolean;
}

/**
 * Parses a dpkg status database (`var/lib/dpkg/status`, or one distroless `status.d/<pkg>` file) into
 * `deb` package records, one per stanza whose state is in {@link DPKG_PRESENT_STATES}.
 *
 * `sourceName`/`sourceVersion` come from `Source: name (version)`; without a version there the
 * binary version is the source version, and without `Source:` the binary package is its own source.
 * A stanza lacking Package or Version, with an unknown Status, or with a version dpkg itself rejects
 * (see {@link dpkgVersionError}) is skipped with a warning and the rest of the file is kept. Versions
 * dpkg only warns about (not starting with a digit, odd characters) are kept, as dpkg-query lists them.
 * A package repeated with the same architecture keeps its last stanza, with a warning.
 * Returns no packages (and no warnings) for an empty file.
 */
export function parseDpkgStatus(bytes: Uint8Array | string, path: string, options: DpkgParseOptions = {}): PackageDbResult {
  const warnings: PackageDbWarning[] = [];
  const byKey = new Map<string, PackageRecord>();

  // Stanza by stanza: only the records are kept, never every stanza of the file at once.
  for (const stanza of controlStanzas(bytes)) {
    const record = stanzaToRecord(stanza, path, options, warnings);
    if (record === undefined) continue;
    const key = `${record.name}\u0000${record.arch ?? ''}`;
    if (byKey.has(key)) {
      warnings.push({
        code: 'dpkg-duplicate-package',
        message: `dpkg: ${path} line ${stanza.line}: package '${record.name}' (${record.arch ?? 'no arch'}) appears twice; kept the later stanza`,
        path,
      });
      byKey.delete(key);
    }
    byKey.set(key, record);
  }
  return { packages: [...byKey.values()], warnings };
}

function stanzaToRecord(
  stanza: ControlStanza,
  path: string,
  options: DpkgParseOptions,
  warnings: PackageDbWarning[],
): PackageRecord | undefined {
  const f = stanza.fields;
  const where = `dpkg: ${path} line ${stanza.line}`;
  const skip = (reason: string): undefined => {
    warnings.push({ code: 'dpkg-malformed-stanza', message: `${where}: ${reason}; stanza skipped`, path });
    return undefined;
  };

  for (const lineNo of stanza.strayLines) {
    warnings.push({ code: 'dpkg-malformed-line', message: `dpkg: ${path} line ${lineNo}: not a field or continuation line; ignored`, path });
  }

  const name = f.get('package');
  if (!name) return skip('no Package field');

  const status = f.get('status');
  if (status === undefined) {
    if (!options.missingStatusMeansInstalled) return undefined;
  } else {
    const state = status.split(/\s+/)[2];
    if (state === undefined || status.split(/\s+/).length !== 3) return skip(`package '${name}' has a malformed Status '${status}'`);
    if (ABSENT.has(state)) return undefined;
    if (!PRESENT.has(state)) return skip(`package '${name}' has an unknown state '${state}'`);
  }

  const version = f.get('version');
  if (!version) return skip(`package '${name}' has no Version`);
  const versionError = dpkgVersionError(version);
  if (versionError) return skip(`package '${name}' has an invalid version '${version}' (${versionError})`);

  const record: PackageRecord = { ecosystem: 'deb', name, version, sourceName: name, sourceVersion: version, path };
  const arch = f.get('architecture');
  if (arch) record.arch = arch;

  const source = f.get('source');
  if (source) {
    const m = /^(\S+)(?:\s*\((.*)\))?$/.exec(source);
    const sourceVersion = m?.[2]?.trim();
    if (!m?.[1]) {
      warnings.push({ code: 'dpkg-malformed-source', message: `${where}: package '${name}' has an unreadable Source '${source}'; using the package itself`, path });
    } else if (sourceVersion !== undefined && dpkgVersionError(sourceVersion)) {
      warnings.push({ code: 'dpkg-malformed-source', message: `${where}: package '${name}' has an invalid source version '${sourceVersion}'; using the package version`, path });
      record.sourceName = m[1];
    } else {
      record.sourceName = m[1];
      if (sourceVersion) record.sourceVersion = sourceVersion;
    }
  }
  return record;
}

const INT_MAX = 2 ** 31 - 1;

/**
 * Why dpkg would refuse `version` outright, or undefined when it accepts it. This mirrors only the
 * hard errors of dpkg's version parser (empty, embedded spaces, bad epoch, nothing after the colon,
 * empty upstream or revision); its lax-mode warnings (no leading digit, unusual characters) are
 * accepted, as they are when dpkg reads its own status file. Version ordering lives in versioning/.
 */
export function dpkgVersionError(version: string): string | undefined {
  const v = version.trim();
  if (v === '') return 'empty';
  if (/\s/.test(v)) return 'embedded spaces';
  let rest = v;
  const colon = v.indexOf(':');
  if (colon >= 0) {
    const epoch = v.slice(0, colon);
    if (epoch === '' || !/^-?\d/.test(epoch)) return 'epoch is empty';
    if (!/^-?\d+$/.test(epoch)) return 'epoch is not a number';
    if (epoch.startsWith('-')) return 'epoch is negative';
    if (Number(epoch) > INT_MAX) return 'epoch is too big';
    rest = v.slice(colon + 1);
    if (rest === '') return 'nothing after the colon';
  }
  const dash = rest.lastIndexOf('-');
  if (dash >= 0) {
    if (dash === rest.length - 1) return 'revision is empty';
    if (dash === 0) return 'upstream version is empty';
  }
  return undefined;
}
