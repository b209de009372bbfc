import assert from 'node:assert/strict';
import { createReadStream, readFileSync } from 'node:fs';
import { PassThrough, Readable, Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { sharedData } from '../../test/support/shared-data.js';
import { compareLines } from './compare-lines.js';
import { getScheme } from './index.js';

/** Collects everything written to it; `highWaterMark` 1 forces compareLines to wait for 'drain'. */
function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      setImmediate(done);
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('compareLines', () => {
  for (const [scheme, file] of [
    ['dpkg', 'dpkg.tsv'],
    ['rpm', 'rpm.tsv'],
    ['apk', 'apk.tsv'],
    ['npm', 'npm-semver.tsv'],
    ['pep440', 'pep440.tsv'],
    ['maven', 'maven.tsv'],
    ['go', 'go-semver.tsv'],
  ] as const) {
    test(`streams versions/${file} end to end and reproduces the tool's answers`, async () => {
      const path = sharedData('versions', file);
      const expected = readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').map((l) => l.split('\t')[2]);
      const out = sink();
      const result = await compareLines(getScheme(scheme), createReadStream(path), out.stream);
      assert.deepEqual(result, { pairs: expected.length, invalid: 0 });
      const got = out.text().split('\n');
      assert.equal(got.pop(), '', 'output ends with a newline');
      assert.deepEqual(got, expected);
    });
  }

  test('answers invalid for invalid versions and malformed lines, one output line per input line', async () => {
    // Chunks split lines anywhere ("1.0\t1.0-" + "0" is one line); CRLF and extra fields are accepted.
    const input = Readable.from(['1.0\t2.0\r\n', 'no tab here\n', '\n', '1:\t1.0\n', '1.0\t1.0-', '0\n2:1\t1:9\textra\tfields\n', '1.0~rc1\t1.0']);
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const result = await compareLines(getScheme('dpkg'), input, out);
    assert.deepEqual(result, { pairs: 7, invalid: 3 });
    assert.equal(Buffer.concat(chunks).toString('utf8'), '-1\ninvalid\ninvalid\ninvalid\n0\n1\n-1\n');
  });

  test('gives nothing for empty input', async () => {
    const out = sink();
    assert.deepEqual(await compareLines(getScheme('go'), Readable.from([]), out.stream), { pairs: 0, invalid: 0 });
    assert.equal(out.text(), '');
  });

  test('rejects when the input stream fails', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('disk gone'));
      },
    });
    await assert.rejects(compareLines(getScheme('go'), failing, sink().stream), /disk gone/);
  });
});
