import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ECOSYSTEMS } from '../domain/package.js';
import { schemeForEcosystem } from './version-schemes.js';

test('each ecosystem is bound to its version scheme', () => {
  const expected = { deb: 'dpkg', rpm: 'rpm', apk: 'apk', npm: 'npm', pypi: 'pep440', maven: 'maven', golang: 'go', gem: 'gem', cargo: 'cargo', nuget: 'nuget' };
  for (const ecosystem of ECOSYSTEMS) assert.equal(schemeForEcosystem(ecosystem).id, expected[ecosystem], ecosystem);
});
