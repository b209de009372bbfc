import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { agreement, disagreementReport, readOracleRows, readVersionTable } from '../test-support/tables.js';
import { goScheme } from './index.js';

describe('go scheme', () => {
  test('agrees with x/mod semver.Compare on every pair of versions/go-semver.tsv', () => {
    const pairs = readVersionTable('go-semver.tsv');
    const d = agreement(goScheme, pairs);
    assert.equal(d.agree, pairs.length, disagreementReport(d, pairs.length));
  });

  test('agrees with x/mod semver.IsValid on the frozen validity table', () => {
    const rows = readOracleRows('go-valid.tsv');
    const wrong = rows.filter(([s, expected]) => String(goScheme.isValid(s as string)) !== expected).map(([s, e]) => `${JSON.stringify(s)}: x/mod ${e}`);
    assert.ok(rows.some(([, e]) => e === 'false') && rows.some(([, e]) => e === 'true'));
    assert.equal(rows.length - wrong.length, rows.length, wrong.slice(0, 40).join('\n'));
  });

  test('follows x/mod: shorthands, ignored build metadata, pseudo-versions as pre-releases', () => {
    assert.equal(goScheme.compare('v1', 'v1.0.0'), 0);
    assert.equal(goScheme.compare('v1.2', 'v1.2.0'), 0);
    assert.equal(goScheme.compare('v2.0.0+incompatible', 'v2.0.0'), 0);
    assert.equal(goScheme.compare('v1.5.1-0.20231206184617-48ba0b76bc88', 'v1.5.1'), -1);
    assert.equal(goScheme.compare('v1.5.1-0.20231206184617-48ba0b76bc88', 'v1.5.0'), 1);
    assert.equal(goScheme.compare('v1.0.0-alpha.1', 'v1.0.0-alpha.beta'), -1, 'numeric identifiers sort first');
    assert.equal(goScheme.compare('v1.0.0-rc.2', 'v1.0.0-rc.10'), -1);
    assert.equal(goScheme.compare('v100000000000000000000.0.0', 'v99999999999999999999.0.0'), 1, 'numbers have no size limit');
    for (const bad of ['1.2.3', 'v1.2-pre', 'v1.2+meta', 'v1.02.3', 'go1.21.5']) assert.ok(!goScheme.isValid(bad), bad);
  });
});
