import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPortcullisError } from '../domain/errors.js';
import { writeOutputStream } from './output.js';

describe('writeOutputStream', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-output-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('writes everything produced, in order, across many flushes', async () => {
    const target = join(dir, 'out.json');
    const line = `${'x'.repeat(1000)}\n`;
    await writeOutputStream(target, async (sink) => {
      for (let i = 0; i < 500; i++) await sink.write(`${i}:${line}`);
    });
    const text = readFileSync(target, 'utf8');
    assert.equal(text, Array.from({ length: 500 }, (_, i) => `${i}:${line}`).join(''));
    assert.deepEqual(readdirSync(dir), ['out.json'], 'no temp file left');
  });

  test('a failure half-way leaves neither the file nor a temp file, and keeps its typed error', async () => {
    const target = join(dir, 'broken.json');
    await assert.rejects(
      writeOutputStream(target, async (sink) => {
        await sink.write('x'.repeat(200_000));
        throw new TypeError('producer failed');
      }),
      (err) => isPortcullisError(err, 'E_INPUT') && /producer failed/.test(err.message),
    );
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('broken')), []);
  });

  test('an unwritable target is E_INPUT', async () => {
    await assert.rejects(
      writeOutputStream(join(dir, 'missing-dir', 'x.json'), async (sink) => {
        await sink.write('{}');
      }),
      (err) => isPortcullisError(err, 'E_INPUT'),
    );
  });
});
