import type { IndexedEntry, LayerDeletions } from '../layers/layer-result.js';
import { parentOf } from '../layers/paths.js';

/**
 * What a layer hides of the layers below it, as overlayfs decides it: a path it whites out; anything
 * below a directory it whites out or makes opaque; and anything below a path where it puts a
 * non-directory entry (a file, a symlink, a special file: an upper `app` symlink replaces the lower
 * `app/` directory and everything in it). The entry at that path itself is not hidden here: the
 * layer's own entry replaces it. Returns undefined when the layer hides nothing.
 */
export function layerHider(deletions: LayerDeletions, entries: readonly IndexedEntry[] | undefined): ((path: string) => boolean) | undefined {
  const removed = new Set(deletions.whiteouts);
  const opaque = new Set(deletions.opaqueDirs);
  // Layer indexes list non-directories only (directories are not indexed), so every entry replaces a lower directory at its path.
  const replaced = new Set(entries?.map((e) => e.path));
  if (removed.size === 0 && opaque.size === 0 && replaced.size === 0) return undefined;
  return (path) => {
    if (removed.has(path)) return true;
    for (let dir = parentOf(path); ; dir = parentOf(dir)) {
      if (removed.has(dir) || opaque.has(dir) || replaced.has(dir)) return true;
      if (dir === '') return false;
    }
  };
}
