import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadServiceConfig } from '../config/service-config.js';
import { isPortcullisError } from '../domain/errors.js';
import { configuredBackends, findingCounts } from './backends.js';

describe('backends from the security: section', () => {
  test('none by default: the embedded scanner alone', () => {
    assert.deepEqual(configuredBackends(loadServiceConfig({ env: {} }).security), []);
  });

  test('each backend is enabled by the presence of its server, several at once, in Portus\'s order', () => {
    const env = { PORTCULLIS_SECURITY_DUMMY_SERVER: 'builtin', PORTCULLIS_SECURITY_CLAIR_SERVER: 'http://clair.invalid:6060', PORTCULLIS_SECURITY_ZYPPER_SERVER: 'http://zypper.invalid:8080' };
    assert.deepEqual(configuredBackends(loadServiceConfig({ env }).security).map((b) => `${b.name}:${b.needs}`), ['clair:layer-urls', 'zypper:image-name', 'dummy:image-name']);
    assert.deepEqual(configuredBackends(loadServiceConfig({ env: { PORTCULLIS_SECURITY_ZYPPER_SERVER: 'http://zypper.invalid' } }).security).map((b) => b.name), ['zypper']);
  });

  test('Clair\'s health goes to the health port of the server\'s host', async () => {
    const [clair] = configuredBackends(loadServiceConfig({ env: { PORTCULLIS_SECURITY_CLAIR_SERVER: 'http://127.0.0.1:1', PORTCULLIS_SECURITY_CLAIR_HEALTH_PORT: '2' } }).security);
    const health = await clair?.health();
    assert.equal(health?.ok, false);
    assert.match(health?.detail ?? '', /^clair is not reachable: clair: GET http:\/\/127\.0\.0\.1:2\/health: cannot reach the server/);
  });

  test('a dummy setting that names no fixture stops the start with E_CONFIG naming the key and where it came from', () => {
    assert.throws(
      () => loadServiceConfig({ env: { PORTCULLIS_SECURITY_DUMMY_SERVER: 'yes' } }),
      (err: unknown) => isPortcullisError(err, 'E_CONFIG') && err.message === 'config: security.dummy.server (from PORTCULLIS_SECURITY_DUMMY_SERVER): expected "", "builtin", "pending" or "fixture:/path/to/fixture.json"',
    );
    assert.throws(
      () => configuredBackends(loadServiceConfig({ env: { PORTCULLIS_SECURITY_DUMMY_SERVER: 'fixture:/nonexistent/fixture.json' } }).security),
      (err: unknown) => isPortcullisError(err, 'E_CONFIG') && err.message === 'config: security.dummy.server: dummy: /nonexistent/fixture.json: file not found',
    );
  });

  test('counts: one per package and vulnerability, on the normalized scale', () => {
    const v = (id: string, severity: 'High' | 'Critical') => ({ id, severity, backendSeverity: severity });
    assert.deepEqual(findingCounts([{ name: 'a', version: '1', vulnerabilities: [v('CVE-1', 'High'), v('CVE-2', 'Critical')] }, { name: 'b', version: '1', vulnerabilities: [v('CVE-1', 'High')] }]), { High: 2, Critical: 1 });
    assert.deepEqual(findingCounts([]), {});
  });
});
