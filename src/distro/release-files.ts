/**
 * Readers for the files that say which operating-system release an image is: os-release (the
 * freedesktop standard) and the older per-vendor files it replaced. Each returns a Distro, or
 * undefined when the text does not name a release; none of them throws.
 */
import type { Distro } from '../domain/distro.js';

/** Every path a release file can be read from, best source first (see chooseDistro). */
export const RELEASE_FILE_PATHS = [
  'etc/os-release',
  'usr/lib/os-release',
  'etc/alpine-release',
  'etc/centos-release',
  'etc/rocky-release',
  'etc/almalinux-release',
  'etc/oracle-release',
  'etc/fedora-release',
  'etc/SuSE-release',
  'etc/lsb-release',
  'etc/redhat-release',
  'etc/system-release',
  'etc/debian_version',
] as const;

export type ReleaseFilePath = (typeof RELEASE_FILE_PATHS)[number];

/**
 * Parses `KEY=value` lines the way os-release(5) defines them (a shell-compatible subset): values
 * may be double-quoted (with `\"`, `\\`, `\$`, `` \` `` escapes) or single-quoted; `#` lines and
 * blank lines are skipped; spaces around `=` are tolerated (SuSE-release writes `VERSION = 12`).
 * A repeated key keeps its last value. Returns an empty map for text without assignments.
 */
export function parseKeyValueFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m?.[1]) continue;
    out.set(m[1], unquote(m[2] ?? ''));
  }
  return out;
}

function unquote(value: string): string {
  const v = value.trim();
  if (v.startsWith('"')) {
    let out = '';
    for (let i = 1; i < v.length; i++) {
      const c = v[i];
      if (c === '\\' && i + 1 < v.length && '"\\$`'.includes(v[i + 1] ?? '')) {
        out += v[i + 1];
        i++;
      } else if (c === '"') {
        return out;
      } else {
        out += c;
      }
    }
    return out; // unterminated: keep what was there
  }
  if (v.startsWith("'")) {
    const end = v.indexOf("'", 1);
    return end < 0 ? v.slice(1) : v.slice(1, end);
  }
  return v;
}

function nonEmpty(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v ? v : undefined;
}

/**
 * A Distro from os-release text (`etc/os-release` or `usr/lib/os-release`). Undefined when there is no
 * ID. Google's distroless images (ID=debian, PRETTY_NAME "Distroless") keep id `debian` and get
 * variantId `distroless`. Old Debian releases without VERSION_CODENAME get it from VERSION ("9 (stretch)").
 */
export function parseOsRelease(text: string, source: string): Distro | undefined {
  const kv = parseKeyValueFile(text);
  const id = nonEmpty(kv.get('ID'))?.toLowerCase();
  if (!id) return undefined;
  const distro: Distro = { id, source };
  const versionId = nonEmpty(kv.get('VERSION_ID'));
  if (versionId) distro.versionId = versionId;
  let codename = nonEmpty(kv.get('VERSION_CODENAME'));
  if (!codename && id === 'debian') codename = /\(([a-z]+)\)/.exec(kv.get('VERSION') ?? '')?.[1];
  if (codename) distro.versionCodename = codename;
  const name = nonEmpty(kv.get('NAME'));
  if (name) distro.name = name;
  const prettyName = nonEmpty(kv.get('PRETTY_NAME'));
  if (prettyName) distro.prettyName = prettyName;
  const idLike = nonEmpty(kv.get('ID_LIKE'))?.toLowerCase().split(/\s+/);
  if (idLike) distro.idLike = idLike;
  const variantId = nonEmpty(kv.get('VARIANT_ID'));
  if (variantId) distro.variantId = variantId;
  if (/^distroless\b/i.test(prettyName ?? '') || /\/distroless\b/i.test(kv.get('HOME_URL') ?? '')) distro.variantId = 'distroless';
  const cpe = nonEmpty(kv.get('CPE_NAME'));
  if (cpe) distro.cpe = cpe;
  return distro;
}

/** `etc/lsb-release` (Ubuntu and others before os-release): DISTRIB_ID, DISTRIB_RELEASE, DISTRIB_CODENAME. */
export function parseLsbRelease(text: string, source: string): Distro | undefined {
  const kv = parseKeyValueFile(text);
  const id = nonEmpty(kv.get('DISTRIB_ID'))?.toLowerCase();
  if (!id) return undefined;
  const distro: Distro = { id, source };
  const versionId = nonEmpty(kv.get('DISTRIB_RELEASE'));
  if (versionId) distro.versionId = versionId;
  const codename = nonEmpty(kv.get('DISTRIB_CODENAME'));
  if (codename) distro.versionCodename = codename;
  const pretty = nonEmpty(kv.get('DISTRIB_DESCRIPTION'));
  if (pretty) distro.prettyName = pretty;
  return distro;
}

/**
 * `etc/debian_version`: `12.5` (a point release: versionId is the major, `12`, as os-release writes
 * it) or `trixie/sid` (testing or unstable: no versionId, versionCodename `trixie`).
 */
