import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isPortcullisError } from '../../domain/errors.js';
import { buildElf } from './elf-builder.js';
import { findSection, isElf, parseElf, readAtAddress, sectionData } from './elf.js';

describe('ELF reader', () => {
  for (const options of [{ class: 64 as const, littleEndian: true }, { class: 32 as const, littleEndian: false }]) {
    test(`sections, segments and addresses (${options.class}-bit, ${options.littleEndian ? 'LE' : 'BE'})`, () => {
      const elf = parseElf(
        buildElf(
          [
            { name: '.text', data: Buffer.from('code!'), addr: 0x400000, segmentFlags: 5 },
            { name: '.note.x', data: Buffer.from('unmapped') },
            { name: '.data', data: Buffer.from('hello world'), addr: 0x600000, segmentFlags: 6 },
          ],
          options,
        ),
      );
      assert.equal(elf.class, options.class);
      assert.equal(elf.littleEndian, options.littleEndian);
      assert.deepEqual(
        elf.sections.map((s) => s.name),
        ['', '.text', '.note.x', '.data', '.shstrtab'],
      );
      assert.equal(elf.segments.length, 2);
      const note = findSection(elf, '.note.x');
      assert.ok(note);
      assert.equal(sectionData(elf, note)?.toString(), 'unmapped');
      assert.equal(readAtAddress(elf, 0x600006, 5)?.toString(), 'world');
      assert.equal(readAtAddress(elf, 0x600006, 50), undefined);
      assert.equal(readAtAddress(elf, 0x500000, 1), undefined);
    });
  }

  test('headers pointing outside the file are typed errors', () => {
    const good = buildElf([{ name: '.data', data: Buffer.alloc(32), addr: 0x1000 }]);
    const bad = (mutate: (b: Buffer) => void): void => {
      const b = Buffer.from(good);
      mutate(b);
      assert.throws(
        () => parseElf(b),
        (err) => isPortcullisError(err, 'E_INPUT') && err.message.startsWith('elf: '),
      );
    };
    bad((b) => b.writeBigUInt64LE(1n << 40n, 40)); // e_shoff far away
    bad((b) => b.writeBigUInt64LE(BigInt(b.length - 8), 32)); // e_phoff at the very end
    bad((b) => b.writeUInt16LE(8, 58)); // section entry size too small
    bad((b) => (b[4] = 9)); // unknown class
    assert.throws(() => parseElf(good.subarray(0, 40)), (err) => isPortcullisError(err, 'E_INPUT'));
    assert.throws(() => parseElf(Buffer.from('MZ not elf')), (err) => isPortcullisError(err, 'E_INPUT'));
    // A section whose data lies past the end is reported as absent, not read.
    const b = Buffer.from(good);
    const elf = parseElf(b);
    const data = findSection(elf, '.data');
    assert.ok(data);
    assert.equal(sectionData(elf, { ...data, offset: b.length - 4 }), undefined);
    assert.ok(isElf(good));
    assert.ok(!isElf(Buffer.from([0x7f, 0x45])));
  });
});
