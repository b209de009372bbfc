import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPortcullisError } from '../domain/errors.js';
import { ignoreMatch, loadIgnoreFile, parseIgnoreFile, parseIgnoreText, parseIgnoreYaml, ruleActive } from './ignore-file.js';
import { fixtureFindings } from './test-support/scan-fixtures.js';

const [zlib, openssl, curl, curl2, ncurses, ghsa, ansible] = fixtureFindings();
if (!zlib || !openssl || !curl || !curl2 || !ncurses || !ghsa || !ansible) throw new Error('fixtures');
const NOW = new Date('2026-06-15T12:00:00Z');

function expectInput(fn: () => unknown, file: string, fragment: string): void {
  assert.throws(fn, (err: unknown) => isPortcullisError(err, 'E_INPUT') && err.message.startsWith(`ignore-file: ${file}: `) && err.message.includes(fragment) && err.details.file === file, `expected E_INPUT mentioning ${fragment}`);
}

describe('text form (.portcullisignore / .trivyignore)', () => {
  const text = [
    '# zlib: inflateGetHeader is never used by our code',
    'CVE-2022-37434',
    '',
    'CVE-2023-0286 exp:2026-06-15',
    'cve-2022-32221 exp:2026-06-14   # curl only fetches fixed URLs',
    '   ',
    'CVE-2018-17846',
  ].join('\n');
  const list = parseIgnoreText(text, '.portcullisignore');

  test('ids, comments as statements, expiry dates and lines are read', () => {
    assert.deepEqual(list.rules, [
      { ids: ['CVE-2022-37434'], line: 2, statement: 'zlib: inflateGetHeader is never used by our code' },
      { ids: ['CVE-2023-0286'], line: 4, expires: '2026-06-15' },
      { ids: ['CVE-2022-32221'], line: 5, expires: '2026-06-14', statement: 'curl only fetches fixed URLs' },
      { ids: ['CVE-2018-17846'], line: 7 },
    ]);
  });
  test('an entry applies through its expiry day and not after', () => {
    assert.equal(ignoreMatch(list, openssl, NOW)?.reason, 'ignored by .portcullisignore:4 (until 2026-06-15)');
    assert.equal(ignoreMatch(list, curl, NOW), undefined, 'expired the day before');
    assert.equal(ruleActive({ ids: ['X'], expires: '2026-06-15' }, new Date('2026-06-16T00:00:00Z')), false);
  });
  test('ids match the finding id or an alias; the statement is the reason', () => {
    assert.equal(ignoreMatch(list, zlib, NOW)?.reason, 'zlib: inflateGetHeader is never used by our code');
    assert.equal(ignoreMatch(list, ghsa, NOW)?.rule.line, 7);
    assert.equal(ignoreMatch(list, ncurses, NOW), undefined);
  });
  test('an empty file has no rules', () => {
    assert.deepEqual(parseIgnoreText('', 'e').rules, []);
    assert.deepEqual(parseIgnoreText('# only comments\n\n', 'e').rules, []);
  });
  test('malformed lines are E_INPUT naming file and line', () => {
    expectInput(() => parseIgnoreText('CVE-2022-37434 exp:2026-02-30\n', '.trivyignore'), '.trivyignore', 'line 1: invalid expiry date "2026-02-30"');
    expectInput(() => parseIgnoreText('\nCVE-2022-37434 exp:tomorrow\n', '.trivyignore'), '.trivyignore', 'line 2: invalid expiry date "tomorrow"');
    expectInput(() => parseIgnoreText('CVE-2022-37434 CVE-2023-0286\n', '.trivyignore'), '.trivyignore', 'line 1: unexpected "CVE-2023-0286" after the id');
  });
});