export function parseDebianVersion(text: string, source: string): Distro | undefined {
  const line = text.trim().split('\n')[0]?.trim() ?? '';
  const numeric = /^(\d+)(?:\.\d+)*$/.exec(line);
  if (numeric?.[1]) return { id: 'debian', versionId: numeric[1], name: 'Debian GNU/Linux', source };
  const codename = /^([a-z]+)(?:\/sid)?$/.exec(line)?.[1];
  if (codename) return { id: 'debian', versionCodename: codename, name: 'Debian GNU/Linux', source };
  return undefined;
}

/** `etc/alpine-release`: the full release (`3.20.3`, or `3.21.0_alpha20240923` on edge). */
export function parseAlpineRelease(text: string, source: string): Distro | undefined {
  const version = text.trim().split('\n')[0]?.trim();
  if (!version || !/^\d+\.\d+/.test(version)) return undefined;
  return { id: 'alpine', versionId: version, name: 'Alpine Linux', source };
}

/** Vendor names as the Red Hat-style release line writes them, most specific first. */
const REDHAT_STYLE_VENDORS: readonly [RegExp, string][] = [
  [/^Red Hat Enterprise Linux/i, 'rhel'],
  [/^CentOS/i, 'centos'],
  [/^Rocky Linux/i, 'rocky'],
  [/^AlmaLinux/i, 'almalinux'],
  [/^Fedora/i, 'fedora'],
  [/^Oracle Linux/i, 'ol'],
  [/^Amazon Linux/i, 'amzn'],
];

/**
 * One-line release files of the Red Hat family (`redhat-release`, `centos-release`, `rocky-release`,
 * `almalinux-release`, `fedora-release`, `oracle-release`, Amazon's `system-release`):
 * `<vendor> release <version> (<codename>)`. Amazon Linux 2023's `2023.4.20240528` is reduced to
 * `2023`, the VERSION_ID its os-release gives. Undefined for an unknown vendor or no version.
 */
export function parseRedHatStyleRelease(text: string, source: string): Distro | undefined {
  const line = text.trim().split('\n')[0]?.trim() ?? '';
  const id = REDHAT_STYLE_VENDORS.find(([re]) => re.test(line))?.[1];
  const m = /\brelease\s+(\d[\w.]*)(?:\s+\(([^)]*)\))?/i.exec(line);
  if (!id || !m?.[1]) return undefined;
  let versionId = m[1];
  if (id === 'amzn' && /^20(2[2-9]|[3-9]\d)\./.test(versionId)) versionId = versionId.split('.')[0] ?? versionId;
  const distro: Distro = { id, versionId, prettyName: line, source };
  // "(Plow)", "(Core)"; Amazon writes "(Amazon Linux)" there, which is no codename.
  const codename = m[2]?.trim();
  if (codename && /^[A-Za-z]+$/.test(codename)) distro.versionCodename = codename.toLowerCase();
  return distro;
}

/**
 * `etc/SuSE-release` (SLES <= 12, openSUSE <= 42): a product line then `VERSION = 12` and
 * `PATCHLEVEL = 3`. versionId is `12.3` (or `12` without a patch level), as later os-release writes it.
 */
export function parseSuseRelease(text: string, source: string): Distro | undefined {
  const first = text.trim().split('\n')[0]?.trim() ?? '';
  const kv = parseKeyValueFile(text);
  let id: string | undefined;
  if (/SUSE Linux Enterprise Server/i.test(first)) id = 'sles';
  else if (/SUSE Linux Enterprise Desktop/i.test(first)) id = 'sled';
  else if (/openSUSE Leap/i.test(first)) id = 'opensuse-leap';
  else if (/openSUSE/i.test(first)) id = 'opensuse';
  const version = nonEmpty(kv.get('VERSION'));
  if (!id || !version) return undefined;
  const patch = nonEmpty(kv.get('PATCHLEVEL'));
  const versionId = patch && patch !== '0' && !version.includes('.') ? `${version}.${patch}` : version;
  return { id, versionId, prettyName: first, source };
}

/**
 * Reads any release file by its image path (one of RELEASE_FILE_PATHS). Undefined for another path
 * or a text that names no release.
 */
export function parseReleaseFile(path: string, text: string): Distro | undefined {
  const clean = text.replace(/^\uFEFF/, '');
  switch (path) {
    case 'etc/os-release':
    case 'usr/lib/os-release':
      return parseOsRelease(clean, path);
    case 'etc/lsb-release':
      return parseLsbRelease(clean, path);
    case 'etc/debian_version':
      return parseDebianVersion(clean, path);
    case 'etc/alpine-release':
      return parseAlpineRelease(clean, path);
    case 'etc/SuSE-release':
      return parseSuseRelease(clean, path);
    case 'etc/redhat-release':
    case 'etc/centos-release':
    case 'etc/rocky-release':
    case 'etc/almalinux-release':
    case 'etc/fedora-release':
    case 'etc/oracle-release':
    case 'etc/system-release':
      return parseRedHatStyleRelease(clean, path);
    default:
      return undefined;
  }
}
