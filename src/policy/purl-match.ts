/**
 * Matching a package URL written in a policy file (VEX product, ignore-file `purls`) against a
 * finding's package. Parsing is packageurl-js's; only the matching rules are ours:
 *
 * - type, namespace and name must be equal (case-insensitively; a pattern without namespace
 *   matches any namespace; `redhat` and `rhel` are one vendor);
 * - a version, when the pattern has one, must equal the package's version (rpm: an `epoch`
 *   qualifier is folded into the version, and `0:` is the same as no epoch);
 * - `arch=source` (Ubuntu's and Debian's VEX list source packages that way) compares name and
 *   version with the package's source package instead of the binary;
 * - any other `arch` must equal the package's arch when both are known;
 * - the other qualifiers (`distro`, `repository_url`, ...) are ignored: producers spell them
 *   differently (`distro=jammy` vs `distro=ubuntu-22.04`), and type/name/version already decide.
 */
import { PackageURL } from 'packageurl-js';
import type { Finding } from '../domain/finding.js';

export type MatchablePackage = Pick<Finding['package'], 'ecosystem' | 'name' | 'version' | 'sourceName' | 'sourceVersion' | 'arch' | 'purl'>;

/** Parses a purl; returns undefined for anything packageurl-js refuses (never throws). */
export function tryParsePurl(value: string): PackageURL | undefined {
  if (!value.startsWith('pkg:')) return undefined;
  try {
    return PackageURL.fromString(value);
  } catch {
    return undefined;
  }
}

function qualifier(purl: PackageURL, key: string): string | undefined {
  const q = purl.qualifiers as Record<string, string> | undefined;
  return q?.[key];
}

/** A purl's version with rpm's `epoch` qualifier folded in and a zero epoch dropped. */
function comparableVersion(type: string, version: string, epoch?: string): string {
  let v = version;
  if (type === 'rpm') {
    if (epoch !== undefined && epoch !== '' && !v.includes(':')) v = `${epoch}:${v}`;
    if (v.startsWith('0:')) v = v.slice(2);
  }
  return v;
}

function same(a: string | undefined, b: string | undefined): boolean {
  return (a ?? '').toLowerCase() === (b ?? '').toLowerCase();
}

/**
 * Namespaces that name the same vendor: Red Hat's own documents say `redhat` while purls built
 * from os-release (ours, syft's) say `rhel`.
 */
const NAMESPACE_ALIASES: Record<string, string> = { rhel: 'redhat' };

function sameNamespace(a: string, b: string): boolean {
  const norm = (x: string): string => NAMESPACE_ALIASES[x.toLowerCase()] ?? x.toLowerCase();
  return norm(a) === norm(b);
}

/** True when `pattern` (a purl string or parsed purl) designates `pkg`; false for unparsable patterns. */
export function purlMatchesPackage(pattern: string | PackageURL, pkg: MatchablePackage): boolean {
  const p = typeof pattern === 'string' ? tryParsePurl(pattern) : pattern;
  if (p === undefined) return false;
  const actual = tryParsePurl(pkg.purl);
  const type = actual?.type ?? pkg.ecosystem;
  if (!same(p.type, type)) return false;
  if (p.namespace && actual && !sameNamespace(p.namespace, actual.namespace ?? '')) return false;

  const arch = qualifier(p, 'arch');
  const bySource = arch === 'source' || arch === 'src';
  const name = bySource ? (pkg.sourceName ?? pkg.name) : pkg.name;
  // A package's own name may carry its namespace (`@scope/pkg`, a Go module path): compare both forms.
  const actualName = actual?.name ?? name;
  if (bySource) {
    if (!same(p.name, name)) return false;
  } else if (!same(p.name, actualName) && !same(p.name, name)) {
    return false;
  }

  if (p.version) {
    const wanted = comparableVersion(p.type, p.version, qualifier(p, 'epoch'));
    const candidates = bySource
      ? [pkg.sourceVersion ?? pkg.version]
      : [pkg.version, actual?.version ? comparableVersion(actual.type, actual.version, actual ? qualifier(actual, 'epoch') : undefined) : undefined];
    if (!candidates.some((c) => c !== undefined && comparableVersion(p.type, c) === wanted)) return false;
  }

  if (!bySource && arch !== undefined && pkg.arch !== undefined && !same(arch, pkg.arch)) return false;
  return true;
}
