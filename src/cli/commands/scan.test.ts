import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isPortcullisError } from '../../domain/errors.js';
import { parseExitCode } from './scan.js';

describe('scan --exit-code', () => {
  test('accepts every exit status a process can have, 0 (report only) to 255', () => {
    assert.equal(parseExitCode('0'), 0);
    assert.equal(parseExitCode('1'), 1);
    assert.equal(parseExitCode('255'), 255);
    assert.equal(parseExitCode(' 3 '), 3);
  });

  test('refuses what the shell would wrap or misread, with a usage error', () => {
    for (const bad of ['256', '300', '-1', '1.5', '', 'one', '0x10', '1e2', '0255']) {
      assert.throws(() => parseExitCode(bad), (err) => isPortcullisError(err, 'E_USAGE') && /from 0 to 255/.test(err.message), bad);
    }
  });
});
