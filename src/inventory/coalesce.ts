import type { Distro } from '../domain/distro.js';
import type { OwnedFiles, PackageRecord, ProjectRecord } from '../domain/package.js';
import type { ScanWarning } from '../domain/warning.js';
import type { DetectorOutput } from '../detectors/types.js';
import { relocate } from '../layers/collector.js';
import type { DetectorLayerResult, FileResult, IndexedEntry, LayerDeletions, LinkRecord } from '../layers/layer-result.js';
import { layerHider } from './hidden-paths.js';
import { MergedTree, type SourceFile, type TreeLayer } from './merged-tree.js';

/** One layer's analysis, as the walk or the cache gave it. */
export interface AnalysedLayer {
  index: number;
  digest: string;
  deletions: LayerDeletions;
  detectors: DetectorLayerResult[];
  /**
   * The layer's file index (every regular file, link and special file, in tar order), to resolve
   * links in the merged filesystem. Without it only the detectors' own files and links are known.
   */
  files?: readonly IndexedEntry[];
}

/** A package placed in the final filesystem, with the layer that introduced its current version. */
export interface PlacedPackage {
  record: PackageRecord;
  detector: string;
  layerIndex: number;
}

/**
 * A link at a wanted path leads to a file its detector was not given (the file is not at a path it
 * wants, or is in another layer than the link): that file must be read from its layer and parsed
 * as if it stood at the link's path, then handed back to coalesceLayers in `linked`.
 */
export interface LinkedRead {
  detector: string;
  linkPath: string;
  source: SourceFile;
}

/** The key of a detector's output read through the link at `linkPath` (see LinkedRead). */
export function linkKey(detector: string, linkPath: string): string {
  return `${detector}\u0000${linkPath}`;
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
  /** Files still to read for links at wanted paths; their packages are missing until they are given. */
  linkedReads: LinkedRead[];
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
 * A link at a wanted path counts with the content of the file it leads to in the merged filesystem
 * (symlinks followed inside the image root, hardlinks to the entry they name), credited to the
 * later of the link's and the file's layers; a file its detector also reads at its own path counts
 * there only (the link adds its release facts, not its packages). When no detector read the file, it is listed in
 * `linkedReads` until its output is given in `linked`. A link to nothing or to a special file is a
 * warning. Returns no packages for an image without any detector results.
 */
export function coalesceLayers(layers: readonly AnalysedLayer[], linked: ReadonlyMap<string, DetectorOutput> = new Map(), mergedTree?: MergedTree): CoalescedImage {
  const view = new Map<string, PathVersion[]>();
  const keyOf = linkKey;
  const pathOf = (key: string): string => key.slice(key.indexOf('\u0000') + 1);

  for (const layer of [...layers].sort((a, b) => a.index - b.index)) {
    applyDeletions(view, layer, pathOf);
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
  const linkedReads: LinkedRead[] = [];
  let tree = mergedTree;
  for (const [key, versions] of view) {
    const detector = key.slice(0, key.indexOf('\u0000'));
    const top = versions[versions.length - 1];
    if (top === undefined) continue;
    if (top.link !== undefined) {
      tree ??= mergedTreeOf(layers);
      const through = throughLink(tree, view, detector, top.link, linked);
      if ('read' in through) {
        linkedReads.push(through.read);
        continue;
      }
      const { output, sourceLayer } = through;
      const layerIndex = Math.max(top.layerIndex, sourceLayer);
      if (output.distro) distroCandidates.push(output.distro);
      if (output.ownedFiles) ownedFiles.push(...output.ownedFiles);
      for (const record of output.projects ?? []) projects.push({ record, layerIndex });
      for (const w of output.warnings ?? []) warnings.push({ ...w, detector, path: w.path ?? top.link.path });
      for (const record of output.packages ?? []) packages.push({ record, detector, layerIndex });
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
  return { packages, distroCandidates, ownedFiles, projects, warnings, linkedReads };
}

/** The merged filesystem of the layers (paths only), from their indexes where they have one. */
export function mergedTreeOf(layers: readonly AnalysedLayer[]): MergedTree {
  return new MergedTree(layers.map(treeLayer));
}

/** The layer's entries for the merged tree: its index, or else the detectors' own files and links. */
function treeLayer(layer: AnalysedLayer): TreeLayer {
  if (layer.files !== undefined) return { index: layer.index, deletions: layer.deletions, entries: layer.files };
  const entries: IndexedEntry[] = [];
  for (const result of layer.detectors) {
    for (const file of result.files) entries.push({ path: file.path, size: 0, mode: 0 });
    for (const link of result.links) entries.push({ path: link.path, size: 0, mode: 0o777, type: link.kind, target: link.target });
  }
  return { index: layer.index, deletions: layer.deletions, entries };
}

/**
 * The output a link at a wanted path stands for: that of the file it leads to, read by the same
 * detector in the file's layer, or given in `linked`; else the file to read.
 */
function throughLink(
  tree: MergedTree,
  view: Map<string, PathVersion[]>,
  detector: string,
  link: LinkRecord,
  linked: ReadonlyMap<string, DetectorOutput>,
): { output: DetectorOutput; sourceLayer: number } | { read: LinkedRead } {
  const resolved = tree.resolve(link.path);
  if (resolved.kind === 'absent') {
    const message = `${detector}: ${link.path} is a ${link.kind} to ${JSON.stringify(link.target)}, which is not in the image: nothing read`;
    return { output: { warnings: [{ code: 'dangling-link', message, path: link.path }] }, sourceLayer: 0 };
  }
  if (resolved.kind === 'special') {
    const message = `${detector}: ${link.path} leads to ${resolved.path}, which is not a regular file: nothing read`;
    return { output: { warnings: [{ code: 'not-a-regular-file', message, path: link.path }] }, sourceLayer: resolved.layerIndex };
  }
  const { source } = resolved;
  const versions = view.get(linkKey(detector, source.path));
  const read = versions?.findLast((v) => v.layerIndex === source.layerIndex && v.file !== undefined)?.file;
  if (read !== undefined) {
    const output = relocate(read.output, source.path, link.path);
    // The file still stands at its own path, where its packages are already counted: a link to it
    // (Debian's `commons-lang3-3.12.0.jar -> commons-lang3.jar`) adds none. Release facts are kept
    // under the link's name, which is where tools look for them (`etc/os-release`).
    if (versions?.[versions.length - 1]?.file === read) return { output: output.distro ? { distro: output.distro } : {}, sourceLayer: source.layerIndex };
    return { output, sourceLayer: source.layerIndex };
  }
  const given = linked.get(linkKey(detector, link.path));
  if (given !== undefined) return { output: given, sourceLayer: source.layerIndex };
  return { read: { detector, linkPath: link.path, source } };
}

function push(view: Map<string, PathVersion[]>, key: string, version: PathVersion): void {
  const stack = view.get(key);
  if (stack) stack.push(version);
  else view.set(key, [version]);
}

/** Removes every tracked path the layer hides (see layerHider). */
function applyDeletions(view: Map<string, PathVersion[]>, layer: AnalysedLayer, pathOf: (key: string) => string): void {
  const hides = layerHider(layer.deletions, layer.files);
  if (hides === undefined) return;
  for (const key of [...view.keys()]) if (hides(pathOf(key))) view.delete(key);
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
