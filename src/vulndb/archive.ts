/**
 * Unpacking feed payloads into FeedFiles: zip (yauzl), gzip (node:zlib), tar.gz and tar.zst
 * (tar-stream over node:zlib / fzstd).
 */
import { Readable, Transform } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import { Decompress } from 'fzstd';
import tarStream from 'tar-stream';
import yauzl from 'yauzl';
import { PortcullisError } from '../domain/errors.js';
import type { FeedFile } from '../feeds/types.js';

/** True when the bytes start like a zip archive (local file header or empty-archive record). */
export function looksLikeZip(bytes: Buffer): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 0x03 || bytes[2] === 0x05) && (bytes[3] === 0x04 || bytes[3] === 0x06);
}

/** True when the bytes start with the gzip magic number. */
export function looksLikeGzip(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Bounds on what one zip entry may expand to: a feed mirror is as untrusted as a registry. */
export interface ZipLimits {
  /** Largest uncompressed entry, declared or actual (default 1 GiB: the largest real feed file is well under 200 MiB). */
  maxEntryBytes: number;
  /**
   * Largest uncompressed/compressed ratio of an entry (default 200: JSON and XML feeds compress
   * 5-30x; a deflate bomb reaches about 1,000x).
   */
  maxRatio: number;
  /** Entries smaller than this are not held to maxRatio: a few KiB of repeated text may compress past it harmlessly (default 1 MiB). */
  ratioFloorBytes: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxEntryBytes: 1024 ** 3,
  maxRatio: 200,
  ratioFloorBytes: 1024 ** 2,
};

/** Where a zip comes from: the file on disk (read entry by entry) or a payload already in memory. */
export type ZipSource = { path: string } | { bytes: Buffer };

/**
 * The regular files of a zip archive, named by their path inside it (folders and hidden entries
 * such as `__MACOSX/` left out). Entries are read one at a time from the central directory (yauzl),
 * each inflated as a stream and stopped as soon as it passes its declared size or the limits, so a
 * small zip holding a huge entry costs no more memory than the limit. `keep` drops entries the
 * caller has no use for right after reading them. Returns [] for an empty archive; throws E_INPUT
 * when corrupt and E_TOO_LARGE (naming the archive and the entry) when an entry is over the limits.
 */
export async function unzipFiles(source: ZipSource, label: string, limits: ZipLimits = DEFAULT_ZIP_LIMITS, keep: (file: FeedFile) => boolean = () => true): Promise<FeedFile[]> {
  // Names are decoded here rather than by yauzl, which refuses the whole archive over one `../`
  // name (such entries are skipped like hidden ones); sizes are checked by readEntry, which can
  // say which limit an entry broke.
  const options: yauzl.Options = { lazyEntries: true, decodeStrings: false, validateEntrySizes: false, autoClose: true };
  let zip: yauzl.ZipFile;
  try {
    zip = 'path' in source ? await yauzl.openPromise(source.path, options) : await yauzl.fromBufferPromise(source.bytes, options);
  } catch (err) {
    throw notAZip(label, err);
  }
  const files: FeedFile[] = [];
  try {
    for await (const entry of zip.eachEntry()) {
      const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
      if (name.endsWith('/') || name.split('/').some((part) => part.startsWith('.') || part === '__MACOSX')) continue;
      checkDeclared(entry, name, label, limits);
      const bytes = await readEntry(zip, entry, name, label, limits);
      const file: FeedFile = { name, bytes };
      if (keep(file)) files.push(file);
    }
  } catch (err) {
    zip.close();
    if (err instanceof PortcullisError) throw err;
    throw notAZip(label, err);
  }
  return files;
}

function notAZip(label: string, err: unknown): PortcullisError {
  return new PortcullisError('E_INPUT', `vulndb: ${label} is not a readable zip: ${err instanceof Error ? err.message : String(err)}`, { archive: label }, { cause: err });
}

function tooLarge(label: string, name: string, why: string, limit: number): PortcullisError {
  return new PortcullisError('E_TOO_LARGE', `vulndb: ${label}!/${name}: ${why}`, { archive: label, entry: name, limit });
}

/** Refuses an entry from its central-directory sizes alone, before a byte of it is inflated. */
function checkDeclared(entry: yauzl.Entry, name: string, label: string, limits: ZipLimits): void {
  if (entry.uncompressedSize > limits.maxEntryBytes) {
    throw tooLarge(label, name, `declares ${entry.uncompressedSize} bytes, over the ${limits.maxEntryBytes}-byte entry limit`, limits.maxEntryBytes);
  }
  if (entry.uncompressedSize >= limits.ratioFloorBytes && entry.uncompressedSize > limits.maxRatio * Math.max(entry.compressedSize, 1)) {
    throw tooLarge(
      label,
      name,
      `declares ${entry.uncompressedSize} bytes from ${entry.compressedSize} compressed, over the ${limits.maxRatio}:1 ratio limit (zip bomb?)`,
      limits.maxRatio,
    );
  }
}

/**
 * Inflates one entry, counting as it goes: it stops at whichever comes first of the size the entry
 * declares, the entry limit and the ratio limit, so a central directory that lies costs nothing.
 */
async function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, name: string, label: string, limits: ZipLimits): Promise<Buffer> {
  const ratioCap = Math.max(limits.ratioFloorBytes, limits.maxRatio * Math.max(entry.compressedSize, 1));
  const stream = await zip.openReadStreamPromise(entry);
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > entry.uncompressedSize) throw tooLarge(label, name, `expands past the ${entry.uncompressedSize} bytes it declares`, entry.uncompressedSize);
      if (total > limits.maxEntryBytes) throw tooLarge(label, name, `expands past the ${limits.maxEntryBytes}-byte entry limit`, limits.maxEntryBytes);
      if (total > ratioCap) throw tooLarge(label, name, `expands past the ${limits.maxRatio}:1 ratio limit (zip bomb?)`, limits.maxRatio);
      chunks.push(chunk);
    }
  } catch (err) {
    stream.destroy();
    if (err instanceof PortcullisError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new PortcullisError('E_INPUT', `vulndb: ${label}!/${name} is not a readable zip entry: ${reason}`, { archive: label, entry: name }, { cause: err });
  }
  if (total !== entry.uncompressedSize) {
    throw new PortcullisError('E_INPUT', `vulndb: ${label}!/${name} is truncated (${total} of ${entry.uncompressedSize} bytes)`, { archive: label, entry: name });
  }
  return Buffer.concat(chunks, total);
}

