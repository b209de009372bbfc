import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SIGN_IN_FAILURES_ALLOWED, SIGN_IN_WINDOW_MS, SignInThrottle } from './session.js';

test('SignInThrottle: the 11th failure within 15 min is held back until the oldest leaves the window; a success clears the count; keys are separate', () => {
  const throttle = new SignInThrottle();
  const t0 = Date.parse('2026-12-01T00:00:00.000Z');
  for (let i = 0; i < SIGN_IN_FAILURES_ALLOWED; i++) {
    assert.equal(throttle.retryAfterSeconds('1.2.3.4\u0000alice', t0 + i * 60_000), 0, `attempt ${i + 1} is allowed`);
    throttle.fail('1.2.3.4\u0000alice', t0 + i * 60_000);
  }
  const tenth = t0 + 9 * 60_000;
  assert.equal(throttle.retryAfterSeconds('1.2.3.4\u0000alice', tenth), (SIGN_IN_WINDOW_MS - 9 * 60_000) / 1000, 'wait until the first failure is 15 min old');
  assert.equal(throttle.retryAfterSeconds('1.2.3.4\u0000alice', t0 + SIGN_IN_WINDOW_MS - 1000), 1);
  assert.equal(throttle.retryAfterSeconds('1.2.3.4\u0000alice', t0 + SIGN_IN_WINDOW_MS), 0, 'the first failure has left the window');
  assert.equal(throttle.retryAfterSeconds('5.6.7.8\u0000alice', tenth), 0, 'another address');
  assert.equal(throttle.retryAfterSeconds('1.2.3.4\u0000bob', tenth), 0, 'another name');
  throttle.succeed('1.2.3.4\u0000alice');
  assert.equal(throttle.retryAfterSeconds('1.2.3.4\u0000alice', tenth), 0, 'a success clears the failures');
});

test('SignInThrottle: its memory is bounded; the oldest keys are dropped first', () => {
  const throttle = new SignInThrottle(1, SIGN_IN_WINDOW_MS);
  for (let i = 0; i <= 10_000; i++) throttle.fail(`10.0.${Math.floor(i / 256)}.${i % 256}\u0000x`, 1000);
  assert.equal(throttle.retryAfterSeconds('10.0.0.0\u0000x', 1000), 0, 'the first key was dropped');
  assert.ok(throttle.retryAfterSeconds('10.0.39.16\u0000x', 1000) > 0, 'the newest is kept');
});
