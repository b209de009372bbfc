import { z } from 'zod';
import { PortcullisError } from '../../domain/errors.js';
import type { Detector, DetectorOutput } from '../../detectors/types.js';
import type { PackageRecord, ProjectRecord } from '../../domain/package.js';

type Warning = NonNullable<DetectorOutput['warnings']>[number];

/** Entry of the v2/v3 `packages` map (keys are install paths such as `node_modules/a/node_modules/b`). */
const PackagesEntry = z.object({
  name: z.string().optional(),
  version: z.string().optional(),
  resolved: z.string().optional(),
  link: z.boolean().optional(),
  dev: z.boolean().optional(),
  optional: z.boolean().optional(),
  devOptional: z.boolean().optional(),
  peer: z.boolean().optional(),
  inBundle: z.boolean().optional(),
  license: z.string().optional(),
});

/** Entry of the v1 nested `dependencies` tree. */
interface V1Entry {
  version?: unknown;
  dev?: unknown;
  optional?: unknown;
  bundled?: unknown;
  dependencies?: unknown;
}

/** One installed package before de-duplication. */
interface Found {
  name: string;
  version: string;
  alias?: string;
  dev: boolean;
  optional: boolean;
  bundled: boolean;
  license?: string;
}

/** Deepest v1 nesting followed; real trees are a few levels deep, this only stops hostile input. */
const MAX_V1_DEPTH = 64;

/**
 * The package a lockfile entry installs. npm aliases (`"foo": "npm:bar@1.2.3"` in v1, an entry
 * named `bar` under the key `foo` in v2/v3) install `bar`, which is what advisories name.
 */
function resolveAlias(key: string, name: string | undefined, version: string): { name: string; version: string; alias?: string } {
  const m = /^npm:((?:@[^/@]+\/)?[^@]+)@(.+)$/.exec(version);
  if (m !== null) return { name: m[1] ?? key, version: m[2] ?? version, alias: key };
  const real = name ?? key;
  return real === key ? { name: real, version } : { name: real, version, alias: key };
}

/** The package name an install path ends in: `node_modules/@s/n/node_modules/x` -> `x`. */
export function nameFromInstallPath(key: string): string | undefined {
  const i = key.lastIndexOf('node_modules/');
  if (i === -1) return undefined;
  const name = key.slice(i + 'node_modules/'.length);
  return /^(@[^/]+\/)?[^/@][^/]*$/.test(name) ? name : undefined;
}

function fromPackagesMap(packages: Record<string, unknown>, path: string, warnings: Warning[]): Found[] {
  const found: Found[] = [];
  for (const [key, raw] of Object.entries(packages)) {
    // "" is the project itself and keys without node_modules/ are workspace members: both are the
    // code being scanned, not dependencies of it.
    if (key === '' || !key.includes('node_modules/')) continue;
    const parsed = PackagesEntry.safeParse(raw);
    if (!parsed.success) {
      warnings.push({ code: 'malformed-record', message: `npm-package-lock: entry ${JSON.stringify(key)} is not an object of the expected shape`, path });
      continue;
    }
    const e = parsed.data;
    // Links point at a workspace folder; the folder itself is listed under its own key.
    if (e.link === true) continue;
    const keyName = nameFromInstallPath(key);
    if (keyName === undefined) {
      warnings.push({ code: 'malformed-record', message: `npm-package-lock: cannot tell the package name of ${JSON.stringify(key)}`, path });
      continue;
    }
    if (e.version === undefined || e.version === '') continue;
    const id = resolveAlias(keyName, e.name, e.version);
    const f: Found = { ...id, dev: e.dev === true || e.devOptional === true, optional: e.optional === true, bundled: e.inBundle === true };
    if (e.license !== undefined) f.license = e.license;
    found.push(f);
  }
  return found;
}

function fromV1Tree(deps: unknown, path: string, warnings: Warning[], depth = 0, found: Found[] = []): Found[] {
  if (deps === undefined) return found;
  if (typeof deps !== 'object' || deps === null || Array.isArray(deps)) {
    warnings.push({ code: 'malformed-record', message: 'npm-package-lock: "dependencies" is not an object', path });
    return found;
  }
  if (depth > MAX_V1_DEPTH) {
    warnings.push({ code: 'malformed-record', message: `npm-package-lock: dependency tree deeper than ${MAX_V1_DEPTH} levels, rest skipped`, path });
    return found;
  }
  for (const [key, raw] of Object.entries(deps)) {
    if (typeof raw !== 'object' || raw === null) {
      warnings.push({ code: 'malformed-record', message: `npm-package-lock: entry ${JSON.stringify(key)} is not an object`, path });
      continue;
    }
    const e = raw as V1Entry;
    const version = typeof e.version === 'string' ? e.version : '';
    // `file:` versions are v1's links to local folders.
    if (version !== '' && !version.startsWith('file:')) {
      found.push({ ...resolveAlias(key, undefined, version), dev: e.dev === true, optional: e.optional === true, bundled: e.bundled === true });
    }
    fromV1Tree(e.dependencies, path, warnings, depth + 1, found);
  }
  return found;
}

