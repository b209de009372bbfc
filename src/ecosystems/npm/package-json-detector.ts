import { PortcullisError } from '../../domain/errors.js';
import type { Detector, DetectorOutput } from '../../detectors/types.js';
import type { PackageRecord } from '../../domain/package.js';

/**
 * Folders under which Debian installs its `node-*` packages (one folder per module, no
 * `node_modules` level). See README.md for why they are reported as npm packages.
 */
const DEBIAN_ROOTS = [/^usr\/share\/nodejs$/, /^usr\/lib\/nodejs$/, /^usr\/lib\/[^/]+-linux-gnu[^/]*\/nodejs$/];

/**
 * Where an installed package's own package.json sits, or undefined for any other package.json.
 * Accepted: `<prefix>/node_modules/<pkg>/package.json`, where `<pkg>` is `name` or `@scope/name`,
 * repeated for nested installs (`node_modules/a/node_modules/@s/b/package.json`), pnpm's store
 * (`node_modules/.pnpm/<id>/node_modules/<pkg>/package.json`), and the same below a Debian root
 * (`usr/share/nodejs/<pkg>/package.json`). Anything else inside a package (`node_modules/a/test/
 * fixtures/package.json`, `node_modules/a/esm/package.json`) is not a package of its own.
 */
export function installedPackageJson(path: string): { debian: boolean; dirName: string } | undefined {
  const segs = path.split('/');
  if (segs[segs.length - 1] !== 'package.json') return undefined;
  let i = -1;
  let debian = false;
  for (let j = 3; j <= 4 && j < segs.length; j++) {
    if (DEBIAN_ROOTS.some((re) => re.test(segs.slice(0, j).join('/')))) {
      i = j;
      debian = true;
      break;
    }
  }
  if (i === -1) {
    const nm = segs.indexOf('node_modules');
    if (nm === -1) return undefined;
    i = nm + 1;
  }
  // segs[i] is now the first segment after a module root.
  let dirName: string | undefined;
  for (;;) {
    if (segs[i] === '.pnpm') {
      if (segs[i + 2] !== 'node_modules') return undefined;
      i += 3;
      continue;
    }
    const first = segs[i];
    if (first === undefined || first === '' || first.startsWith('.') || first === 'package.json') return undefined;
    if (first.startsWith('@')) {
      const second = segs[i + 1];
      if (second === undefined || second === '' || second.startsWith('.') || second === 'package.json') return undefined;
      dirName = `${first}/${second}`;
      i += 2;
    } else {
      dirName = first;
      i += 1;
    }
    if (i === segs.length - 1) return { debian, dirName };
    if (segs[i] !== 'node_modules') return undefined;
    i += 1;
  }
}

function licenseOf(pkg: Record<string, unknown>): string | undefined {
  const l = pkg['license'];
  if (typeof l === 'string' && l !== '') return l;
  if (typeof l === 'object' && l !== null && typeof (l as Record<string, unknown>)['type'] === 'string') return (l as Record<string, string>)['type'];
  const list = pkg['licenses'];
  if (Array.isArray(list)) {
    const types = list.map((x: unknown) => (typeof x === 'string' ? x : typeof x === 'object' && x !== null ? (x as Record<string, unknown>)['type'] : undefined)).filter((x): x is string => typeof x === 'string' && x !== '');
    if (types.length > 0) return types.length === 1 ? (types[0] ?? '') : `(${types.join(' OR ')})`;
  }
  return undefined;
}

/**
 * Reads the package.json of one installed package. Returns one record, or a warning and no
 * record when it lacks a name or version. Throws (E_INPUT, "npm-package-json: ...") when the file
 * is not a JSON object.
 */
export function parseInstalledPackageJson(path: string, text: string): DetectorOutput {
  const where = installedPackageJson(path);
  let doc: unknown;
  try {
    // Some packages ship package.json with a byte-order mark; JSON.parse rejects it.
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new PortcullisError('E_INPUT', `npm-package-json: ${path} is not JSON`, { path }, { cause: err });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new PortcullisError('E_INPUT', `npm-package-json: ${path} is not a JSON object`, { path });
  const pkg = doc as Record<string, unknown>;
  const name = pkg['name'];
  const version = pkg['version'];
  if (typeof name !== 'string' || name === '' || typeof version !== 'string' || version === '') {
    return { warnings: [{ code: 'malformed-record', message: `npm-package-json: ${path} has no name or version`, path }] };
  }
  const attributes: Record<string, string> = {};
  if (where?.debian === true) attributes['distroPackaged'] = 'debian';
  if (where !== undefined && where.dirName !== name) attributes['alias'] = where.dirName;
  const rec: PackageRecord = { ecosystem: 'npm', name, version, path, attributes };
  const license = licenseOf(pkg);
  if (license !== undefined) rec.license = license;
  return { packages: [rec] };
}

/**
 * Installed npm packages: the package.json at the top of each package folder under any
 * `node_modules` (application folders, `usr/lib/node_modules` global installs, pnpm's store) and
 * under Debian's `usr/share/nodejs` / `usr/lib/nodejs` (marked `distroPackaged: debian`).
 */
export const npmPackageJsonDetector: Detector = {
  id: 'npm-package-json',
  version: 1,
  maxBytes: 4 * 1024 * 1024,
  oversize: 'skip',
  wants: (file) => file.path.endsWith('package.json') && installedPackageJson(file.path) !== undefined,
  parse: (file) => parseInstalledPackageJson(file.path, file.bytes.toString('utf8')),
};
