/**
 * NuGet packages of .NET applications, from the three files an image holds them in:
 * - `<app>.deps.json`, the .NET runtime's dependency manifest beside a published application:
 *   `libraries` keyed `Name/Version`, of which `type: "package"` entries are NuGet packages
 *   (`project` is the application itself, `reference` an assembly, `runtimepack` the framework);
 * - `packages.lock.json`, NuGet's lock file: `dependencies.<target framework>.<Name>.resolved`
 *   (`Project` entries are projects of the same solution and carry no version);
 * - `<id>.nuspec` inside an extracted package folder (`~/.nuget/packages/<id>/<version>/`), whose
 *   `<package><metadata><id>` and `<version>` name the package.
 */
import { XMLParser } from 'fast-xml-parser';
import * as z from 'zod';
import { PortcullisError } from '../../domain/errors.js';
import type { Detector, DetectorOutput } from '../../detectors/types.js';
import type { PackageRecord } from '../../domain/package.js';

type Warning = NonNullable<DetectorOutput['warnings']>[number];

function parseJson(detector: string, path: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new PortcullisError('E_INPUT', `${detector}: ${path} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, { path }, { cause: err });
  }
}

const DepsJson = z.object({
  libraries: z.record(z.string(), z.object({ type: z.string(), sha512: z.string().optional(), path: z.string().optional() }).loose()).optional(),
});

/** The NuGet packages of a `.deps.json` (libraries of type `package`). Throws E_INPUT for a file that is not a deps.json. */
export function parseDepsJson(path: string, text: string): DetectorOutput {
  const parsed = DepsJson.safeParse(parseJson('nuget-deps-json', path, text));
  if (!parsed.success) throw new PortcullisError('E_INPUT', `nuget-deps-json: ${path} is not a .NET dependency manifest: ${parsed.error.issues[0]?.message ?? 'invalid'}`, { path });
  const packages: PackageRecord[] = [];
  const warnings: Warning[] = [];
  for (const [key, library] of Object.entries(parsed.data.libraries ?? {})) {
    if (library.type !== 'package') continue;
    const slash = key.lastIndexOf('/');
    if (slash <= 0 || slash === key.length - 1) {
      warnings.push({ code: 'malformed-record', message: `nuget-deps-json: library ${JSON.stringify(key)} is not Name/Version`, path });
      continue;
    }
    const attributes: Record<string, string> = {};
    if (library.sha512 !== undefined && library.sha512 !== '') attributes['sha512'] = library.sha512;
    packages.push({ ecosystem: 'nuget', name: key.slice(0, slash), version: key.slice(slash + 1), path, attributes });
  }
  const out: DetectorOutput = { packages };
  if (warnings.length > 0) out.warnings = warnings;
  return out;
}

const LockFile = z.object({
  dependencies: z.record(z.string(), z.record(z.string(), z.object({ type: z.string().optional(), resolved: z.string().optional() }).loose())),
});

/**
 * The resolved packages of a `packages.lock.json`, once per name and version however many target
 * frameworks pin it. Throws E_INPUT for a file that is not a NuGet lock file.
 */
export function parsePackagesLock(path: string, text: string): DetectorOutput {
  const parsed = LockFile.safeParse(parseJson('nuget-packages-lock', path, text));
  if (!parsed.success) throw new PortcullisError('E_INPUT', `nuget-packages-lock: ${path} is not a NuGet lock file: ${parsed.error.issues[0]?.message ?? 'invalid'}`, { path });
  const seen = new Set<string>();
  const packages: PackageRecord[] = [];
  for (const [framework, dependencies] of Object.entries(parsed.data.dependencies)) {
    for (const [name, dependency] of Object.entries(dependencies)) {
      if (dependency.type === 'Project' || dependency.resolved === undefined || dependency.resolved === '') continue;
      const id = `${name.toLowerCase()}\u0000${dependency.resolved}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const attributes: Record<string, string> = { targetFramework: framework };
      if (dependency.type !== undefined) attributes['dependencyType'] = dependency.type;
      packages.push({ ecosystem: 'nuget', name, version: dependency.resolved, path, attributes });
    }
  }
  return { packages };
}

const nuspecParser = new XMLParser({ ignoreAttributes: true, removeNSPrefix: true, parseTagValue: false, trimValues: true, processEntities: false });

const Nuspec = z.object({
  package: z.object({ metadata: z.object({ id: z.string().min(1), version: z.string().min(1) }).loose() }).loose(),
});

/** The package a `.nuspec` describes. Throws E_INPUT for a file that is not a nuspec with an id and version. */
export function parseNuspec(path: string, text: string): DetectorOutput {
  let doc: unknown;
  try {
    doc = nuspecParser.parse(text, true);
  } catch (err) {
    throw new PortcullisError('E_INPUT', `nuget-nuspec: ${path} is not valid XML: ${err instanceof Error ? err.message : String(err)}`, { path }, { cause: err });
  }
  const parsed = Nuspec.safeParse(doc);
  if (!parsed.success) throw new PortcullisError('E_INPUT', `nuget-nuspec: ${path} has no package/metadata id and version`, { path });
  const { id, version } = parsed.data.package.metadata;
  return { packages: [{ ecosystem: 'nuget', name: id, version, path }] };
}

export const nugetDepsJsonDetector: Detector = {
  id: 'nuget-deps-json',
  version: 1,
  maxBytes: 32 * 1024 * 1024,
  oversize: 'skip',
  wants: (file) => file.path.endsWith('.deps.json'),
  parse: (file) => parseDepsJson(file.path, file.bytes.toString('utf8')),
};

export const nugetPackagesLockDetector: Detector = {
  id: 'nuget-packages-lock',
  version: 1,
  maxBytes: 32 * 1024 * 1024,
  oversize: 'skip',
  wants: (file) => file.path === 'packages.lock.json' || file.path.endsWith('/packages.lock.json'),
  parse: (file) => parsePackagesLock(file.path, file.bytes.toString('utf8')),
};

/**
 * `.nuspec` files of extracted packages: the global packages folder lays a package out as
 * `<id>/<version>/<id>.nuspec` (lower-cased), which is what this asks for; a project's own nuspec
 * (source tree) is not a package the image holds.
 */
export const nugetNuspecDetector: Detector = {
  id: 'nuget-nuspec',
  version: 1,
  maxBytes: 4 * 1024 * 1024,
  oversize: 'skip',
  wants: (file) => {
    if (!file.path.endsWith('.nuspec')) return false;
    const parts = file.path.split('/');
    const base = parts[parts.length - 1] ?? '';
    const packageDir = parts[parts.length - 3];
    return packageDir !== undefined && base.slice(0, -'.nuspec'.length) === packageDir;
  },
  parse: (file) => parseNuspec(file.path, file.bytes.toString('utf8')),
};
