import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { link, mkdir, mkdtemp, open, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { buildTar } from '../test-support/tar-builder.js';
import { isPortcullisError } from '../domain/errors.js';
import { normalizeName, TarIndex } from './tar-index.js';
import { tarStreamView } from '../test-support/layer-oracles.js';

const run = promisify(execFile);



/** Rewrites a header's checksum field after a test edited the header (6 octal digits, NUL, space). */
function fixChecksum(tar: Buffer, headerAt: number): void {
  const h = tar.subarray(headerAt, headerAt + 512);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
}

/** Writes a GNU base-256 number into a header's 12-byte size field. */
function writeBase256Size(tar: Buffer, headerAt: number, value: bigint, negative = false): void {
  const field = tar.subarray(headerAt + 124, headerAt + 136);
  let v = value;
  for (let i = 11; i > 0; i--) {
    field[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  field[0] = negative ? 0xff : 0x80;
}

/** A POSIX ustar header block (what a test needs of it), with a valid checksum. */
function header(h: { name: string; size?: number; typeflag?: string; linkname?: string }): Buffer {
  const b = Buffer.alloc(512);
  b.write(h.name, 0, 100, 'utf8');
  b.write('0000644\0', 100, 'latin1');
  b.write(`${(h.size ?? 0).toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  b.write(h.typeflag ?? '0', 156, 'latin1');
  if (h.linkname !== undefined) b.write(h.linkname, 157, 100, 'utf8');
  b.write('ustar\0' + '00', 257, 'latin1');
  fixChecksum(b, 0);
  return b;
}

/** A PAX extended (`x`) or global (`g`) header and its padded records, each given as `key=value`. */
function extended(typeflag: 'x' | 'g', records: string[]): Buffer[] {
  const data = Buffer.from(
    records
      .map((r) => {
        const body = ` ${r}\n`;
        let len = Buffer.byteLength(body) + 1;
        while (String(len).length + Buffer.byteLength(body) !== len) len++;
        return `${len}${body}`;
      })
      .join(''),
  );
  const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  data.copy(padded);
  return [header({ name: typeflag === 'g' ? 'GlobalHead' : 'PaxHeader', size: data.length, typeflag }), padded];
}

async function expectInputError(file: string, message: RegExp): Promise<void> {
  await assert.rejects(TarIndex.build(file), (err: unknown) => {
    assert.ok(isPortcullisError(err, 'E_INPUT'), String(err));
    assert.match(err.message, message);
    return true;
  });
}

describe('TarIndex on synthetic archives', () => {
  let root: string;
  const longDir = 'd'.repeat(60);
  const longFile = `${longDir}/${'f'.repeat(120)}.txt`; // 185 chars; its last component alone is over 100
  const longTarget = `../${'t'.repeat(110)}/target.txt`;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'portcullis-tar-index-'));
    // A tree with a long file name, a symlink with a long target, a hard link to the long-named
    // file and a symlink up a directory, as GNU tar would archive it from disk.
    const tree = join(root, 'tree');
    await mkdir(join(tree, longDir), { recursive: true });
    await mkdir(join(tree, 'links'));
    await writeFile(join(tree, longFile), 'long-named content\n');
    await writeFile(join(tree, 'short.txt'), 'short\n');
    await symlink(longTarget, join(tree, 'links', 'far'));
    await symlink(`../${longFile}`, join(tree, 'links', 'to-long'));
    await link(join(tree, longFile), join(tree, 'links', 'hard'));
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function gnuTar(format: 'gnu' | 'posix' | 'ustar', out: string, extra: string[] = []): Promise<Buffer> {
    await run('tar', [`--format=${format}`, '--sort=name', ...extra, '-cf', out, '-C', join(root, 'tree'), '.']);
    return readFile(out);
  }

  async function checkTree(file: string): Promise<TarIndex> {
    const index = await TarIndex.build(file);
    assert.deepEqual(index.entries(), await tarStreamView(file));
    const byName = new Map(index.entries().map((e) => [e.name, e]));
    assert.equal(byName.get(longFile)?.type, 'file');
    assert.equal(byName.get(longFile)?.size, 'long-named content\n'.length);
    assert.deepEqual(byName.get('links/far'), { name: 'links/far', type: 'symlink', offset: 0, size: 0, linkname: longTarget });
    assert.equal(byName.get('links/to-long')?.linkname, `../${longFile}`);
    // GNU tar stores the second name of a hard-linked file as a hard link (no data) to the first.
    const hard = byName.get('links/hard');
    assert.equal(hard?.type, 'link');
    assert.equal(normalizeName(hard.linkname), longFile);
    for (const via of [longFile, 'links/hard', 'links/to-long']) {
      assert.equal((await index.readAll(via, 100)).toString(), 'long-named content\n', via);
    }
    assert.equal((await index.readAll('short.txt', 100)).toString(), 'short\n');
    assert.equal(index.member('links/far'), undefined, 'a link out of the archive resolves to nothing');
    return index;
  }

  test('GNU format: long names (L) and long link targets (K)', async () => {
    const tar = await gnuTar('gnu', join(root, 'gnu.tar'));
    assert.ok(tar.includes('././@LongLink'), 'GNU tar wrote long-name headers');
    await checkTree(join(root, 'gnu.tar'));
  });

  test('PAX format (GNU tar): per-member x headers with path/linkpath and a global g header', async () => {
    const tar = await gnuTar('posix', join(root, 'pax.tar'), ['--pax-option=comment=made for a test']);
    assert.ok(tar.includes('/PaxHeaders/'), 'GNU tar wrote per-member PAX headers');
    assert.ok(tar.includes('GlobalHead'), 'GNU tar wrote a global PAX header');
    assert.ok(tar.includes('comment=made for a test'));
    const index = await checkTree(join(root, 'pax.tar'));
    assert.ok(!index.names().some((n) => /PaxHeaders|GlobalHead/.test(n)), 'extended headers are not members');
  });

  test('ustar prefix (tar-stream splits a long path into prefix and name) and PAX from tar-stream', async () => {
    const prefixed = `${'p'.repeat(120)}/${'n'.repeat(90)}`;
    const paxOnly = 'x'.repeat(150); // no slash: only a PAX path record can hold it
    const tar = await buildTar([
      { name: prefixed, content: 'in prefix form' },
      { name: paxOnly, content: 'in pax form' },
      { name: 'lnk', type: 'symlink', linkname: 'l'.repeat(130) },
      { name: 'hard', type: 'link', linkname: prefixed },
    ]);
    assert.equal(tar.toString('latin1', 345, 345 + 120), 'p'.repeat(120), 'the first header uses the ustar prefix');
    const file = join(root, 'tar-stream.tar');
    await writeFile(file, tar);
    const index = await TarIndex.build(file);
    assert.deepEqual(index.entries(), await tarStreamView(file));
    assert.deepEqual(index.names(), [prefixed, paxOnly, 'lnk', 'hard']);
    assert.equal((await index.readAll(paxOnly, 100)).toString(), 'in pax form');
    assert.equal((await index.readAll('hard', 100)).toString(), 'in prefix form');
    assert.equal(index.entries()[2]?.linkname, 'l'.repeat(130));
  });

  test('a PAX size record overrides the header size', async () => {
    // GNU tar writes size= only for members over 8 GiB; here a small value replaces a wrong header size.
    const file = join(root, 'pax-size.tar');
    await writeFile(
      file,
      Buffer.concat([
        ...extended('x', ['size=1000']),
        header({ name: 'big', size: 7 }), // the header claims 7 bytes
        Buffer.alloc(1024, 0x61),
        header({ name: 'after', size: 1 }),
        Buffer.from('z'.padEnd(512, '\0')),
      ]),
    );
    const index = await TarIndex.build(file);
    assert.deepEqual(index.entries(), await tarStreamView(file));
    assert.deepEqual(index.member('big'), { name: 'big', offset: 1536, size: 1000 });
    assert.equal((await index.readAll('after', 10)).toString(), 'z');
  });

  test('global PAX records apply to every later member; a per-member empty value falls back to the header', async () => {
    const file = join(root, 'pax-global.tar');
    await writeFile(
      file,
      Buffer.concat([
        ...extended('g', ['linkpath=shared/target', 'comment=not a keyword we use']),
        header({ name: 'one', typeflag: '2' }),
        header({ name: 'two', typeflag: '2', linkname: 'ignored' }),
        ...extended('x', ['linkpath=']),
        header({ name: 'three', typeflag: '2', linkname: 'own' }),
        ...extended('x', ['path=renamed', 'linkpath=per-member']),
        header({ name: 'four', typeflag: '2' }),
      ]),
    );
    const links = (await TarIndex.build(file)).entries().map((e) => [e.name, e.linkname]);
    assert.deepEqual(links, [
      ['one', 'shared/target'],
      ['two', 'shared/target'],
      ['three', 'own'],
      ['renamed', 'per-member'],
    ]);
  });

  test('a directory has no data blocks even when its size field is not 0', async () => {
    const tar = await buildTar([
      { name: 'dir', type: 'directory' },
      { name: 'dir/f', content: 'inside' },
    ]);
    const edited = Buffer.from(tar);
    edited.write(`${(2048).toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    fixChecksum(edited, 0);
    const file = join(root, 'dir-size.tar');
    await writeFile(file, edited);
    // No tar-stream oracle here: it waits forever for the data of such a directory.
    const index = await TarIndex.build(file);
    assert.deepEqual(index.names(), ['dir/f']);
    assert.deepEqual(index.member('dir/f'), { name: 'dir/f', offset: 1024, size: 6 });
  });

  test('an old-GNU sparse member with extension blocks is skipped, and the member after it is found', async () => {
    // 8 data runs need more than the 4 sparse entries of the header: GNU tar adds an extension block.
    const dir = join(root, 'sparse');
    await mkdir(dir);
    const fh = await open(join(dir, 'sparse.bin'), 'w');
    // Whole 4 KiB runs of non-zero bytes, so a scan that misplaces the data lands on data, not zeros.
    for (let i = 0; i < 8; i++) await fh.write(Buffer.alloc(4096, 0x61 + i), 0, undefined, i * 1024 * 1024);
    await fh.truncate(9 * 1024 * 1024);
    await fh.close();
    await writeFile(join(dir, 'z.txt'), 'after the sparse file\n');
    const file = join(root, 'sparse.tar');
    await run('tar', ['--format=gnu', '--sparse', '-cf', file, '-C', dir, 'sparse.bin', 'z.txt']);
    const tar = await readFile(file);
    assert.equal(String.fromCharCode(tar[156]!), 'S');
    assert.notEqual(tar[482], 0, 'the header says extension blocks follow');
    const index = await TarIndex.build(file);
    assert.deepEqual(index.names(), ['z.txt']);
    assert.equal((await index.readAll('z.txt', 100)).toString(), 'after the sparse file\n');
  });

  describe('base-256 sizes', () => {
    let tar: Buffer;
    before(async () => {
      tar = await buildTar([
        { name: 'a.txt', content: 'hello' },
        { name: 'b.txt', content: 'world!' },
      ]);
    });

    test('a base-256 size is parsed like the octal one', async () => {
      const edited = Buffer.from(tar);
      writeBase256Size(edited, 0, 5n);
      fixChecksum(edited, 0);
      assert.equal(edited[124], 0x80);
      const file = join(root, 'b256.tar');
      await writeFile(file, edited);
      const index = await TarIndex.build(file);
      assert.deepEqual(index.entries(), await tarStreamView(file));
      assert.deepEqual(index.member('a.txt'), { name: 'a.txt', offset: 512, size: 5 });
      assert.deepEqual(index.member('b.txt'), { name: 'b.txt', offset: 1536, size: 6 });
    });

    test('a huge base-256 size (1 TiB) on a tiny archive is a truncation error naming the size', async () => {
      const edited = Buffer.from(tar);
      writeBase256Size(edited, 0, 1n << 40n);
      fixChecksum(edited, 0);
      const file = join(root, 'b256-huge.tar');
      await writeFile(file, edited);
      await expectInputError(file, new RegExp(`truncated: a.txt needs ${2 ** 40} bytes`));
    });

    test('negative and beyond-2^53 base-256 sizes are malformed', async () => {
      for (const [label, value, negative] of [
        ['negative', 5n, true],
        ['2^60', 1n << 60n, false],
      ] as const) {
        const edited = Buffer.from(tar);
        writeBase256Size(edited, 0, value, negative);
        fixChecksum(edited, 0);
        const file = join(root, `b256-${label}.tar`);
        await writeFile(file, edited);
        await expectInputError(file, /malformed size field in the header of a.txt/);
      }
    });
  });

  describe('corrupt and truncated archives are E_INPUT', () => {
    let tar: Buffer;
    before(async () => {
      tar = await buildTar([
        { name: 'first.txt', content: Buffer.alloc(700, 0x31) },
        { name: 'second.txt', content: 'two' },
      ]);
      // first.txt: header at 0, data 512..1212 padded to 1536; second.txt: header at 1536.
      assert.equal(tar.toString('latin1', 1536, 1546), 'second.txt');
    });

    const write = async (name: string, bytes: Buffer): Promise<string> => {
      const file = join(root, name);
      await writeFile(file, bytes);
      return file;
    };

    test('a changed byte in a header fails its checksum', async () => {
      const nameByte = Buffer.from(tar);
      nameByte[1536] = 'S'.charCodeAt(0);
      await expectInputError(await write('bad-name.tar', nameByte), /header checksum mismatch at byte 1536/);
      const sumByte = Buffer.from(tar);
      sumByte[148] = sumByte[148] === 0x30 ? 0x31 : 0x30;
      await expectInputError(await write('bad-sum.tar', sumByte), /header checksum mismatch at byte 0/);
      const garbage = Buffer.from(tar);
      garbage.fill(0x41, 148, 156);
      await expectInputError(await write('garbage-sum.tar', garbage), /checksum mismatch at byte 0 \(stored unreadable/);
    });

    test('a changed byte in member data is not a header error', async () => {
      const data = Buffer.from(tar);
      data[600] = 0x32;
      const file = await write('bad-data.tar', data);
      assert.deepEqual((await TarIndex.build(file)).entries(), await tarStreamView(file));
    });

    test('a valid checksum without ustar magic is an unknown format', async () => {
      const v7 = Buffer.from(tar);
      v7.fill(0, 257, 265);
      fixChecksum(v7, 0);
      await expectInputError(await write('no-magic.tar', v7), /unknown tar header format at byte 0/);
    });

    test('truncated inside member data, inside a header, and inside the padding', async () => {
      await expectInputError(await write('cut-data.tar', tar.subarray(0, 1000)), /truncated: first.txt needs 700 bytes from byte 512, the file ends at byte 1000/);
      await expectInputError(await write('cut-header.tar', tar.subarray(0, 1536 + 300)), /truncated: 300 bytes left at byte 1536/);
      await expectInputError(await write('cut-padding.tar', tar.subarray(0, 1300)), /truncated: first.txt/);
    });

    test('an extended header with no member after it is an error', async () => {
      const tar2 = await buildTar([{ name: 'y'.repeat(150), content: 'x' }]);
      // PaxHeader (512) + its data (512), then the member header: cut before it.
      await expectInputError(await write('dangling.tar', tar2.subarray(0, 1024)), /not followed by a member/);
    });

    test('end of archive: two zero blocks stop the scan; no end marker at all is accepted like tar-stream', async () => {
      const noMarker = tar.subarray(0, 1536 + 1024); // second.txt's header and data block, no zero blocks
      const file = await write('no-marker.tar', noMarker);
      const index = await TarIndex.build(file);
      assert.deepEqual(index.entries(), await tarStreamView(file));
      assert.deepEqual(index.names(), ['first.txt', 'second.txt']);
      const junk = await write('junk-after-end.tar', Buffer.concat([noMarker, Buffer.alloc(1024), Buffer.alloc(700, 0x41)]));
      assert.deepEqual((await TarIndex.build(junk)).names(), ['first.txt', 'second.txt']);
      const empty = await write('empty.tar', Buffer.alloc(0));
      assert.deepEqual((await TarIndex.build(empty)).names(), []);
    });
  });
});
