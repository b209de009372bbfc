import type { Detector, DetectorOutput } from '../../detectors/types.js';
import type { PackageRecord } from '../../domain/package.js';
import { BINARY_MAX_BYTES, wantsExecutable } from '../binary/executable.js';
import { readGoBuildInfo } from './buildinfo.js';
import { parseModInfo, type GoModule } from './modinfo.js';

type Warning = NonNullable<DetectorOutput['warnings']>[number];

/**
 * Converts a Go toolchain version to the semver form the Go vulnerability data uses for the
 * standard library: `go1.19.8` -> `v1.19.8`, `go1.21` -> `v1.21.0`, `go1.21rc2` -> `v1.21.0-rc.2`,
 * `go1.20beta1` -> `v1.20.0-beta.1`. Suffixes after a space (` X:boringcrypto`) are ignored.
 * Returns undefined for anything else (development toolchains such as `devel go1.22-abc...`).
 */
export function goVersionToSemver(goVersion: string): string | undefined {
  const token = goVersion.trim().split(/\s+/)[0] ?? '';
  const m = /^go(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:(rc|beta|alpha)(\d+))?$/.exec(token);
  if (m === null) return undefined;
  const [, major = '0', minor = '0', patch = '0', pre, preNum] = m;
  const core = `v${Number(major)}.${Number(minor)}.${Number(patch)}`;
  return pre === undefined ? core : `${core}-${pre}.${Number(preNum)}`;
}

/** True for replacement targets that are directories rather than modules (`../fork`, `/src/x`). */
export function isLocalPath(path: string): boolean {
  return /^(\.\.?($|[/\\])|\/|[A-Za-z]:[/\\]|\\\\)/.test(path);
}

/**
 * A version-looking value set with `-X <pkg>.version=...` in `-ldflags`, the common way to stamp a
 * release into a `(devel)` main module. Only keys whose last element is `version` (any case) count.
 */
export function ldflagsVersion(ldflags: string): string | undefined {
  const re = /-X(?:=|\s+)(['"]?)([^\s'"=]+)=([^\s'"]+)\1/g;
  for (const m of ldflags.matchAll(re)) {
    const key = m[2] ?? '';
    const value = m[3] ?? '';
    const last = key.slice(key.lastIndexOf('.') + 1);
    if (last.toLowerCase() === 'version' && /^v?\d+(\.\d+)*([-+][0-9A-Za-z.+-]*)?$/.test(value)) return value;
  }
  return undefined;
}

/**
 * Turns a binary's build info into package records: the main module (version as recorded,
 * `(devel)` kept and flagged), every dependency with its replacement applied, and the standard
 * library as `stdlib`. See README.md for the choices (local replacements, stdlib version form).
 */
export function goBinaryRecords(path: string, goVersion: string, modinfo: string): DetectorOutput {
  const info = parseModInfo(modinfo);
  const warnings: Warning[] = info.problems.map((p) => ({ code: 'malformed-record', message: `go-binary: ${p}`, path }));
  const settings = new Map(info.settings);
  const arch = settings.get('GOARCH');
  const packages: PackageRecord[] = [];
  const base = (name: string, version: string, attributes: Record<string, string>): PackageRecord => {
    const rec: PackageRecord = { ecosystem: 'golang', name, version, path, attributes };
    if (arch !== undefined && arch !== '') rec.arch = arch;
    return rec;
  };

  if (info.main !== undefined) {
    const attributes: Record<string, string> = { role: 'main' };
    if (info.main.version === '(devel)' || info.main.version === '') attributes['devel'] = 'true';
    if (info.main.sum !== undefined) attributes['sum'] = info.main.sum;
    const stamped = ldflagsVersion(settings.get('-ldflags') ?? '');
    if (stamped !== undefined) attributes['ldflagsVersion'] = stamped;
    packages.push(base(info.main.path, info.main.version === '' ? '(devel)' : info.main.version, attributes));
  }

  for (const dep of info.deps) {
    const rec = depRecord(dep);
    if (rec === undefined) {
      warnings.push({ code: 'malformed-record', message: `go-binary: dependency ${dep.path} has no version`, path });
      continue;
    }
    packages.push(base(rec.name, rec.version, rec.attributes));
  }

  const semver = goVersionToSemver(goVersion);
  if (goVersion !== '') {
    const attributes: Record<string, string> = { role: 'stdlib', toolchain: goVersion };
    if (semver === undefined) attributes['devel'] = 'true';
    if (info.path !== undefined) attributes['mainPackage'] = info.path;
    for (const [k, v] of info.settings) attributes[`build.${k}`] = v;
    packages.push(base('stdlib', semver ?? goVersion, attributes));
  }
  const out: DetectorOutput = { packages };
  if (warnings.length > 0) out.warnings = warnings;
  return out;
}

function depRecord(dep: GoModule): { name: string; version: string; attributes: Record<string, string> } | undefined {
  const attributes: Record<string, string> = { role: 'dep' };
  const r = dep.replace;
  if (r !== undefined && !isLocalPath(r.path)) {
    if (r.version === '') return undefined;
    attributes['replaces'] = dep.version === '' ? dep.path : `${dep.path}@${dep.version}`;
    if (r.sum !== undefined) attributes['sum'] = r.sum;
    return { name: r.path, version: r.version, attributes };
  }
  if (r !== undefined) attributes['localReplacement'] = r.path;
  if (dep.sum !== undefined) attributes['sum'] = dep.sum;
  if (dep.version === '') return undefined;
  return { name: dep.path, version: dep.version, attributes };
}

/**
 * Go binaries: any executable (ELF, or Mach-O/PE with the >= 1.18 layout) carrying Go build info.
 * Returns no packages for executables that are not Go binaries (scripts, C programs); a Go header
 * whose contents are truncated or malformed throws (the walk records a warning).
 */
export const goBinaryDetector: Detector = {
  id: 'go-binary',
  version: 1,
  maxBytes: BINARY_MAX_BYTES,
  oversize: 'skip',
  wants: wantsExecutable,
  parse(file) {
    const info = readGoBuildInfo(file.bytes);
    if (info === undefined) return {};
    return goBinaryRecords(file.path, info.goVersion, info.modinfo);
  },
};
