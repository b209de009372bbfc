import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { constants, crc32, deflateRawSync } from 'node:zlib';

const MiB = 1024 * 1024;

/** One entry of zeros for a generated zip: its real size, and the size the headers claim (a lie when they differ). */
export interface ZeroEntry {
  name: string;
  /** Uncompressed bytes, a whole number of MiB. */
  bytes: number;
  /** Uncompressed size written in the headers (default: `bytes`). */
  declaredBytes?: number;
}

/**
 * Writes a zip holding entries of zeros to `path` without ever holding an entry in memory: each
 * MiB is the same deflate segment (a full flush makes segments independent), so a 2 GiB entry
 * costs 2 MiB on disk and a few MiB of memory to write. For tests of zip-bomb limits.
 */
export async function writeZeroZip(path: string, entries: readonly ZeroEntry[]): Promise<void> {
  const zeros = Buffer.alloc(MiB);
  const segment = deflateRawSync(zeros, { finishFlush: constants.Z_FULL_FLUSH });
  const last = deflateRawSync(zeros);
  const out = createWriteStream(path);
  let offset = 0;
  const write = async (buf: Buffer): Promise<void> => {
    offset += buf.length;
    if (!out.write(buf)) await once(out, 'drain');
  };
  const central: Buffer[] = [];
  for (const entry of entries) {
    const megabytes = entry.bytes / MiB;
    if (!Number.isInteger(megabytes) || megabytes < 1) throw new Error('writeZeroZip: sizes are whole MiB');
    let crc = 0;
    for (let i = 0; i < megabytes; i++) crc = crc32(zeros, crc);
    const compressed = segment.length * (megabytes - 1) + last.length;
    const declared = entry.declaredBytes ?? entry.bytes;
    const name = Buffer.from(entry.name, 'utf8');
    const headerOffset = offset;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(compressed, 18);
    local.writeUInt32LE(declared, 22);
    local.writeUInt16LE(name.length, 26);
    await write(Buffer.concat([local, name]));
    for (let i = 0; i < megabytes - 1; i++) await write(segment);
    await write(last);
    const record = Buffer.alloc(46);
    record.writeUInt32LE(0x02014b50, 0);
    record.writeUInt16LE(20, 4);
    record.writeUInt16LE(20, 6);
    record.writeUInt16LE(0x0800, 8);
    record.writeUInt16LE(8, 10);
    record.writeUInt32LE(crc >>> 0, 16);
    record.writeUInt32LE(compressed, 20);
    record.writeUInt32LE(declared, 24);
    record.writeUInt16LE(name.length, 28);
    record.writeUInt32LE(headerOffset, 42);
    central.push(record, name);
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  await write(Buffer.concat([directory, end]));
  out.end();
  await once(out, 'finish');
}