describe('YAML form', () => {
  const yaml = `vulnerabilities:
  - id: CVE-2022-37434
    statement: inflateGetHeader unused
  - id: CVE-2023-0286
    purls: ["pkg:deb/debian/libssl1.1"]
    expired_at: 2026-12-31
  - id: CVE-2023-0286
    purls: ["pkg:deb/debian/libssl3"]
  - ids: [CVE-2022-32221, CVE-2023-23916]
    paths: ["var/lib/dpkg/*"]
    expires: "2026-01-01"
  - id: PYSEC-2021-1
    paths: ["usr/lib/python3/**/METADATA"]
misconfigurations:
  - id: AVD-DS-0002
`;
  const list = parseIgnoreYaml(yaml, '.portcullisignore.yaml');

  test('entries are read with purls, paths, expiry and statement', () => {
    assert.equal(list.format, 'yaml');
    assert.deepEqual(list.rules, [
      { ids: ['CVE-2022-37434'], statement: 'inflateGetHeader unused' },
      { ids: ['CVE-2023-0286'], purls: ['pkg:deb/debian/libssl1.1'], expires: '2026-12-31' },
      { ids: ['CVE-2023-0286'], purls: ['pkg:deb/debian/libssl3'] },
      { ids: ['CVE-2022-32221', 'CVE-2023-23916'], paths: ['var/lib/dpkg/*'], expires: '2026-01-01' },
      { ids: ['PYSEC-2021-1'], paths: ['usr/lib/python3/**/METADATA'] },
    ]);
  });
  test('purls and paths restrict the entry', () => {
    assert.equal(ignoreMatch(list, openssl, NOW)?.reason, 'ignored by .portcullisignore.yaml (until 2026-12-31)');
    const wrongPurl = parseIgnoreYaml('vulnerabilities:\n  - id: CVE-2023-0286\n    purls: ["pkg:deb/debian/libssl3"]\n', 'x.yaml');
    assert.equal(ignoreMatch(wrongPurl, openssl, NOW), undefined);
    assert.equal(ignoreMatch(list, ansible, NOW)?.rule.ids[0], 'PYSEC-2021-1', '** crosses directories');
    const wrongPath = parseIgnoreYaml('vulnerabilities:\n  - id: PYSEC-2021-1\n    paths: ["usr/local/lib/*"]\n', 'x.yaml');
    assert.equal(ignoreMatch(wrongPath, ansible, NOW), undefined);
  });
  test('expired entries no longer apply', () => {
    assert.equal(ignoreMatch(list, curl, NOW), undefined);
    assert.equal(ignoreMatch(list, curl, new Date('2025-12-31T08:00:00Z'))?.rule.ids[0], 'CVE-2022-32221');
  });
  test('an empty document has no rules', () => {
    assert.deepEqual(parseIgnoreYaml('', 'e.yaml').rules, []);
    assert.deepEqual(parseIgnoreYaml('vulnerabilities: []\n', 'e.yaml').rules, []);
  });
  test('wrong shapes are E_INPUT naming file and entry', () => {
    expectInput(() => parseIgnoreYaml('vulnerabilities:\n  - id: CVE-1\n    expired_at: 2026-13-01\n', 'i.yaml'), 'i.yaml', 'at vulnerabilities[0].expired_at: expected a date YYYY-MM-DD');
    expectInput(() => parseIgnoreYaml('vulnerabilities:\n  - statement: no id\n', 'i.yaml'), 'i.yaml', "at vulnerabilities[0]: an entry needs 'id' or 'ids'");
    expectInput(() => parseIgnoreYaml('vulnerabilities:\n  - id: CVE-1\n    purl: pkg:deb/debian/x\n', 'i.yaml'), 'i.yaml', 'at vulnerabilities[0]: Unrecognized key: "purl"');
    expectInput(() => parseIgnoreYaml('vulnerabilites:\n  - id: CVE-1\n', 'i.yaml'), 'i.yaml', 'Unrecognized key: "vulnerabilites"');
    expectInput(() => parseIgnoreYaml('vulnerabilities: CVE-1\n', 'i.yaml'), 'i.yaml', 'at vulnerabilities:');
    expectInput(() => parseIgnoreYaml('vulnerabilities:\n  - id: CVE-1\n    paths: "a/b"\n', 'i.yaml'), 'i.yaml', 'at vulnerabilities[0].paths');
  });
});

describe('parseIgnoreFile / loadIgnoreFile', () => {
  test('form chosen by extension, then by content', () => {
    assert.equal(parseIgnoreFile('CVE-2022-37434\n', '.trivyignore').format, 'text');
    assert.equal(parseIgnoreFile('vulnerabilities:\n  - id: CVE-2022-37434\n', '.trivyignore').format, 'yaml');
    assert.equal(parseIgnoreFile('# header\nvulnerabilities: []\n', 'ignore').format, 'yaml');
    assert.equal(parseIgnoreFile('', 'x.yml').format, 'yaml');
  });
  test('files are read from disk; a missing one is E_INPUT', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-ignore-file-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, '.portcullisignore');
    writeFileSync(file, 'CVE-2022-37434\n');
    assert.deepEqual(loadIgnoreFile(file).rules, [{ ids: ['CVE-2022-37434'], line: 1 }]);
    expectInput(() => loadIgnoreFile(join(dir, 'none')), join(dir, 'none'), 'file not found');
  });
});
