/**
 * Unpacking feed payloads into FeedFiles: zip (fflate), gzip (node:zlib), tar.gz and tar.zst
 * (tar-stream over node:zlib / fzstd).
 */
import { Readable } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import { unzipSync } from 'fflate';
import { Decompress } from 'fzstd';
import tarStream from 'tar-stream';
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

/**
 * The regular files of a zip archive, named by their path inside it (folders and hidden entries
 * such as `__MACOSX/` left out). Returns [] for an empty archive; throws E_INPUT when corrupt.
 */
export function unzipFiles(bytes: Buffer, label: string): FeedFile[] {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    throw new PortcullisError('E_INPUT', `vulndb: ${label} is not a readable zip: ${err instanceof Error ? err.message : String(err)}`);
  }
  const files: FeedFile[] = [];
  for (const [name, data] of Object.entries(entries)) {
    if (name.endsWith('/') || name.split('/').some((part) => part.startsWith('.') || part === '__MACOSX')) continue;
    files.push({ name, bytes: Buffer.from(data.buffer, data.byteOffset, data.byteLength) });
  }
  return files;
}

/** Gunzips one payload; throws E_INPUT when corrupt. */
export function gunzip(bytes: Buffer, label: string): Buffer {
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw new PortcullisError('E_INPUT', `vulndb: ${label} is not readable gzip: ${err instanceof Error ? err.message : String(err)}`);
  }
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

/** The regular files of a gzip-compressed tar archive. Throws E_INPUT when corrupt. */
export async function untarGzFiles(bytes: Buffer, label: string): Promise<FeedFile[]> {
  const gunzipper = createGunzip();
  const source = Readable.from([bytes]).pipe(gunzipper);
  gunzipper.on('error', (err) => source.emit('error', new PortcullisError('E_INPUT', `vulndb: ${label} is not readable gzip: ${err.message}`)));
  return untar(source, label);
}

/** The regular files of a zstd-compressed tar archive. Throws E_INPUT when corrupt. */
export async function untarZstFiles(bytes: Buffer, label: string): Promise<FeedFile[]> {
  return untar(Readable.from(zstdChunks(bytes, label)), label);
}
