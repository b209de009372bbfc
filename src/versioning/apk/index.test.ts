import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { sharedData } from '../../../test/support/shared-data.js';
import { agreement, disagreementReport, readVersionTable } from '../test-support/tables.js';
import { InvalidVersionError } from '../types.js';
import { apkScheme, apkVersionMatch } from './index.js';

/**
 * One line of apk-tools' test/unit/version.data, read as its version_test.c reads it: `#` starts a
 * comment; "a OP b" asserts a match (OP may start with '!' = must not match); "v" asserts valid;
 * "!v" asserts invalid.
 */
type DataLine =
  | { kind: 'match'; a: string; op: string; b: string; text: string }
  | { kind: 'validity'; version: string; valid: boolean; text: string };

function readVersionData(): DataLine[] {
  const out: DataLine[] = [];
  for (const raw of readFileSync(sharedData('versions', 'upstream', 'apk-tools-version.data'), 'utf8').split('\n')) {
    const text = (raw.split('#')[0] as string).trim();
    if (text === '') continue;
    const parts = text.split(' ');
    if (parts.length === 3) out.push({ kind: 'match', a: parts[0] as string, op: parts[1] as string, b: parts[2] as string, text });
    else if (text.startsWith('!')) out.push({ kind: 'validity', version: text.slice(1), valid: false, text });
    else out.push({ kind: 'validity', version: text, valid: true, text });
  }
  return out;
}

describe('apk scheme', () => {
  test('agrees with apk version -t (apk-tools 3.0.6) on every pair of versions/apk.tsv', () => {
    const pairs = readVersionTable('apk.tsv');
    const d = agreement(apkScheme, pairs);
    assert.equal(d.agree, pairs.length, disagreementReport(d, pairs.length));
  });

  test("passes every line of apk-tools' own version.data, invalid and fuzzy lines included", () => {
    const lines = readVersionData();
    const failures = lines.filter((l) => (l.kind === 'match' ? !apkVersionMatch(l.a, l.op, l.b) : apkScheme.isValid(l.version) !== l.valid));
    assert.deepEqual(
      failures.map((l) => l.text),
      [],
    );
    // Every kind of line was exercised: plain and negated matches, fuzzy ones, valid and invalid strings.
    assert.ok(lines.some((l) => l.kind === 'match' && l.op.startsWith('!')));
    assert.ok(lines.some((l) => l.kind === 'match' && l.op.includes('~')));
    assert.ok(lines.some((l) => l.kind === 'validity' && l.valid));
    assert.ok(lines.some((l) => l.kind === 'validity' && !l.valid));
  });

  test('the scheme refuses to compare what version.data marks invalid, where apk-tools would string-sort', () => {
    const lines = readVersionData();
    const invalid = lines.filter((l): l is Extract<DataLine, { kind: 'validity' }> => l.kind === 'validity' && !l.valid);
    for (const l of invalid) assert.throws(() => apkScheme.compare(l.version, '1.0'), InvalidVersionError, l.text);
    // Comparison lines naming an invalid version: apk compares them anyway, the scheme does not.
    const withInvalid = lines.filter((l) => l.kind === 'match' && (!apkScheme.isValid(l.a) || !apkScheme.isValid(l.b)));
    assert.ok(withInvalid.length > 0);
    for (const l of withInvalid) if (l.kind === 'match') assert.throws(() => apkScheme.compare(l.a, l.b), InvalidVersionError, l.text);
  });

  test('orders suffixes: _alpha < _beta < _pre < _rc < release < _cvs < _svn < _git < _hg < _p', () => {
    const ordered = ['1.0_alpha', '1.0_beta', '1.0_pre', '1.0_rc', '1.0', '1.0_cvs', '1.0_svn', '1.0_git', '1.0_hg', '1.0_p'];
    for (let i = 0; i + 1 < ordered.length; i++) assert.equal(apkScheme.compare(ordered[i] as string, ordered[i + 1] as string), -1);
    assert.equal(apkScheme.compare('1.0-r1', '1.0-r10'), -1);
    assert.equal(apkScheme.compare('1.0a', '1.0-r9'), 1, 'a letter outranks a revision');
    assert.equal(apkScheme.compare('1.01', '1.1'), -1, 'a leading zero compares as a string');
    assert.equal(apkScheme.compare('1.0~abc', '1.0~abd'), -1);
  });

  test('apkVersionMatch rejects unknown operators', () => {
    assert.throws(() => apkVersionMatch('1', '=x', '1'), /apk: unknown version operator/);
    assert.throws(() => apkVersionMatch('1', '', '1'), /apk: unknown version operator/);
  });
});
