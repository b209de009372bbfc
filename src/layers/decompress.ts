import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { createGunzip, type Gunzip } from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import { PortcullisError } from '../domain/errors.js';

export type LayerCompression = 'gzip' | 'zstd' | 'none';

const GZIP_MAGIC = [0x1f, 0x8b] as const;
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd] as const;

/** Detects the compression of a layer blob from its first bytes (media types lie often enough). */
export function sniffCompression(head: Uint8Array): LayerCompression {
  if (head.length >= 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1]) return 'gzip';
  if (head.length >= 4 && ZSTD_MAGIC.every((b, i) => head[i] === b)) return 'zstd';
  return 'none';
}

function corrupt(kind: string, err: unknown): PortcullisError {
  const reason = err instanceof Error ? err.message : String(err);
  return new PortcullisError('E_LAYER_CORRUPT', `layer: corrupt or truncated ${kind} stream: ${reason}`, { compression: kind });
}

/**
 * Decodes a layer blob into its tar bytes, choosing the decoder from the first bytes. gzip uses
 * node's zlib; zstd uses the pure-JS fzstd decoder, because Node 20's zlib has no zstd. Decoder
 * failures become E_LAYER_CORRUPT.
 */
export class LayerDecoder extends Transform {
  compression: LayerCompression | undefined;
  private head: Buffer[] = [];
  private headLength = 0;
  private gunzip: Gunzip | undefined;
  private zstd: ZstdDecompress | undefined;

  constructor() {
    super({ highWaterMark: 256 * 1024 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.compression === undefined) {
      this.head.push(chunk);
      this.headLength += chunk.length;
      if (this.headLength < 4) return done();
      const first = Buffer.concat(this.head);
      this.head = [];
      this.compression = sniffCompression(first);
      this.setupDecoder();
      this.feed(first, done);
      return;
    }
    this.feed(chunk, done);
  }

  override _flush(done: TransformCallback): void {
    if (this.compression === undefined) {
      if (this.headLength === 0) return done();
      this.compression = sniffCompression(Buffer.concat(this.head));
      const pending = Buffer.concat(this.head);
      this.head = [];
      if (this.compression === 'none') {
        this.push(pending);
        return done();
      }
      this.setupDecoder();
      this.feed(pending, (err) => (err ? done(err) : this.finish(done)));
      return;
    }
    this.finish(done);
  }

  private setupDecoder(): void {
    if (this.compression === 'gzip') {
      this.gunzip = createGunzip({ chunkSize: 256 * 1024 });
      this.gunzip.on('data', (out: Buffer) => this.push(out));
      this.gunzip.on('error', (err) => this.destroy(corrupt('gzip', err)));
    } else if (this.compression === 'zstd') {
      this.zstd = new ZstdDecompress((out) => {
        this.push(Buffer.from(out.buffer, out.byteOffset, out.byteLength));
      });
    }
  }

  private feed(chunk: Buffer, done: TransformCallback): void {
    if (this.compression === 'none') {
      this.push(chunk);
      return done();
    }
    if (this.gunzip) {
      // Respect zlib's back-pressure: continue once it has taken the chunk.
      if (this.gunzip.write(chunk)) return done();
      this.gunzip.once('drain', () => done());
      return;
    }
    try {
      this.zstd?.push(chunk);
      done();
    } catch (err) {
      done(corrupt('zstd', err));
    }
  }

  private finish(done: TransformCallback): void {
    if (this.gunzip) {
      const gunzip = this.gunzip;
      gunzip.once('end', () => done());
      gunzip.end();
      return;
    }
    try {
      this.zstd?.push(new Uint8Array(0), true);
      done();
    } catch (err) {
      done(corrupt('zstd', err));
    }
  }
}

/**
 * Turns a layer blob stream into its tar stream. Errors of the source (digest mismatch, network)
 * are forwarded as they are; decoder errors are E_LAYER_CORRUPT.
 */
export function decompressLayer(blob: Readable): { tar: Readable; decoder: LayerDecoder } {
  const decoder = new LayerDecoder();
  blob.on('error', (err) => decoder.destroy(err));
  decoder.on('close', () => {
    if (!blob.readableEnded) blob.destroy();
  });
  blob.pipe(decoder);
  return { tar: decoder, decoder };
}
