import { endianness } from 'node:os';
import { PortcullisError } from '../domain/errors.js';
import type { Platform, PlatformSelector } from './types.js';

/** Architecture spellings seen in the wild, mapped to the OCI (GOARCH) names indexes use. */
const ARCH_ALIASES: Readonly<Record<string, { architecture: string; variant?: string }>> = {
  x86_64: { architecture: 'amd64' },
  'x86-64': { architecture: 'amd64' },
  aarch64: { architecture: 'arm64' },
  armhf: { architecture: 'arm', variant: 'v7' },
  armel: { architecture: 'arm', variant: 'v6' },
  i386: { architecture: '386' },
  i686: { architecture: '386' },
};

/**
 * Variants an architecture has when an index leaves the field out (as in containerd's platform
 * matcher): `linux/arm64` and `linux/arm64/v8` name the same thing.
 */
const DEFAULT_VARIANT: Readonly<Record<string, string>> = { arm64: 'v8', amd64: 'v1' };

/** Lower-cases and de-aliases a platform so `linux/aarch64` and `linux/arm64/v8` compare equal to `linux/arm64`. */
export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase();
  const rawArch = p.architecture.toLowerCase();
  const alias = ARCH_ALIASES[rawArch];
  const architecture = alias?.architecture ?? rawArch;
  let variant = p.variant?.toLowerCase() || alias?.variant;
  if (variant !== undefined && DEFAULT_VARIANT[architecture] === variant) variant = undefined;
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

/**
 * Parses `os/arch[/variant]` (e.g. `linux/amd64`, `linux/arm/v7`) or `all`. Throws E_PLATFORM for
 * anything else (empty, too many segments, empty segments).
 */
export function parsePlatform(text: string): PlatformSelector {
  const trimmed = text.trim();
  if (trimmed.toLowerCase() === 'all') return 'all';
  const parts = trimmed.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((s) => s === '' || /\s/.test(s))) {
    throw new PortcullisError('E_PLATFORM', `platform: ${JSON.stringify(text)} is not os/arch[/variant] or "all"`, { platform: text });
  }
  const [os = '', architecture = '', variant] = parts;
  return normalizePlatform(variant === undefined ? { os, architecture } : { os, architecture, variant });
}

/** `os/arch[/variant]` of a platform (the inverse of {@link parsePlatform}). */
export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

const NODE_ARCH: Readonly<Record<string, string>> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
  mips64el: 'mips64le',
};

/**
 * The platform of the machine running the scan, in OCI terms. Container images are Linux images even
 * when the scanner runs on macOS, so every OS but Windows maps to `linux`.
 */
export function hostPlatform(
  nodePlatform: string = process.platform,
  nodeArch: string = process.arch,
  armVersion: unknown = process.config.variables && (process.config.variables as Record<string, unknown>)['arm_version'],
): Platform {
  const os = nodePlatform === 'win32' ? 'windows' : 'linux';
  let architecture = NODE_ARCH[nodeArch] ?? nodeArch;
  if (nodeArch === 'ppc64') architecture = endianness() === 'LE' ? 'ppc64le' : 'ppc64';
  if (architecture === 'arm' && (typeof armVersion === 'string' || typeof armVersion === 'number')) {
    return { os, architecture, variant: `v${armVersion}` };
  }
  return { os, architecture };
}

/**
 * True when `candidate` (from an index) satisfies `wanted`: same OS and architecture after
 * normalisation; a wanted variant must match, a missing wanted variant matches any.
 */
export function platformMatches(wanted: Platform, candidate: Platform): boolean {
  const w = normalizePlatform(wanted);
  const c = normalizePlatform(candidate);
  if (w.os !== c.os || w.architecture !== c.architecture) return false;
  return w.variant === undefined || w.variant === c.variant;
}

/** `unknown/unknown` children of an index are BuildKit attestation manifests, not runnable images. */
export function isAttestationPlatform(p: Platform | undefined): boolean {
  return p !== undefined && p.os === 'unknown' && p.architecture === 'unknown';
}

/**
 * Picks the children of an index that `selector` asks for. `'all'` returns every child except
 * attestation manifests (`unknown/unknown`); a platform returns the one best match (the exact variant,
 * else the first match). Children that declare no platform match only `'all'`. Throws E_PLATFORM,
 * listing what the index offers, when nothing matches (including an index with no children at all).
 */
export function selectPlatforms<T extends { platform?: Platform }>(children: readonly T[], selector: PlatformSelector, what: string): T[] {
  const runnable = children.filter((c) => !isAttestationPlatform(c.platform));
  if (selector === 'all') {
    if (runnable.length === 0) {
      throw new PortcullisError('E_PLATFORM', `platform: ${what} lists no image manifests`, { available: [] });
    }
    return runnable;
  }
  const matches = runnable.filter((c) => c.platform !== undefined && platformMatches(selector, c.platform));
  if (matches.length === 0) {
    const available = runnable.map((c) => (c.platform ? formatPlatform(c.platform) : 'unspecified'));
    throw new PortcullisError(
      'E_PLATFORM',
      `platform: ${what} has no image for ${formatPlatform(selector)}; available: ${available.length > 0 ? available.join(', ') : 'none'}`,
      { wanted: formatPlatform(selector), available },
    );
  }
  const wantedVariant = normalizePlatform(selector).variant;
  const exact = matches.find((c) => c.platform !== undefined && normalizePlatform(c.platform).variant === wantedVariant);
  return [exact ?? matches[0]!];
}
