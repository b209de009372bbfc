import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dpkgScheme } from './dpkg/index.js';
import { getScheme, indexSchemes, isVersionSchemeId, VERSION_SCHEMES } from './index.js';
import { VERSION_SCHEME_IDS } from './types.js';

describe('version scheme registry', () => {
  test('holds one scheme per id, each findable by its id', () => {
    assert.deepEqual(
      VERSION_SCHEMES.map((s) => s.id).sort(),
      [...VERSION_SCHEME_IDS].sort(),
    );
    for (const id of VERSION_SCHEME_IDS) assert.equal(getScheme(id).id, id);
  });

  test('rejects duplicate ids', () => {
    assert.throws(() => indexSchemes([dpkgScheme, { ...dpkgScheme }]), /versioning: duplicate version scheme id "dpkg"/);
    assert.equal(indexSchemes([]).size, 0);
  });

  test('tells scheme ids from other strings', () => {
    assert.ok(isVersionSchemeId('pep440'));
    assert.ok(!isVersionSchemeId('pypi'));
  });

  test('schemes with a range syntax offer satisfies, the others do not', () => {
    assert.deepEqual(
      VERSION_SCHEMES.filter((s) => s.satisfies !== undefined).map((s) => s.id).sort(),
      ['cargo', 'gem', 'maven', 'npm', 'nuget', 'pep440'],
    );
  });
});
