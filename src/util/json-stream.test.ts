import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { sharedData } from '../../test/support/shared-data.js';
import { parseDpkgStatus } from '../package-db/dpkg/dpkg-status.js';
import { StreamedArray, WritableSink, writeJson, type TextSink } from './json-stream.js';

/** A sink that keeps what it is given, and how many pieces, to compare with JSON.stringify. */
function collecting(): TextSink & { text: () => string; pieces: () => number } {
  const parts: string[] = [];
  return {
    write: (t) => {
      parts.push(t);
      return undefined;
    },
    text: () => parts.join(''),
    pieces: () => parts.length,
  };
}

async function streamed(value: unknown, depth?: number): Promise<string> {
  const sink = collecting();
  await writeJson(value, sink, depth);
  return sink.text();
}

describe('writeJson writes what JSON.stringify(value, null, 2) writes', () => {
  const packages = parseDpkgStatus(readFileSync(sharedData('pkgdb', 'dpkg', 'debian12-machine.status')), 'var/lib/dpkg/status').packages;
  const document = {
    schema: 'x',
    empty: {},
    none: [],
    skipped: undefined,
    fn: () => 1,
    when: new Date('2026-12-07T00:00:00Z'),
    nested: { deep: { deeper: [1, 'two', null, { three: 3 }] }, list: [undefined, () => 2] },
    packages,
    multiline: 'a\nb "quoted" \u2028',
  };

  for (const depth of [0, 1, 2, 3, 8]) {
    test(`a real package list and JSON's corner cases, streamed to depth ${depth}`, async () => {
      assert.equal(await streamed(document, depth), JSON.stringify(document, null, 2));
    });
  }

  test('top-level arrays, scalars and a list of documents', async () => {
    for (const value of [[], {}, 'x', 3, null, [document, document], [[[]]]]) assert.equal(await streamed(value, 3), JSON.stringify(value, null, 2));
  });

  test('a StreamedArray is written element by element as it is made, like the array it stands for', async () => {
    let made = 0;
    const lazy = new StreamedArray(function* () {
      for (const p of packages) {
        made += 1;
        yield p;
      }
    });
    const sink = collecting();
    await writeJson({ head: 1, items: lazy, tail: [2] }, sink, 2);
    assert.equal(made, packages.length);
    assert.equal(sink.text(), JSON.stringify({ head: 1, items: packages, tail: [2] }, null, 2));
    assert.ok(sink.pieces() > packages.length, 'written piece by piece, not as one string');
  });

  test('a value with no JSON form is refused', async () => {
    await assert.rejects(streamed(undefined), TypeError);
  });

  test('WritableSink waits for drain and loses nothing', async () => {
    const stream = new PassThrough({ highWaterMark: 1024 });
    const received: Buffer[] = [];
    const sink = new WritableSink(stream);
    const reading = (async () => {
      for await (const chunk of stream) received.push(chunk as Buffer);
    })();
    await writeJson({ packages }, sink, 2);
    await sink.flush();
    stream.end();
    await reading;
    assert.equal(Buffer.concat(received).toString('utf8'), JSON.stringify({ packages }, null, 2));
  });
});
