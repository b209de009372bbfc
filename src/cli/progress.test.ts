import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { createProgress, dedupeWarnings, humanBytes, humanDuration, humanRate, progressMode } from './progress.js';

describe('progress reporting', () => {
  test('mode: -q is silent; a TTY gets the live display; PORTCULLIS_PROGRESS=1 forces it, 0 turns it off', () => {
    assert.equal(progressMode(true, { isTTY: true }, { PORTCULLIS_PROGRESS: '1' }), 'silent');
    assert.equal(progressMode(false, { isTTY: true }, {}), 'live');
    assert.equal(progressMode(false, { isTTY: false }, {}), 'summary');
    assert.equal(progressMode(false, {}, { PORTCULLIS_PROGRESS: '1' }), 'live');
    assert.equal(progressMode(false, { isTTY: true }, { PORTCULLIS_PROGRESS: '0' }), 'summary');
  });

  test('human units: binary sizes, rates and durations', () => {
    assert.equal(humanBytes(3145728), '3 MiB');
    assert.equal(humanBytes(121475584), '116 MiB');
    assert.equal(humanBytes(512), '512 B');
    assert.equal(humanRate(10 * 1024 * 1024, 2000), '5 MiB/s');
    assert.equal(humanRate(1, 0), '-');
    assert.equal(humanDuration(950), '950 ms');
    assert.equal(humanDuration(4200), '4.2 s');
    assert.equal(humanDuration(117_000), '1m 57s');
  });

  test('warnings: one per code and message, first-seen order, with a count', () => {
    const devel = { code: 'invalid-version', message: 'matcher: go cannot read version "(devel)" of example.com/tool', path: 'usr/bin/a' };
    const other = { code: 'file-too-large', message: 'go-binary: skipped a file' };
    const out = dedupeWarnings([devel, other, { ...devel, path: 'usr/bin/b' }, { ...devel, path: 'usr/bin/c' }]);
    assert.deepEqual(
      out.map((o) => [o.warning.code, o.count]),
      [
        ['invalid-version', 3],
        ['file-too-large', 1],
      ],
    );
  });

  test('the live display forced onto a stream that is not a TTY draws its final state in human units', async () => {
    const stream = new PassThrough();
    let text = '';
    stream.setEncoding('utf8').on('data', (d: string) => (text += d));
    const progress = createProgress('live', stream);
    progress.onWalk({ files: 1234, bytes: 5 * 1024 * 1024 });
    progress.onProgress({ layer: { index: 0, digest: `sha256:${'ab'.repeat(32)}`, size: 2048, mediaType: 'x' }, bytes: 1024, total: 2048 });
    progress.stop();
    progress.stop();
    assert.match(text, / walking: 1,234 files, 5 MiB \| /);
    assert.match(text, / abababababab \[#{12}-{12}\] 50% \| 1 KiB \/ 2 KiB \| /);
    assert.deepEqual(progress.walked, { files: 1234, bytes: 5 * 1024 * 1024 });
  });
});
