import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sharedData } from '../../test/support/shared-data.js';
import { cvssBaseScore, cvssRating, cvssVersionOf, severityFromLabel, severityFromScore } from './severity.js';

describe('cvss base scores', () => {
  test('textbook vectors (FIRST specification examples)', () => {
    assert.deepEqual(cvssBaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'), { version: '3.1', score: 9.8 });
    assert.deepEqual(cvssBaseScore('CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H'), { version: '3.0', score: 10 });
    assert.deepEqual(cvssBaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N'), { version: '3.1', score: 0 });
    assert.deepEqual(cvssBaseScore('AV:N/AC:L/Au:N/C:P/I:P/A:P'), { version: '2.0', score: 7.5 });
    assert.deepEqual(cvssBaseScore('AV:N/AC:L/Au:N/C:C/I:C/A:C'), { version: '2.0', score: 10 });
    assert.deepEqual(cvssBaseScore('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N'), { version: '4.0', score: 9.3 });
  });

  test('agrees with the scores the npm security WG published beside its vectors', () => {
    // The WG wrote both a vector and a score; a few scores in the data are the WG's own mistakes
    // (e.g. 9.3 for AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N, which is 7.5 by the specification), so the
    // check is that a large, exact majority agrees.
    const dir = sharedData('feeds', 'npm-security-wg');
    let agree = 0;
    let total = 0;
    for (const name of readdirSync(dir)) {
      const r = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { cvss_vector: string | null; cvss_score: number | null };
      if (typeof r.cvss_vector !== 'string' || typeof r.cvss_score !== 'number') continue;
      total++;
      if (cvssBaseScore(r.cvss_vector)?.score === r.cvss_score) agree++;
    }
    assert.equal(total, 246);
    assert.equal(agree, 232);
  });

  test('partial and garbage vectors have no score', () => {
    assert.equal(cvssBaseScore('CVSS:3.1/AV:N'), undefined);
    assert.equal(cvssBaseScore('CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:U/A:U'), undefined);
    assert.equal(cvssBaseScore('garbage'), undefined);
    assert.equal(cvssBaseScore(''), undefined);
    assert.deepEqual(cvssRating('x', 'CVSS:3.1/AV:N'), { source: 'x', type: 'CVSS_V3', value: 'CVSS:3.1/AV:N', normalized: 'Unknown' });
  });

  test('version detection', () => {
    assert.equal(cvssVersionOf('CVSS:3.1/AV:N'), '3.1');
    assert.equal(cvssVersionOf('CVSS:4.0/AV:N'), '4.0');
    assert.equal(cvssVersionOf('(AV:N/AC:L/Au:N/C:P/I:P/A:P)'), '2.0');
    assert.equal(cvssVersionOf('medium'), undefined);
  });
});

describe('severity normalization', () => {
  test('score bands (v2 has no Critical)', () => {
    assert.deepEqual(
      [0, 0.1, 3.9, 4, 6.9, 7, 8.9, 9, 10].map((s) => severityFromScore(s, '3.1')),
      ['Negligible', 'Low', 'Low', 'Medium', 'Medium', 'High', 'High', 'Critical', 'Critical'],
    );
    assert.equal(severityFromScore(10, '2.0'), 'High');
    assert.equal(severityFromScore(Number.NaN, '3.1'), 'Unknown');
  });

  test('vendor labels', () => {
    assert.deepEqual(
      ['LOW', 'MODERATE', 'HIGH', 'CRITICAL', 'Important', 'negligible', 'unimportant', 'medium', 'untriaged', ''].map(severityFromLabel),
      ['Low', 'Medium', 'High', 'Critical', 'High', 'Negligible', 'Negligible', 'Medium', 'Unknown', 'Unknown'],
    );
  });
});
