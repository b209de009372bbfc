import { PortcullisError } from '../domain/errors.js';
import type { IndexedEntry, LayerDeletions } from '../layers/layer-result.js';
import { layerHider } from './hidden-paths.js';

/** A regular file of one layer: where the bytes a path shows in the merged filesystem come from. */
export interface SourceFile {
  layerIndex: number;
  /** The file's path in that layer's tar (a hardlink's bytes are those of the entry it names). */
  path: string;
  size: number;
  mode: number;
}

/** What a path shows in the merged filesystem once every link on the way is followed. */
export type ResolvedPath =
  | { kind: 'file'; path: string; source: SourceFile }
  | { kind: 'absent'; path: string }
  | { kind: 'special'; path: string; layerIndex: number };

type Node =
  | { kind: 'file'; source: SourceFile }
  | { kind: 'symlink'; target: string; layerIndex: number }
  | { kind: 'special'; layerIndex: number }
  | { kind: 'broken-hardlink'; target: string; layerIndex: number };

/** A regular file seen through a symlink to a directory: `path` is how the link names it. */
export interface LinkAlias {
  path: string;
  /** The file's own path in the merged filesystem. */
  realPath: string;
  source: SourceFile;
  /** The layer of the symlink. */
  linkLayer: number;
}

/** One layer as the merged tree needs it: its deletions and its entries in tar order. */
export interface TreeLayer {
  index: number;
  deletions: LayerDeletions;
  entries: readonly IndexedEntry[];
}

const MAX_SYMLINK_HOPS = 40;

/**
 * The final filesystem of an image, paths only: each layer's whiteouts and opaque directories
 * first hide lower content, then its entries replace lower ones at their paths, as overlayfs
 * stacks them. Hardlinks are bound when their layer is applied (a tar hardlink names an entry
 * already extracted, in the same layer or below); symlinks are followed when a path is resolved,
 * as `open()` inside a chroot of the image would.
 */
export class MergedTree {
  private readonly nodes = new Map<string, Node>();

  constructor(layers: readonly TreeLayer[]) {
    for (const layer of [...layers].sort((a, b) => a.index - b.index)) {
      this.applyDeletions(layer);
      for (const entry of layer.entries) this.nodes.set(entry.path, this.nodeFor(entry, layer.index));
    }
  }

  /**
   * Follows every symlink on the way to `path` and at its end: absolute targets from the image
   * root, relative ones from the link's directory. Throws E_SYMLINK for a link that climbs out of
   * the root or a chain of more than 40 links (a loop), and E_LAYER_CORRUPT for a hardlink that
   * names no file of the image.
   */
  resolve(path: string): ResolvedPath {
    const pending = path.split('/');
    const done: string[] = [];
    let hops = 0;
    while (pending.length > 0) {
      const segment = pending.shift() ?? '';
      if (segment === '' || segment === '.') continue;
      if (segment === '..') {
        if (done.length === 0) {
          throw new PortcullisError('E_SYMLINK', `layer: symlink ${JSON.stringify(path)} points outside the image root`, { path });
        }
        done.pop();
        continue;
      }
      const candidate = done.length === 0 ? segment : `${done.join('/')}/${segment}`;
      const node = this.nodes.get(candidate);
      if (node?.kind === 'symlink') {
        hops += 1;
        if (hops > MAX_SYMLINK_HOPS) throw new PortcullisError('E_SYMLINK', `layer: symlink loop at ${JSON.stringify(path)}`, { path });
        if (node.target.startsWith('/')) done.length = 0;
        pending.unshift(...node.target.split('/'));
        continue;
      }
      done.push(segment);
    }
    const resolved = done.join('/');
    const node = this.nodes.get(resolved);
    if (node === undefined) return { kind: 'absent', path: resolved };
    switch (node.kind) {
      case 'file':
        return { kind: 'file', path: resolved, source: node.source };
      case 'special':
        return { kind: 'special', path: resolved, layerIndex: node.layerIndex };
      case 'broken-hardlink':
        throw new PortcullisError(
          'E_LAYER_CORRUPT',
          `layer ${node.layerIndex}: hardlink ${JSON.stringify(resolved)} names ${JSON.stringify(node.target)}, which no layer up to it holds`,
          { path: resolved, target: node.target },
        );
      default:
        // A symlink as the last step is followed by the loop above; this is never reached.
        throw new PortcullisError('E_INTERNAL', `layer: unresolved symlink ${JSON.stringify(resolved)}`);
    }
  }

  /**
   * Every regular file under a directory that a symlink leads to, named through that link (one
   * link deep: `var/lib/dpkg -> /opt/dpkg` names `opt/dpkg/status` as `var/lib/dpkg/status`).
   * Links that leave the root, loop, lead to the root itself or to no directory are skipped: they
   * are no way to a file. Stops after `limit` names, so a hostile image of many links to big
   * directories costs a bounded amount of work; `truncated` then says so.
   */
  linkAliases(limit: number): { aliases: LinkAlias[]; truncated: boolean } {
    const aliases: LinkAlias[] = [];
    let files: string[] | undefined;
    for (const [path, node] of this.nodes) {
      if (node.kind !== 'symlink') continue;
      let resolved: ResolvedPath;
      try {
        resolved = this.resolve(path);
      } catch {
        continue;
      }
      if (resolved.kind !== 'absent' || resolved.path === '') continue;
      files ??= [...this.nodes.keys()].filter((p) => this.nodes.get(p)?.kind === 'file').sort();
      const prefix = `${resolved.path}/`;
      for (let i = lowerBound(files, prefix); i < files.length && (files[i] ?? '').startsWith(prefix); i++) {
        const file = files[i] ?? '';
        const target = this.nodes.get(file);
        if (target?.kind !== 'file') continue;
        if (aliases.length >= limit) return { aliases, truncated: true };
        aliases.push({ path: `${path}/${file.slice(prefix.length)}`, realPath: file, source: target.source, linkLayer: node.layerIndex });
      }
    }
    return { aliases, truncated: false };
  }

  private nodeFor(entry: IndexedEntry, layerIndex: number): Node {
    switch (entry.type) {
      case undefined:
        return { kind: 'file', source: { layerIndex, path: entry.path, size: entry.size, mode: entry.mode } };
      case 'symlink':
        return { kind: 'symlink', target: entry.target ?? '', layerIndex };
      case 'other':
        return { kind: 'special', layerIndex };
      case 'hardlink': {
        // link(2) does not follow a symlink it is given, so the link is bound to the entry itself.
        const target = entry.target ?? '';
        const named = this.nodes.get(target);
        if (named === undefined || named.kind === 'broken-hardlink') return { kind: 'broken-hardlink', target, layerIndex };
        return named;
      }
    }
  }

  /** Drops the lower nodes `layer` hides (see layerHider). */
  private applyDeletions(layer: TreeLayer): void {
    const hides = layerHider(layer.deletions, layer.entries);
    if (hides === undefined) return;
    for (const path of [...this.nodes.keys()]) if (hides(path)) this.nodes.delete(path);
  }
}

/** The first index of sorted `list` whose value is not below `value`. */
function lowerBound(list: readonly string[], value: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] ?? '') < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
