import { PackageURL } from 'packageurl-js';
import { PortcullisError } from '../domain/errors.js';
import type { PackageRecord } from '../domain/package.js';

function build(type: string, namespace: string | undefined, name: string, version: string, qualifiers?: Record<string, string>): string {
  return new PackageURL(type, namespace === '' ? undefined : namespace, name, version === '' ? undefined : version, qualifiers, undefined).toString();
}

/** Splits at the last `/`: `github.com/a/b` -> [`github.com/a`, `b`]; `stdlib` -> [undefined, `stdlib`]. */
function splitLast(path: string): [string | undefined, string] {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? [undefined, path] : [path.slice(0, slash), path.slice(slash + 1)];
}

/**
 * The package URL of a language-package record, built with packageurl-js (which applies the
 * purl spec's per-type normalization and encoding):
 * - npm: `pkg:npm/%40scope/name@1.0.0` (scope as namespace, `@` encoded, lower-cased);
 * - pypi: `pkg:pypi/zope.interface@5.4.0` from `attributes.displayName` (lower-cased, `_` -> `-`);
 * - golang: `pkg:golang/github.com/a/b@v1.2.3` (module path split at its last `/`; the standard
 *   library is `pkg:golang/stdlib@v1.21.5`);
 * - maven: `pkg:maven/group/artifact@1.0` (`name` is `group:artifact`). A Maven purl needs a group;
 *   an archive identified without one (manifest or file name only) gets `pkg:generic/artifact@1.0`,
 *   a valid purl that claims no Maven coordinates;
 * - gem: `pkg:gem/name@1.0`, with `?platform=` when the spec names one; cargo: `pkg:cargo/name@1.0`.
 * Throws a PortcullisError (E_INTERNAL) for OS ecosystems (deb, apk, rpm), whose purls need the
 * distribution and are built by `inventory/os-purl.ts`.
 */
export function languagePurl(record: PackageRecord): string {
  const { name, version } = record;
  switch (record.ecosystem) {
    case 'npm': {
      const [scope, base] = name.startsWith('@') ? splitLast(name) : [undefined, name];
      return build('npm', scope, base, version);
    }
    case 'pypi':
      return build('pypi', undefined, record.attributes?.['displayName'] ?? name, version);
    case 'golang': {
      const [namespace, base] = splitLast(name);
      return build('golang', namespace, base, version);
    }
    case 'maven': {
      const colon = name.indexOf(':');
      if (colon === -1) return build('generic', undefined, name, version);
      return build('maven', name.slice(0, colon), name.slice(colon + 1), version);
    }
    case 'gem': {
      const platform = record.attributes?.['platform'];
      return build('gem', undefined, name, version, platform === undefined || platform === '' ? undefined : { platform });
    }
    case 'cargo':
      return build('cargo', undefined, name, version);
    default:
      throw new PortcullisError('E_INTERNAL', `purl: ${record.ecosystem} is an OS package type; its purl is built with the distribution`, { ecosystem: record.ecosystem });
  }
}