/**
 * The most a compressed payload of `compressedBytes` may expand to under `limits`: the entry limit,
 * and the ratio limit above its floor (a gzip or tar.gz from a feed mirror is as untrusted as a zip).
 */
export function expansionCap(compressedBytes: number, limits: ZipLimits): number {
  return Math.min(limits.maxEntryBytes, Math.max(limits.ratioFloorBytes, limits.maxRatio * Math.max(compressedBytes, 1)));
}

/**
 * Gunzips one payload; throws E_INPUT when corrupt and E_TOO_LARGE when it expands past
 * {@link expansionCap} (zlib stops inflating at the cap, so a bomb costs no more than the cap).
 */
export function gunzip(bytes: Buffer, label: string, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Buffer {
  const cap = expansionCap(bytes.length, limits);
  try {
    return gunzipSync(bytes, { maxOutputLength: cap });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new PortcullisError('E_TOO_LARGE', `vulndb: ${label} expands past ${cap} bytes from ${bytes.length} compressed (the ${limits.maxRatio}:1 ratio or ${limits.maxEntryBytes}-byte limit; gzip bomb?)`, { archive: label, limit: cap });
    }
    throw new PortcullisError('E_INPUT', `vulndb: ${label} is not readable gzip: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Counts the bytes a decompressor yields and stops the stream with E_TOO_LARGE past `cap`, so a
 * tar.gz or tar.zst bomb is refused after at most `cap` bytes rather than filling memory.
 */
function capped(label: string, cap: number, limits: ZipLimits, compressedBytes: number): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      total += chunk.length;
      if (total > cap) {
        done(new PortcullisError('E_TOO_LARGE', `vulndb: ${label} expands past ${cap} bytes from ${compressedBytes} compressed (the ${limits.maxRatio}:1 ratio or ${limits.maxEntryBytes}-byte limit; bomb?)`, { archive: label, limit: cap }));
        return;
      }
      done(null, chunk);
    },
  });
}

/** Decompresses a zstd payload chunk by chunk (fzstd's streaming API), so no whole copy of the output is held twice. */
function* zstdChunks(bytes: Buffer, label: string): Generator<Uint8Array> {
  const out: Uint8Array[] = [];
  const decoder = new Decompress((chunk) => {
    out.push(chunk);
  });
  const step = 1 << 20;
  try {
    for (let i = 0; i < bytes.length; i += step) {
      decoder.push(bytes.subarray(i, Math.min(i + step, bytes.length)), i + step >= bytes.length);
      yield* out.splice(0);
    }
  } catch (err) {
    throw new PortcullisError('E_INPUT', `vulndb: ${label} is not readable zstd: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The regular files of a tar stream, named by their path inside it (hidden entries left out). */
async function untar(source: Readable, label: string): Promise<FeedFile[]> {
  const extract = tarStream.extract();
  const files: FeedFile[] = [];
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => {
        chunks.push(c as Buffer);
      });
      stream.on('end', () => {
        const name = header.name.replace(/^\.\//, '');
        if (header.type === 'file' && !name.split('/').some((p) => p.startsWith('.'))) files.push({ name, bytes: Buffer.concat(chunks) });
        next();
      });
      stream.on('error', reject);
    });
    extract.on('finish', resolve);
    extract.on('error', (err: Error) => reject(new PortcullisError('E_INPUT', `vulndb: ${label} is not a readable tar: ${err.message}`)));
    source.on('error', (err: Error) => reject(err instanceof PortcullisError ? err : new PortcullisError('E_INPUT', `vulndb: ${label}: ${err.message}`)));
  });
  source.pipe(extract);
  await done;
  return files;
}

/** The regular files of a gzip-compressed tar archive. Throws E_INPUT when corrupt, E_TOO_LARGE past the limits. */
export async function untarGzFiles(bytes: Buffer, label: string, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<FeedFile[]> {
  const gunzipper = createGunzip();
  const limit = capped(label, expansionCap(bytes.length, limits), limits, bytes.length);
  gunzipper.on('error', (err) => limit.destroy(new PortcullisError('E_INPUT', `vulndb: ${label} is not readable gzip: ${err.message}`)));
  Readable.from([bytes]).pipe(gunzipper).pipe(limit);
  return untar(limit, label);
}

/** The regular files of a zstd-compressed tar archive. Throws E_INPUT when corrupt, E_TOO_LARGE past the limits. */
export async function untarZstFiles(bytes: Buffer, label: string, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<FeedFile[]> {
  const limit = capped(label, expansionCap(bytes.length, limits), limits, bytes.length);
  const source = Readable.from(zstdChunks(bytes, label));
  source.on('error', (err) => limit.destroy(err));
  source.pipe(limit);
  return untar(limit, label);
}
