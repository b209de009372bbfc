import { PackageURL } from 'packageurl-js';

/** A purl string through packageurl-js (empty namespace and version mean none). */
export function buildPurl(type: string, namespace: string | undefined, name: string, version: string, qualifiers?: Record<string, string>): string {
  return new PackageURL(type, namespace === '' ? undefined : namespace, name, version === '' ? undefined : version, qualifiers, undefined).toString();
}

/** Splits at the last `/`: `github.com/a/b` -> [`github.com/a`, `b`]; `stdlib` -> [undefined, `stdlib`]. */
export function splitLast(path: string): [string | undefined, string] {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? [undefined, path] : [path.slice(0, slash), path.slice(slash + 1)];
}
