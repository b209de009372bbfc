import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isPortcullisError } from '../domain/errors.js';
import type { PackageRecord } from '../domain/package.js';
import { PackageURL } from 'packageurl-js';
import { languagePurl } from './purl.js';

const rec = (ecosystem: PackageRecord['ecosystem'], name: string, version: string, attributes?: Record<string, string>): PackageRecord => {
  const r: PackageRecord = { ecosystem, name, version, path: 'x' };
  if (attributes) r.attributes = attributes;
  return r;
};

describe('languagePurl', () => {
  test('purl-spec forms per type', () => {
    const cases: [PackageRecord, string][] = [
      [rec('npm', 'lodash', '4.17.21'), 'pkg:npm/lodash@4.17.21'],
      [rec('npm', '@babel/core', '7.23.0'), 'pkg:npm/%40babel/core@7.23.0'],
      [rec('npm', 'JSONStream', '1.3.5'), 'pkg:npm/jsonstream@1.3.5'],
      [rec('pypi', 'typing-extensions', '4.15.0', { displayName: 'typing_extensions' }), 'pkg:pypi/typing-extensions@4.15.0'],
      [rec('pypi', 'zope-interface', '5.4.0', { displayName: 'Zope.Interface' }), 'pkg:pypi/zope.interface@5.4.0'],
      [rec('golang', 'github.com/docker/distribution', 'v2.8.2+incompatible'), 'pkg:golang/github.com/docker/distribution@v2.8.2+incompatible'],
      [rec('golang', 'github.com/Azure/go-autorest/autorest', 'v0.11.29'), 'pkg:golang/github.com/Azure/go-autorest/autorest@v0.11.29'],
      [rec('golang', 'stdlib', 'v1.19.8'), 'pkg:golang/stdlib@v1.19.8'],
      [rec('maven', 'org.apache.commons:commons-lang3', '3.12.0'), 'pkg:maven/org.apache.commons/commons-lang3@3.12.0'],
      [rec('maven', 'guava', '27.0-jre'), 'pkg:generic/guava@27.0-jre'],
      [rec('gem', 'rack', '2.2.22'), 'pkg:gem/rack@2.2.22'],
      [rec('gem', 'nokogiri', '1.15.4', { platform: 'x86_64-linux' }), 'pkg:gem/nokogiri@1.15.4?platform=x86_64-linux'],
      [rec('cargo', 'serde', '1.0.196'), 'pkg:cargo/serde@1.0.196'],
      [rec('npm', 'weird name', ''), 'pkg:npm/weird%20name'],
    ];
    for (const [r, want] of cases) assert.equal(languagePurl(r), want);
  });

  test('every purl parses back with packageurl-js', () => {
    for (const r of [rec('npm', '@a/b', '1.0.0'), rec('maven', 'g:a', '1'), rec('maven', 'a', '1'), rec('golang', 'stdlib', 'v1.21.0'), rec('gem', 'x', '1', { platform: 'java' })]) {
      const back = PackageURL.fromString(languagePurl(r));
      assert.equal(back.version, r.version);
    }
  });

  test('OS ecosystems are refused', () => {
    assert.throws(
      () => languagePurl(rec('deb', 'bash', '5.2')),
      (err) => isPortcullisError(err, 'E_INTERNAL'),
    );
  });
});
