import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as z from 'zod';
import { isPortcullisError, PortcullisError } from '../domain/errors.js';
import { digestOf, parseDigest, verifyBytes } from './digest.js';
import { parseImageConfig } from './image-config.js';
import { type Descriptor, malformed } from './manifest.js';
import { MEDIA_TYPES } from './media-types.js';
import { isOciLayout, resolveOciLayout } from './oci-layout.js';
import { formatRegistryReference, parseRegistryReference } from './reference.js';
import { buildImage, MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, type BlobStore, type ResolveContext } from './resolve.js';
import { TarIndex } from './tar-index.js';
import type { ResolvedImage } from './types.js';
import { cancelled } from '../util/concurrency.js';

/** The `manifest.json` that `docker save` (and skopeo's docker-archive) writes. */
const DockerSaveManifestSchema = z.array(
  z.object({
    Config: z.string(),
    RepoTags: z.array(z.string()).nullish(),
    Layers: z.array(z.string()),
  }),
);

/** Options of {@link openArchive}. */
export interface OpenArchiveOptions {
  /** Parent directory for the decompressed copy of a gzip'ed archive (default: the OS temp dir). */
  tempDir?: string;
  /** Most bytes a gzip'ed archive may expand to on disk (default {@link gunzipCap} of its size). */
  maxGunzippedBytes?: number;
  signal?: AbortSignal;
  logger?: { debug(obj: object, msg: string): void };
}

/** Images read from an archive, and the clean-up that removes any decompressed copy. */
export interface OpenedArchive {
  images: ResolvedImage[];
  cleanup(): Promise<void>;
}

/**
 * How far a gzipped archive may expand on disk: 200 times its size (docker save output gzips 2-5x;
 * a gzip bomb reaches about 1,000x), and never less than 1 GiB, so a small archive of a sparse
 * image still opens.
 */
export function gunzipCap(compressedBytes: number): number {
  return Math.max(1024 ** 3, 200 * compressedBytes);
}

/** Passes bytes through until more than `cap` went by, then stops the pipeline with E_TOO_LARGE. */
function capAt(cap: number, path: string, transport: string): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      total += chunk.length;
      if (total > cap) done(new PortcullisError('E_TOO_LARGE', `${transport}: ${path} expands past ${cap} bytes when gunzipped (gzip bomb?)`, { path, limit: cap }));
      else done(null, chunk);
    },
  });
}

/**
 * Opens a tar archive of images: a `docker save` tarball (legacy layout: manifest.json + config +
 * layer tars; or the Docker 25+ layout, an OCI layout inside the tar) or, with `format: 'oci'`, an
 * OCI layout tar (`oci-archive:`). A gzip'ed archive is decompressed once into a temporary directory
 * that `cleanup()` removes. `image` picks an image by `name:tag` or `@N` (N-th entry of
 * manifest.json); without it the archive must hold one image (E_REFERENCE otherwise). Throws
 * E_NOT_FOUND for a missing file or image, E_UNSUPPORTED for zstd/xz/bzip2-compressed archives,
 * E_INPUT for a file that is empty, a directory, unreadable, not gzip or tar, or truncated (every
 * message names `path`, never the temporary copy), E_MANIFEST for malformed metadata,
 * E_DIGEST_MISMATCH when a config does not hash to its name.
 */
