import { PortcullisError } from '../domain/errors.js';

/**
 * Normalizes a tar entry name to an image path (`usr/bin/x`). Returns '' for the root itself.
 * Absolute names and any `..` segment are refused (E_UNSAFE_PATH): a layer must not name a file
 * outside its root, and we never guess what such an entry meant.
 */
export function normalizeEntryPath(name: string): string {
  if (name.startsWith('/')) {
    throw new PortcullisError('E_UNSAFE_PATH', `layer: tar entry has an absolute path: ${JSON.stringify(name)}`, { entry: name });
  }
  const parts: string[] = [];
  for (const segment of name.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      throw new PortcullisError('E_UNSAFE_PATH', `layer: tar entry escapes with '..': ${JSON.stringify(name)}`, { entry: name });
    }
    parts.push(segment);
  }
  return parts.join('/');
}

/** Parent directory of a normalized path ('' for top-level entries). */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/** Last segment of a normalized path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Joins two path parts where either may be ''. */
export function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

const MAX_SYMLINK_HOPS = 40;

/**
 * Resolves a symlink target inside the image root. Absolute targets are relative to the image
 * root (as in a container); relative ones to the link's directory. A target that climbs above the
 * root, or a chain longer than 40 hops (a loop), is E_SYMLINK: the scanner never follows a link
 * out of the image. `next` returns the target of `path` when it is itself a link.
 */
export function resolveSymlink(linkPath: string, target: string, next: (path: string) => string | undefined): string {
  let current = linkPath;
  let currentTarget: string | undefined = target;
  for (let hop = 0; currentTarget !== undefined; hop++) {
    if (hop >= MAX_SYMLINK_HOPS) {
      throw new PortcullisError('E_SYMLINK', `layer: symlink loop at ${JSON.stringify(linkPath)}`, { path: linkPath });
    }
    const base = currentTarget.startsWith('/') ? [] : parentOf(current).split('/').filter(Boolean);
    for (const segment of currentTarget.split('/')) {
      if (segment === '' || segment === '.') continue;
      if (segment === '..') {
        if (base.length === 0) {
          throw new PortcullisError('E_SYMLINK', `layer: symlink ${JSON.stringify(linkPath)} points outside the image root (${JSON.stringify(target)})`, {
            path: linkPath,
            target,
          });
        }
        base.pop();
      } else {
        base.push(segment);
      }
    }
    current = base.join('/');
    currentTarget = next(current);
  }
  return current;
}
