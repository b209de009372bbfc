import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { isPortcullisError } from '../domain/errors.js';
import { openImage } from '../image/open-image.js';
import { resolveCredentials } from '../image/registry/credentials.js';
import { credentialLookup, defaultEngineContext, serviceEngineContext, silentEngineContext, type EngineContext } from './context.js';

/** Log lines written to a string, for the format tests. */
function capture(): { destination: { write(line: string): void }; text(): string } {
  let text = '';
  return { destination: { write: (line: string) => void (text += line) }, text: () => text };
}

describe('EngineContext: allowed transports', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-context-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const service = (): EngineContext => serviceEngineContext({ logger: pino({ level: 'silent' }), bindings: { digest: 'sha256:00' } });

  for (const [reference, transport] of [
    ['dir:/etc', 'dir'],
    ['oci:/var/lib/images/layout', 'oci'],
    ['oci-archive:/tmp/image.tar', 'oci'],
    ['docker-archive:/tmp/image.tar', 'docker-archive'],
  ] as const) {
    test(`a service context refuses ${reference}: E_FORBIDDEN naming the ${transport} transport`, async () => {
      await assert.rejects(openImage(reference, {}, service()), (err: unknown) => isPortcullisError(err, 'E_FORBIDDEN') && err.message.includes(`the ${transport} transport is not allowed`) && err.details['transport'] === transport);
    });
  }

  test('the refusal comes before any file is touched: a path that does not exist is still E_FORBIDDEN, not E_NOT_FOUND', async () => {
    const missing = join(dir, 'no-such-layout');
    await assert.rejects(openImage(`oci:${missing}`, {}, silentEngineContext({ allowedTransports: ['registry'] })), (err: unknown) => isPortcullisError(err, 'E_FORBIDDEN'));
    // The same reference with the transport allowed reaches the file system.
    await assert.rejects(openImage(`oci:${missing}`, {}, silentEngineContext()), (err: unknown) => isPortcullisError(err, 'E_NOT_FOUND'));
  });

  test('the CLI context allows every transport', () => {
    assert.deepEqual([...defaultEngineContext({ destination: capture().destination }).allowedTransports].sort(), ['dir', 'docker-archive', 'oci', 'registry']);
    assert.deepEqual(service().allowedTransports, ['registry']);
  });
});

describe('EngineContext: credential sources', () => {
  let dir = '';
  let dockerConfig = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-context-creds-'));
    dockerConfig = join(dir, 'config.json');
    await writeFile(dockerConfig, JSON.stringify({ auths: { 'registry.example:5000': { auth: Buffer.from('docker-user:docker-pass').toString('base64') } } }));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const registry = 'registry.example:5000';

  test('host: flags, then the environment, then the docker config', async () => {
    const fromConfig = await resolveCredentials(registry, credentialLookup({ kind: 'host', env: {}, dockerConfigPath: dockerConfig }));
    assert.equal(fromConfig.source, 'docker-config');
    assert.equal(fromConfig.credentials?.username, 'docker-user');
    const fromEnv = await resolveCredentials(registry, credentialLookup({ kind: 'host', env: { PORTCULLIS_REGISTRY_USERNAME: 'env-user', PORTCULLIS_REGISTRY_PASSWORD: 'env-pass' }, dockerConfigPath: dockerConfig }));
    assert.equal(fromEnv.credentials?.username, 'env-user');
    const fromFlags = await resolveCredentials(registry, credentialLookup({ kind: 'host', given: { username: 'flag-user', password: 'p' }, env: {}, dockerConfigPath: dockerConfig }));
    assert.equal(fromFlags.credentials?.username, 'flag-user');
  });

  test('given and none never read the host: not its environment, not its docker config', async () => {
    const saved = { user: process.env['PORTCULLIS_REGISTRY_USERNAME'], pass: process.env['PORTCULLIS_REGISTRY_PASSWORD'], config: process.env['DOCKER_CONFIG'] };
    process.env['PORTCULLIS_REGISTRY_USERNAME'] = 'host-user';
    process.env['PORTCULLIS_REGISTRY_PASSWORD'] = 'host-pass';
    process.env['DOCKER_CONFIG'] = dir;
    try {
      // The host's process environment and docker config are what a `host` source finds...
      assert.equal((await resolveCredentials(registry, credentialLookup({ kind: 'host' }))).credentials?.username, 'host-user');
      // ...and what the service's sources never see.
      const none = await resolveCredentials(registry, credentialLookup({ kind: 'none' }));
      assert.equal(none.source, 'none');
      assert.equal(none.credentials, undefined);
      const given = await resolveCredentials(registry, credentialLookup({ kind: 'given', credentials: { username: 'svc', password: 'svc-pass' } }));
      assert.deepEqual([given.source, given.credentials?.username], ['options', 'svc']);
      const service = serviceEngineContext({ logger: pino({ level: 'silent' }), bindings: {} });
      assert.deepEqual(service.credentials, { kind: 'none' });
    } finally {
      for (const [key, value] of [['PORTCULLIS_REGISTRY_USERNAME', saved.user], ['PORTCULLIS_REGISTRY_PASSWORD', saved.pass], ['DOCKER_CONFIG', saved.config]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});

describe('EngineContext: logs', () => {
  test('the CLI context logs warnings only, as human lines; --verbose adds debug; PORTCULLIS_LOG_FORMAT=json gives JSON lines', () => {
    const quiet = capture();
    const cli = defaultEngineContext({ destination: quiet.destination, env: {} });
    cli.logger.debug({ digest: 'sha256:aa' }, 'layer read');
    cli.logger.warn({ feed: 'osv' }, 'feed stale');
    assert.equal(quiet.text(), 'portcullis: warning: feed stale feed=osv\n');

    const verbose = capture();
    defaultEngineContext({ verbose: true, destination: verbose.destination, env: {} }).logger.debug({ digest: 'sha256:aa', ms: 3 }, 'layer read');
    assert.equal(verbose.text(), 'portcullis: debug: layer read digest=sha256:aa ms=3\n');

    const json = capture();
    defaultEngineContext({ verbose: true, destination: json.destination, env: { PORTCULLIS_LOG_FORMAT: 'json' } }).logger.debug({ digest: 'sha256:aa' }, 'layer read');
    const line: unknown = JSON.parse(json.text());
    assert.ok(typeof line === 'object' && line !== null && 'msg' in line && line.msg === 'layer read' && 'digest' in line && line.digest === 'sha256:aa');
  });

  test('a secret logged by mistake is redacted', () => {
    const json = capture();
    const cli = defaultEngineContext({ verbose: true, destination: json.destination, env: { PORTCULLIS_LOG_FORMAT: 'json' } });
    cli.logger.debug({ credentials: { username: 'u', password: 'hunter2' }, headers: { authorization: 'Basic aHVudGVyMg==' } }, 'oops');
    assert.ok(!json.text().includes('hunter2') && !json.text().includes('aHVudGVyMg=='), json.text());
  });

  test('a service context logs to a child of the service logger with the job bound', () => {
    const out = capture();
    const context = serviceEngineContext({ logger: pino({ level: 'info' }, out.destination), bindings: { job: 'embedded:sha256:bb', digest: 'sha256:bb', backend: 'embedded' } });
    context.logger.info('match done');
    const line: unknown = JSON.parse(out.text());
    assert.ok(typeof line === 'object' && line !== null && 'backend' in line && line.backend === 'embedded' && 'digest' in line && line.digest === 'sha256:bb');
  });
});
