import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadServiceConfig } from '../config/service-config.js';
import { isPortcullisError } from '../domain/errors.js';
import { configuredBackends, diffBackendPackages, findingCounts } from './backends.js';

describe('backends from the security: section', () => {
  test('none by default: the embedded scanner alone', () => {
    assert.deepEqual(configuredBackends(loadServiceConfig({ env: {} }).security), []);
  });

  test('each backend is enabled by the presence of its server, several at once, in Portus\'s order', () => {
    const env = { PORTCULLIS_SECURITY_DUMMY_SERVER: 'builtin', PORTCULLIS_SECURITY_CLAIR_SERVER: 'http://clair.invalid:6060', PORTCULLIS_SECURITY_ZYPPER_SERVER: 'http://zypper.invalid:8080' };
    assert.deepEqual(configuredBackends(loadServiceConfig({ env }).security).map((b) => `${b.name}:${b.needs}`), ['clair:layer-urls', 'zypper:image-name', 'dummy:image-name']);
    assert.deepEqual(configuredBackends(loadServiceConfig({ env: { PORTCULLIS_SECURITY_ZYPPER_SERVER: 'http://zypper.invalid' } }).security).map((b) => b.name), ['zypper']);
  });

  test('Clair v4 is enabled by security.clair_v4.server (PORTCULLIS_SECURITY_CLAIR_V4_SERVER), after Clair v2', async () => {
    const env = { PORTCULLIS_SECURITY_CLAIR_SERVER: 'http://clair.invalid:6060', PORTCULLIS_SECURITY_CLAIR_V4_SERVER: 'http://127.0.0.1:1' };
    const backends = configuredBackends(loadServiceConfig({ env }).security);
    assert.deepEqual(backends.map((b) => `${b.name}:${b.needs}`), ['clair:layer-urls', 'clair-v4:layer-urls']);
    const health = await backends[1]?.health();
    assert.equal(health?.ok, false);
    assert.match(health?.detail ?? '', /^clair-v4 is not reachable: clair-v4: cannot reach http:\/\/127\.0\.0\.1:1\/indexer\/api\/v1\/index_state/);
  });

  test('a re-scan diff of backend results: introduced, fixed, re-rated', () => {
    const before = [{ name: 'zlib1g', version: '1', namespace: 'debian:12', vulnerabilities: [{ id: 'CVE-1', severity: 'High' }, { id: 'CVE-2', severity: 'Low' }] }];
    const after = [{ name: 'zlib1g', version: '1', namespace: 'debian:12', vulnerabilities: [{ id: 'CVE-1', severity: 'Critical' as const, backendSeverity: 'critical' }, { id: 'CVE-3', severity: 'Medium' as const, backendSeverity: 'medium', fixedBy: '2' }] }];
    const diff = diffBackendPackages('sha256:x', before, after);
    assert.deepEqual(diff.introduced.map((f) => `${f.id} ${f.severity} ${f.fixedVersions.join()}`), ['CVE-3 Medium 2']);
    assert.deepEqual(diff.fixed.map((f) => f.id), ['CVE-2']);
    assert.deepEqual(diff.severityChanged.map((f) => `${f.id} ${f.previousSeverity}->${f.severity}`), ['CVE-1 High->Critical']);
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
