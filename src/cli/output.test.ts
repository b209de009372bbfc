import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPortcullisError } from '../domain/errors.js';
import { writeOutput, writeOutputStream } from './output.js';

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

describe('an output that is a device, FIFO or socket is written in place, never replaced', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-output-fifo-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Writes through `write` into a named pipe a `cat` reads; what `cat` got (it is killed after 10 s if no writer comes). */
  async function throughFifo(name: string, write: (fifo: string) => Promise<void>): Promise<{ read: string; stillFifo: boolean }> {
    const fifo = join(dir, name);
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
    let read = '';
    reader.stdout.setEncoding('utf8').on('data', (d: string) => (read += d));
    const ended = new Promise<void>((resolve) => reader.on('close', () => resolve()));
    const guard = setTimeout(() => reader.kill(), 10_000);
    // With the temp-and-rename path the pipe is replaced and cat waits for a writer that never comes.
    await Promise.race([write(fifo), ended]);
    await ended;
    clearTimeout(guard);
    return { read, stillFifo: lstatSync(fifo).isFIFO() };
  }

  test('writeOutput', async () => {
    const { read, stillFifo } = await throughFifo('report.pipe', (fifo) => writeOutput(fifo, '{"ok":true}\n'));
    assert.equal(read, '{"ok":true}\n');
    assert.ok(stillFifo, 'the named pipe is still a named pipe (as /dev/null must stay a device)');
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp file');
  });

  test('writeOutputStream', async () => {
    const { read, stillFifo } = await throughFifo('stream.pipe', (fifo) =>
      writeOutputStream(fifo, async (sink) => {
        for (let i = 0; i < 3; i++) await sink.write(`${i}\n`);
      }),
    );
    assert.equal(read, '0\n1\n2\n');
    assert.ok(stillFifo);
  });
});
