import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { PortcullisError } from '../domain/errors.js';
import { decompressLayer, defaultZstdBackend, type ZstdBackend } from './decompress.js';
import { decodeAll } from '../test-support/layer-oracles.js';
import { skipWithout } from '../../test/support/tools.js';

const BACKENDS: readonly ZstdBackend[] = ['native', 'fzstd'];

/** Compresses with the real zstd CLI (installed by .ci/run), so the streams are what zstd writes. */
function zstdCli(input: Buffer, ...args: string[]): Buffer {
  const run = spawnSync('zstd', ['-q', '-c', ...args], { input, maxBuffer: 1 << 30 });
  if (run.status !== 0) throw new Error(`zstd ${args.join(' ')} failed: ${run.stderr.toString()}`);
  return run.stdout;
}


const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

// Text that compresses well but not trivially, so frames have real literals and sequences.
function sampleText(lines: number, seed: string): Buffer {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) out.push(`${seed} line ${i} ${createHash('md5').update(`${seed}${i}`).digest('hex')}\n`);
  return Buffer.from(out.join(''));
}

describe('LayerDecoder zstd', { skip: skipWithout('zstd', 'zstd') }, () => {
  test('the native decoder (zstd-napi) loads here, so fzstd is only a fallback', () => {
    assert.equal(defaultZstdBackend, 'native');
  });

  for (const backend of BACKENDS) {
    describe(backend, () => {
      const first = sampleText(20_000, 'first');
      const second = sampleText(5_000, 'second');
      const frames = Buffer.concat([zstdCli(first, '-3'), zstdCli(second, '-19')]);

      test('two concatenated frames decode to both contents, fed in 1-byte and whole chunks', async () => {
        const expected = sha256(Buffer.concat([first, second]));
        const whole = await decodeAll(Readable.from([frames]), backend);
        assert.equal(whole.sha256, expected);
        assert.equal(whole.bytes, first.length + second.length);
        const bytewise = Array.from({ length: 4096 }, (_, i) => frames.subarray(i, i + 1));
        bytewise.push(frames.subarray(4096));
        assert.equal((await decodeAll(Readable.from(bytewise), backend)).sha256, expected);
      });

      test('a frame with a 256 MiB window (zstd --long=28), which plain `zstd -d` refuses, decodes', async () => {
        const data = sampleText(20_000, 'long');
        const long = zstdCli(data, '--long=28');
        // Frame header descriptor: window log = 10 + (byte >> 3) when the frame is not single-segment.
        const fhd = long[4] ?? 0;
        assert.equal(fhd & 0x20, 0, 'not single-segment, so the window descriptor is present');
        assert.equal(10 + ((long[5] ?? 0) >> 3), 28);
        assert.equal((await decodeAll(Readable.from([long]), backend)).sha256, sha256(data));
      });

      test('a stream cut inside a frame is E_LAYER_CORRUPT naming zstd', async () => {
        for (const cut of [frames.length - 1, Math.floor(frames.length / 2), 10]) {
          await assert.rejects(decodeAll(Readable.from([frames.subarray(0, cut)]), backend), (err: unknown) => {
            assert.ok(err instanceof PortcullisError, `cut at ${cut}: ${String(err)}`);
            assert.equal(err.code, 'E_LAYER_CORRUPT');
            assert.match(err.message, /^layer: corrupt or truncated zstd stream/);
            return true;
          });
        }
      });

      test('bytes after the zstd magic that are not a frame are E_LAYER_CORRUPT', async () => {
        const garbage = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(300, 0x41)]);
        await assert.rejects(decodeAll(Readable.from([garbage]), backend), (err: unknown) => {
          assert.ok(err instanceof PortcullisError);
          assert.equal(err.code, 'E_LAYER_CORRUPT');
          return true;
        });
      });
    });
  }

  test('native: a tiny blob of 64 MiB of zeros is decoded only as fast as it is read', async () => {
    const size = 64 * 1024 * 1024;
    const bomb = zstdCli(Buffer.alloc(size), '-19');
    assert.ok(bomb.length < 64 * 1024, `the compressed blob is small (${bomb.length} bytes)`);
    const { tar, decoder } = decompressLayer(Readable.from([bomb]), { zstdBackend: 'native' });
    // Nobody reads yet: the decoder must stop near its highWaterMark instead of inflating it all.
    for (let i = 0; i < 50; i++) await tick();
    assert.ok(decoder.readableLength <= 1024 * 1024, `buffered ${decoder.readableLength} bytes while unread`);
    let bytes = 0;
    let nonZero = 0;
    for await (const chunk of tar) {
      bytes += (chunk as Buffer).length;
      for (const b of chunk as Buffer) if (b !== 0) nonZero++;
    }
    assert.equal(bytes, size);
    assert.equal(nonZero, 0);
  });

  test('asking for the native decoder is honoured (the fallback is never silent when requested)', () => {
    const { decoder } = decompressLayer(Readable.from([]), { zstdBackend: 'native' });
    assert.equal(decoder.zstdBackend, 'native');
    const { decoder: js } = decompressLayer(Readable.from([]), { zstdBackend: 'fzstd' });
    assert.equal(js.zstdBackend, 'fzstd');
  });
});

describe('LayerDecoder passthrough', () => {
  test('an empty blob gives an empty tar; fewer than 4 plain bytes pass through unchanged', async () => {
    assert.equal((await decodeAll(Readable.from([]), defaultZstdBackend)).bytes, 0);
    const { tar } = decompressLayer(Readable.from([Buffer.from('abc')]));
    const chunks: Buffer[] = [];
    for await (const c of tar) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'abc');
  });
});
