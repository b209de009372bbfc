import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { sharedData } from '../../../test/support/shared-data.js';
import { isPortcullisError } from '../../domain/errors.js';
import { Authenticator, parseWwwAuthenticate } from './auth.js';
import { resolveCredentials } from './credentials.js';
import { nextLink } from './client.js';
import { parseRetryAfter } from './retry.js';

/** The Www-Authenticate values the real registry sent (auth-challenges.txt), in file order. */
function realChallenges(): string[] {
  const text = readFileSync(sharedData('registry', 'auth-challenges.txt'), 'utf8');
  return [...text.matchAll(/^\s*Www-Authenticate: (.+)$/gim)].map((m) => m[1]!.trim());
}

describe('parseWwwAuthenticate', () => {
  test('parses the challenges a real Distribution registry sends', () => {
    const [basic, bearerRoot, bearerPull, bearerPush] = realChallenges();
    assert.deepEqual(parseWwwAuthenticate(basic), [{ scheme: 'basic', params: { realm: 'harness-registry' } }]);
    assert.deepEqual(parseWwwAuthenticate(bearerRoot), [
      { scheme: 'bearer', params: { realm: 'http://127.0.0.1:5003/token', service: 'harness-registry' } },
    ]);
    assert.deepEqual(parseWwwAuthenticate(bearerPull), [
      { scheme: 'bearer', params: { realm: 'http://127.0.0.1:5003/token', service: 'harness-registry', scope: 'repository:harness/x:pull' } },
    ]);
    // the comma inside the quoted scope does not split the challenge
    assert.deepEqual(parseWwwAuthenticate(bearerPush)[0]?.params['scope'], 'repository:harness/x:pull,push');
  });

  test('several challenges, escapes, tokens and empty input', () => {
    assert.deepEqual(parseWwwAuthenticate('Basic realm="a", Bearer realm="https://auth/t",error="insufficient_scope"'), [
      { scheme: 'basic', params: { realm: 'a' } },
      { scheme: 'bearer', params: { realm: 'https://auth/t', error: 'insufficient_scope' } },
    ]);
    assert.deepEqual(parseWwwAuthenticate('Bearer realm="a\\"b", Service=tok'), [{ scheme: 'bearer', params: { realm: 'a"b', service: 'tok' } }]);
    assert.deepEqual(parseWwwAuthenticate(['Basic realm=x', 'Bearer realm=y']).map((c) => c.scheme), ['basic', 'bearer']);
    assert.deepEqual(parseWwwAuthenticate(undefined), []);
    assert.deepEqual(parseWwwAuthenticate(''), []);
  });
});

describe('Authenticator', () => {
  test('Basic sends the credentials; without them, nothing to retry with', async () => {
    const withCreds = new Authenticator('h', { username: 'u', password: 'p:w' }, () => Promise.reject(new Error('no tokens')));
    withCreds.learn(parseWwwAuthenticate('Basic realm="r"'));
    assert.equal(await withCreds.authorization('repository:x:pull'), `Basic ${Buffer.from('u:p:w').toString('base64')}`);
    const anon = new Authenticator('h', undefined, () => Promise.reject(new Error('no tokens')));
    assert.equal(await anon.respondTo(parseWwwAuthenticate('Basic realm="r"'), 'repository:x:pull', undefined), undefined);
  });

  test('Bearer tokens are cached per scope until they expire, then fetched again', async () => {
    let now = 1_000_000;
    const asked: string[] = [];
    const auth = new Authenticator(
      'h',
      { username: 'u', password: 'p' },
      async (url, authorization) => {
        asked.push(`${url.search} ${authorization}`);
        return { status: 200, body: JSON.stringify({ token: `t${asked.length}`, expires_in: 120 }) };
      },
      () => now,
    );
    auth.learn(parseWwwAuthenticate('Bearer realm="https://auth.example/token",service="svc"'));
    assert.equal(await auth.authorization('repository:a:pull'), 'Bearer t1');
    assert.equal(await auth.authorization('repository:a:pull'), 'Bearer t1');
    assert.equal(await auth.authorization('repository:b:pull'), 'Bearer t2');
    now += 116_000; // within the 5 s refresh margin of the 120 s lifetime
    assert.equal(await auth.authorization('repository:a:pull'), 'Bearer t3');
    assert.deepEqual(asked, [
      `?service=svc&scope=${encodeURIComponent('repository:a:pull')} Basic ${Buffer.from('u:p').toString('base64')}`,
      `?service=svc&scope=${encodeURIComponent('repository:b:pull')} Basic ${Buffer.from('u:p').toString('base64')}`,
      `?service=svc&scope=${encodeURIComponent('repository:a:pull')} Basic ${Buffer.from('u:p').toString('base64')}`,
    ]);
  });

  test('a token server refusing the credentials is E_AUTH', async () => {
    const auth = new Authenticator('h', { username: 'u', password: 'bad' }, async () => ({ status: 401, body: '{"errors":[{"code":"UNAUTHORIZED","message":"bad"}]}' }));
    auth.learn(parseWwwAuthenticate('Bearer realm="https://auth.example/token"'));
    await assert.rejects(auth.authorization('repository:a:pull'), (err: unknown) => isPortcullisError(err, 'E_AUTH') && /rejected the credentials/.test(err.message));
  });
});

