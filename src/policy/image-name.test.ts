import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { imageNameMatches, parseImageRepository } from './image-name.js';

describe('parseImageRepository', () => {
  const cases: [string, ReturnType<typeof parseImageRepository>][] = [
    ['ubuntu', { path: 'ubuntu' }],
    ['ubuntu:22.04', { path: 'ubuntu' }],
    ['alpine:3.5', { path: 'alpine' }],
    ['localhost:5000/team/web:1.4.2', { registry: 'localhost:5000', path: 'team/web' }],
    ['registry:777/ubuntu:tag', { registry: 'registry:777', path: 'ubuntu' }],
    ['host:5000/ns/repo', { registry: 'host:5000', path: 'ns/repo' }],
    ['quay.io/coreos/clair:v2.0.9', { registry: 'quay.io', path: 'coreos/clair' }],
    ['docker.io/library/debian@sha256:244fd47e07d1004f0aed9c156aa09083c82bf8944eceb67c946ff7430510a77b', { registry: 'docker.io', path: 'library/debian' }],
    ['index.docker.io/library/nginx:1.25', { registry: 'docker.io', path: 'library/nginx' }],
    ['ghcr.io/Org/App:latest', { registry: 'ghcr.io', path: 'org/app' }],
    ['docker://localhost:5000/team/web:1.4.2', { registry: 'localhost:5000', path: 'team/web' }],
    ['ns/repo:tag@sha256:abc', { path: 'ns/repo' }],
    ['', { path: '' }],
  ];
  for (const [input, expected] of cases) {
    test(JSON.stringify(input), () => assert.deepEqual(parseImageRepository(input), expected));
  }
});

describe('imageNameMatches', () => {
  test('clair-scanner keys: name without tag matches any tag', () => {
    assert.equal(imageNameMatches('ubuntu', 'ubuntu:18.04'), true);
    assert.equal(imageNameMatches('alpine', 'alpine:3.5'), true);
    assert.equal(imageNameMatches('alpine', 'ubuntu:18.04'), false);
  });
  test('registry with port: the port is not taken for a tag (clair-scanner issue #74)', () => {
    assert.equal(imageNameMatches('registry:777/ubuntu', 'registry:777/ubuntu:tag'), true);
    assert.equal(imageNameMatches('host:5000/ns/repo', 'host:5000/ns/repo:tag'), true);
    assert.equal(imageNameMatches('host:5000/ns/repo', 'host:5001/ns/repo:tag'), false);
    assert.equal(imageNameMatches('registry', 'registry:777/ubuntu:tag'), false);
  });
  test('a key without registry matches the full repository path in any registry', () => {
    assert.equal(imageNameMatches('ns/repo', 'host:5000/ns/repo:tag'), true);
    assert.equal(imageNameMatches('team/web', 'localhost:5000/team/web:1.4.2'), true);
    assert.equal(imageNameMatches('ns/repo', 'host:5000/other/repo:tag'), false);
  });
  test('a bare last component does not match a longer path', () => {
    assert.equal(imageNameMatches('repo', 'host:5000/ns/repo:tag'), false);
    assert.equal(imageNameMatches('web', 'localhost:5000/team/web:1.4.2'), false);
  });
  test('Docker Hub spellings are equivalent', () => {
    assert.equal(imageNameMatches('ubuntu', 'docker.io/library/ubuntu:22.04'), true);
    assert.equal(imageNameMatches('library/ubuntu', 'ubuntu:22.04'), true);
    assert.equal(imageNameMatches('docker.io/library/ubuntu', 'ubuntu'), true);
    assert.equal(imageNameMatches('docker.io/ubuntu', 'index.docker.io/library/ubuntu:latest'), true);
    assert.equal(imageNameMatches('docker.io/library/ubuntu', 'localhost:5000/library/ubuntu'), false);
  });
  test('tags and digests on the key are ignored; empty keys match nothing', () => {
    assert.equal(imageNameMatches('ubuntu:20.04', 'ubuntu:22.04'), true);
    assert.equal(imageNameMatches('ubuntu@sha256:0123', 'ubuntu:22.04'), true);
    assert.equal(imageNameMatches('', 'ubuntu:22.04'), false);
  });
});
