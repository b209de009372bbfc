import { PortcullisError } from '../domain/errors.js';
import type { CapturedFile, Detector, DetectorOutput, FileInfo } from '../detectors/types.js';
import type { DetectorLayerResult, FileResult, IndexedEntry, LayerWalkResult, LinkRecord } from './layer-result.js';
import { baseName, joinPath, parentOf } from './paths.js';

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';

/** Limits that keep a hostile layer from exhausting memory or time. */
export interface WalkLimits {
  /** Uncompressed bytes one layer may hold (decompression bombs). */
  maxLayerBytes: number;
  /** Entries one layer may hold. */
  maxEntries: number;
}

export const DEFAULT_WALK_LIMITS: WalkLimits = {
  maxLayerBytes: 64 * 1024 ** 3,
  maxEntries: 5_000_000,
};

/**
 * Routes the entries of one layer (from a tar or a directory) to the detectors that asked for
 * them and gathers their outputs. This is the only place that knows how entries become detector
 * input; the tar walk and the directory walk both feed it.
 */
export class LayerCollector {
  private readonly results = new Map<string, { files: FileResult[]; links: LinkRecord[] }>();
  private readonly whiteouts: string[] = [];
  private readonly opaqueDirs: string[] = [];
  private readonly index: IndexedEntry[] = [];
  private entries = 0;
  private bytes = 0;

  constructor(
    private readonly detectors: readonly Detector[],
    private readonly limits: WalkLimits = DEFAULT_WALK_LIMITS,
  ) {
    for (const d of detectors) this.results.set(d.id, { files: [], links: [] });
  }

  /** Counts an entry of any type against the limits. */
  countEntry(size: number): void {
    this.entries += 1;
    this.bytes += size;
    if (this.entries > this.limits.maxEntries) {
      throw new PortcullisError('E_TOO_LARGE', `layer: more than ${this.limits.maxEntries} entries`, { limit: this.limits.maxEntries });
    }
    if (this.bytes > this.limits.maxLayerBytes) {
      throw new PortcullisError('E_TOO_LARGE', `layer: more than ${this.limits.maxLayerBytes} uncompressed bytes (decompression bomb?)`, {
        limit: this.limits.maxLayerBytes,
      });
    }
  }

  /**
   * Handles a whiteout marker. Returns true when `path` was one (and is therefore not a real file).
   */
  takeWhiteout(path: string): boolean {
    const name = baseName(path);
    if (!name.startsWith(WHITEOUT_PREFIX)) return false;
    if (name === OPAQUE_MARKER) this.opaqueDirs.push(parentOf(path));
    else this.whiteouts.push(joinPath(parentOf(path), name.slice(WHITEOUT_PREFIX.length)));
    return true;
  }

  /** Indexes a regular file and returns the detectors that want it. */
  route(info: FileInfo): Detector[] {
    this.index.push({ path: info.path, size: info.size, mode: info.mode });
    return this.detectors.filter((d) => d.wants(info));
  }

  /**
   * Reads a wanted file (once, up to the largest cap among the detectors that want it) and hands
   * its bytes to each of them. An oversized file is an error for package databases and a warning
   * for opportunistic detectors (binaries).
   */
  async addFile(info: FileInfo, wanting: Detector[], read: (maxBytes: number) => Promise<Buffer>): Promise<void> {
    const fitting: Detector[] = [];
    for (const d of wanting) {
      if (info.size <= d.maxBytes) {
        fitting.push(d);
      } else if (d.oversize === 'error') {
        throw new PortcullisError('E_TOO_LARGE', `${d.id}: ${info.path} is ${info.size} bytes, over the ${d.maxBytes}-byte cap`, {
          path: info.path,
          size: info.size,
          limit: d.maxBytes,
        });
      } else {
        this.record(d, info.path, { warnings: [{ code: 'file-too-large', message: `${d.id}: skipped ${info.size}-byte file over the ${d.maxBytes}-byte cap`, path: info.path }] });
      }
    }
    if (fitting.length === 0) return;
    const bytes = await read(Math.max(...fitting.map((d) => d.maxBytes)));
    const file: CapturedFile = { ...info, bytes };
    for (const d of fitting) {
      let output: DetectorOutput;
      try {
        output = await d.parse(file);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        output = { warnings: [{ code: 'detector-failed', message: `${d.id}: could not read ${info.path}: ${reason}`, path: info.path }] };
      }
      this.record(d, info.path, output);
    }
  }

  /**
   * Records a link at a wanted path. A hardlink to a file this layer already gave a detector is
   * resolved at once by reusing that file's output (tar hardlinks point backwards in the same layer).
   */
  addLink(path: string, target: string, kind: LinkRecord['kind'], info: FileInfo): void {
    this.index.push({ path: info.path, size: info.size, mode: info.mode, type: kind, target });
    for (const d of this.detectors) {
      if (!d.wants(info)) continue;
      const bucket = this.results.get(d.id);
      if (bucket === undefined) continue;
      if (kind === 'hardlink') {
        const original = bucket.files.find((f) => f.path === target);
        if (original !== undefined) {
          bucket.files.push({ path, output: relocate(original.output, target, path) });
          continue;
        }
      }
      bucket.links.push({ path, target, kind });
    }
  }

  /**
   * Records a FIFO, device, socket or directory. At a wanted path it is an empty version of that
   * path: as in overlayfs, it hides the lower layers' file there. A special file says so in a
   * warning; a directory does not, as a wanted name is often a directory too (`x.egg-info`).
   */
  addSpecial(info: FileInfo, type: string): void {
    const directory = type === 'directory';
    if (!directory) this.index.push({ path: info.path, size: 0, mode: info.mode, type: 'other' });
    for (const d of this.detectors) {
      if (!d.wants(info)) continue;
      const message = `${d.id}: ${info.path} is a ${type}, not a regular file: nothing read`;
      this.record(d, info.path, directory ? {} : { warnings: [{ code: 'not-a-regular-file', message, path: info.path }] });
    }
  }

  finish(): LayerWalkResult {
    const detectors: DetectorLayerResult[] = this.detectors.map((d) => {
      const bucket = this.results.get(d.id) ?? { files: [], links: [] };
      return { detector: d.id, version: d.version, files: bucket.files, links: bucket.links };
    });
    return { whiteouts: this.whiteouts, opaqueDirs: this.opaqueDirs, detectors, index: this.index, entries: this.entries, tarBytes: this.bytes };
  }

  /**
   * Every parsed file is recorded, even with an empty output: an empty upper version of a path
   * (a status file emptied, a Go binary replaced by a script) must shadow the lower one.
   */
  private record(d: Detector, path: string, output: DetectorOutput): void {
    const compact: DetectorOutput = {};
    if (output.packages && output.packages.length > 0) compact.packages = output.packages;
    if (output.distro) compact.distro = output.distro;
    if (output.ownedFiles && output.ownedFiles.length > 0) compact.ownedFiles = output.ownedFiles;
    if (output.projects && output.projects.length > 0) compact.projects = output.projects;
    if (output.warnings && output.warnings.length > 0) compact.warnings = output.warnings;
    this.results.get(d.id)?.files.push({ path, output: compact });
  }
}

/** The output of a file read at `from`, as if read at the link `to` that leads to it. */
export function relocate(output: DetectorOutput, from: string, to: string): DetectorOutput {
  return {
    ...output,
    packages: output.packages?.map((p) => (p.path === from ? { ...p, path: to } : p)),
    distro: output.distro && output.distro.source === from ? { ...output.distro, source: to } : output.distro,
  };
}
