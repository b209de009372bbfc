/**
 * OSV ecosystem names -> our ecosystem, namespace and version scheme.
 *
 * Language ecosystems (from the ecosystem registry, src/ecosystems/registry.ts) keep the OSV name as namespace (`npm`, `PyPI`, `Go`, `crates.io`, `Maven`,
 * `RubyGems`); distribution ecosystems become `<distro>:<release>` (`debian:12`, `ubuntu:22.04`,
 * `ubuntu:22.04:esm` for Ubuntu Pro, `almalinux:9`, `rocky:9`, `alpine:3.20`, `wolfi:rolling`). Ecosystems we have no package kind or
 * version scheme for (Packagist, Hex, Pub, SUSE, Red Hat's own OSV, ...) map to undefined and
 * their affected entries are left out.
 */
import type { Ecosystem } from '../../domain/package.js';
import { LANGUAGE_ECOSYSTEM_DESCRIPTORS, languageEcosystemOfOsv } from '../../ecosystems/registry.js';
import type { VersionSchemeId } from '../../versioning/types.js';

export interface OsvEcosystemMapping {
  ecosystem: Ecosystem;
  namespace: string;
  scheme: VersionSchemeId;
  nameKind: 'source' | 'binary';
}

/**
 * Maps an OSV `affected[].package.ecosystem` value. Returns undefined for ecosystems we do not scan
 * and for malformed distribution ecosystems (`Debian` without a release).
 */
export function mapOsvEcosystem(osv: string): OsvEcosystemMapping | undefined {
  // Language ecosystems come from the ecosystem registry: OSV's name is the namespace, names are binary package names.
  const language = languageEcosystemOfOsv(osv);
  if (language !== undefined) return { ecosystem: language.id, namespace: osv, scheme: language.scheme, nameKind: 'binary' };

  const [base, ...rest] = osv.split(':');
  switch (base) {
    case 'Debian': {
      // `Debian:12`; OSV also has `Debian:13` etc. A bare `Debian` has no release to match against.
      const release = rest[0];
      if (release === undefined || !/^\d+$/.test(release)) return undefined;
      return { ecosystem: 'deb', namespace: `debian:${release}`, scheme: 'dpkg', nameKind: 'source' };
    }
    case 'Ubuntu': {
      // `Ubuntu:22.04:LTS`, `Ubuntu:25.10`, `Ubuntu:Pro:18.04:LTS`. Pro (ESM) fixes ship only to Ubuntu Pro
      // machines, so they get the namespace `ubuntu:<release>:esm` the Ubuntu tracker feed uses too,
      // rather than overriding the standard release's statement. FIPS overlays are products, not releases.
      if (rest.some((p) => /fips/i.test(p))) return undefined;
      const release = rest.find((p) => /^\d{2}\.\d{2}$/.test(p));
      if (release === undefined) return undefined;
      const namespace = rest.includes('Pro') ? `ubuntu:${release}:esm` : `ubuntu:${release}`;
      return { ecosystem: 'deb', namespace, scheme: 'dpkg', nameKind: 'source' };
    }
    case 'AlmaLinux':
    case 'Rocky Linux': {
      const release = rest[0];
      if (release === undefined || !/^\d+$/.test(release)) return undefined;
      const distro = base === 'AlmaLinux' ? 'almalinux' : 'rocky';
      // AlmaLinux lists every binary rpm of an erratum (`python3`, `python3-libs` for source
      // `python3.9`; `open-vm-tools-desktop`); Rocky lists the source rpms (`ruby`, `rubygem-pg`).
      const nameKind = base === 'AlmaLinux' ? 'binary' : 'source';
      return { ecosystem: 'rpm', namespace: `${distro}:${release}`, scheme: 'rpm', nameKind };
    }
    case 'Alpine': {
      // `Alpine:v3.20`; the namespace drops the `v` as os-release's VERSION_ID has none.
      const m = /^v?(\d+\.\d+)$/.exec(rest[0] ?? '');
      if (m === null) return undefined;
      return { ecosystem: 'apk', namespace: `alpine:${m[1]}`, scheme: 'apk', nameKind: 'source' };
    }
    case 'Wolfi':
      return { ecosystem: 'apk', namespace: 'wolfi:rolling', scheme: 'apk', nameKind: 'source' };
    case 'Chainguard':
      return { ecosystem: 'apk', namespace: 'chainguard:rolling', scheme: 'apk', nameKind: 'source' };
    default:
      return undefined;
  }
}

/**
 * The OSV ecosystems `db update` fetches by default (one `all.zip` each). Debian, Ubuntu and Alpine
 * are left out because their native feeds (security tracker, Ubuntu CVE tracker, secdb) are the
 * primary source and would otherwise report every CVE twice; the parser still reads their OSV
 * records when imported or configured.
 */
export const DEFAULT_OSV_ECOSYSTEMS: readonly string[] = [...LANGUAGE_ECOSYSTEM_DESCRIPTORS.filter((d) => d.osvFetchedByDefault).map((d) => d.osvEcosystem), 'AlmaLinux', 'Rocky Linux'];
