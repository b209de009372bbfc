import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isPortcullisError } from '../../domain/errors.js';
import { resolveCredentials, runCredentialHelper } from './credentials.js';

/**
 * Real credential helpers: small shell scripts named `docker-credential-<name>` in a directory put
 * on PATH, speaking the docker-credential-helpers protocol (`get`, server URL on stdin, JSON out).
 */
describe('docker credential helpers', () => {
  let dir: string;
  let bin: string;
  let env: NodeJS.ProcessEnv;

  const helper = async (name: string, script: string): Promise<void> => {
    const path = join(bin, `docker-credential-${name}`);
    await writeFile(path, `#!/bin/sh\n${script}\n`);
    await chmod(path, 0o755);
  };
  const config = async (content: object): Promise<string> => {
    const path = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(path, JSON.stringify(content));
    return path;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-helpers-'));
    bin = join(dir, 'bin');
    await mkdir(bin);
    env = { PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` };
    // Echoes what it was asked (verb and server URL) so the tests see the protocol, not just the result.
    await helper('echo', `url=$(cat); printf '%s %s' "$1" "$url" > "${join(dir, 'echo-asked')}"; printf '{"ServerURL":"%s","Username":"user-for-%s","Secret":"s3cret"}' "$url" "$url"`);
    await helper('token', `cat >/dev/null; echo '{"ServerURL":"x","Username":"<token>","Secret":"refresh-me"}'`);
    await helper('notfound', `cat >/dev/null; echo 'credentials not found in native keychain'; exit 1`);
    await helper('broken', `cat >/dev/null; echo 'error getting credentials - err: exit status 1, out: keychain locked' >&2; exit 3`);
    await helper('garbage', `cat >/dev/null; echo 'hello'`);
    await helper('slow', `sleep 30`);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('get: the server URL goes on stdin, the JSON answer comes back as credentials', async () => {
    assert.deepEqual(await runCredentialHelper('echo', 'registry.example:5000', { env }), { username: 'user-for-registry.example:5000', password: 's3cret' });
    assert.equal(await readFile(join(dir, 'echo-asked'), 'utf8'), 'get registry.example:5000');
  });

  test('user <token> makes the secret an identity token', async () => {
    assert.deepEqual(await runCredentialHelper('token', 'h', { env }), { username: '', password: '', identityToken: 'refresh-me' });
  });

  test('"credentials not found" is no credentials (anonymous, as in Docker), not an error', async () => {
    assert.equal(await runCredentialHelper('notfound', 'h', { env }), undefined);
  });

  test('a missing, failing, garbling or hanging helper is E_AUTH naming the helper', async () => {
    const named = (name: string, message: RegExp) => (err: unknown) =>
      isPortcullisError(err, 'E_AUTH') && err.message.includes(`docker-credential-${name}`) && message.test(err.message);
    await assert.rejects(runCredentialHelper('nosuch', 'h', { env }), named('nosuch', /not installed/));
    await assert.rejects(runCredentialHelper('broken', 'h', { env }), named('broken', /failed for h \(exit 3\): .*keychain locked/));
    await assert.rejects(runCredentialHelper('garbage', 'h', { env }), named('garbage', /not JSON/));
    const started = Date.now();
    await assert.rejects(runCredentialHelper('slow', 'h', { env, timeoutMs: 300 }), named('slow', /did not answer within/));
    assert.ok(Date.now() - started < 10_000, 'the helper is killed at the timeout, not waited for');
    await assert.rejects(runCredentialHelper('../../bin/sh', 'h', { env }), (err: unknown) => isPortcullisError(err, 'E_AUTH'));
  });

  test("resolveCredentials: credHelpers[host] first, else credsStore, else auths; Docker Hub is asked as Docker names it", async () => {
    const auth = Buffer.from('fileuser:filepass').toString('base64');
    const both = await config({ credHelpers: { 'registry.example:5000': 'echo' }, credsStore: 'token', auths: { 'registry.example:5000': { auth } } });
    assert.deepEqual(await resolveCredentials('registry.example:5000', { env, dockerConfigPath: both }), {
      credentials: { username: 'user-for-registry.example:5000', password: 's3cret' },
      source: 'credential-helper',
      helper: 'echo',
    });
    // Another host falls to the store; the store's answer wins over the auths entry.
    assert.deepEqual((await resolveCredentials('other.example', { env, dockerConfigPath: both })).credentials, { username: '', password: '', identityToken: 'refresh-me' });
    const storeOnly = await config({ credsStore: 'echo', auths: { 'https://index.docker.io/v1/': {} } });
    assert.deepEqual((await resolveCredentials('docker.io', { env, dockerConfigPath: storeOnly })).credentials, {
      username: 'user-for-https://index.docker.io/v1/',
      password: 's3cret',
    });
    const noHelper = await config({ auths: { 'registry.example:5000': { auth }, 'tok.example': { identitytoken: 'idt' } } });
    assert.deepEqual(await resolveCredentials('registry.example:5000', { env, dockerConfigPath: noHelper }), {
      credentials: { username: 'fileuser', password: 'filepass' },
      source: 'docker-config',
    });
    assert.deepEqual((await resolveCredentials('tok.example', { env, dockerConfigPath: noHelper })).credentials, { username: '', password: '', identityToken: 'idt' });
    const notFound = await config({ credsStore: 'notfound', auths: { 'registry.example:5000': { auth } } });
    assert.deepEqual(await resolveCredentials('registry.example:5000', { env, dockerConfigPath: notFound }), { source: 'none', helper: 'notfound' });
    const missing = await config({ credHelpers: { 'registry.example:5000': 'nosuch' } });
    await assert.rejects(
      resolveCredentials('registry.example:5000', { env, dockerConfigPath: missing }),
      (err: unknown) => isPortcullisError(err, 'E_AUTH') && err.message.includes('credHelpers["registry.example:5000"]') && err.message.includes(missing),
    );
  });
});
