import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isPortcullisError } from '../domain/errors.js';
import { formatPlatform, hostPlatform, parsePlatform, platformMatches, selectPlatforms } from './platform.js';
import type { Platform } from './types.js';

describe('parsePlatform', () => {
  test('parses os/arch[/variant], normalising aliases and default variants', () => {
    assert.deepEqual(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'amd64' });
    assert.deepEqual(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
    assert.deepEqual(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64' });
    assert.deepEqual(parsePlatform('Linux/x86_64'), { os: 'linux', architecture: 'amd64' });
    assert.deepEqual(parsePlatform('linux/aarch64'), { os: 'linux', architecture: 'arm64' });
    assert.equal(parsePlatform('all'), 'all');
    assert.equal(parsePlatform('ALL'), 'all');
  });

  test('refuses malformed platforms with E_PLATFORM', () => {
    for (const bad of ['', 'linux', 'linux/', '/amd64', 'linux/arm/v7/x', 'linux/ amd64']) {
      assert.throws(() => parsePlatform(bad), (err: unknown) => isPortcullisError(err, 'E_PLATFORM'), bad);
    }
  });
});

describe('hostPlatform', () => {
  test('maps node platform/arch to OCI names', () => {
    assert.deepEqual(hostPlatform('linux', 'x64'), { os: 'linux', architecture: 'amd64' });
    assert.deepEqual(hostPlatform('darwin', 'arm64'), { os: 'linux', architecture: 'arm64' });
    assert.deepEqual(hostPlatform('linux', 'arm', '7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
    assert.deepEqual(hostPlatform('win32', 'x64'), { os: 'windows', architecture: 'amd64' });
    assert.deepEqual(hostPlatform('linux', 'ia32'), { os: 'linux', architecture: '386' });
  });
});

describe('platformMatches / selectPlatforms', () => {
  const amd64: Platform = { os: 'linux', architecture: 'amd64' };
  const arm64v8: Platform = { os: 'linux', architecture: 'arm64', variant: 'v8' };
  const armv6: Platform = { os: 'linux', architecture: 'arm', variant: 'v6' };
  const armv7: Platform = { os: 'linux', architecture: 'arm', variant: 'v7' };
  const attestation: Platform = { os: 'unknown', architecture: 'unknown' };
  const children = [
    { id: 'amd64', platform: amd64 },
    { id: 'arm64', platform: arm64v8 },
    { id: 'armv6', platform: armv6 },
    { id: 'armv7', platform: armv7 },
    { id: 'att', platform: attestation },
  ];

  test('a wanted variant must match; a missing one matches any', () => {
    assert.ok(platformMatches({ os: 'linux', architecture: 'arm64' }, arm64v8));
    assert.ok(platformMatches({ os: 'linux', architecture: 'arm' }, armv6));
    assert.ok(!platformMatches({ os: 'linux', architecture: 'arm', variant: 'v7' }, armv6));
    assert.ok(!platformMatches(amd64, { os: 'windows', architecture: 'amd64' }));
  });

  test('selects exactly one child for a platform', () => {
    assert.deepEqual(selectPlatforms(children, amd64, 'x').map((c) => c.id), ['amd64']);
    assert.deepEqual(selectPlatforms(children, { os: 'linux', architecture: 'arm64' }, 'x').map((c) => c.id), ['arm64']);
    assert.deepEqual(selectPlatforms(children, { os: 'linux', architecture: 'arm', variant: 'v7' }, 'x').map((c) => c.id), ['armv7']);
  });

  test("'all' gives every child except attestation manifests", () => {
    assert.deepEqual(selectPlatforms(children, 'all', 'x').map((c) => c.id), ['amd64', 'arm64', 'armv6', 'armv7']);
  });

  test('no match is E_PLATFORM listing the available platforms', () => {
    assert.throws(
      () => selectPlatforms(children, { os: 'linux', architecture: 's390x' }, 'index sha256:abc'),
      (err: unknown) => {
        assert.ok(isPortcullisError(err, 'E_PLATFORM'));
        assert.match(err.message, /linux\/s390x/);
        assert.match(err.message, /available: linux\/amd64, linux\/arm64\/v8, linux\/arm\/v6, linux\/arm\/v7$/);
        assert.deepEqual(err.details['available'], ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v6', 'linux/arm/v7']);
        return true;
      },
    );
    assert.throws(() => selectPlatforms([], 'all', 'x'), (err: unknown) => isPortcullisError(err, 'E_PLATFORM'));
  });

  test('formatPlatform is the inverse of parsePlatform', () => {
    for (const text of ['linux/amd64', 'linux/arm/v7', 'windows/amd64']) assert.equal(formatPlatform(parsePlatform(text) as Platform), text);
  });
});
