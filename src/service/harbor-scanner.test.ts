import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PullAuthorizations, pullCredentials, registryOrigin } from './harbor-scanner.js';

describe('Harbor scanner: pull authorizations', () => {
  test('Basic becomes user and password (a colon in the password kept), Bearer a registry token; other schemes nothing', () => {
    assert.deepEqual(pullCredentials(`Basic ${Buffer.from('robot$scanner:pa:ss').toString('base64')}`), { username: 'robot$scanner', password: 'pa:ss' });
    assert.deepEqual(pullCredentials('Bearer eyJhbGciOi.x.y'), { registryToken: 'eyJhbGciOi.x.y' });
    assert.equal(pullCredentials(`Basic ${Buffer.from('no-colon').toString('base64')}`), undefined);
    assert.equal(pullCredentials('Digest username="x"'), undefined);
    assert.equal(pullCredentials('Bearer'), undefined);
  });

  test('held until released or until the TTL passes, whichever comes first', () => {
    let now = 0;
    const held = new PullAuthorizations(1_000, () => now);
    held.hold('a', 'Basic x');
    held.hold('b', 'Bearer y');
    assert.equal(held.get('a'), 'Basic x');
    held.release('a');
    assert.equal(held.get('a'), undefined);
    now = 999;
    assert.equal(held.get('b'), 'Bearer y');
    now = 1_000;
    assert.equal(held.get('b'), undefined, 'expired');
    assert.equal(held.size, 0);
  });

  test('registries are compared by origin', () => {
    assert.equal(registryOrigin('https://Core.Harbor.example:443/'), 'https://core.harbor.example');
    assert.equal(registryOrigin('http://127.0.0.1:5000/v2/'), 'http://127.0.0.1:5000');
    assert.equal(registryOrigin('ftp://x'), undefined);
    assert.equal(registryOrigin('core.harbor'), undefined);
  });
});
