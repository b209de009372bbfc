import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isPortcullisError } from '../../domain/errors.js';
import { RPMTAG, RPM_TYPE, headerInt32, headerString, parseRpmHeader } from './header.js';
import { rpmHeaderToRecord, splitSourceRpm } from './rpm-package.js';
import { buildHeaderBlob, type TestTagValue } from './test-support/rpm-test-helpers.js';

const nevra = (name: string, extra: TestTagValue[] = []): TestTagValue[] => [
  { tag: RPMTAG.NAME, string: name },
  { tag: RPMTAG.VERSION, string: '1.2.3' },
  { tag: RPMTAG.RELEASE, string: '4.el9' },
  { tag: RPMTAG.ARCH, string: 'x86_64' },
  ...extra,
];

const isInputError = (err: unknown): boolean => isPortcullisError(err, 'E_INPUT') && err.message.startsWith('rpm: ');

describe('rpm header records', () => {
  test('a package without epoch or source rpm', () => {
    assert.deepEqual(rpmHeaderToRecord(buildHeaderBlob(nevra('foo')), 'var/lib/rpm/rpmdb.sqlite'), {
      ecosystem: 'rpm',
      name: 'foo',
      version: '1.2.3-4.el9',
      arch: 'x86_64',
      path: 'var/lib/rpm/rpmdb.sqlite',
    });
  });

  test('epoch, source rpm, licence and module stream', () => {
    const blob = buildHeaderBlob(
      nevra('nodejs-libs', [
        { tag: RPMTAG.EPOCH, int32: 1 },
        { tag: RPMTAG.SOURCERPM, string: 'nodejs-18.20.2-1.module+el9.4.0+21731+46b5c9b3.src.rpm' },
        { tag: RPMTAG.LICENSE, string: 'MIT and ASL 2.0' },
        { tag: RPMTAG.MODULARITYLABEL, string: 'nodejs:18:9040020240430135402:rhel9' },
      ]),
    );
    assert.deepEqual(rpmHeaderToRecord(blob, 'p'), {
      ecosystem: 'rpm',
      name: 'nodejs-libs',
      version: '1:1.2.3-4.el9',
      epoch: 1,
      arch: 'x86_64',
      sourceName: 'nodejs',
      sourceVersion: '1:18.20.2-1.module+el9.4.0+21731+46b5c9b3',
      attributes: { sourceRpm: 'nodejs-18.20.2-1.module+el9.4.0+21731+46b5c9b3.src.rpm' },
      license: 'MIT and ASL 2.0',
      modularityLabel: 'nodejs:18:9040020240430135402:rhel9',
      path: 'p',
    });
  });

  test('an explicit epoch 0 is written, as rpm prints it in %{EVR}', () => {
    const record = rpmHeaderToRecord(buildHeaderBlob(nevra('foo', [{ tag: RPMTAG.EPOCH, int32: 0 }])), 'p');
    assert.equal(record?.version, '0:1.2.3-4.el9');
    assert.equal(record?.epoch, 0);
  });

  test('gpg-pubkey pseudo packages are left out', () => {
    const blob = buildHeaderBlob([
      { tag: RPMTAG.NAME, string: 'gpg-pubkey' },
      { tag: RPMTAG.VERSION, string: 'fd431d51' },
      { tag: RPMTAG.RELEASE, string: '4ae0493b' },
    ]);
    assert.equal(rpmHeaderToRecord(blob, 'p'), undefined);
  });

  test('a tag added after the immutable region overrides the region copy (rpm keeps the later one)', () => {
    const blob = buildHeaderBlob(nevra('foo', [{ tag: RPMTAG.LICENSE, string: 'GPL' }, { tag: RPMTAG.LICENSE, string: 'GPLv2+' }]));
    assert.equal(rpmHeaderToRecord(blob, 'p')?.license, 'GPLv2+');
  });

  test('an I18N string gives its first (C locale) translation', () => {
    const raw = Buffer.from('Hello\u0000Bonjour\u0000');
    const blob = buildHeaderBlob([{ tag: RPMTAG.SUMMARY, type: RPM_TYPE.I18NSTRING, raw }]);
    assert.equal(headerString(parseRpmHeader(blob), RPMTAG.SUMMARY), 'Hello');
  });

  test('a header without name, version or release is a typed error', () => {
    for (const missing of [RPMTAG.NAME, RPMTAG.VERSION, RPMTAG.RELEASE]) {
      const blob = buildHeaderBlob(nevra('foo').filter((v) => v.tag !== missing));
      assert.throws(() => rpmHeaderToRecord(blob, 'p'), isInputError);
    }
  });
});

