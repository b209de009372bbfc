/**
 * Oracles the layer readers are checked against in tests: tar-stream's full read of an archive
 * (what the header-only TarIndex must equal), and a whole decode of a layer blob to its digest.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar-stream';
import { normalizeName, type TarIndexEntry } from '../image/tar-index.js';
import { decompressLayer, type ZstdBackend } from '../layers/decompress.js';

/** What tar-stream, reading every byte, says the archive holds (the index's previous implementation). */
export async function tarStreamView(file: string): Promise<TarIndexEntry[]> {
  const byName = new Map<string, TarIndexEntry>();
  const ex = extract();
  ex.on('entry', (header, stream, next) => {
    const name = normalizeName(header.name);
    if (header.type === 'file' || header.type === 'contiguous-file') {
      byName.set(name, { name, type: 'file', offset: stream.offset + 512, size: header.size ?? 0, linkname: '' });
    } else if (header.type === 'link' || header.type === 'symlink') {
      byName.set(name, { name, type: header.type, offset: 0, size: 0, linkname: header.linkname ?? '' });
    }
    stream.on('end', () => next());
    stream.resume();
  });
  await pipeline(createReadStream(file), ex);
  return [...byName.values()];
}

/** Decodes a whole layer blob with one zstd back-end; its size and sha256 digest. */
export async function decodeAll(blob: Readable, zstdBackend: ZstdBackend): Promise<{ bytes: number; sha256: string }> {
  const { tar } = decompressLayer(blob, { zstdBackend });
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of tar) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: `sha256:${hash.digest('hex')}` };
}
