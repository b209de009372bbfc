import type { Dirent } from 'node:fs';
import { lstat, open, readdir, readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { PortcullisError } from '../domain/errors.js';
import type { Detector, FileInfo } from '../detectors/types.js';
import { DEFAULT_WALK_LIMITS, LayerCollector, type WalkLimits } from './collector.js';
import type { LayerWalkResult } from './layer-result.js';
import { joinPath } from './paths.js';

/** Kernel and device filesystems of a live root: never part of an image, and endless to read. */
const VIRTUAL_TOP_DIRS = new Set(['proc', 'sys', 'dev']);

/** Running totals of a root filesystem walk: regular files seen and the sum of their sizes. */
export interface WalkProgress {
  files: number;
  bytes: number;
}

/**
 * Walks a root filesystem on disk (`dir:PATH`) as if it were one layer. Links are recorded, never
 * followed, so nothing outside `root` is read. Unreadable entries are skipped (a rootfs copied by
 * an unprivileged user often has a few). `onProgress` gets the running totals after each regular
 * file (a live root takes tens of seconds; the display throttles itself).
 */
export async function walkRootfs(
  root: string,
  detectors: readonly Detector[],
  limits: WalkLimits = DEFAULT_WALK_LIMITS,
  onProgress?: (p: WalkProgress) => void,
): Promise<LayerWalkResult> {
  const top = await lstat(root).catch((err: unknown) => {
    throw new PortcullisError('E_NOT_FOUND', `dir: cannot read ${root}: ${err instanceof Error ? err.message : String(err)}`, { root });
  });
  if (!top.isDirectory()) throw new PortcullisError('E_INPUT', `dir: ${root} is not a directory`, { root });
  const collector = new LayerCollector(detectors, limits);
  const pending: string[] = [''];
  const totals: WalkProgress = { files: 0, bytes: 0 };
  while (pending.length > 0) {
    const rel = pending.pop() ?? '';
    let entries;
    try {
      entries = await readdir(join(root, rel), { withFileTypes: true });
    } catch {
      // Unreadable directories (permissions, vanished) are skipped: a live rootfs always has some.
      continue;
    }
    for (const dirent of entries) {
      if (rel === '' && VIRTUAL_TOP_DIRS.has(dirent.name)) continue;
      const path = joinPath(rel, dirent.name);
      const abs = join(root, path);
      if (dirent.isDirectory()) {
        collector.countEntry(0);
        pending.push(path);
      } else if (dirent.isSymbolicLink()) {
        collector.countEntry(0);
        const target = await readlink(abs).catch(() => undefined);
        if (target !== undefined) collector.addLink(path, target, 'symlink', { path, size: 0, mode: 0o777 });
      } else if (dirent.isFile()) {
        const stat = await lstat(abs).catch(() => undefined);
        if (stat === undefined) continue;
        collector.countEntry(stat.size);
        totals.files++;
        totals.bytes += stat.size;
        onProgress?.(totals);
        const info: FileInfo = { path, size: stat.size, mode: stat.mode & 0o7777 };
        const wanting = collector.route(info);
        if (wanting.length > 0) await collector.addFile(info, wanting, (max) => readCapped(abs, max));
      } else {
        collector.countEntry(0);
        collector.addSpecial({ path, size: 0, mode: 0o644 }, specialType(dirent));
      }
    }
  }
  return collector.finish();
}

function specialType(dirent: Dirent): string {
  if (dirent.isFIFO()) return 'fifo';
  if (dirent.isCharacterDevice()) return 'character-device';
  if (dirent.isBlockDevice()) return 'block-device';
  return dirent.isSocket() ? 'socket' : 'special file';
}

/**
 * Reads the regular file at image path `path` of a root filesystem, at most `max` bytes, for a link
 * resolved in the image's view. The path must lead to the file without passing through a symlink
 * on disk (the resolution already followed the image's links), so nothing outside `root` is read.
 */
export async function readRootfsFile(root: string, path: string, max: number): Promise<Buffer> {
  const abs = join(root, path);
  const [realRoot, realFile] = await Promise.all([realpath(root), realpath(abs)]);
  if (realFile !== join(realRoot, path)) {
    throw new PortcullisError('E_SYMLINK', `dir: ${path} changed into a link while reading`, { path });
  }
  return readCapped(realFile, max);
}

/** Reads at most `max` bytes; a file that grew past its cap since lstat is an error, not a silent cut. */
async function readCapped(path: string, max: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size > max) throw new PortcullisError('E_TOO_LARGE', `dir: ${path} grew past its ${max}-byte cap while reading`, { path });
    const buf = Buffer.alloc(size);
    let off = 0;
    while (off < size) {
      const { bytesRead } = await handle.read(buf, off, size - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return off === size ? buf : buf.subarray(0, off);
  } finally {
    await handle.close();
  }
}
