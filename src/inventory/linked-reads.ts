import { PortcullisError } from '../domain/errors.js';
import type { Detector, DetectorOutput } from '../detectors/types.js';
import { LayerCollector } from '../layers/collector.js';
import type { ScanWarning } from '../domain/warning.js';
import { coalesceLayers, linkKey, mergedTreeOf, type AnalysedLayer, type CoalescedImage, type LinkedRead } from './coalesce.js';
import type { MergedTree } from './merged-tree.js';

/**
 * Reads the regular files at the given paths of one layer, each at most its number of bytes, in
 * one pass over the layer. Paths the layer does not hold are missing from the result.
 */
export type LayerFileReader = (layerIndex: number, paths: ReadonlyMap<string, number>) => Promise<Map<string, Buffer>>;

/** Keeps what was read through links between runs (the layer cache, under the file's layer). */
export interface LinkedOutputStore {
  get(read: LinkedRead, detector: Detector): Promise<DetectorOutput | undefined>;
  put(read: LinkedRead, detector: Detector, output: DetectorOutput): Promise<void>;
}

/**
 * Reads the files that links at wanted paths lead to (coalesceLayers' `linkedReads`), one pass per
 * layer holding any, and parses each with the detector that wanted the link as if the file stood at
 * the link's path. Size caps apply as in the walk, judged from the index before anything is read.
 * Outputs found in `store` are not read again; those read are put there. Returns the outputs keyed
 * by linkKey, for coalesceLayers' `linked`.
 */
export async function readThroughLinks(
  reads: readonly LinkedRead[],
  detectors: readonly Detector[],
  readLayer: LayerFileReader,
  store?: LinkedOutputStore,
): Promise<Map<string, DetectorOutput>> {
  const byId = new Map(detectors.map((d) => [d.id, d]));
  const byLayer = new Map<number, LinkedRead[]>();
  const outputs = new Map<string, DetectorOutput>();
  for (const read of reads) {
    const detector = byId.get(read.detector);
    const stored = detector && store ? await store.get(read, detector) : undefined;
    if (stored !== undefined) {
      outputs.set(linkKey(read.detector, read.linkPath), stored);
      continue;
    }
    const group = byLayer.get(read.source.layerIndex) ?? [];
    group.push(read);
    byLayer.set(read.source.layerIndex, group);
  }
  for (const [layerIndex, group] of byLayer) {
    const wanted = new Map<string, number>();
    for (const read of group) {
      const detector = byId.get(read.detector);
      if (detector === undefined || read.source.size > detector.maxBytes) continue;
      wanted.set(read.source.path, Math.max(wanted.get(read.source.path) ?? 0, detector.maxBytes));
    }
    const files = wanted.size > 0 ? await readLayer(layerIndex, wanted) : new Map<string, Buffer>();
    for (const read of group) {
      const detector = byId.get(read.detector);
      if (detector === undefined) continue;
      const collector = new LayerCollector([detector]);
      const info = { path: read.linkPath, size: read.source.size, mode: read.source.mode };
      await collector.addFile(info, [detector], () => {
        const bytes = files.get(read.source.path);
        if (bytes === undefined) {
          return Promise.reject(
            new PortcullisError('E_LAYER_CORRUPT', `layer ${layerIndex}: ${read.source.path} is in the layer's file index but not in its tar`, { path: read.source.path }),
          );
        }
        return Promise.resolve(bytes);
      });
      const output = collector.finish().detectors[0]?.files[0]?.output ?? {};
      outputs.set(linkKey(read.detector, read.linkPath), output);
      await store?.put(read, detector, output);
    }
  }
  return outputs;
}

/** Most names examined through symlinked directories per image (see MergedTree.linkAliases). */
const MAX_LINK_ALIASES = 1_000_000;

/**
 * coalesceLayers, then the reads its links need (if any), then coalesceLayers again with their
 * outputs: the image's packages with every link at a wanted path followed. A wanted path reached
 * only through a symlinked directory (`var/lib/dpkg -> /opt/dpkg`) is read too, when its detector
 * does not already read the file at its real path (so `bin -> usr/bin` counts nothing twice); its
 * packages are credited to the later of the link's and the file's layers.
 */
export async function coalesceThroughLinks(
  layers: readonly AnalysedLayer[],
  detectors: readonly Detector[],
  readLayer: LayerFileReader,
  store?: LinkedOutputStore,
): Promise<CoalescedImage> {
  const hasSymlinks = layers.some((l) => l.files?.some((e) => e.type === 'symlink') ?? false);
  const tree = hasSymlinks ? mergedTreeOf(layers) : undefined;
  const first = coalesceLayers(layers, new Map(), tree);
  const { reads: aliasReads, warnings } = tree ? readsThroughLinkedDirectories(tree, layers, detectors) : { reads: [], warnings: [] };
  if (first.linkedReads.length === 0 && aliasReads.length === 0) return { ...first, warnings: [...first.warnings, ...warnings] };
  const linked = await readThroughLinks([...first.linkedReads, ...aliasReads.map((a) => a.read)], detectors, readLayer, store);
  const result = first.linkedReads.length > 0 ? coalesceLayers(layers, linked, tree) : first;
  result.warnings.push(...warnings);
  for (const { read, layerIndex } of aliasReads) {
    const output = linked.get(linkKey(read.detector, read.linkPath)) ?? {};
    if (output.distro) result.distroCandidates.push(output.distro);
    for (const w of output.warnings ?? []) result.warnings.push({ ...w, detector: read.detector, path: w.path ?? read.linkPath });
    for (const record of output.packages ?? []) result.packages.push({ record, detector: read.detector, layerIndex });
  }
  return result;
}

/** The wanted paths that only a symlinked directory leads to, as reads of the files they name. */
function readsThroughLinkedDirectories(
  tree: MergedTree,
  layers: readonly AnalysedLayer[],
  detectors: readonly Detector[],
): { reads: { read: LinkedRead; layerIndex: number }[]; warnings: ScanWarning[] } {
  const { aliases, truncated } = tree.linkAliases(MAX_LINK_ALIASES);
  const warnings: ScanWarning[] = truncated
    ? [{ code: 'link-aliases-capped', message: `layers: more than ${MAX_LINK_ALIASES} paths through symlinked directories; the rest were not looked at` }]
    : [];
  // Paths a detector already has a version of in some layer keep what the layers say there.
  const known = new Set<string>();
  for (const layer of layers) {
    for (const result of layer.detectors) {
      for (const f of result.files) known.add(linkKey(result.detector, f.path));
      for (const l of result.links) known.add(linkKey(result.detector, l.path));
    }
  }
  const reads: { read: LinkedRead; layerIndex: number }[] = [];
  for (const alias of aliases) {
    const { size, mode } = alias.source;
    const realPath = alias.realPath;
    for (const d of detectors) {
      if (!d.wants({ path: alias.path, size, mode }) || d.wants({ path: realPath, size, mode }) || known.has(linkKey(d.id, alias.path))) continue;
      reads.push({ read: { detector: d.id, linkPath: alias.path, source: alias.source }, layerIndex: Math.max(alias.linkLayer, alias.source.layerIndex) });
    }
  }
  return { reads, warnings };
}
