import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, test } from 'node:test';
import { isPortcullisError } from '../domain/errors.js';
import { createDigestVerifier, digestOf, parseDigest, verifyBytes } from './digest.js';

const DATA = Buffer.from('portcullis digest test data\n'.repeat(100));
const SHA256 = `sha256:${createHash('sha256').update(DATA).digest('hex')}`;
const SHA512 = `sha512:${createHash('sha512').update(DATA).digest('hex')}`;

async function run(chunks: Buffer[], expected: string, expectedSize?: number): Promise<{ out: Buffer; progress: number[] }> {
  const out: Buffer[] = [];
  const progress: number[] = [];
  const verifier = createDigestVerifier(expected, { expectedSize, what: 'test blob', onBytes: (n) => progress.push(n) });
  verifier.on('data', (c: Buffer) => out.push(c));
  await pipeline(Readable.from(chunks), verifier);
  return { out: Buffer.concat(out), progress };
}

function chunks(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

describe('digest verifier', () => {
  test('passes the bytes through unchanged and reports running byte counts', async () => {
    const { out, progress } = await run(chunks(DATA, 1000), SHA256, DATA.length);
    assert.deepEqual(out, DATA);
    assert.deepEqual(progress, [1000, 2000, DATA.length]);
  });

  test('verifies sha512 digests', async () => {
    const { out } = await run([DATA], SHA512, DATA.length);
    assert.equal(out.length, DATA.length);
  });

  test('a flipped byte fails at the end with E_DIGEST_MISMATCH', async () => {
    const bad = Buffer.from(DATA);
    bad[10] = bad[10]! ^ 0xff;
    await assert.rejects(run([bad], SHA256, DATA.length), (err: unknown) => {
      assert.ok(isPortcullisError(err, 'E_DIGEST_MISMATCH'));
      assert.equal(err.details['expected'], SHA256);
      assert.equal(err.details['actual'], digestOf(bad));
      return true;
    });
  });

  test('a blob longer than its declared size fails as soon as the excess arrives', async () => {
    const seen: number[] = [];
    const verifier = createDigestVerifier(SHA256, { expectedSize: 1500, onBytes: (n) => seen.push(n) });
    verifier.resume();
    await assert.rejects(pipeline(Readable.from(chunks(DATA, 1000)), verifier), (err: unknown) => isPortcullisError(err, 'E_DIGEST_MISMATCH'));
    // The second chunk crosses the limit: only the first was passed on.
    assert.deepEqual(seen, [1000]);
  });

  test('a blob shorter than its declared size fails even if the digest were right', async () => {
    await assert.rejects(run([DATA], SHA256, DATA.length + 1), (err: unknown) => {
      assert.ok(isPortcullisError(err, 'E_DIGEST_MISMATCH'));
      assert.equal(err.details['actualSize'], DATA.length);
      return true;
    });
  });

  test('an empty stream must hash to the expected digest', async () => {
    const empty = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    const { out } = await run([], empty, 0);
    assert.equal(out.length, 0);
    await assert.rejects(run([], SHA256), (err: unknown) => isPortcullisError(err, 'E_DIGEST_MISMATCH'));
  });

  test('unknown size (-1) is not enforced', async () => {
    const { out } = await run([DATA], SHA256, -1);
    assert.equal(out.length, DATA.length);
  });
});

describe('parseDigest / verifyBytes', () => {
  test('accepts sha256 and sha512', () => {
    assert.deepEqual(parseDigest(SHA256), { algorithm: 'sha256', hex: SHA256.slice(7) });
    assert.equal(parseDigest(SHA512).algorithm, 'sha512');
  });

  test('refuses malformed digests with E_MANIFEST and other algorithms with E_UNSUPPORTED', () => {
    for (const bad of ['', 'sha256', 'sha256:abc', `sha256:${'A'.repeat(64)}`, `sha256:${'a'.repeat(63)}`, SHA256.replace('sha256', 'sha256:')]) {
      assert.throws(() => parseDigest(bad), (err: unknown) => isPortcullisError(err, 'E_MANIFEST'), bad);
    }
    assert.throws(() => parseDigest(`md5:${'a'.repeat(32)}`), (err: unknown) => isPortcullisError(err, 'E_UNSUPPORTED'));
  });

  test('verifyBytes checks size and digest', () => {
    verifyBytes(DATA, SHA256, 'x', DATA.length);
    assert.throws(() => verifyBytes(DATA, SHA256, 'x', DATA.length - 1), (err: unknown) => isPortcullisError(err, 'E_DIGEST_MISMATCH'));
    assert.throws(() => verifyBytes(DATA.subarray(1), SHA256, 'x'), (err: unknown) => isPortcullisError(err, 'E_DIGEST_MISMATCH'));
  });
});
