import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPortcullisError } from '../domain/errors.js';
import { loadWhitelist, parseWhitelist, whitelistMatch } from './whitelist.js';
import { fixtureFindings, IMAGE_NAME } from './test-support/scan-fixtures.js';

// The example file shipped with clair-scanner (arminc/clair-scanner example-whitelist.yaml, as quoted
// in the compatibility reference section 2.3).
const CLAIR_SCANNER_EXAMPLE = `generalwhitelist:        # approve CVE for any image
  CVE-2017-6055: XML
  CVE-2017-5586: OpenText
images:
  ubuntu:                # approve only for this image name, regardless of tag
    CVE-2017-5230: Java
  alpine:
    CVE-2017-3261: SE
`;

function finding(id: string, aliases: string[] = []) {
  return { id, aliases };
}

function expectInputError(fn: () => unknown, file: string, fragment: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isPortcullisError(err, 'E_INPUT'), `expected E_INPUT, got ${String(err)}`);
    assert.ok(err.message.startsWith(`whitelist: ${file}: `), err.message);
    assert.ok(err.message.includes(fragment), `${err.message} should mention ${fragment}`);
    assert.equal(err.details.file, file);
    return true;
  });
}

describe('parseWhitelist', () => {
  test('reads the clair-scanner example', () => {
    const w = parseWhitelist(CLAIR_SCANNER_EXAMPLE, 'wl.yaml');
    assert.deepEqual(w, {
      source: 'wl.yaml',
      general: { 'CVE-2017-6055': 'XML', 'CVE-2017-5586': 'OpenText' },
      images: { ubuntu: { 'CVE-2017-5230': 'Java' }, alpine: { 'CVE-2017-3261': 'SE' } },
    });
  });
  test('empty file, comments only, and either section absent are valid', () => {
    assert.deepEqual(parseWhitelist('', 'e.yaml'), { source: 'e.yaml', general: {}, images: {} });
    assert.deepEqual(parseWhitelist('# nothing approved yet\n', 'e.yaml').general, {});
    assert.deepEqual(parseWhitelist('images:\n  alpine:\n    CVE-2017-3261: SE\n', 'e.yaml').general, {});
    assert.deepEqual(parseWhitelist('generalwhitelist:\n  CVE-2017-6055: XML\n', 'e.yaml').images, {});
    assert.deepEqual(parseWhitelist('generalwhitelist:\nimages:\n', 'e.yaml'), { source: 'e.yaml', general: {}, images: {} });
  });
  test('non-string scalar reasons are kept as text, empty reasons as ""', () => {
    const w = parseWhitelist('generalwhitelist:\n  CVE-2022-37434: 42\n  CVE-2023-0286:\n  CVE-2022-32221: true\n', 'x.yaml');
    assert.deepEqual(w.general, { 'CVE-2022-37434': '42', 'CVE-2023-0286': '', 'CVE-2022-32221': 'true' });
  });
  test('wrong shapes are E_INPUT naming the file and the problem', () => {
    expectInputError(() => parseWhitelist('- CVE-2017-6055\n', 'a.yaml'), 'a.yaml', 'must be a mapping');
    expectInputError(() => parseWhitelist('generalwhitelist:\n  - CVE-2017-6055\n', 'b.yaml'), 'b.yaml', 'generalwhitelist must be a mapping of vulnerability id to reason, got a list');
    expectInputError(() => parseWhitelist('images:\n  - ubuntu\n', 'c.yaml'), 'c.yaml', 'images must be a mapping');
    expectInputError(() => parseWhitelist('images:\n  ubuntu: CVE-2017-5230\n', 'd.yaml'), 'd.yaml', 'images.ubuntu must be a mapping');
    expectInputError(() => parseWhitelist('generalwhitelist:\n  CVE-2017-6055: [a, b]\n', 'e.yaml'), 'e.yaml', 'generalwhitelist.CVE-2017-6055: the reason must be text');
    expectInputError(() => parseWhitelist('generalWhitelist:\n  CVE-2017-6055: XML\n', 'f.yaml'), 'f.yaml', "unknown key 'generalWhitelist'");
    expectInputError(() => parseWhitelist('generalwhitelist: [unclosed\n', 'g.yaml'), 'g.yaml', 'invalid YAML');
    expectInputError(() => parseWhitelist('generalwhitelist:\n  CVE-1: a\n  CVE-1: b\n', 'h.yaml'), 'h.yaml', 'invalid YAML');
  });
  test('loadWhitelist reads a file and names a missing one', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-whitelist-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'whitelist.yaml');
    writeFileSync(file, CLAIR_SCANNER_EXAMPLE);
    assert.equal(loadWhitelist(file).general['CVE-2017-6055'], 'XML');
    expectInputError(() => loadWhitelist(join(dir, 'missing.yaml')), join(dir, 'missing.yaml'), 'file not found');
  });
});

describe('whitelistMatch', () => {
  const w = parseWhitelist(CLAIR_SCANNER_EXAMPLE, 'wl.yaml');
  test('general entries approve for every image', () => {
    assert.deepEqual(whitelistMatch(w, finding('CVE-2017-6055'), 'anything:1'), { id: 'CVE-2017-6055', reason: 'XML', scope: 'generalwhitelist' });
  });
  test('image entries approve only for that image, whatever the tag', () => {
    assert.deepEqual(whitelistMatch(w, finding('CVE-2017-5230'), 'ubuntu:18.04'), { id: 'CVE-2017-5230', reason: 'Java', scope: 'images.ubuntu' });
    assert.equal(whitelistMatch(w, finding('CVE-2017-5230'), 'alpine:3.5'), undefined);
  });
  test('a GHSA finding is approved by its CVE alias', () => {
    const ghsa = fixtureFindings().find((f) => f.id === 'GHSA-vfw5-hrgq-h5wf');
    assert.ok(ghsa);
    const byCve = parseWhitelist('images:\n  team/web:\n    CVE-2018-17846: html parser not fed user input\n', 'w.yaml');
    assert.deepEqual(whitelistMatch(byCve, ghsa, IMAGE_NAME), { id: 'CVE-2018-17846', reason: 'html parser not fed user input', scope: 'images.team/web' });
  });
  test('private registry keys with a port work (clair-scanner issue #74)', () => {
    const wp = parseWhitelist('images:\n  localhost:5000/team/web:\n    CVE-2023-0286: no X.400 addresses\n', 'w.yaml');
    assert.equal(whitelistMatch(wp, finding('CVE-2023-0286'), IMAGE_NAME)?.scope, 'images.localhost:5000/team/web');
    assert.equal(whitelistMatch(wp, finding('CVE-2023-0286'), 'localhost:5001/team/web:1.4.2'), undefined);
  });
  test('ids compare case-insensitively as a fallback; no match gives undefined', () => {
    const wl = parseWhitelist('generalwhitelist:\n  cve-2023-0286: lower-case key\n', 'w.yaml');
    assert.equal(whitelistMatch(wl, finding('CVE-2023-0286'), IMAGE_NAME)?.reason, 'lower-case key');
    assert.equal(whitelistMatch(wl, finding('CVE-2022-37434', ['DSA-5218-1']), IMAGE_NAME), undefined);
  });
});
