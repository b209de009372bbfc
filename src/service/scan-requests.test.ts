import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPortcullisError } from '../domain/errors.js';
import { watchedImage } from './scan-requests.js';

const HOST = '127.0.0.1:5000';
const DIGEST = `sha256:${'a'.repeat(64)}`;

test('an image of the watched registry: with or without its host, by tag or digest; a bare name is :latest', () => {
  assert.deepEqual(watchedImage('team/app:1.0', HOST), { canonical: `${HOST}/team/app:1.0`, repository: 'team/app', tag: '1.0' });
  assert.deepEqual(watchedImage(`${HOST}/team/app:1.0`, HOST), { canonical: `${HOST}/team/app:1.0`, repository: 'team/app', tag: '1.0' });
  assert.deepEqual(watchedImage(`app@${DIGEST}`, HOST), { canonical: `${HOST}/app@${DIGEST}`, repository: 'app', digest: DIGEST });
  // A digest wins over a tag, as for docker pull.
  assert.deepEqual(watchedImage(`team/app:1.0@${DIGEST}`, HOST), { canonical: `${HOST}/team/app:1.0@${DIGEST}`, repository: 'team/app', digest: DIGEST });
  assert.deepEqual(watchedImage('team/app', HOST), { canonical: `${HOST}/team/app:latest`, repository: 'team/app', tag: 'latest' });
});

test('another registry host is refused (nothing is asked of it), even one naming the same machine', () => {
  for (const other of ['docker.io/library/debian:12', 'localhost:5000/team/app:1.0', 'registry.example.com/team/app:1.0', '127.0.0.1:5001/team/app:1.0']) {
    assert.throws(
      () => watchedImage(other, HOST),
      (err: unknown) => isPortcullisError(err, 'E_INPUT') && /this service scans only images of the registry it watches, 127\.0\.0\.1:5000 \(registry\.url\)$/.test(err.message),
      other,
    );
  }
});

test('bad syntax is E_REFERENCE naming what was given', () => {
  for (const bad of ['', 'Team/App:1', 'team/app:', 'team/app@sha256:abc', 'team//app:1', 'team/app:bad tag']) {
    assert.throws(() => watchedImage(bad, HOST), (err: unknown) => isPortcullisError(err, 'E_REFERENCE') && err.message.includes(JSON.stringify(bad)), bad);
  }
});
