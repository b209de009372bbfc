import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pushImage, startRegistry, type RunningRegistry } from '../harness/registry.js';
import { SAMPLE_LAYERS, writeTinyLayout } from '../harness/tiny-image.js';
import { runCli } from '../support/run-cli.js';

/**
 * `~/.docker/config.json` with `credsStore` / `credHelpers`, as Docker Desktop, ECR, GCR and ACR
 * logins leave it: the CLI runs `docker-credential-<helper> get` as Docker does, against the real
 * registry (htpasswd Basic auth, and token auth for identity tokens). Each case writes its own
 * helper script into a temporary PATH directory and its own config into a temporary DOCKER_CONFIG.
 */
describe('docker credential helpers against a real registry', () => {
  let work: string;
  let bin: string;
  let layout: string;
  let basic: RunningRegistry;
  let token: RunningRegistry;
  let n = 0;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'portcullis-cred-helpers-'));
    bin = join(work, 'bin');
    await mkdir(bin);
    layout = join(work, 'layout');
    await writeTinyLayout(layout, { layers: SAMPLE_LAYERS }, 'v1');
    basic = await startRegistry({ auth: 'basic' });
    token = await startRegistry({ auth: 'token' });
    await pushImage(`oci:${layout}:v1`, `${basic.host}/tiny/app:v1`, { username: basic.username!, password: basic.password! });
    await pushImage(`oci:${layout}:v1`, `${token.host}/tiny/app:v1`, { username: token.username!, password: token.password! });
  });
  after(async () => {
    await basic?.stop();
    await token?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** A helper script `docker-credential-<name>` that records its stdin and prints `answer` (or runs `body`). */
  const helper = async (name: string, body: string): Promise<string> => {
    const asked = join(work, `asked-${name}`);
    await writeFile(join(bin, `docker-credential-${name}`), `#!/bin/sh\ncat > "${asked}"\n${body}\n`);
    await chmod(join(bin, `docker-credential-${name}`), 0o755);
    return asked;
  };
  const answer = (username: string, secret: string): string => `printf '%s' '${JSON.stringify({ ServerURL: 'x', Username: username, Secret: secret })}'`;

  /** Runs `sbom` with a fresh HOME and DOCKER_CONFIG holding `config`, the helper dir first on PATH. */
  async function sbomWith(config: object, reference: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const home = join(work, `home-${n++}`);
    await mkdir(join(home, '.docker'), { recursive: true });
    await writeFile(join(home, '.docker', 'config.json'), JSON.stringify(config));
    return runCli(['sbom', reference, '--insecure', '--no-cache', '--platform', 'linux/amd64'], {
      env: {
        HOME: home,
        DOCKER_CONFIG: join(home, '.docker'),
        PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`,
        PORTCULLIS_REGISTRY_USERNAME: '',
        PORTCULLIS_REGISTRY_PASSWORD: '',
      },
    });
  }

  test('credsStore: the helper is asked for the registry and its credentials are used', async () => {
    const asked = await helper('store-ok', answer(basic.username!, basic.password!));
    const res = await sbomWith({ credsStore: 'store-ok', auths: { [basic.host]: {} } }, `${basic.host}/tiny/app:v1`);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(await readFile(asked, 'utf8'), basic.host, 'the server URL on stdin, as Docker sends it');
    const inv = JSON.parse(res.stdout) as { layers: unknown[]; image: { repository?: string } };
    assert.equal(inv.layers.length, 2);
    assert.equal(inv.image.repository, 'tiny/app');
  });

  test('credHelpers[host] wins over credsStore and over auths', async () => {
    await helper('per-host', answer(basic.username!, basic.password!));
    await helper('store-wrong', answer('nobody', 'wrong'));
    const wrongAuth = Buffer.from('nobody:wrong').toString('base64');
    const res = await sbomWith({ credsStore: 'store-wrong', credHelpers: { [basic.host]: 'per-host' }, auths: { [basic.host]: { auth: wrongAuth } } }, `${basic.host}/tiny/app:v1`);
    assert.equal(res.code, 0, res.stderr);
  });

  test('a helper that answers wrong credentials gets the registry 401 as E_AUTH', async () => {
    await helper('store-bad', answer(basic.username!, 'not-the-password'));
    const res = await sbomWith({ credsStore: 'store-bad' }, `${basic.host}/tiny/app:v1`);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /\[E_AUTH\]\n$/);
  });

  test('a missing helper and a failing helper are E_AUTH naming the helper, exit 2', async () => {
    const missing = await sbomWith({ credsStore: 'not-installed' }, `${basic.host}/tiny/app:v1`);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^portcullis: registry: credential helper docker-credential-not-installed \(credsStore in .*config\.json\) is not installed.*\[E_AUTH\]\n$/);
    await helper('fails', `echo 'error getting credentials - err: exit status 1, out: the keychain is locked' >&2; exit 1`);
    const failing = await sbomWith({ credHelpers: { [basic.host]: 'fails' } }, `${basic.host}/tiny/app:v1`);
    assert.equal(failing.code, 2);
    assert.match(failing.stderr, /docker-credential-fails .*failed for .*the keychain is locked \[E_AUTH\]\n$/);
  });

  test('a helper that has no credentials for the registry means anonymous, and the registry says 401', async () => {
    await helper('empty-store', `echo 'credentials not found in native keychain'; exit 1`);
    const res = await sbomWith({ credsStore: 'empty-store' }, `${basic.host}/tiny/app:v1`);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /no credentials were found.*\[E_AUTH\]/);
  });

  test('user <token>: the secret is an identity token, exchanged at the token server (OAuth2 refresh grant)', async () => {
    await helper('identity', answer('<token>', token.identityToken!));
    const before = token.tokensIssued();
    const res = await sbomWith({ credsStore: 'identity' }, `${token.host}/tiny/app:v1`);
    assert.equal(res.code, 0, res.stderr);
    assert.ok(token.tokensIssued() > before, 'tokens were issued for the identity token');
    await helper('identity-bad', answer('<token>', 'revoked-token'));
    const bad = await sbomWith({ credsStore: 'identity-bad' }, `${token.host}/tiny/app:v1`);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /rejected the identity token .*invalid_grant.*\[E_AUTH\]\n$/);
  });
});
