import { pack as tarPack } from 'tar-stream';
import { gzipSync } from 'node:zlib';
import type { Detector, FileInfo } from '../detectors/types.js';
import type { PackageRecord } from '../domain/package.js';

/** One entry of a tar built in a test. */
export type TarEntry =
  | { name: string; content: string | Buffer; mode?: number }
  | { name: string; type: 'directory' }
  | { name: string; type: 'symlink' | 'link'; linkname: string };

/** Builds a tar archive in memory (for unit tests of the layer walk). */
export async function buildTar(entries: TarEntry[]): Promise<Buffer> {
  const pack = tarPack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => pack.on('end', resolve));
  for (const e of entries) {
    if ('content' in e) {
      const body = typeof e.content === 'string' ? Buffer.from(e.content) : e.content;
      pack.entry({ name: e.name, size: body.length, mode: e.mode ?? 0o644, type: 'file' }, body);
    } else if (e.type === 'directory') {
      pack.entry({ name: e.name, type: 'directory', mode: 0o755 });
    } else {
      pack.entry({ name: e.name, type: e.type, linkname: e.linkname, mode: 0o777 });
    }
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export function gzip(buf: Buffer): Buffer {
  return gzipSync(buf);
}

/**
 * A detector for walk tests: wants files named `*.pkgs`, each line `name version` is a package.
 * Real detectors are tested with real files in their own folders; this one pins the walk's routing.
 */
export function lineDetector(id = 'lines', version = 1, maxBytes = 1024 * 1024): Detector & { seen: FileInfo[] } {
  const seen: FileInfo[] = [];
  return {
    id,
    version,
    maxBytes,
    oversize: 'error',
    seen,
    wants: (f) => f.path.endsWith('.pkgs'),
    parse(file) {
      seen.push({ path: file.path, size: file.size, mode: file.mode });
      const packages: PackageRecord[] = file.bytes
        .toString('utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => {
          const [name = '', ver = ''] = l.split(' ');
          return { ecosystem: 'npm', name, version: ver, path: file.path };
        });
      return { packages };
    },
  };
}