export async function openArchive(
  path: string,
  image: string | undefined,
  format: 'docker' | 'oci',
  ctx: Omit<ResolveContext, 'store'>,
  options: OpenArchiveOptions = {},
): Promise<OpenedArchive> {
  const transport = format === 'oci' ? 'oci-archive' : 'docker-archive';
  const st = await stat(path).catch(() => undefined);
  if (!st) throw new PortcullisError('E_NOT_FOUND', `${transport}: no such file ${path}`, { path });
  if (st.isDirectory()) {
    throw new PortcullisError('E_INPUT', `${transport}: ${path} is a directory, not an archive file (read an OCI layout directory with oci:${path})`, { path });
  }
  if (!st.isFile()) throw new PortcullisError('E_INPUT', `${transport}: ${path} is not a regular file`, { path });
  // What a failed `docker save > app.tar` leaves behind: say so instead of failing deeper down.
  if (st.size === 0) {
    const writer = format === 'oci' ? 'skopeo copy or buildah push' : 'docker save > FILE';
    throw new PortcullisError('E_INPUT', `${transport}: ${path} is empty (0 bytes); did the command that wrote it (${writer}) fail?`, { path });
  }

  let tarFile = path;
  let tempDir: string | undefined;
  const cleanup = async (): Promise<void> => {
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
    tempDir = undefined;
  };
  try {
    const compression = await sniffCompression(path, transport);
    if (compression === 'gzip') {
      tempDir = await mkdtemp(join(options.tempDir ?? tmpdir(), 'portcullis-archive-'));
      tarFile = join(tempDir, 'archive.tar');
      options.logger?.debug({ path, tarFile }, `${transport}: decompressing gzip archive`);
      try {
        const cap = options.maxGunzippedBytes ?? gunzipCap((await stat(path)).size);
        await pipeline(createReadStream(path), createGunzip(), capAt(cap, path, transport), createWriteStream(tarFile), options.signal ? { signal: options.signal } : {});
      } catch (err) {
        if (options.signal?.aborted) throw cancelled(options.signal, `${transport}: unpacking ${path}`);
        if (isPortcullisError(err, 'E_TOO_LARGE')) throw err;
        const reason = (err as NodeJS.ErrnoException).code === 'Z_BUF_ERROR' ? 'truncated (the gzip stream ends early)' : (err as Error).message;
        throw new PortcullisError('E_INPUT', `${transport}: ${path} is not a valid gzip file: ${reason}`, { path }, { cause: err });
      }
    } else if (compression !== 'none') {
      throw new PortcullisError('E_UNSUPPORTED', `${transport}: ${compression}-compressed archives are not supported; decompress ${path} first`, { path });
    }
    const index = await buildIndex(tarFile, path, transport, compression === 'gzip', options.signal);
    const files = index.asLayoutFiles();
    const useOci = format === 'oci' || (isOciLayout(files) && !(image ?? '').startsWith('@'));
    const images = useOci ? await resolveOciLayout(files, image, ctx) : await resolveLegacy(index, image, ctx);
    return { images, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/**
 * Indexes the (decompressed) tar. Messages name the user's file, never the temporary copy; for a
 * gzip'ed archive they say the gzip layer was fine and what it holds is not a tar.
 */
async function buildIndex(tarFile: string, userPath: string, transport: string, gunzipped: boolean, signal?: AbortSignal): Promise<TarIndex> {
  try {
    return await TarIndex.build(tarFile, signal, { label: userPath, transport });
  } catch (err) {
    if (!gunzipped || !isPortcullisError(err, 'E_INPUT') || typeof err.details['reason'] !== 'string') throw err;
    throw new PortcullisError('E_INPUT', `${transport}: ${userPath} is a valid gzip file, but what it holds is not a readable tar archive: ${err.details['reason']}`, { path: userPath }, { cause: err });
  }
}

type Compression = 'none' | 'gzip' | 'zstd' | 'xz' | 'bzip2';

async function sniffCompression(path: string, transport: string): Promise<Compression> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (err as Error).message;
    throw new PortcullisError('E_INPUT', `${transport}: cannot read ${path}: ${reason}`, { path }, { cause: err });
  }
  try {
    const buf = Buffer.alloc(6);
    const { bytesRead } = await fh.read(buf, 0, 6, 0);
    const b = buf.subarray(0, bytesRead);
    if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
    if (b.length >= 4 && b.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
    if (b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
    if (b.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
    return 'none';
  } finally {
    await fh.close();
  }
}

/** Layer media type from a member's first bytes: the layer walk decompresses; this only labels. */
async function sniffLayerMediaType(index: TarIndex, member: string): Promise<string> {
  const head = await index.readHead(member, 4);
  if (head[0] === 0x1f && head[1] === 0x8b) return MEDIA_TYPES.ociLayerGzip;
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return MEDIA_TYPES.ociLayerZstd;
  return MEDIA_TYPES.ociLayer;
}

/**
 * A digest encoded in a member name: `blobs/<alg>/<hex>` (Docker 25+), `<hex>.json` / `<hex>.tar`
 * (skopeo). Legacy `docker save` names layers `<v1 id>/layer.tar`, which is not a content digest.
 */
function digestFromName(name: string): string | undefined {
  const blob = /^blobs\/(sha256|sha512)\/([0-9a-f]+)$/.exec(name);
  const flat = /^([0-9a-f]{64})\.(?:json|tar)$/.exec(name);
  const candidate = blob ? `${blob[1]}:${blob[2]}` : flat ? `sha256:${flat[1]}` : undefined;
  if (candidate === undefined) return undefined;
  try {
    parseDigest(candidate);
    return candidate;
  } catch {
    return undefined;
  }
}

async function resolveLegacy(index: TarIndex, image: string | undefined, ctx: Omit<ResolveContext, 'store'>): Promise<ResolvedImage[]> {
  if (!index.member('manifest.json')) {
    throw new PortcullisError('E_MANIFEST', `docker-archive: ${index.label} has no manifest.json (not a docker save archive)`, { path: index.label });
  }
  let raw: unknown;
  try {
    raw = JSON.parse((await index.readAll('manifest.json', MAX_MANIFEST_BYTES)).toString('utf8'));
  } catch (err) {
    if (err instanceof PortcullisError) throw err;
    throw new PortcullisError('E_MANIFEST', `docker-archive: manifest.json is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = DockerSaveManifestSchema.safeParse(raw);
  if (!parsed.success) throw malformed(`manifest.json of ${index.label}`, parsed.error);
  const entries = parsed.data;
  const allTags = entries.flatMap((e) => e.RepoTags ?? []);
  let entry: (typeof entries)[number] | undefined;
  if (image === undefined) {
    if (entries.length === 0) throw new PortcullisError('E_NOT_FOUND', `docker-archive: ${index.label} holds no images`);
    if (entries.length > 1) {
      throw new PortcullisError(
        'E_REFERENCE',
        `docker-archive: ${index.label} holds ${entries.length} images; name one (docker-archive:FILE:NAME:TAG or :@N); tags: ${allTags.join(', ') || 'none'}`,
        { tags: allTags },
      );
    }
    entry = entries[0];
  } else if (/^@\d+$/.test(image)) {
    entry = entries[Number(image.slice(1))];
    if (!entry) throw new PortcullisError('E_NOT_FOUND', `docker-archive: ${index.label} has no image ${image} (it holds ${entries.length})`);
  } else {
    const wanted = canonical(image);
    entry = entries.find((e) => (e.RepoTags ?? []).some((t) => t === image || (wanted !== undefined && canonical(t) === wanted)));
    if (!entry) {
      throw new PortcullisError('E_NOT_FOUND', `docker-archive: no image tagged ${JSON.stringify(image)} in ${index.label}; tags: ${allTags.join(', ') || 'none'}`, {
        tags: allTags,
      });
    }
  }
  if (!entry) throw new PortcullisError('E_NOT_FOUND', `docker-archive: ${index.label} holds no images`);

  const configBytes = await index.readAll(entry.Config, MAX_CONFIG_BYTES);
  const namedConfigDigest = digestFromName(entry.Config);
  if (namedConfigDigest) verifyBytes(configBytes, namedConfigDigest, `config ${entry.Config}`);
  const configDigest = namedConfigDigest ?? digestOf(configBytes);
  const config = parseImageConfig(configBytes, `config ${entry.Config}`);

  const memberByDigest = new Map<string, string>();
  const layers: Descriptor[] = [];
  for (const [i, name] of entry.Layers.entries()) {
    const member = index.member(name);
    if (!member) throw new PortcullisError('E_NOT_FOUND', `docker-archive: layer ${name} is missing from ${index.label}`, { member: name });
    // Legacy docker save stores each layer as the uncompressed tar, so its digest is the diff_id.
    const digest = digestFromName(member.name) ?? digestFromName(name) ?? config.diffIds[i];
    if (digest === undefined) {
      throw new PortcullisError('E_MANIFEST', `docker-archive: ${index.label} lists more layers than its config has diff_ids`);
    }
    memberByDigest.set(digest, name);
    layers.push({ mediaType: await sniffLayerMediaType(index, name), digest, size: member.size });
  }
  const store: BlobStore = {
    fetchManifest() {
      return Promise.reject(new PortcullisError('E_INTERNAL', 'docker-archive: legacy archives have no manifests to fetch'));
    },
    async openBlob(desc, signal) {
      const name = memberByDigest.get(desc.digest);
      if (name === undefined) throw new PortcullisError('E_NOT_FOUND', `docker-archive: no layer ${desc.digest} in ${index.label}`);
      return index.open(name, signal);
    },
  };
  return [buildImage({ ...ctx, store }, { configDigest, config, layers })];
}

function canonical(name: string): string | undefined {
  try {
    return formatRegistryReference(parseRegistryReference(name));
  } catch {
    return undefined;
  }
}
