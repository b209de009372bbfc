import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { sharedData } from '../../test/support/shared-data.js';
import { walkFiles } from '../../test/support/files.js';
import { isPortcullisError } from '../domain/errors.js';
import { writeZeroZip } from '../test-support/zip-builder.js';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { compress as zstdCompress } from 'zstd-napi';
import { DEFAULT_ZIP_LIMITS, gunzip, untarGzFiles, untarZstFiles, unzipFiles } from './archive.js';
import { importFeeds } from './import.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-zip-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A zip of the real OSV Go records, plus whatever extra entries a test adds. */
function osvZip(extra: Record<string, Uint8Array> = {}): Buffer {
  const root = sharedData('feeds', 'osv', 'Go');
  const entries: Record<string, Uint8Array> = {};
  for (const f of walkFiles(root)) entries[`osv/${f.slice(root.length + 1)}`] = new Uint8Array(readFileSync(f));
  return Buffer.from(zipSync({ ...entries, ...extra }));
}

describe('zip feed archives are bounded', () => {
  test('a 2 MiB zip holding one 2 GiB entry is refused by its declared size, naming the archive and the entry', async () => {
    const path = join(dir, 'bomb.zip');
    await writeZeroZip(path, [{ name: 'osv/GO-2024-0001.json', bytes: 2 * GiB }]);
    assert.ok(statSync(path).size < 3 * MiB, 'the archive itself is small');
    await assert.rejects(importFeeds([path], { target: join(dir, 'bomb.db') }), (err) => {
      assert.ok(isPortcullisError(err, 'E_TOO_LARGE'), String(err));
      assert.equal(err.details.archive, path);
      assert.equal(err.details.entry, 'osv/GO-2024-0001.json');
      assert.match(err.message, /bomb\.zip!\/osv\/GO-2024-0001\.json: declares 2147483648 bytes/);
      return true;
    });
  });

  test('an entry that expands past the size its headers declare is stopped there', async () => {
    const path = join(dir, 'liar.zip');
    await writeZeroZip(path, [{ name: 'osv/lie.json', bytes: 2 * GiB, declaredBytes: 1000 }]);
    await assert.rejects(unzipFiles({ path }, path), (err) => {
      assert.ok(isPortcullisError(err, 'E_TOO_LARGE'), String(err));
      assert.equal(err.details.entry, 'osv/lie.json');
      assert.match(err.message, /expands past the 1000 bytes it declares/);
      return true;
    });
  });

  test('an entry under the size limit but over the compression ratio is refused; the ratio is configurable', async () => {
    const path = join(dir, 'ratio.zip');
    await writeZeroZip(path, [{ name: 'zeros.json', bytes: 16 * MiB }]);
    await assert.rejects(unzipFiles({ path }, path), (err) => isPortcullisError(err, 'E_TOO_LARGE') && /ratio limit/.test(err.message) && err.details.entry === 'zeros.json');
    const lenient = await unzipFiles({ path }, path, { ...DEFAULT_ZIP_LIMITS, maxRatio: 2000 });
    assert.deepEqual(lenient.map((f) => [f.name, f.bytes.length]), [['zeros.json', 16 * MiB]]);
  });

  test('the actual size is held to the entry limit even when the ratio is allowed', async () => {
    const path = join(dir, 'limit.zip');
    await writeZeroZip(path, [{ name: 'big.json', bytes: 8 * MiB }]);
    const limits = { maxEntryBytes: 4 * MiB, maxRatio: 1e9, ratioFloorBytes: 0 };
    await assert.rejects(unzipFiles({ path }, path, limits), (err) => isPortcullisError(err, 'E_TOO_LARGE') && /declares 8388608 bytes, over the 4194304-byte entry limit/.test(err.message));
    const lying = join(dir, 'limit-lying.zip');
    await writeZeroZip(lying, [{ name: 'big.json', bytes: 8 * MiB, declaredBytes: 4 * MiB - 1 }]);
    await assert.rejects(unzipFiles({ path: lying }, lying, limits), (err) => isPortcullisError(err, 'E_TOO_LARGE') && err.details.entry === 'big.json');
  });

  test('real feed zips read the same from disk and from memory, with traversal names and hidden entries skipped', async () => {
    const bytes = osvZip({ '../escape.json': new TextEncoder().encode('{}'), '__MACOSX/x.json': new TextEncoder().encode('{}') });
    const path = join(dir, 'osv.zip');
    writeFileSync(path, bytes);
    const fromDisk = await unzipFiles({ path }, path);
    const fromMemory = await unzipFiles({ bytes }, 'osv.zip');
    assert.equal(fromDisk.length, 300);
    assert.ok(fromDisk.every((f) => f.name.startsWith('osv/')));
    assert.deepEqual(fromMemory, fromDisk);
  });

  test('a truncated zip is E_INPUT naming the archive', async () => {
    const bytes = osvZip();
    await assert.rejects(unzipFiles({ bytes: bytes.subarray(0, bytes.length - 100) }, 'cut.zip'), (err) => isPortcullisError(err, 'E_INPUT') && /cut\.zip/.test(err.message));
  });
});

/** A tar holding one file of `size` zero bytes (what a tar bomb expands to), plus a small real-looking file. */
async function zeroTar(size: number): Promise<Buffer> {
  const pack = tarStream.pack();
  pack.entry({ name: 'secdb/main.json' }, '{"packages":[]}');
  pack.entry({ name: 'secdb/zeros.json' }, Buffer.alloc(size));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('gzip, tar.gz and tar.zst feed payloads are bounded like zips', () => {
  test('a gzip payload over the ratio limit is E_TOO_LARGE naming it; a real-ratio payload inflates', () => {
    const bomb = gzipSync(Buffer.alloc(64 * MiB));
    assert.ok(bomb.length < MiB, 'the payload itself is small');
    assert.throws(() => gunzip(bomb, 'https://mirror.example/feed.json.gz'), (err) => isPortcullisError(err, 'E_TOO_LARGE') && /feed\.json\.gz expands past \d+ bytes from \d+ compressed/.test(err.message));
    const real = readFileSync(sharedData('feeds', 'osv', 'Go', 'GO-2020-0014.json'));
    assert.deepEqual(gunzip(gzipSync(real), 'real.json.gz'), real);
  });

  test('a tar.gz whose stream expands past the cap is refused before it is held whole', async () => {
    const bomb = gzipSync(await zeroTar(64 * MiB));
    await assert.rejects(untarGzFiles(bomb, 'secdb.tar.gz'), (err) => isPortcullisError(err, 'E_TOO_LARGE') && err.details.archive === 'secdb.tar.gz');
    const small = await untarGzFiles(gzipSync(await zeroTar(1024)), 'small.tar.gz');
    assert.deepEqual(small.map((f) => f.name), ['secdb/main.json', 'secdb/zeros.json']);
  });

  test('a tar.zst bomb likewise; the entry limit holds even when the ratio is allowed', async () => {
    const tar = await zeroTar(64 * MiB);
    await assert.rejects(untarZstFiles(zstdCompress(tar), 'secdb.tar.zst'), (err) => isPortcullisError(err, 'E_TOO_LARGE'));
    const limits = { maxEntryBytes: 4 * MiB, maxRatio: 1e9, ratioFloorBytes: 0 };
    await assert.rejects(untarGzFiles(gzipSync(tar), 'secdb.tar.gz', limits), (err) => isPortcullisError(err, 'E_TOO_LARGE') && err.details.limit === 4 * MiB);
  });
});
