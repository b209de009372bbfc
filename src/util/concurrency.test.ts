import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isPortcullisError } from '../domain/errors.js';
import { mapBounded } from './concurrency.js';

/** An item that waits until its signal fires (or `ms` pass), recording that it saw the abort. */
async function waitForAbort(signal: AbortSignal, ms: number, seen: string[], name: string): Promise<string> {
  try {
    await sleep(ms, undefined, { signal });
    return name;
  } catch (err) {
    seen.push(name);
    throw err;
  }
}

describe('mapBounded: a bounded pool where the first failure cancels the rest', () => {
  test('keeps the input order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapBounded([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await sleep(n);
      running--;
      return n * 10;
    });
    assert.deepEqual(out, [50, 10, 40, 20, 30]);
    assert.equal(peak, 2);
  });

  test('after the first failure no item starts, the one in flight is told through its signal, and the call rejects with that failure once it settled', async () => {
    const started: number[] = [];
    const aborted: string[] = [];
    const boom = new Error('layer 1 is corrupt');
    await assert.rejects(
      mapBounded([0, 1, 2, 3, 4, 5], 2, async (i, signal) => {
        started.push(i);
        if (i === 1) throw boom;
        return waitForAbort(signal, 60_000, aborted, `item ${i}`);
      }),
      (err) => err === boom,
    );
    assert.deepEqual(started, [0, 1]);
    assert.deepEqual(aborted, ['item 0'], 'the sibling in flight saw the abort before the call settled');
  });

  test("an abort of the caller's signal stops the run with E_CANCELLED naming the work, whatever the items threw", async () => {
    const controller = new AbortController();
    const started: number[] = [];
    const run = mapBounded(
      [0, 1, 2, 3],
      1,
      async (i, signal) => {
        started.push(i);
        return waitForAbort(signal, 60_000, [], `item ${i}`);
      },
      { signal: controller.signal, what: 'reading layers' },
    );
    await sleep(10);
    controller.abort(new Error('Ctrl-C'));
    await assert.rejects(run, (err) => isPortcullisError(err, 'E_CANCELLED') && /reading layers: cancelled \(Ctrl-C\)/.test(err.message));
    assert.deepEqual(started, [0]);
  });

  test('an already aborted signal starts nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    let calls = 0;
    await assert.rejects(
      mapBounded([1, 2], 2, async () => ++calls, { signal: controller.signal }),
      (err) => isPortcullisError(err, 'E_CANCELLED'),
    );
    assert.equal(calls, 0);
  });
});
