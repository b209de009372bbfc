import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDurationText } from './duration.js';

test('durations: a whole number and one unit of s, m, h or d; anything else is undefined', () => {
  assert.equal(parseDurationText('30s'), 30_000);
  assert.equal(parseDurationText('10m'), 600_000);
  assert.equal(parseDurationText(' 6h '), 21_600_000);
  assert.equal(parseDurationText('7d'), 604_800_000);
  for (const bad of ['', '10', '1.5h', '1h30m', '0m', '-5m', '5 minutes', '5M', 'h']) assert.equal(parseDurationText(bad), undefined, bad);
});
