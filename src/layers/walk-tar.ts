import type { Readable } from 'node:stream';
import { extract as tarExtract, type Extract } from 'tar-stream';
import { PortcullisError } from '../domain/errors.js';
import type { Detector, FileInfo } from '../detectors/types.js';
import { DEFAULT_WALK_LIMITS, LayerCollector, type WalkLimits } from './collector.js';
import type { LayerWalkResult } from './layer-result.js';
import { throwIfCancelled } from '../util/concurrency.js';
import { normalizeEntryPath } from './paths.js';

/**
 * Walks one layer's tar stream once, handing wanted files to the detectors. Nothing is written to
 * disk; only one wanted file at a time is held in memory, capped by its detectors' maxBytes.
 * The walk fails (typed) on corrupt or truncated tars, unsafe entry names and oversized layers.
 * Returns empty detector results when no entry is wanted; E_CANCELLED once `signal` fires.
 */
export async function walkTar(tar: Readable, detectors: readonly Detector[], limits: WalkLimits = DEFAULT_WALK_LIMITS, signal?: AbortSignal): Promise<LayerWalkResult> {
  const collector = new LayerCollector(detectors, limits);
  const extract = entriesOf(tar);
  try {
    for await (const entry of extract) {
      // Checked per entry: a cancelled scan stops within one entry, not at the end of a multi-GB layer.
      throwIfCancelled(signal, 'layer walk');
      const header = entry.header;
      const size = header.size ?? 0;
      collector.countEntry(size);
      const path = normalizeEntryPath(header.name);
      if (path === '' || collector.takeWhiteout(path)) {
        entry.resume();
        continue;
      }
      const info: FileInfo = { path, size, mode: header.mode ?? 0o644 };
      if (header.type === 'file' || header.type === 'contiguous-file') {
        const wanting = collector.route(info);
        if (wanting.length === 0) {
          entry.resume();
          continue;
        }
        await collector.addFile(info, wanting, () => readEntry(entry as unknown as AsyncIterable<Buffer>, size));
      } else if (header.type === 'symlink' || header.type === 'link') {
        const target = header.linkname ?? '';
        // Hardlink names are entry names of the same archive: normalize them the same way.
        const linkTarget = header.type === 'link' ? normalizeEntryPath(target) : target;
        collector.addLink(path, linkTarget, header.type === 'link' ? 'hardlink' : 'symlink', info);
        entry.resume();
      } else {
        // FIFOs, devices and directories: nothing to read, but they replace a lower file at their path.
        collector.addSpecial({ ...info, size: 0 }, header.type ?? 'special file');
        entry.resume();
      }
    }
  } catch (err) {
    tar.destroy();
    if (err instanceof PortcullisError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new PortcullisError('E_LAYER_CORRUPT', `layer: corrupt or truncated tar: ${reason}`, {}, { cause: err });
  }
  return collector.finish();
}

async function readEntry(entry: AsyncIterable<Buffer>, size: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of entry) {
    chunks.push(chunk);
    total += chunk.length;
  }
  if (total !== size) {
    throw new PortcullisError('E_LAYER_CORRUPT', `layer: truncated tar entry (${total} of ${size} bytes)`);
  }
  return chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks, total);
}

/**
 * Reads the regular files at `paths` (normalized image paths, each with the most bytes to read)
 * out of one layer's tar in one pass, for links that lead to files no detector was given.
 * A path the tar holds twice gives its last copy, as extraction would. Paths the tar does not hold
 * as regular files are missing from the result. Fails like walkTar on a corrupt tar.
 */
export async function readTarFiles(tar: Readable, paths: ReadonlyMap<string, number>): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>();
  const extract = entriesOf(tar);
  try {
    for await (const entry of extract) {
      const header = entry.header;
      const max = header.type === 'file' || header.type === 'contiguous-file' ? paths.get(normalizeEntryPath(header.name)) : undefined;
      if (max === undefined) {
        entry.resume();
        continue;
      }
      const size = header.size ?? 0;
      const path = normalizeEntryPath(header.name);
      if (size > max) throw new PortcullisError('E_TOO_LARGE', `layer: ${path} is ${size} bytes, over the ${max}-byte cap`, { path, size, limit: max });
      found.set(path, await readEntry(entry as unknown as AsyncIterable<Buffer>, size));
    }
  } catch (err) {
    tar.destroy();
    if (err instanceof PortcullisError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new PortcullisError('E_LAYER_CORRUPT', `layer: corrupt or truncated tar: ${reason}`, {}, { cause: err });
  }
  return found;
}

/** The tar's entries as tar-stream reads them; an error of the layer stream ends the iteration with it. */
function entriesOf(tar: Readable): Extract {
  const extract = tarExtract();
  tar.on('error', (err) => extract.destroy(err));
  tar.pipe(extract);
  return extract;
}
