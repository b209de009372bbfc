import { createRequire } from 'node:module';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { createGunzip, type Gunzip } from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import type { DCtx } from 'zstd-napi/binding.js';
import { PortcullisError } from '../domain/errors.js';

export type LayerCompression = 'gzip' | 'zstd' | 'none';

/** Which zstd decoder a {@link LayerDecoder} uses: libzstd through zstd-napi, or the pure-JS fzstd. */
export type ZstdBackend = 'native' | 'fzstd';

type ZstdBinding = typeof import('zstd-napi/binding.js');

// Node 20's zlib has no zstd. zstd-napi wraps the real libzstd (bundled sources, compiled by
// node-gyp at install time when no prebuild can be fetched) and decodes the test images' layers
// 5-7x faster than fzstd (decode only: ~490-790 vs ~70-130 MB/s, same bytes). It is loaded with require
// inside try/catch rather than imported, so that a machine where the addon could not be built or
// was installed with --ignore-scripts still reads zstd layers: fzstd is kept only as that fallback.
function loadNativeZstd(): ZstdBinding | undefined {
  try {
    return createRequire(import.meta.url)('zstd-napi/binding.js') as ZstdBinding;
  } catch {
    return undefined;
  }
}

const nativeZstd = loadNativeZstd();

/** The zstd decoder new {@link LayerDecoder}s use by default: 'native' unless zstd-napi failed to load. */
export const defaultZstdBackend: ZstdBackend = nativeZstd ? 'native' : 'fzstd';

// Output slice per ZSTD_decompressStream call: large enough that the per-call overhead of crossing
// into native code is small, small enough that a paused consumer holds little memory.
const ZSTD_OUT_CHUNK = 256 * 1024;

/** Options of {@link LayerDecoder}. */
export interface LayerDecoderOptions {
  /**
   * zstd decoder to use; defaults to {@link defaultZstdBackend}. Asking for 'native' when zstd-napi
   * could not be loaded throws E_INTERNAL. Meant for tests that compare the two decoders.
   */
  zstdBackend?: ZstdBackend;
}

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
 * node's zlib; zstd uses libzstd through zstd-napi (or the pure-JS fzstd when that addon cannot be
 * loaded), because Node 20's zlib has no zstd. The native zstd path stops decoding while the
 * reader is not reading, so a highly compressed blob never piles up decoded bytes in memory.
 * Decoder failures, and a zstd stream that ends inside a frame, become E_LAYER_CORRUPT. An empty
 * input gives an empty output.
 */
export class LayerDecoder extends Transform {
  compression: LayerCompression | undefined;
  /** The zstd decoder this instance uses if the blob turns out to be zstd. */
  readonly zstdBackend: ZstdBackend;
  private head: Buffer[] = [];
  private headLength = 0;
  private gunzip: Gunzip | undefined;
  private zstd: ZstdDecompress | undefined;
  private dctx: DCtx | undefined;
  /** Whether libzstd's last call left a frame unfinished (its size hint was not 0). */
  private zstdInFrame = false;
  /** Continues a native zstd chunk that was paused because the reader's buffer was full. */
  private resumeZstd: (() => void) | undefined;

  constructor(options: LayerDecoderOptions = {}) {
    super({ highWaterMark: 256 * 1024 });
    this.zstdBackend = options.zstdBackend ?? defaultZstdBackend;
    if (this.zstdBackend === 'native' && !nativeZstd) {
      throw new PortcullisError('E_INTERNAL', 'layer: the native zstd decoder (zstd-napi) could not be loaded');
    }
  }

  override _read(size: number): void {
    const resume = this.resumeZstd;
    this.resumeZstd = undefined;
    resume?.();
    // Unless the chunk paused again, let Transform release a write callback it held back (the
    // resumed chunk may have finished without pushing, and then no later push would ask for it).
    if (!this.resumeZstd) super._read(size);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.resumeZstd = undefined;
    this.dctx = undefined;
    super._destroy(err, callback);
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
    } else if (this.compression === 'zstd' && this.zstdBackend === 'native' && nativeZstd) {
      this.dctx = new nativeZstd.DCtx();
      // libzstd refuses frames whose window exceeds 2^27 bytes unless told otherwise (as `zstd -d`
      // does without --long/--memory); fzstd never refused them, so images written with
      // `zstd --long=28..31` keep reading. The window is still bounded by the frame header, never
      // by the layer's size.
      const { DParameter, dParamGetBounds } = nativeZstd;
      this.dctx.setParameter(DParameter.windowLogMax, dParamGetBounds(DParameter.windowLogMax).upperBound);
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
    if (this.dctx) return this.feedNative(this.dctx, chunk, done);
    try {
      this.zstd?.push(chunk);
      done();
    } catch (err) {
      done(corrupt('zstd', err));
    }
  }

  /**
   * Runs ZSTD_decompressStream over one input chunk, pushing each output slice. When a push finds
   * the reader's buffer full, the rest of the chunk waits for the next _read (and the chunk's
   * callback with it, so no more input arrives meanwhile).
   */
  private feedNative(dctx: DCtx, chunk: Buffer, done: TransformCallback): void {
    let src = chunk;
    try {
      for (;;) {
        if (this.destroyed) return;
        const out = Buffer.allocUnsafe(ZSTD_OUT_CHUNK);
        const [hint, produced, consumed] = dctx.decompressStream(out, src);
        src = src.subarray(consumed);
        this.zstdInFrame = hint !== 0;
        const wantsMore = produced > 0 ? this.push(out.subarray(0, produced)) : true;
        // A full output slice may mean libzstd holds more to flush, even with no input left.
        if (src.length === 0 && (produced < out.length || hint === 0)) {
          done();
          return;
        }
        if (!wantsMore) {
          this.resumeZstd = () => this.feedNative(dctx, src, done);
          return;
        }
      }
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
    if (this.dctx) {
      done(this.zstdInFrame ? corrupt('zstd', new Error('the stream ends inside a frame')) : undefined);
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
export function decompressLayer(blob: Readable, options: LayerDecoderOptions & { keepSourceOnError?: boolean } = {}): { tar: Readable; decoder: LayerDecoder } {
  const decoder = new LayerDecoder(options);
  blob.on('error', (err) => decoder.destroy(err));
  decoder.on('close', () => {
    // By default a consumer that stops early releases the source (a registry connection). A caller
    // that wants the source's own verdict after a failure (its digest check) keeps it, and then
    // owns reading it to the end or destroying it.
    if (!blob.readableEnded && !options.keepSourceOnError) blob.destroy();
  });
  blob.pipe(decoder);
  return { tar: decoder, decoder };
}
