// Builds tiny OCI image layouts for tests by writing the blobs directly: a layer is a real tar made
// with tar-stream (gzip'ed with node's zlib), configs and manifests are the JSON documents of the
// OCI image spec. Everything is deterministic (fixed mtimes), so digests are stable across runs.
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

/** A file to put in a layer. */
export interface TinyFile {
  path: string;
  content: string | Buffer;
  mode?: number;
}

/** A small single-platform image. */
export interface TinyImageSpec {
  /** Files of each layer, base first. */
  layers: TinyFile[][];
  os?: string;
  architecture?: string;
  variant?: string;
  labels?: Record<string, string>;
  env?: string[];
  /** created_by of each layer (an empty-layer history entry is added between them). */
  createdBy?: string[];
  /** Layer blob encoding; default gzip. */
  compression?: 'gzip' | 'none';
  /** Override the layer media type written into the manifest (to test refusals). */
  layerMediaType?: string;
  /** Use Docker v2 schema 2 media types instead of OCI ones. */
  docker?: boolean;
}

/** A content descriptor as written. */
export interface TinyDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}

/** What {@link OciLayoutWriter.addImage} wrote. */
export interface WrittenImage {
  manifest: TinyDescriptor;
  config: TinyDescriptor;
  layers: TinyDescriptor[];
  diffIds: string[];
  /** The uncompressed tars, base first. */
  layerTars: Buffer[];
}

const FIXED_MTIME = new Date('2024-01-01T00:00:00Z');

/** A tar of `files` (parent directories are not added; tests do not need them). */
export async function layerTar(files: TinyFile[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    p.on('data', (c: unknown) => chunks.push(c as Buffer));
    p.on('end', () => resolve());
    p.on('error', reject);
  });
  for (const f of files) {
    const content = typeof f.content === 'string' ? Buffer.from(f.content) : f.content;
    p.entry({ name: f.path, size: content.length, mode: f.mode ?? 0o644, mtime: FIXED_MTIME, uid: 0, gid: 0 }, content);
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** `sha256:<hex>` of bytes. */
export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Writes an OCI image layout directory blob by blob; call finish() to write index.json. */
export class OciLayoutWriter {
  private readonly entries: TinyDescriptor[] = [];

  private constructor(readonly dir: string) {}

  /** Creates (or reuses) `dir` as an OCI layout. */
  static async create(dir: string): Promise<OciLayoutWriter> {
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    return new OciLayoutWriter(dir);
  }

  /** Stores a blob and returns its digest and size. */
  async addBlob(bytes: Buffer): Promise<{ digest: string; size: number }> {
    const digest = sha256(bytes);
    await writeFile(this.blobPath(digest), bytes);
    return { digest, size: bytes.length };
  }

  /** Path of a blob in the layout. */
  blobPath(digest: string): string {
    const [alg, hex] = digest.split(':');
    return join(this.dir, 'blobs', alg!, hex!);
  }

  /** Writes layers, config and manifest of one image; the manifest descriptor carries its platform. */
  async addImage(spec: TinyImageSpec): Promise<WrittenImage> {
    const os = spec.os ?? 'linux';
    const architecture = spec.architecture ?? 'amd64';
    const layerTars: Buffer[] = [];
    const layers: TinyDescriptor[] = [];
    const diffIds: string[] = [];
    const gz = (spec.compression ?? 'gzip') === 'gzip';
    const layerType = spec.layerMediaType ??
      (spec.docker ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : gz ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar');
    for (const files of spec.layers) {
      const tar = await layerTar(files);
      layerTars.push(tar);
      diffIds.push(sha256(tar));
      const stored = gz ? gzipSync(tar, { level: 6 }) : tar;
      const { digest, size } = await this.addBlob(stored);
      layers.push({ mediaType: layerType, digest, size });
    }
    const history: { created: string; created_by?: string; empty_layer?: boolean }[] = [];
    for (const [i] of spec.layers.entries()) {
      history.push({ created: FIXED_MTIME.toISOString(), created_by: spec.createdBy?.[i] ?? `layer ${i}` });
      history.push({ created: FIXED_MTIME.toISOString(), created_by: `ENV step ${i}`, empty_layer: true });
    }
    const config: Record<string, unknown> = {
      created: FIXED_MTIME.toISOString(),
      architecture,
      os,
      config: { Env: spec.env ?? ['PATH=/usr/bin:/bin'], Labels: spec.labels ?? {} },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history,
    };
    if (spec.variant) config['variant'] = spec.variant;
    const configBytes = Buffer.from(JSON.stringify(config));
    const configBlob = await this.addBlob(configBytes);
    const configDesc: TinyDescriptor = {
      mediaType: spec.docker ? 'application/vnd.docker.container.image.v1+json' : 'application/vnd.oci.image.config.v1+json',
      ...configBlob,
    };
    const manifestType = spec.docker ? 'application/vnd.docker.distribution.manifest.v2+json' : 'application/vnd.oci.image.manifest.v1+json';
    const manifest = { schemaVersion: 2, mediaType: manifestType, config: configDesc, layers };
    const manifestBlob = await this.addBlob(Buffer.from(JSON.stringify(manifest)));
    const platform: TinyDescriptor['platform'] = spec.variant ? { os, architecture, variant: spec.variant } : { os, architecture };
    return { manifest: { mediaType: manifestType, ...manifestBlob, platform }, config: configDesc, layers, diffIds, layerTars };
  }

  /** Writes an index over `manifests` and returns its descriptor. */
  async addIndex(manifests: TinyDescriptor[], docker = false): Promise<TinyDescriptor> {
    const mediaType = docker ? 'application/vnd.docker.distribution.manifest.list.v2+json' : 'application/vnd.oci.image.index.v1+json';
    const blob = await this.addBlob(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, manifests })));
    return { mediaType, ...blob };
  }

  /** Lists `desc` in index.json, named `name` when given. */
  tag(desc: TinyDescriptor, name?: string): void {
    const entry: TinyDescriptor = { ...desc };
    if (name !== undefined) entry.annotations = { ...desc.annotations, 'org.opencontainers.image.ref.name': name };
    this.entries.push(entry);
  }

  /** Writes index.json. */
  async finish(): Promise<void> {
    await writeFile(join(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: this.entries }));
  }

  /** Reads a blob back. */
  readBlob(digest: string): Promise<Buffer> {
    return readFile(this.blobPath(digest));
  }
}

/** Writes a one-image layout at `dir` tagged `tag` and returns what was written. */
export async function writeTinyLayout(dir: string, spec: TinyImageSpec, tag = 'latest'): Promise<WrittenImage> {
  const w = await OciLayoutWriter.create(dir);
  const img = await w.addImage(spec);
  w.tag(img.manifest, tag);
  await w.finish();
  return img;
}

/** The files of a two-layer test image (a base with an os-release, and an app layer). */
export const SAMPLE_LAYERS: TinyFile[][] = [
  [
    { path: 'etc/os-release', content: 'ID=tiny\nVERSION_ID=1\n' },
    { path: 'bin/sh', content: '#!tiny\n', mode: 0o755 },
  ],
  [{ path: 'app/hello.txt', content: 'hello\n' }],
];
