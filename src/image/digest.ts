import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { PortcullisError } from '../domain/errors.js';

/** Digest algorithms the sources verify, with the hex length of their encoded form. */
const ALGORITHMS = { sha256: 64, sha512: 128 } as const;

export type DigestAlgorithm = keyof typeof ALGORITHMS;

/** A parsed `alg:hex` content digest. */
export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
}

const DIGEST_SHAPE = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

/**
 * Parses and validates a content digest. Throws E_UNSUPPORTED for a well-formed digest of an algorithm
 * other than sha256/sha512, and E_MANIFEST for anything malformed (wrong shape, wrong hex length,
 * upper-case hex, which the OCI spec forbids for these algorithms).
 */
export function parseDigest(digest: string): ParsedDigest {
  const m = DIGEST_SHAPE.exec(digest);
  if (!m) throw new PortcullisError('E_MANIFEST', `digest: malformed digest ${JSON.stringify(digest)}`, { digest });
  const algorithm = m[1] ?? '';
  const hex = m[2] ?? '';
  if (!isAlgorithm(algorithm)) {
    throw new PortcullisError('E_UNSUPPORTED', `digest: unsupported digest algorithm ${JSON.stringify(algorithm)} (sha256 and sha512 are supported)`, { digest });
  }
  if (hex.length !== ALGORITHMS[algorithm] || !/^[0-9a-f]+$/.test(hex)) {
    throw new PortcullisError('E_MANIFEST', `digest: malformed ${algorithm} digest ${JSON.stringify(digest)}`, { digest });
  }
  return { algorithm, hex };
}

/** True when `digest` is a well-formed sha256 or sha512 digest (never throws). */
export function isValidDigest(digest: string): boolean {
  try {
    parseDigest(digest);
    return true;
  } catch {
    return false;
  }
}

function isAlgorithm(value: string): value is DigestAlgorithm {
  return Object.hasOwn(ALGORITHMS, value);
}

/** The `alg:hex` digest of a buffer (sha256 unless told otherwise). */
export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/**
 * Throws E_DIGEST_MISMATCH unless `bytes` hash to `expected` (and, when given, have exactly
 * `expectedSize` bytes). `what` names the object in the message ("manifest", "config ...").
 */
export function verifyBytes(bytes: Uint8Array, expected: string, what: string, expectedSize?: number): void {
  const { algorithm } = parseDigest(expected);
  if (expectedSize !== undefined && expectedSize >= 0 && bytes.byteLength !== expectedSize) {
    throw new PortcullisError('E_DIGEST_MISMATCH', `digest: ${what} is ${bytes.byteLength} bytes, descriptor says ${expectedSize}`, {
      expected,
      expectedSize,
      actualSize: bytes.byteLength,
    });
  }
  const actual = digestOf(bytes, algorithm);
  if (actual !== expected) {
    throw new PortcullisError('E_DIGEST_MISMATCH', `digest: ${what} hashes to ${actual}, expected ${expected}`, { expected, actual });
  }
}

/** Options of {@link createDigestVerifier}. */
export interface DigestVerifierOptions {
  /** Exact size the descriptor declares; -1 or undefined when unknown. */
  expectedSize?: number;
  /** Names the blob in error messages (e.g. "layer 2"). */
  what?: string;
  /** Called after each chunk with the running byte count. */
  onBytes?: (bytes: number) => void;
}

/**
 * A pass-through Transform that hashes what flows through it. It fails with E_DIGEST_MISMATCH as soon
 * as more bytes than the declared size arrive (so an endless or padded blob cannot run on), and at the
 * end when the size falls short or the hash differs from `expected`. An empty stream is checked like
 * any other (it must hash to `expected`).
 */
export function createDigestVerifier(expected: string, options: DigestVerifierOptions = {}): Transform {
  const { algorithm } = parseDigest(expected);
  return new DigestVerifier(algorithm, expected, options);
}

class DigestVerifier extends Transform {
  private readonly hash: Hash;
  private bytes = 0;

  constructor(
    algorithm: DigestAlgorithm,
    private readonly expected: string,
    private readonly options: DigestVerifierOptions,
  ) {
    super();
    this.hash = createHash(algorithm);
  }

  private get what(): string {
    return this.options.what ?? 'blob';
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    const size = this.options.expectedSize;
    if (size !== undefined && size >= 0 && this.bytes > size) {
      callback(
        new PortcullisError('E_DIGEST_MISMATCH', `digest: ${this.what} is longer than its declared size of ${size} bytes`, {
          expected: this.expected,
          expectedSize: size,
        }),
      );
      return;
    }
    this.hash.update(chunk);
    this.options.onBytes?.(this.bytes);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const size = this.options.expectedSize;
    if (size !== undefined && size >= 0 && this.bytes !== size) {
      callback(
        new PortcullisError('E_DIGEST_MISMATCH', `digest: ${this.what} is ${this.bytes} bytes, descriptor says ${size}`, {
          expected: this.expected,
          expectedSize: size,
          actualSize: this.bytes,
        }),
      );
      return;
    }
    const actual = `${this.hash.digest('hex')}`;
    const actualDigest = `${this.expected.slice(0, this.expected.indexOf(':'))}:${actual}`;
    if (actualDigest !== this.expected) {
      callback(
        new PortcullisError('E_DIGEST_MISMATCH', `digest: ${this.what} hashes to ${actualDigest}, expected ${this.expected}`, {
          expected: this.expected,
          actual: actualDigest,
        }),
      );
      return;
    }
    callback();
  }
}
