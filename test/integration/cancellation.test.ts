/**
 * Cancelling a scan of a real image: the caller's AbortSignal reaches the layer walk, so the scan
 * stops within one tar entry (not at the end of the layer), no further layer starts, the error is
 * E_CANCELLED (not E_INTERNAL), and the gunzipped copy of a docker-archive.tar.gz is removed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Detector, FileInfo } from '../../src/detectors/types.js';
import { isPortcullisError } from '../../src/domain/errors.js';
import { silentEngineContext } from '../../src/engine/context.js';
import { inventoryReference } from '../../src/services/inventory-service.js';
import { testImages } from '../harness/images.js';
import { repoRoot } from '../support/shared-data.js';

const { lang } = testImages().images;

/** A detector that wants nothing and counts the entries it is shown; it aborts the scan at entry `abortAt`. */
function countingDetector(abortAt: number, controller: AbortController): Detector & { seen: FileInfo[]; seenAfterAbort: number } {
  const detector = {
    id: 'count-entries',
    version: 1,
    maxBytes: 0,
    oversize: 'skip' as const,
    seen: [] as FileInfo[],
    seenAfterAbort: 0,
    wants(file: FileInfo): boolean {
      if (controller.signal.aborted) detector.seenAfterAbort++;
      detector.seen.push(file);
      if (detector.seen.length === abortAt) controller.abort(new Error('stopped by the test'));
      return false;
    },
    parse: () => ({}),
  };
  return detector;
}

describe('cancelling a scan of a real image', () => {
  let temp: string;
  before(() => {
    temp = mkdtempSync(join(tmpdir(), 'portcullis-cancel-'));
  });
  after(() => rmSync(temp, { recursive: true, force: true }));

  test('an abort in the middle of the first layer stops the walk there: E_CANCELLED, no layer done, no temp copy left', async () => {
    const controller = new AbortController();
    const detector = countingDetector(50, controller);
    const done: string[] = [];
    await assert.rejects(
      inventoryReference({
        reference: `docker-archive:${lang.dockerArchiveGzip}`,
        image: { tempDir: temp },
        cache: false,
        concurrency: 1,
        detectors: [detector],
        context: silentEngineContext({ signal: controller.signal }),
        onLayerDone: (layer) => done.push(layer.digest),
      }),
      (err) => isPortcullisError(err, 'E_CANCELLED') && /cancelled \(stopped by the test\)/.test(err.message),
    );
    assert.equal(detector.seen.length, 50, 'no entry was routed after the abort');
    assert.equal(detector.seenAfterAbort, 0);
    assert.deepEqual(done, [], 'no layer completed, and none started after the first');
    assert.deepEqual(readdirSync(temp), [], 'the gunzipped archive copy is removed');
  });

  test('the same scan without an abort walks every entry of every layer', async () => {
    const controller = new AbortController();
    const detector = countingDetector(Number.POSITIVE_INFINITY, controller);
    const done: string[] = [];
    await inventoryReference({ reference: `docker-archive:${lang.dockerArchiveGzip}`, image: { tempDir: temp }, cache: false, concurrency: 1, detectors: [detector], onLayerDone: (layer) => done.push(layer.digest) });
    assert.equal(done.length, lang.layers.length);
    assert.ok(detector.seen.length > 1000, `${detector.seen.length} entries`);
  });
  test('Ctrl-C during `portcullis sbom`: exit 130 with E_CANCELLED, no output file, the gunzipped copy removed', async () => {
    const runTmp = mkdtempSync(join(temp, 'cli-'));
    const output = join(temp, 'never-written.json');
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test', 'support', 'cli.ts'), 'sbom', `docker-archive:${lang.dockerArchiveGzip}`, '--no-cache', '-q', '-o', output], {
      env: { ...process.env, TMPDIR: runTmp },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
    // Interrupt once the command is at work: its gunzipped copy of the archive exists.
    const deadline = Date.now() + 120_000;
    while (!readdirSync(runTmp).some((e) => e.startsWith('portcullis-archive-'))) {
      assert.ok(Date.now() < deadline, `the command never started its work; stderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGINT');
    const [code, signal] = await closed;
    assert.equal(signal, null, 'it exits by itself, not killed by the signal');
    assert.equal(code, 130, stderr);
    assert.match(stderr, /cancelled \(interrupted by SIGINT\)[^\n]*\[E_CANCELLED\]/);
    assert.equal(existsSync(output), false);
    // tsx keeps its compile cache in TMPDIR; nothing of ours may stay.
    assert.deepEqual(readdirSync(runTmp).filter((e) => !e.startsWith('tsx-')), []);
  });
});