/**
 * One record per distinct name@version: the same version installed at several nesting levels is
 * one package. It counts as dev (or optional) only if every copy is; bundled if any copy is.
 */
function dedupe(found: Found[], path: string): PackageRecord[] {
  const byId = new Map<string, Found>();
  for (const f of found) {
    const id = `${f.name}@${f.version}`;
    const seen = byId.get(id);
    if (seen === undefined) {
      byId.set(id, { ...f });
      continue;
    }
    seen.dev &&= f.dev;
    seen.optional &&= f.optional;
    seen.bundled ||= f.bundled;
    seen.alias ??= f.alias;
    seen.license ??= f.license;
  }
  return [...byId.values()].map((f) => {
    const attributes: Record<string, string> = {};
    if (f.dev) attributes['dev'] = 'true';
    if (f.optional) attributes['optional'] = 'true';
    if (f.bundled) attributes['bundled'] = 'true';
    if (f.alias !== undefined) attributes['alias'] = f.alias;
    const rec: PackageRecord = { ecosystem: 'npm', name: f.name, version: f.version, path, attributes };
    if (f.license !== undefined) rec.license = f.license;
    return rec;
  });
}

/** The dependency maps of a package.json (and of a v2/v3 lockfile's root entry, which copies them). */
const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'] as const;

/** Names of the direct dependencies a package.json-shaped object declares; undefined when it has no dependency map at all. */
export function declaredDependencies(manifest: Record<string, unknown>): string[] | undefined {
  let names: Set<string> | undefined;
  for (const field of DEPENDENCY_FIELDS) {
    const map = manifest[field];
    if (typeof map !== 'object' || map === null || Array.isArray(map)) continue;
    names ??= new Set();
    for (const name of Object.keys(map)) names.add(name);
  }
  return names === undefined ? undefined : [...names].sort();
}

/**
 * The project a lockfile belongs to: v2/v3 root entry (`packages[""]`: name, version and the
 * dependency maps npm copies from package.json), else the v1 top-level `name`/`version` (v1 does
 * not tell direct dependencies from hoisted ones, so none are given).
 */
function lockfileProject(lock: Record<string, unknown>, path: string): ProjectRecord {
  const packages = lock['packages'];
  const rootEntry = typeof packages === 'object' && packages !== null ? (packages as Record<string, unknown>)[''] : undefined;
  const root = typeof rootEntry === 'object' && rootEntry !== null && !Array.isArray(rootEntry) ? (rootEntry as Record<string, unknown>) : undefined;
  const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
  const project: ProjectRecord = { ecosystem: 'npm', source: 'lockfile', path };
  const name = text(root?.['name']) ?? text(lock['name']);
  const version = text(root?.['version']) ?? text(lock['version']);
  if (name !== undefined) project.name = name;
  if (version !== undefined) project.version = version;
  const dependencies = root ? declaredDependencies(root) : undefined;
  if (dependencies !== undefined) project.dependencies = dependencies;
  return project;
}

/**
 * Reads an npm lockfile (package-lock.json or npm-shrinkwrap.json): the v2/v3 `packages` map when
 * present, else the v1 nested `dependencies` tree. The root project, workspace members, links and
 * entries without a version are skipped; dev/optional/bundled flags become attributes. The root
 * project is told of in `projects` (see lockfileProject), never as a package.
 * Returns no packages for a lockfile with no dependencies. Throws (E_INPUT, "npm-package-lock: ...")
 * when the file is not a JSON object.
 */
export function parsePackageLock(path: string, text: string): DetectorOutput {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new PortcullisError('E_INPUT', `npm-package-lock: ${path} is not JSON`, { path }, { cause: err });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new PortcullisError('E_INPUT', `npm-package-lock: ${path} is not a JSON object`, { path });
  }
  const lock = doc as Record<string, unknown>;
  const warnings: Warning[] = [];
  let found: Found[];
  const packages = lock['packages'];
  if (typeof packages === 'object' && packages !== null && !Array.isArray(packages)) {
    found = fromPackagesMap(packages as Record<string, unknown>, path, warnings);
  } else {
    found = fromV1Tree(lock['dependencies'], path, warnings);
  }
  const records = dedupe(found, path);
  const out: DetectorOutput = { projects: [lockfileProject(lock, path)] };
  if (records.length > 0) out.packages = records;
  if (warnings.length > 0) out.warnings = warnings;
  return out;
}

/**
 * npm lockfiles of applications in the image. Lockfiles inside `node_modules` (published packages'
 * own dev lockfiles, npm's hidden `.package-lock.json`) are not wanted: they do not describe what
 * is installed, and installed packages are read from their package.json files.
 */
export const npmLockfileDetector: Detector = {
  id: 'npm-package-lock',
  version: 2,
  maxBytes: 64 * 1024 * 1024,
  oversize: 'skip',
  wants(file) {
    const slash = file.path.lastIndexOf('/');
    const base = file.path.slice(slash + 1);
    if (base !== 'package-lock.json' && base !== 'npm-shrinkwrap.json') return false;
    return !`/${file.path}`.includes('/node_modules/');
  },
  parse: (file) => parsePackageLock(file.path, file.bytes.toString('utf8')),
};
