/**
 * Paths as OS package databases list them (`/usr/lib/python3/dist-packages/x.py`, apk's
 * `usr/lib` + `x.py`, rpm's dirname + basename) turned into image paths: relative, `/`-separated,
 * no `.`/`..` segments, no leading slash, as the layer walk names files. Undefined for the root
 * itself, empty lines and paths that climb out of the root (a damaged list must not own anything
 * by accident).
 */
export function ownedImagePath(listed: string): string | undefined {
  const parts: string[] = [];
  for (const segment of listed.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') return undefined;
    parts.push(segment);
  }
  return parts.length === 0 ? undefined : parts.join('/');
}
