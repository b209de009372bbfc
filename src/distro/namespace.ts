import type { Distro } from '../domain/distro.js';
import { DEBIAN_RELEASES } from '../domain/debian-releases.js';

const major = (v: string | undefined): string | undefined => /^(\d+)/.exec(v ?? '')?.[1];
const majorMinor = (v: string | undefined): string | undefined => /^(\d+\.\d+)/.exec(v ?? '')?.[1];

/** Distributions whose feeds key on the major release only (RHEL 9.4 and 9.2 share `rhel:9`). */
const MAJOR_ONLY = new Set(['rhel', 'centos', 'rocky', 'almalinux', 'ol', 'fedora']);
/**
 * Debian codenames to release numbers, for images that name only a codename (testing: os-release
 * without VERSION_ID, debian_version `trixie/sid`). The table is shared with the Debian feed
 * (domain/debian-releases.ts), so both sides land on `debian:13`.
 */
const DEBIAN_CODENAMES: Readonly<Record<string, string>> = DEBIAN_RELEASES;

/** Rolling distributions: one namespace for every build. */
const ROLLING = new Set(['wolfi', 'chainguard', 'opensuse-tumbleweed', 'arch']);

/**
 * True for Alpine's development branch: its VERSION_ID is the next release's alpha
 * (`3.21.0_alpha20240923`) and its PRETTY_NAME says "edge".
 */
export function isAlpineEdge(distro: Distro): boolean {
  return distro.id === 'alpine' && (/_alpha|_beta|_rc/.test(distro.versionId ?? '') || /\bedge\b/i.test(distro.prettyName ?? ''));
}

/**
 * The vulnerability-feed namespace of a distribution release, as feeds and matching key their
 * records: `debian:12`, `ubuntu:22.04`, `alpine:3.20` (major.minor; the development branch is
 * `alpine:edge`), `wolfi:rolling`, `rhel:9` (RHEL and UBI alike), `centos:7`, `rocky:9`,
 * `almalinux:9`, `ol:8`, `fedora:40`, `amzn:2` / `amzn:2023` (Amazon Linux 1 keeps `amzn:2018.03`),
 * `sles:15.5`, `opensuse-leap:15.5`, `mariner:2.0`, `azurelinux:3.0`.
 *
 * Debian testing has no VERSION_ID, only a codename: the namespace is that release's number, as the
 * Debian feed files the tracker's codename statements (`trixie` -> `debian:13`); an explicit `sid`
 * or `unstable` codename gives `debian:unstable`. Unstable images report the testing codename
 * (`trixie/sid`), so they land on the testing release too. Distroless images keep their base
 * distribution's namespace (`debian:12`). Returns undefined for a distribution no feed covers, an
 * unknown Debian codename, or when the release number the namespace needs is missing.
 */
export function distroNamespace(distro: Distro): string | undefined {
  const { id, versionId } = distro;
  if (ROLLING.has(id)) return `${id}:rolling`;
  if (MAJOR_ONLY.has(id)) {
    const m = major(versionId);
    return m ? `${id}:${m}` : undefined;
  }
  switch (id) {
    case 'debian': {
      const m = major(versionId);
      if (m) return `debian:${m}`;
      const codename = distro.versionCodename?.toLowerCase();
      if (codename === 'sid' || codename === 'unstable') return 'debian:unstable';
      const number = codename === undefined ? undefined : DEBIAN_CODENAMES[codename];
      return number ? `debian:${number}` : undefined;
    }
    case 'ubuntu': {
      const mm = majorMinor(versionId);
      return mm ? `ubuntu:${mm}` : undefined;
    }
    case 'alpine': {
      if (isAlpineEdge(distro)) return 'alpine:edge';
      const mm = majorMinor(versionId);
      return mm ? `alpine:${mm}` : undefined;
    }
    case 'amzn': {
      if (!versionId) return undefined;
      // Amazon Linux 1 releases are dated (2018.03) and the feeds keep the date; 2 and 2023 are majors.
      if (/^20(0\d|1\d|2[01])\.\d+$/.test(versionId)) return `amzn:${versionId}`;
      const m = major(versionId);
      return m ? `amzn:${m}` : undefined;
    }
    case 'sles':
    case 'sled':
    case 'opensuse-leap': {
      const v = /^(\d+(?:\.\d+)?)/.exec(versionId ?? '')?.[1];
      return v ? `${id}:${v}` : undefined;
    }
    case 'mariner':
    case 'azurelinux': {
      const mm = majorMinor(versionId);
      return mm ? `${id}:${mm}` : undefined;
    }
    default:
      return undefined;
  }
}
