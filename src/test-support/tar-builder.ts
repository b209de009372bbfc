import { pack as tarPack } from 'tar-stream';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Detector, FileInfo } from '../detectors/types.js';
import type { PackageRecord } from '../domain/package.js';

/** One entry of a tar built in a test. */
export type TarEntry =
  | { name: string; content: string | Buffer; mode?: number }
  | { name: string; type: 'directory' | 'fifo' | 'character-device' }
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
    } else if ('linkname' in e) {
      pack.entry({ name: e.name, type: e.type, linkname: e.linkname, mode: 0o777 });
    } else if (e.type === 'directory') {
      pack.entry({ name: e.name, type: 'directory', mode: 0o755 });
    } else {
      pack.entry({ name: e.name, type: e.type, mode: 0o644, devmajor: 1, devminor: 3 });
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

/**
 * Writes an OCI image layout at `dir` whose layers are `tars` (base first, gzip-compressed as
 * stored) and returns its `oci:` reference: a real image for end-to-end tests of the layer walk.
 */
export async function writeOciLayout(dir: string, tars: readonly Buffer[]): Promise<string> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const put = async (bytes: Buffer): Promise<{ digest: string; size: number }> => {
    const hex = createHash('sha256').update(bytes).digest('hex');
    await writeFile(join(blobs, hex), bytes);
    return { digest: `sha256:${hex}`, size: bytes.length };
  };
  const diffIds = tars.map((t) => `sha256:${createHash('sha256').update(t).digest('hex')}`);
  const layers = [];
  for (const tar of tars) layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...(await put(gzipSync(tar))) });
  const config = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds }, history: tars.map((_, i) => ({ created_by: `layer ${i}` })) };
  const configBlob = await put(Buffer.from(JSON.stringify(config)));
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob },
    layers,
  };
  const manifestBlob = await put(Buffer.from(JSON.stringify(manifest)));
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: manifest.mediaType, ...manifestBlob, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }],
    }),
  );
  return `oci:${dir}:latest`;
}
