import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { PortcullisError } from '../domain/errors.js';
import { DEFAULT_SERVICE_CONFIG, defaultDataDir, envName, intervalMs, loadServiceConfig, parseListen, resolveDatabase } from './service-config.js';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function configFile(text: string): string {
  const file = join(dir, `config-${n++}.yml`);
  writeFileSync(file, text);
  return file;
}

/** The E_CONFIG message loading fails with (fails the test when loading succeeds). */
function configFailure(options: { file?: string; env?: NodeJS.ProcessEnv }): string {
  try {
    loadServiceConfig({ env: {}, ...options });
  } catch (err) {
    assert.ok(err instanceof PortcullisError, String(err));
    assert.equal(err.code, 'E_CONFIG');
    assert.equal(err.exitCode, 2);
    return err.message;
  }
  assert.fail('the configuration was accepted');
}

describe('service configuration', () => {
  test('Harbor: harbor_scanner (the adapter API) and security.harbor (adapters as backends)', () => {
    const config = loadServiceConfig({
      env: { PORTCULLIS_HARBOR_SCANNER_BASE: '/scanners/portcullis' },
      file: configFile('harbor_scanner:\n  allowed_registries: ["https://core.harbor.example"]\nsecurity:\n  harbor:\n    - { name: trivy, url: "http://trivy-adapter:8080", auth: "Bearer xyz" }\n    - { name: clair, url: "http://clair-adapter:8080", timeout: 60 }\n'),
    });
    assert.deepEqual(config.harbor_scanner, { enabled: true, base: '/scanners/portcullis', allowed_registries: ['https://core.harbor.example'] });
    assert.deepEqual(config.security.harbor, [
      { name: 'trivy', url: 'http://trivy-adapter:8080', auth: 'Bearer xyz', timeout: 900 },
      { name: 'clair', url: 'http://clair-adapter:8080', auth: '', timeout: 60 },
    ]);
    assert.match(configFailure({ file: configFile('security:\n  harbor:\n    - { name: trivy, url: "http://t:8080", auth: "xyz" }\n') }), /^config: security\.harbor\[0\]\.auth \(in .*\): expected "Bearer <token>", "Basic <base64>" or ""$/);
    assert.match(configFailure({ env: { PORTCULLIS_HARBOR_SCANNER_BASE: 'harbor' } }), /^config: harbor_scanner\.base \(from PORTCULLIS_HARBOR_SCANNER_BASE\): expected a path such as \/harbor$/);
    assert.match(configFailure({ file: configFile('harbor_scanner:\n  allowed_registries: ["core.harbor"]\n') }), /harbor_scanner\.allowed_registries\[0\]/);
  });

  test('no file and no environment: the embedded defaults', () => {
    const config = loadServiceConfig({ env: {} });
    assert.deepEqual(config, DEFAULT_SERVICE_CONFIG);
    assert.equal(config.http.listen, '127.0.0.1:8080');
    assert.equal(config.security.embedded.enabled, true);
    assert.equal(config.registry.catalog_sync.strategy, 'initial');
  });

  test('a file that sets one key keeps every other default; an empty file is the defaults', () => {
    const config = loadServiceConfig({ env: {}, file: configFile('registry:\n  url: http://127.0.0.1:5000\n') });
    assert.equal(config.registry.url, 'http://127.0.0.1:5000');
    assert.equal(config.registry.catalog_sync.interval, '10m');
    assert.equal(config.http.listen, '127.0.0.1:8080');
    assert.deepEqual(loadServiceConfig({ env: {}, file: configFile('# nothing yet\n') }), DEFAULT_SERVICE_CONFIG);
  });

  test("Portus's security section is accepted as it is written in Portus's config.yml", () => {
    // The keys and defaults of SUSE/Portus@master:config/config.yml `security:` (compatibility.md 1.1),
    // with a Clair v2 server filled in as Portus's compose example does.
    const portus = ['security:', '  clair:', '    server: "http://clair:6060"', '    health_port: 6061', '    timeout: 900', '  zypper:', '    server: ""', '  dummy:', '    server: ""', ''].join('\n');
    const config = loadServiceConfig({ env: {}, file: configFile(portus) });
    assert.deepEqual(config.security.clair, { server: 'http://clair:6060', health_port: 6061, timeout: 900 });
    assert.equal(config.security.embedded.enabled, true, 'the embedded scanner stays on beside Portus backends');
  });

  test('environment overrides: PORTCULLIS_ + the key path upper-cased, typed by the key they set', () => {
    const env = {
      PORTCULLIS_SECURITY_CLAIR_SERVER: 'http://clair:6060',
      PORTCULLIS_SECURITY_CLAIR_TIMEOUT: '120',
      PORTCULLIS_SECURITY_EMBEDDED_ENABLED: 'FALSE',
      PORTCULLIS_REGISTRY_PASSWORD: '0123',
      PORTCULLIS_REGISTRY_CATALOG_SYNC_STRATEGY: 'update-delete',
      PORTCULLIS_DB: '/somewhere/vuln.db', // the CLI's own variable: not a config key, ignored here
    };
    const config = loadServiceConfig({ env, file: configFile('security:\n  clair:\n    server: http://other:6060\n    timeout: 30\n') });
    assert.equal(config.security.clair.server, 'http://clair:6060', 'the environment wins over the file');
    assert.equal(config.security.clair.timeout, 120);
    assert.equal(config.security.embedded.enabled, false);
    assert.equal(config.registry.password, '0123', 'digits stay text for a string key');
    assert.equal(config.registry.catalog_sync.strategy, 'update-delete');
    assert.equal(envName(['security', 'clair', 'health_port']), 'PORTCULLIS_SECURITY_CLAIR_HEALTH_PORT');
  });

  test('security.clair_v4: off by default; set by file or by PORTCULLIS_SECURITY_CLAIR_V4_*, beside an untouched Clair v2 section', () => {
    assert.deepEqual(DEFAULT_SERVICE_CONFIG.security.clair_v4, { server: '', matcher: '', psk: { key: '', issuer: '' }, timeout: 900 });
    const file = configFile('security:\n  clair_v4:\n    server: http://clair:6060\n    psk:\n      key: c2VjcmV0\n      issuer: portcullis\n');
    const env = { PORTCULLIS_SECURITY_CLAIR_V4_SERVER: 'http://clairv4:8080', PORTCULLIS_SECURITY_CLAIR_V4_MATCHER: 'http://matcher:8080', PORTCULLIS_SECURITY_CLAIR_V4_TIMEOUT: '60', PORTCULLIS_SECURITY_CLAIR_V4_PSK_ISSUER: 'quay' };
    const config = loadServiceConfig({ env, file });
    assert.deepEqual(config.security.clair_v4, { server: 'http://clairv4:8080', matcher: 'http://matcher:8080', psk: { key: 'c2VjcmV0', issuer: 'quay' }, timeout: 60 });
    assert.deepEqual(config.security.clair, DEFAULT_SERVICE_CONFIG.security.clair, "Portus's clair: (v2) keys are not touched by clair_v4");
    assert.match(configFailure({ env: { PORTCULLIS_SECURITY_CLAIR_V4_PSK_KEY: 'not base64!' } }), /security\.clair_v4\.psk\.key \(from PORTCULLIS_SECURITY_CLAIR_V4_PSK_KEY\): .*base64/);
    assert.match(configFailure({ env: { PORTCULLIS_SECURITY_CLAIR_V4_SERVER: 'clair:6060' } }), /security\.clair_v4\.server \(from PORTCULLIS_SECURITY_CLAIR_V4_SERVER\): .*http/);
  });

  test('webhooks: a list of URLs with the secret their bodies are signed with', () => {
    const config = loadServiceConfig({ env: {}, file: configFile('webhooks:\n  - url: https://hooks.example.com/portcullis\n    secret: s3cret\n') });
    assert.deepEqual(config.webhooks, [{ url: 'https://hooks.example.com/portcullis', secret: 's3cret' }]);
  });

  test('an unknown key stops loading with its full path and the key it was probably meant to be', () => {
    assert.match(configFailure({ file: configFile('security:\n  clair:\n    sever: http://clair:6060\n') }), /unknown key "security\.clair\.sever" in .*config-\d+\.yml \(did you mean "security\.clair\.server"\?\)/);
    assert.match(configFailure({ file: configFile('registy:\n  url: http://x\n') }), /unknown key "registy"/);
  });

  test('a wrong type or a bad value names the key, where it came from and why', () => {
    assert.match(configFailure({ env: { PORTCULLIS_SECURITY_CLAIR_TIMEOUT: 'soon' } }), /config: security\.clair\.timeout \(from PORTCULLIS_SECURITY_CLAIR_TIMEOUT\): .*number/);
    assert.match(configFailure({ env: { PORTCULLIS_SECURITY_EMBEDDED_ENABLED: 'yes' } }), /security\.embedded\.enabled \(from PORTCULLIS_SECURITY_EMBEDDED_ENABLED\): .*boolean/);
    assert.match(configFailure({ file: configFile('http:\n  listen: 8080\n') }), /config: http\.listen \(in .*\): .*string/);
    assert.match(configFailure({ file: configFile('http:\n  listen: "localhost"\n') }), /http\.listen .*HOST:PORT/);
    assert.match(configFailure({ file: configFile('registry:\n  catalog_sync:\n    strategy: sometimes\n') }), /registry\.catalog_sync\.strategy/);
    assert.match(configFailure({ file: configFile('registry:\n  catalog_sync:\n    interval: 10 minutes\n') }), /registry\.catalog_sync\.interval .*duration/);
    assert.match(configFailure({ file: configFile('registry:\n  url: ftp://registry\n') }), /registry\.url .*http/);
    assert.match(configFailure({ file: configFile('database:\n  url: mysql://db/portcullis\n') }), /database\.url .*postgres/);
    assert.match(configFailure({ file: configFile('webhooks:\n  - url: https://hooks.example.com\n') }), /webhooks\[0\]\.secret/);
    assert.match(configFailure({ file: configFile('security:\n  clair:\n    health_port: 70000\n') }), /security\.clair\.health_port/);
  });

  test('a file that is missing, not YAML, or not a mapping is E_CONFIG naming the file', () => {
    assert.match(configFailure({ file: join(dir, 'absent.yml') }), /absent\.yml: file not found/);
    assert.match(configFailure({ file: configFile('http: [unclosed\n') }), /invalid YAML at line/);
    assert.match(configFailure({ file: configFile('- just\n- a list\n') }), /expected a mapping of sections/);
  });

  test('helpers: listen addresses, intervals, the data directory and the database', () => {
    assert.deepEqual(parseListen('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
    assert.equal(parseListen('127.0.0.1:99999'), undefined);
    assert.equal(intervalMs(''), undefined);
    assert.equal(intervalMs('10m'), 600_000);
    assert.equal(defaultDataDir({ PORTCULLIS_DATA_DIR: '/srv/pc' }), '/srv/pc');
    assert.equal(defaultDataDir({ XDG_DATA_HOME: '/x', HOME: '/h' }), '/x/portcullis');
    assert.equal(defaultDataDir({ XDG_DATA_HOME: 'relative', HOME: '/h' }), '/h/.local/share/portcullis');
    const base = loadServiceConfig({ env: {} });
    assert.deepEqual(resolveDatabase(base, { PORTCULLIS_DATA_DIR: '/srv/pc' }), { kind: 'sqlite', file: '/srv/pc/portcullis.sqlite' });
    assert.deepEqual(resolveDatabase({ ...base, database: { url: 'postgres://u@db/pc' } }), { kind: 'postgres', url: 'postgres://u@db/pc' });
    assert.deepEqual(resolveDatabase({ ...base, database: { url: '/var/lib/pc.sqlite' } }), { kind: 'sqlite', file: '/var/lib/pc.sqlite' });
  });
});
