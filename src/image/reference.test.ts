import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isPortcullisError } from '../domain/errors.js';
import { formatRegistryReference, parseReference, parseRegistryReference } from './reference.js';

const D = `sha256:${'a'.repeat(64)}`;

describe('parseRegistryReference', () => {
  const cases: [string, string, string, string | undefined, string | undefined][] = [
    // input, registry, repository, tag, digest
    ['ubuntu', 'docker.io', 'library/ubuntu', 'latest', undefined],
    ['ubuntu:22.04', 'docker.io', 'library/ubuntu', '22.04', undefined],
    ['docker.io/ubuntu', 'docker.io', 'library/ubuntu', 'latest', undefined],
    ['index.docker.io/library/ubuntu:1', 'docker.io', 'library/ubuntu', '1', undefined],
    ['ns/repo', 'docker.io', 'ns/repo', 'latest', undefined],
    [`ns/repo@${D}`, 'docker.io', 'ns/repo', undefined, D],
    [`ns/repo:tag@${D}`, 'docker.io', 'ns/repo', 'tag', D],
    ['host:5000/ns/repo:tag', 'host:5000', 'ns/repo', 'tag', undefined],
    ['localhost/repo', 'localhost', 'repo', 'latest', undefined],
    ['localhost:5000/a/b/c', 'localhost:5000', 'a/b/c', 'latest', undefined],
    ['127.0.0.1:5000/repo:v1.2_3-x', '127.0.0.1:5000', 'repo', 'v1.2_3-x', undefined],
    ['quay.io/org/app', 'quay.io', 'org/app', 'latest', undefined],
    ['[::1]:5000/repo', '[::1]:5000', 'repo', 'latest', undefined],
    ['Registry/repo', 'Registry', 'repo', 'latest', undefined],
    ['a__b/c-d.e/f---g', 'docker.io', 'a__b/c-d.e/f---g', 'latest', undefined],
  ];
  for (const [input, registry, repository, tag, digest] of cases) {
    test(input, () => {
      const ref = parseRegistryReference(input);
      assert.equal(ref.registry, registry);
      assert.equal(ref.repository, repository);
      assert.equal(ref.tag, tag);
      assert.equal(ref.digest, digest);
      assert.equal(ref.input, input);
    });
  }

  test('malformed references are E_REFERENCE', () => {
    for (const bad of ['', 'UPPER', 'ns/UPPER', 'repo:', 'repo:-tag', 'repo@sha256:abc', 'repo@', '/repo', 'repo/', 'a//b', 'repo:tag:tag', `repo:${'x'.repeat(129)}`, 'has space', 'host:port:5000/x', '-repo', 'repo_']) {
      assert.throws(() => parseRegistryReference(bad), (err: unknown) => isPortcullisError(err, 'E_REFERENCE'), bad);
    }
  });

  test('formatRegistryReference gives the canonical form', () => {
    assert.equal(formatRegistryReference(parseRegistryReference('ubuntu')), 'docker.io/library/ubuntu:latest');
    assert.equal(formatRegistryReference(parseRegistryReference(`h:1/r@${D}`)), `h:1/r@${D}`);
  });
});

describe('parseReference', () => {
  const exists = (paths: string[]) => (p: string) => paths.includes(p);

  test('transports', () => {
    assert.deepEqual(parseReference('oci:/tmp/layout', { exists: exists(['/tmp/layout']) }), { transport: 'oci', input: 'oci:/tmp/layout', path: '/tmp/layout' });
    assert.deepEqual(parseReference('oci:/tmp/layout:v1', { exists: exists(['/tmp/layout']) }), {
      transport: 'oci',
      input: 'oci:/tmp/layout:v1',
      path: '/tmp/layout',
      tag: 'v1',
    });
    assert.deepEqual(parseReference('dir:/srv/root'), { transport: 'dir', input: 'dir:/srv/root', path: '/srv/root' });
    assert.deepEqual(parseReference('docker-archive:/tmp/a.tar', { exists: exists(['/tmp/a.tar']) }), {
      transport: 'docker-archive',
      input: 'docker-archive:/tmp/a.tar',
      path: '/tmp/a.tar',
    });
    assert.deepEqual(parseReference('docker-archive:/tmp/a.tar:busybox:latest', { exists: exists(['/tmp/a.tar']) }), {
      transport: 'docker-archive',
      input: 'docker-archive:/tmp/a.tar:busybox:latest',
      path: '/tmp/a.tar',
      image: 'busybox:latest',
    });
    const r = parseReference('docker://localhost:5000/x:1');
    assert.equal(r.transport, 'registry');
    assert.equal(r.transport === 'registry' && r.registry, 'localhost:5000');
    assert.equal(parseReference('ubuntu').transport, 'registry');
  });

  test('paths containing colons are split where the file exists', () => {
    const r = parseReference('oci:/tmp/a:b:tag', { exists: exists(['/tmp/a:b']) });
    assert.deepEqual(r, { transport: 'oci', input: 'oci:/tmp/a:b:tag', path: '/tmp/a:b', tag: 'tag' });
    assert.deepEqual(parseReference('oci:/tmp/a:b', { exists: exists(['/tmp/a:b']) }), { transport: 'oci', input: 'oci:/tmp/a:b', path: '/tmp/a:b' });
  });

  test('errors', () => {
    assert.throws(() => parseReference(''), (err: unknown) => isPortcullisError(err, 'E_REFERENCE'));
    assert.throws(() => parseReference('oci:'), (err: unknown) => isPortcullisError(err, 'E_REFERENCE'));
    assert.throws(() => parseReference('dir:'), (err: unknown) => isPortcullisError(err, 'E_REFERENCE'));
    assert.throws(() => parseReference('docker://'), (err: unknown) => isPortcullisError(err, 'E_REFERENCE'));
    assert.throws(() => parseReference('docker-daemon:busybox:latest'), (err: unknown) => isPortcullisError(err, 'E_UNSUPPORTED'));
  });
});
