import { createReadStream } from 'node:fs';
import { posix } from 'node:path';
import { type Readable, addAbortSignal } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar-stream';
import { PortcullisError } from '../domain/errors.js';
import { emptyStream, type LayoutFiles } from './layout-files.js';

/** Where one regular member's bytes sit in an uncompressed tar file. */
export interface TarMember {
  name: string;
  /** Byte offset of the member's data in the file. */
  offset: number;
  size: number;
}

interface RawEntry {
  type: 'file' | 'link' | 'symlink';
  offset: number;
  size: number;
  linkname: string;
}

/**
 * The members of an uncompressed tar file, found in one sequential pass, then read by byte range.
 * tar-stream parses the headers; it reports each member's header offset, and the data follows the
 * 512-byte header (long names and PAX records precede that header, so they do not shift it).
 * Random access matters here: layers of a multi-gigabyte `docker save` are read one at a time, and a
 * second sequential pass per layer would read the archive once per layer.
 */
export class TarIndex {
  private constructor(
    readonly file: string,
    private readonly entries: Map<string, RawEntry>,
  ) {}

  /** Indexes `file` (which must be an uncompressed tar). Throws E_INPUT when it is not a readable tar. */
  static async build(file: string, signal?: AbortSignal): Promise<TarIndex> {
    const entries = new Map<string, RawEntry>();
    const ex = extract();
    ex.on('entry', (header, stream, next) => {
      const name = normalizeName(header.name);
      if (header.type === 'file' || header.type === 'contiguous-file') {
        entries.set(name, { type: 'file', offset: stream.offset + 512, size: header.size, linkname: '' });
      } else if (header.type === 'link' || header.type === 'symlink') {
        entries.set(name, { type: header.type, offset: 0, size: 0, linkname: header.linkname });
      }
      stream.on('end', () => next());
      stream.resume();
    });
    const input = createReadStream(file);
    try {
      await pipeline(input, ex, signal ? { signal } : {});
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new PortcullisError('E_INPUT', `docker-archive: ${file} is not a readable tar archive: ${(err as Error).message}`, { path: file }, { cause: err });
    }
    return new TarIndex(file, entries);
  }

  /** The regular member at `name` (following hard and symbolic links inside the archive), if any. */
  member(name: string): TarMember | undefined {
    let current = normalizeName(name);
    for (let hops = 0; hops < 16; hops++) {
      const e = this.entries.get(current);
      if (!e) return undefined;
      if (e.type === 'file') return { name: current, offset: e.offset, size: e.size };
      // Hard links name an archive path; symbolic links are relative to the member's directory
      // (`docker save` links duplicate layers as `../<id>/layer.tar`).
      current = e.type === 'link' ? normalizeName(e.linkname) : normalizeName(posix.join(posix.dirname(current), e.linkname));
    }
    return undefined;
  }

  /** Names of all members (regular files and links). */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /** A stream of one member's bytes. Throws E_NOT_FOUND when the archive has no such member. */
  open(name: string, signal?: AbortSignal): Readable {
    const m = this.member(name);
    if (!m) throw new PortcullisError('E_NOT_FOUND', `docker-archive: ${name} is missing from ${this.file}`, { member: name });
    if (m.size === 0) return emptyStream();
    const stream = createReadStream(this.file, { start: m.offset, end: m.offset + m.size - 1 });
    return signal ? addAbortSignal(signal, stream) : stream;
  }

  /** A member's bytes; E_NOT_FOUND when absent, E_TOO_LARGE when longer than `maxBytes`. */
  async readAll(name: string, maxBytes: number): Promise<Buffer> {
    const m = this.member(name);
    if (!m) throw new PortcullisError('E_NOT_FOUND', `docker-archive: ${name} is missing from ${this.file}`, { member: name });
    if (m.size > maxBytes) throw new PortcullisError('E_TOO_LARGE', `docker-archive: ${name} is ${m.size} bytes, more than ${maxBytes}`, { member: name });
    const chunks: Buffer[] = [];
    for await (const chunk of this.open(name)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** The archive's members seen as OCI layout files. */
  asLayoutFiles(): LayoutFiles {
    return {
      location: this.file,
      has: (rel) => this.member(rel) !== undefined,
      readAll: (rel, max) => this.readAll(rel, max),
      open: async (rel, signal) => this.open(rel, signal),
    };
  }
}

/** `./a//b/` -> `a/b`; member names are compared in this form. */
export function normalizeName(name: string): string {
  const n = posix.normalize(name.replace(/^(\.\/)+/, '')).replace(/^\/+/, '').replace(/\/+$/, '');
  return n === '.' ? '' : n;
}