describe('rpm header bounds checks', () => {
  const good = buildHeaderBlob(nevra('foo', [{ tag: RPMTAG.EPOCH, int32: 2 }]));

  test('too short, absurd counts, or a blob shorter than it claims', () => {
    assert.throws(() => parseRpmHeader(Buffer.alloc(4)), isInputError);
    const noTags = Buffer.alloc(8);
    assert.throws(() => parseRpmHeader(noTags), isInputError);
    const manyTags = Buffer.from(good);
    manyTags.writeUInt32BE(0xffffffff, 0);
    assert.throws(() => parseRpmHeader(manyTags), isInputError);
    const bigData = Buffer.from(good);
    bigData.writeUInt32BE(0x7fffffff, 4);
    assert.throws(() => parseRpmHeader(bigData), isInputError);
    assert.throws(() => parseRpmHeader(good.subarray(0, good.length - 1)), isInputError);
  });

  test('an entry pointing outside the data, or of an unknown type', () => {
    const outside = Buffer.from(good);
    outside.writeUInt32BE(0x00ffffff, 8 + 8); // first entry's offset
    assert.throws(() => parseRpmHeader(outside), isInputError);
    const negative = Buffer.from(good);
    negative.writeInt32BE(-4, 8 + 8);
    assert.throws(() => parseRpmHeader(negative), isInputError);
    const badType = Buffer.from(good);
    badType.writeUInt32BE(42, 8 + 4);
    assert.throws(() => parseRpmHeader(badType), isInputError);
  });

  test('a string without its terminating NUL inside the data', () => {
    const blob = buildHeaderBlob([{ tag: RPMTAG.NAME, type: RPM_TYPE.STRING, raw: Buffer.from('unterminated') }]);
    assert.throws(() => headerString(parseRpmHeader(blob), RPMTAG.NAME), isInputError);
  });

  test('an INT32 running past the data, or a tag of the wrong type', () => {
    const blob = buildHeaderBlob([{ tag: RPMTAG.EPOCH, type: RPM_TYPE.INT32, raw: Buffer.from([0, 1]) }]);
    assert.throws(() => headerInt32(parseRpmHeader(blob), RPMTAG.EPOCH), isInputError);
    const stringEpoch = buildHeaderBlob([{ tag: RPMTAG.EPOCH, string: '1' }]);
    assert.throws(() => headerInt32(parseRpmHeader(stringEpoch), RPMTAG.EPOCH), isInputError);
    const intName = buildHeaderBlob([{ tag: RPMTAG.NAME, int32: 7 }]);
    assert.throws(() => headerString(parseRpmHeader(intName), RPMTAG.NAME), isInputError);
  });

  test('an absent tag is undefined, not an error', () => {
    const h = parseRpmHeader(good);
    assert.equal(headerString(h, RPMTAG.SOURCERPM), undefined);
    assert.equal(headerInt32(h, RPMTAG.EPOCH), 2);
  });
});

describe('splitSourceRpm', () => {
  test('name and version-release of source rpm file names', () => {
    assert.deepEqual(splitSourceRpm('openssl-3.0.7-27.el9.src.rpm'), { name: 'openssl', versionRelease: '3.0.7-27.el9' });
    assert.deepEqual(splitSourceRpm('python-setuptools-53.0.0-12.el9.src.rpm'), { name: 'python-setuptools', versionRelease: '53.0.0-12.el9' });
    assert.deepEqual(splitSourceRpm('foo-1-2.nosrc.rpm'), { name: 'foo', versionRelease: '1-2' });
    assert.equal(splitSourceRpm('foo.src.rpm'), undefined);
    assert.equal(splitSourceRpm('foo-1.2-3.x86_64.rpm'), undefined);
    assert.equal(splitSourceRpm('(none)'), undefined);
  });
});
