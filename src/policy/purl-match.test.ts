import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { purlMatchesPackage, tryParsePurl, type MatchablePackage } from './purl-match.js';

// openssl-libs as the Clair v4 report of api-samples/quay/vulnerabilityreport.json and our inventory
// name it (epoch in the version, distro id as purl namespace).
const opensslLibs: MatchablePackage = {
  ecosystem: 'rpm',
  name: 'openssl-libs',
  version: '1:1.1.1k-9.el8_7',
  sourceName: 'openssl',
  sourceVersion: '1.1.1k-9.el8_7',
  arch: 'aarch64',
  purl: 'pkg:rpm/rhel/openssl-libs@1.1.1k-9.el8_7?arch=aarch64&distro=rhel-8&epoch=1&upstream=openssl%401.1.1k-9.el8_7',
};
const babel: MatchablePackage = { ecosystem: 'npm', name: '@babel/core', version: '7.22.5', purl: 'pkg:npm/%40babel/core@7.22.5' };

describe('purlMatchesPackage', () => {
  test('Red Hat style purls (namespace redhat, epoch qualifier) match rhel packages', () => {
    assert.equal(purlMatchesPackage('pkg:rpm/redhat/openssl-libs@1.1.1k-9.el8_7?arch=aarch64&epoch=1', opensslLibs), true);
    assert.equal(purlMatchesPackage('pkg:rpm/redhat/openssl-libs@1.1.1k-9.el8_7?epoch=2', opensslLibs), false);
    assert.equal(purlMatchesPackage('pkg:rpm/redhat/openssl-libs@1.1.1k-9.el8_7', opensslLibs), false, 'epoch 1 is not epoch 0');
    assert.equal(purlMatchesPackage('pkg:rpm/redhat/openssl-libs', opensslLibs), true);
    assert.equal(purlMatchesPackage('pkg:rpm/redhat/openssl-libs?arch=x86_64', opensslLibs), false);
    assert.equal(purlMatchesPackage('pkg:rpm/fedora/openssl-libs', opensslLibs), false);
  });
  test('source purls match by source name and version', () => {
    assert.equal(purlMatchesPackage('pkg:rpm/redhat/openssl@1.1.1k-9.el8_7?arch=src', opensslLibs), true);
    assert.equal(purlMatchesPackage('pkg:rpm/redhat/openssl?arch=source', opensslLibs), true);
    assert.equal(purlMatchesPackage('pkg:rpm/redhat/openssl', opensslLibs), false, 'without arch=source the name is the binary');
  });
  test('scoped npm names, pattern without namespace, wrong type, junk', () => {
    assert.equal(purlMatchesPackage('pkg:npm/%40babel/core@7.22.5', babel), true);
    assert.equal(purlMatchesPackage('pkg:npm/%40babel/core@7.22.4', babel), false);
    assert.equal(purlMatchesPackage('pkg:npm/core', babel), true);
    assert.equal(purlMatchesPackage('pkg:pypi/core', babel), false);
    assert.equal(purlMatchesPackage('not a purl', babel), false);
    assert.equal(tryParsePurl('pkg:'), undefined);
  });
});
