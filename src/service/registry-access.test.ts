import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { isPortcullisError } from '../domain/errors.js';
import { openImage } from '../image/open-image.js';
import { registryAccess } from './registry-access.js';

const silent = pino({ level: 'silent' });

test("the service's engine context: registry references only, the configured credentials only", async () => {
  const withAccount = registryAccess({ url: 'http://127.0.0.1:9', username: 'svc', password: 'svc-pass' });
  const context = withAccount.engineContext(silent, { digest: 'sha256:00', backend: 'embedded' });
  assert.deepEqual(context.allowedTransports, ['registry']);
  assert.deepEqual(context.credentials, { kind: 'given', credentials: { username: 'svc', password: 'svc-pass' } });
  assert.deepEqual(withAccount.imageOptions(), { insecure: true }, 'no credentials travel in the image options');

  const harbor = registryAccess({ url: 'https://harbor.example', username: '', password: '', registryToken: 'jwt' });
  assert.deepEqual(harbor.engineContext(silent, {}).credentials, { kind: 'given', credentials: { username: '', password: '', registryToken: 'jwt' } });
  // Anonymous: never the host's docker config or environment.
  assert.deepEqual(registryAccess({ url: 'http://127.0.0.1:9', username: '', password: '' }).engineContext(silent, {}).credentials, { kind: 'none' });

  for (const reference of ['dir:/etc', 'oci:/var/lib/portcullis', 'docker-archive:/etc/passwd']) {
    await assert.rejects(openImage(reference, withAccount.imageOptions(), context), (err: unknown) => isPortcullisError(err, 'E_FORBIDDEN'), reference);
  }
});
