import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BackendHealth, ScannerBackend } from '../backends/types.js';
import { anyScannerUsable, BackendHealthMonitor } from './backend-health.js';

/** A backend whose probe is `health`; scanning is not what these tests are about. */
function backend(name: string, health: (signal?: AbortSignal) => Promise<BackendHealth>): ScannerBackend & { probes: number } {
  const b = {
    name,
    needs: 'image-name' as const,
    probes: 0,
    health(signal?: AbortSignal) {
      b.probes++;
      return health(signal);
    },
    scan: () => Promise.reject(new Error('not scanned here')),
  };
  return b;
}

test('answers are reused for cacheMs, shared by concurrent callers, and asked again after it', async () => {
  let now = 1_000_000;
  const clair = backend('clair', () => Promise.resolve({ ok: true, detail: 'up' }));
  const monitor = new BackendHealthMonitor([clair], { cacheMs: 5_000, now: () => now });
  await Promise.all(Array.from({ length: 50 }, () => monitor.statuses()));
  assert.equal(clair.probes, 1);
  now += 4_999;
  await monitor.statuses();
  assert.equal(clair.probes, 1);
  now += 1;
  const [status] = await monitor.statuses();
  assert.equal(clair.probes, 2);
  assert.deepEqual({ ...status, checkedAt: undefined }, { name: 'clair', kind: 'external', needs: 'image-name', ok: true, detail: 'up', checkedAt: undefined });
});

test('a probe that ignores its abort signal and never settles is cut at timeoutMs; one that throws is a failed probe', async () => {
  let aborted = false;
  const hanging = backend('clair', (signal) => {
    signal?.addEventListener('abort', () => (aborted = true));
    return new Promise<BackendHealth>(() => undefined);
  });
  const throwing = backend('zypper', () => Promise.reject(new Error('socket hang up')));
  const statuses = await new BackendHealthMonitor([hanging, throwing], { timeoutMs: 50 }).statuses();
  assert.deepEqual(
    statuses.map((s) => [s.name, s.ok, s.detail]),
    [
      ['clair', false, 'clair: no answer to the health probe within 50 ms'],
      ['zypper', false, 'zypper: health probe failed: socket hang up'],
    ],
  );
  assert.equal(aborted, true, 'the probe was told to stop');
});

test('the embedded probe runs on every call (a DB just imported counts at once); a throwing one is not usable', async () => {
  let calls = 0;
  const monitor = new BackendHealthMonitor([], {
    embedded: () => {
      calls++;
      if (calls === 1) throw new Error('no vulnerability database');
      return { ok: true, detail: 'opens' };
    },
  });
  const first = await monitor.statuses();
  assert.deepEqual(first.map((s) => [s.name, s.kind, s.needs, s.ok, s.detail]), [['embedded', 'embedded', 'local-bytes', false, 'no vulnerability database']]);
  assert.equal(anyScannerUsable(first), false);
  const second = await monitor.statuses();
  assert.equal(second[0]?.ok, true);
  assert.equal(anyScannerUsable(second), true);
});

test('usable when any one scanner is; not when none is, or none is enabled', () => {
  assert.equal(anyScannerUsable([{ ok: false }, { ok: true }]), true);
  assert.equal(anyScannerUsable([{ ok: false }, { ok: false }]), false);
  assert.equal(anyScannerUsable([]), false);
});
