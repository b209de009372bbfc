import type { InventoryProject, ProjectRecord } from '../domain/package.js';
import { languagePurl } from '../ecosystems/purl.js';
import type { LayerDescriptor } from '../image/types.js';

/** Lockfiles that name their project, preferred when one folder holds several lockfiles. */
const NAMING_LOCKFILES = ['package-lock.json', 'npm-shrinkwrap.json'];

/**
 * The projects of an image: one per folder holding a lockfile, named by the lockfile's root entry
 * (package-lock v2/v3, or v1's top-level name) or else by the `package.json` beside it; its direct
 * dependencies likewise. A lockfile whose project has no name either way is left out (nothing to
 * list it as), and so is a manifest without a lockfile beside it (not a project whose dependencies
 * the image pins). Sorted by lockfile path.
 */
export function placeProjects(found: readonly { record: ProjectRecord; layerIndex: number }[], layers: readonly LayerDescriptor[]): InventoryProject[] {
  const manifests = new Map<string, ProjectRecord>();
  const lockfilesByDir = new Map<string, { record: ProjectRecord; layerIndex: number }[]>();
  for (const f of found) {
    if (f.record.source === 'manifest') {
      manifests.set(f.record.path, f.record);
      continue;
    }
    const dir = dirOf(f.record.path);
    const list = lockfilesByDir.get(dir);
    if (list) list.push(f);
    else lockfilesByDir.set(dir, [f]);
  }

  const digestOf = new Map(layers.map((l) => [l.index, l.digest]));
  const projects: InventoryProject[] = [];
  for (const [dir, lockfiles] of lockfilesByDir) {
    lockfiles.sort((a, b) => rank(a.record.path) - rank(b.record.path) || cmp(a.record.path, b.record.path));
    const lock = lockfiles[0];
    if (lock === undefined) continue;
    const manifestPath = dir === '' ? 'package.json' : `${dir}/package.json`;
    const manifest = manifests.get(manifestPath);
    const name = lock.record.name ?? manifest?.name;
    if (name === undefined) continue;
    const version = lock.record.version ?? manifest?.version;
    const project: InventoryProject = {
      ecosystem: 'npm',
      name,
      ...(version !== undefined ? { version } : {}),
      purl: languagePurl({ ecosystem: 'npm', name, version: version ?? '', path: lock.record.path }),
      lockfile: lock.record.path,
      ...(manifest ? { manifest: manifestPath } : {}),
      dependencies: [...(lock.record.dependencies ?? manifest?.dependencies ?? [])].sort(),
      layer: digestOf.get(lock.layerIndex) ?? '',
      layerIndex: lock.layerIndex,
    };
    projects.push(project);
  }
  return projects.sort((a, b) => cmp(a.lockfile, b.lockfile));
}

function rank(path: string): number {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return NAMING_LOCKFILES.includes(base) ? 0 : 1;
}

function dirOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
