import { PortcullisError } from '../domain/errors.js';
import type { Detector, DetectorOutput } from '../detectors/types.js';
import { LayerCollector } from '../layers/collector.js';
import { coalesceLayers, linkKey, type AnalysedLayer, type CoalescedImage, type LinkedRead } from './coalesce.js';

/**
 * Reads the regular files at the given paths of one layer, each at most its number of bytes, in
 * one pass over the layer. Paths the layer does not hold are missing from the result.
 */
export type LayerFileReader = (layerIndex: number, paths: ReadonlyMap<string, number>) => Promise<Map<string, Buffer>>;

/**
 * Reads the files that links at wanted paths lead to (coalesceLayers' `linkedReads`), one pass per
 * layer holding any, and parses each with the detector that wanted the link as if the file stood at
 * the link's path. Size caps apply as in the walk, judged from the index before anything is read.
 * Returns the outputs keyed by linkKey, for coalesceLayers' `linked`.
 */
export async function readThroughLinks(reads: readonly LinkedRead[], detectors: readonly Detector[], readLayer: LayerFileReader): Promise<Map<string, DetectorOutput>> {
  const byId = new Map(detectors.map((d) => [d.id, d]));
  const byLayer = new Map<number, LinkedRead[]>();
  for (const read of reads) {
    const group = byLayer.get(read.source.layerIndex) ?? [];
    group.push(read);
    byLayer.set(read.source.layerIndex, group);
  }
  const outputs = new Map<string, DetectorOutput>();
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
      outputs.set(linkKey(read.detector, read.linkPath), collector.finish().detectors[0]?.files[0]?.output ?? {});
    }
  }
  return outputs;
}

/**
 * coalesceLayers, then the reads its links need (if any), then coalesceLayers again with their
 * outputs: the image's packages with every link at a wanted path followed.
 */
export async function coalesceThroughLinks(layers: readonly AnalysedLayer[], detectors: readonly Detector[], readLayer: LayerFileReader): Promise<CoalescedImage> {
  const first = coalesceLayers(layers);
  if (first.linkedReads.length === 0) return first;
  return coalesceLayers(layers, await readThroughLinks(first.linkedReads, detectors, readLayer));
}
