import { PortcullisError } from '../../domain/errors.js';
import type { Detector, DetectorOutput, FileInfo } from '../../detectors/types.js';
import type { ProjectRecord } from '../../domain/package.js';
import { installedPackageJson } from './package-json-detector.js';
import { declaredDependencies } from './package-lock-detector.js';

/**
 * A package.json that may be a project's own manifest: outside every `node_modules` and outside
 * Debian's module folders (those are installed packages, read by `npm-package-json`).
 */
export function isProjectManifest(file: FileInfo): boolean {
  if (file.path !== 'package.json' && !file.path.endsWith('/package.json')) return false;
  return !`/${file.path}`.includes('/node_modules/') && installedPackageJson(file.path) === undefined;
}

/**
 * Reads a project's package.json: its name, version and the names of its direct dependencies
 * (`dependencies`, `devDependencies`, `optionalDependencies`, `peerDependencies`). Fields of the
 * wrong type are left out. Throws (E_INPUT, "npm-project-manifest: ...") when the file is not a JSON object.
 */
export function parseProjectManifest(path: string, text: string): DetectorOutput {
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new PortcullisError('E_INPUT', `npm-project-manifest: ${path} is not JSON`, { path }, { cause: err });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new PortcullisError('E_INPUT', `npm-project-manifest: ${path} is not a JSON object`, { path });
  const manifest = doc as Record<string, unknown>;
  const project: ProjectRecord = { ecosystem: 'npm', source: 'manifest', path };
  if (typeof manifest['name'] === 'string' && manifest['name'] !== '') project.name = manifest['name'];
  if (typeof manifest['version'] === 'string' && manifest['version'] !== '') project.version = manifest['version'];
  const dependencies = declaredDependencies(manifest);
  if (dependencies !== undefined) project.dependencies = dependencies;
  return { projects: [project] };
}

/**
 * Project manifests (`package.json` outside `node_modules`): the name and version of the project a
 * lockfile beside it belongs to, for yarn and pnpm lockfiles, which name none, and for package-lock
 * v1, which lists no direct dependencies. Inventory building keeps a manifest only where a
 * lockfile sits beside it. Emits no packages: the project is the code scanned, not a dependency.
 */
export const npmProjectManifestDetector: Detector = {
  id: 'npm-project-manifest',
  version: 1,
  maxBytes: 4 * 1024 * 1024,
  oversize: 'skip',
  wants: isProjectManifest,
  parse: (file) => parseProjectManifest(file.path, file.bytes.toString('utf8')),
};