describe('resolveCredentials', () => {
  let dir: string;
  let config: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-creds-'));
    config = join(dir, 'config.json');
    await writeFile(
      config,
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: Buffer.from('hubuser:hub:pass').toString('base64') },
          'localhost:5000': { username: 'fielduser', password: 'fieldpass' },
          'http://Example.COM:8443/v2/': { auth: Buffer.from('ex:pw').toString('base64') },
          'broken.example': { auth: 'not base64 user pass' },
        },
      }),
    );
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('docker config: base64 auth, username/password fields, keys with scheme and path', async () => {
    assert.deepEqual(await resolveCredentials('docker.io', { env: {}, dockerConfigPath: config }), {
      credentials: { username: 'hubuser', password: 'hub:pass' },
      source: 'docker-config',
    });
    assert.deepEqual((await resolveCredentials('localhost:5000', { env: {}, dockerConfigPath: config })).credentials, { username: 'fielduser', password: 'fieldpass' });
    assert.deepEqual((await resolveCredentials('example.com:8443', { env: {}, dockerConfigPath: config })).credentials, { username: 'ex', password: 'pw' });
    assert.deepEqual(await resolveCredentials('broken.example', { env: {}, dockerConfigPath: config }), { source: 'none' });
    assert.deepEqual(await resolveCredentials('other.example', { env: {}, dockerConfigPath: config }), { source: 'none' });
  });

  test('precedence: options > environment > docker config; DOCKER_CONFIG locates the file', async () => {
    const env = { PORTCULLIS_REGISTRY_USERNAME: 'envuser', PORTCULLIS_REGISTRY_PASSWORD: 'envpass', DOCKER_CONFIG: dir };
    assert.deepEqual(await resolveCredentials('localhost:5000', { credentials: { username: 'flag', password: 'x' }, env }), {
      credentials: { username: 'flag', password: 'x' },
      source: 'options',
    });
    assert.deepEqual(await resolveCredentials('localhost:5000', { env }), { credentials: { username: 'envuser', password: 'envpass' }, source: 'env' });
    assert.deepEqual(await resolveCredentials('localhost:5000', { env: { DOCKER_CONFIG: dir } }), {
      credentials: { username: 'fielduser', password: 'fieldpass' },
      source: 'docker-config',
    });
    assert.deepEqual(await resolveCredentials('localhost:5000', { env: { DOCKER_CONFIG: join(dir, 'absent') } }), { source: 'none' });
  });

  test('a config file that is not JSON is E_CONFIG', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{');
    await assert.rejects(resolveCredentials('x', { env: {}, dockerConfigPath: bad }), (err: unknown) => isPortcullisError(err, 'E_CONFIG'));
  });
});

describe('small parsers', () => {
  test('Link rel="next"', () => {
    assert.equal(nextLink('</v2/_catalog?last=b&n=2>; rel="next"'), '/v2/_catalog?last=b&n=2');
    assert.equal(nextLink('<https://x/a>; rel="prev", <https://x/b>; rel=next'), 'https://x/b');
    assert.equal(nextLink(undefined), undefined);
    assert.equal(nextLink('<https://x/a>; rel="prev"'), undefined);
  });

  test('Retry-After as seconds or HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('3', now), 3000);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now), 10_000);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });
});
