import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isPortcullisError } from '../domain/errors.js';
import { SEVERITIES } from '../domain/severity.js';
import { belowThreshold, parseThreshold, thresholdRank } from './threshold.js';

describe('parseThreshold', () => {
  test('accepts every clair-scanner value case-insensitively', () => {
    assert.equal(parseThreshold('high'), 'High');
    assert.equal(parseThreshold('CRITICAL'), 'Critical');
    assert.equal(parseThreshold(' Negligible '), 'Negligible');
    assert.equal(parseThreshold('unknown'), 'Unknown');
    assert.equal(parseThreshold('defcon1'), 'Defcon1');
  });
  test('rejects anything else with E_USAGE naming the valid values', () => {
    for (const bad of ['', 'severe', 'Important', 'Moderate']) {
      assert.throws(() => parseThreshold(bad), (err: unknown) => isPortcullisError(err, 'E_USAGE') && err.message.includes('Unknown, Negligible, Low, Medium, High, Critical, Defcon1'));
    }
  });
});

describe('belowThreshold (clair-scanner: approved when strictly less severe)', () => {
  test('High fails on High and Critical only', () => {
    assert.deepEqual(
      SEVERITIES.filter((s) => !belowThreshold(s, 'High')),
      ['High', 'Critical'],
    );
  });
  test('the default Unknown approves nothing', () => {
    assert.deepEqual(SEVERITIES.filter((s) => belowThreshold(s, 'Unknown')), []);
  });
  test('Negligible approves only Unknown', () => {
    assert.deepEqual(SEVERITIES.filter((s) => belowThreshold(s, 'Negligible')), ['Unknown']);
  });
  test('Defcon1 ranks above Critical: nothing reaches it, so everything is approved', () => {
    assert.equal(thresholdRank('Defcon1'), thresholdRank('Critical') + 1);
    assert.deepEqual(SEVERITIES.filter((s) => !belowThreshold(s, 'Defcon1')), []);
  });
});
