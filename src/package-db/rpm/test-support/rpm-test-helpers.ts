/**
 * Test helpers for the rpm readers: a builder of small, valid header blobs, and the real rpm CLI as
 * an oracle for header blobs (rpm verifies each header's digests and signatures when it reads them).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { RPM_TYPE } from '../header.js';

export type TestTagValue = { tag: number; string: string } | { tag: number; int32: number } | { tag: number; type: number; raw: Uint8Array };

/**
 * Builds a header blob (database form: il, dl, index, data) from tag values, in the order given.
 * INT32 values are 4-byte aligned as rpm requires; no region tag is written.
 */
export function buildHeaderBlob(values: TestTagValue[]): Buffer {
  const index: Buffer[] = [];
  const data: number[] = [];
  for (const v of values) {
    let type: number;
    let bytes: Buffer;
    if ('string' in v) {
      type = RPM_TYPE.STRING;
      bytes = Buffer.concat([Buffer.from(v.string, 'utf8'), Buffer.from([0])]);
    } else if ('int32' in v) {
      type = RPM_TYPE.INT32;
      while (data.length % 4 !== 0) data.push(0);
      bytes = Buffer.alloc(4);
      bytes.writeUInt32BE(v.int32);
    } else {
      type = v.type;
      bytes = Buffer.from(v.raw);
    }
    const entry = Buffer.alloc(16);
    entry.writeUInt32BE(v.tag, 0);
    entry.writeUInt32BE(type, 4);
    entry.writeUInt32BE(data.length, 8);
    entry.writeUInt32BE(1, 12);
    index.push(entry);
    data.push(...bytes);
  }
  const head = Buffer.alloc(8);
  head.writeUInt32BE(values.length, 0);
  head.writeUInt32BE(data.length, 4);
  return Buffer.concat([head, ...index, Buffer.from(data)]);
}

/**
 * Puts header blobs into a fresh SQLite rpm database made by the real rpm (`--initdb`) and returns
 * what `rpm -qa --qf QUERYFORMAT` prints for it, one line per package. rpm refuses (and reports on
 * stderr) any header whose SHA1/SHA256 digest or signature does not match, unless `verify: false`.
 */
export function rpmQueryBlobs(blobs: Uint8Array[], queryFormat: string, options: { verify?: boolean } = {}): { lines: string[]; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-rpmdb-'));
  try {
    execFileSync('rpm', ['--dbpath', dir, '--initdb'], { stdio: 'ignore' });
    const db = new Database(join(dir, 'rpmdb.sqlite'));
    try {
      const insert = db.prepare('INSERT INTO Packages (hnum, blob) VALUES (?, ?)');
      blobs.forEach((blob, i) => insert.run(i + 1, Buffer.from(blob)));
    } finally {
      db.close();
    }
    const checks = options.verify === false ? ['--nodigest', '--nosignature'] : [];
    const run = spawnSync('rpm', ['--dbpath', dir, '-qa', ...checks, '--qf', queryFormat], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`rpm -qa failed: ${run.stderr}`);
    return { lines: run.stdout.split('\n').filter((l) => l !== ''), stderr: run.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
