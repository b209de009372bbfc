import type { Distro } from '../domain/distro.js';
import type { OwnedFiles, PackageRecord, ProjectRecord } from '../domain/package.js';
import type { ScanWarning } from '../domain/warning.js';
import type { DetectorLayerResult, FileResult, LayerDeletions, LinkRecord } from '../layers/layer-result.js';
import { parentOf, resolveSymlink } from '../layers/paths.js';

/** One layer's analysis, as the walk or the cache gave it. */
export interface AnalysedLayer {
  index: number;
  digest: string;
  deletions: LayerDeletions;
  detectors: DetectorLayerResult[];
}

/** A package placed in the final filesystem, with the layer that introduced its current version. */
export interface PlacedPackage {
  record: PackageRecord;
  detector: string;
  layerIndex: number;
}

export interface CoalescedImage {
  packages: PlacedPackage[];
  /** Release facts from the files present in the final filesystem, keyed by the path they stand at. */
  distroCandidates: Distro[];
  /** File lists of the OS package databases present in the final filesystem. */
  ownedFiles: OwnedFiles[];
  /** Projects told of by lockfiles and manifests present in the final filesystem, with the layer of that file. */
  projects: { record: ProjectRecord; layerIndex: number }[];
  warnings: ScanWarning[];
}

interface PathVersion {
  layerIndex: number;
  file?: FileResult;
  link?: LinkRecord;
}

/**
 * Merges per-layer results into the view of the final filesystem, the way a container runtime
 * stacks layers: each layer's whiteouts and opaque directories first hide lower content, then its
 * own files shadow lower versions of the same path. A package's layer is the lowest layer of the
 * unbroken run of versions of its file that all contain that exact package (so a dpkg status file
 * rewritten by every layer still credits each package to the layer that installed it).
 * Returns no packages for an image without any detector results.
 */
export function coalesceLayers(layers: readonly AnalysedLayer[]): CoalescedImage {
  const view = new Map<string, PathVersion[]>();
  const keyOf = (detector: string, path: string): string => `${detector}\u0000${path}`;
  const pathOf = (key: string): string => key.slice(key.indexOf('\u0000') + 1);

  for (const layer of [...layers].sort((a, b) => a.index - b.index)) {
    applyDeletions(view, layer.deletions, pathOf);
    for (const result of layer.detectors) {
      for (const file of result.files) push(view, keyOf(result.detector, file.path), { layerIndex: layer.index, file });
      for (const link of result.links) push(view, keyOf(result.detector, link.path), { layerIndex: layer.index, link });
    }
  }

  const packages: PlacedPackage[] = [];
  const warnings: ScanWarning[] = [];
  const distroCandidates: Distro[] = [];
  const ownedFiles: OwnedFiles[] = [];
  const projects: CoalescedImage['projects'] = [];
  for (const [key, versions] of view) {
    const detector = key.slice(0, key.indexOf('\u0000'));
    const top = versions[versions.length - 1];
    if (top === undefined) continue;
    if (top.link !== undefined) {
      const distro = distroThroughLink(view, detector, top.link, keyOf);
      if (distro) distroCandidates.push(distro);
      continue;
    }
    const output = top.file?.output;
    if (output === undefined) continue;
    if (output.distro) distroCandidates.push(output.distro);
    if (output.ownedFiles) ownedFiles.push(...output.ownedFiles);
    for (const record of output.projects ?? []) projects.push({ record, layerIndex: top.layerIndex });
    for (const w of output.warnings ?? []) warnings.push({ ...w, detector, path: w.path ?? top.file?.path });
    for (const record of output.packages ?? []) {
      packages.push({ record, detector, layerIndex: introducingLayer(versions, record) });
    }
  }
  return { packages, distroCandidates, ownedFiles, projects, warnings };
}

function push(view: Map<string, PathVersion[]>, key: string, version: PathVersion): void {
  const stack = view.get(key);
  if (stack) stack.push(version);
  else view.set(key, [version]);
}

/** Removes every tracked path a layer deletes: the path itself, or anything below a deleted or opaque directory. */
function applyDeletions(view: Map<string, PathVersion[]>, deletions: LayerDeletions, pathOf: (key: string) => string): void {
  if (deletions.whiteouts.length === 0 && deletions.opaqueDirs.length === 0) return;
  const removed = new Set(deletions.whiteouts);
  const opaque = new Set(deletions.opaqueDirs);
  for (const key of [...view.keys()]) {
    const path = pathOf(key);
    let hidden = removed.has(path);
    for (let dir = parentOf(path); !hidden; dir = parentOf(dir)) {
      if (removed.has(dir) || opaque.has(dir)) hidden = true;
      if (dir === '') break;
    }
    if (hidden) view.delete(key);
  }
}

function identity(p: PackageRecord): string {
  return `${p.ecosystem}\u0000${p.name}\u0000${p.version}\u0000${p.arch ?? ''}`;
}

function introducingLayer(versions: PathVersion[], record: PackageRecord): number {
  const id = identity(record);
  let i = versions.length - 1;
  while (i > 0) {
    const below = versions[i - 1]?.file?.output.packages;
    if (!below || !below.some((p) => identity(p) === id)) break;
    i -= 1;
  }
  return versions[i]?.layerIndex ?? 0;
}

/**
 * A release file that is a symlink (Debian's etc/os-release -> ../usr/lib/os-release) counts with
 * its target's content, resolved inside the image root. A link out of the root or in a loop is
 * E_SYMLINK: the image is refused rather than read through it.
 */
function distroThroughLink(
  view: Map<string, PathVersion[]>,
  detector: string,
  link: LinkRecord,
  keyOf: (detector: string, path: string) => string,
): Distro | undefined {
  const topOf = (path: string): PathVersion | undefined => {
    const stack = view.get(keyOf(detector, path));
    return stack?.[stack.length - 1];
  };
  const resolved = link.kind === 'hardlink' ? link.target : resolveSymlink(link.path, link.target, (p) => topOf(p)?.link?.target);
  const distro = topOf(resolved)?.file?.output.distro;
  return distro ? { ...distro, source: link.path } : undefined;
}
