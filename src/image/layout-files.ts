import { createReadStream, existsSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, addAbortSignal } from 'node:stream';
import { PortcullisError } from '../domain/errors.js';

/**
 * Read access to the files of an OCI image layout, wherever it lives: a directory (`oci:`) or the
 * members of a tar (`oci-archive:`, newer `docker save`). Paths are layout-relative with `/`.
 */
export interface LayoutFiles {
  /** Where the layout is, for messages. */
  readonly location: string;
  /** Whether a regular file exists at `rel`. */
  has(rel: string): boolean;
  /** The size in bytes of the regular file at `rel`; undefined when there is none. */
  size(rel: string): number | undefined;
  /** The file's bytes; E_NOT_FOUND when absent, E_TOO_LARGE when longer than `maxBytes`. */
  readAll(rel: string, maxBytes: number): Promise<Buffer>;
  /** A stream of the file's bytes; rejects with E_NOT_FOUND when absent. */
  open(rel: string, signal?: AbortSignal): Promise<Readable>;
}

/** Layout files in a directory on disk. */
export function directoryFiles(root: string): LayoutFiles {
  const full = (rel: string): string => join(root, ...rel.split('/'));
  const notFound = (rel: string): PortcullisError =>
    new PortcullisError('E_NOT_FOUND', `oci-layout: ${rel} is missing from ${root}`, { path: full(rel) });
  return {
    location: root,
    has(rel) {
      try {
        return statSync(full(rel)).isFile();
      } catch {
        return false;
      }
    },
    size(rel) {
      try {
        const st = statSync(full(rel));
        return st.isFile() ? st.size : undefined;
      } catch {
        return undefined;
      }
    },
    async readAll(rel, maxBytes) {
      const st = await stat(full(rel)).catch(() => undefined);
      if (!st?.isFile()) throw notFound(rel);
      if (st.size > maxBytes) throw new PortcullisError('E_TOO_LARGE', `oci-layout: ${rel} is ${st.size} bytes, more than ${maxBytes}`, { path: full(rel) });
      return readFile(full(rel));
    },
    async open(rel, signal) {
      if (!existsSync(full(rel))) throw notFound(rel);
      const stream = createReadStream(full(rel));
      return signal ? addAbortSignal(signal, stream) : stream;
    },
  };
}

/** An empty readable, for zero-length members. */
export function emptyStream(): Readable {
  return Readable.from([], { objectMode: false });
}
