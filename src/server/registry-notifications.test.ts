import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { sharedData } from '../../test/support/shared-data.js';
import { classifyEvent, notificationEnvelopeSchema, toStoredEvent, type RegistryNotificationEvent } from './registry-notifications.js';

/** The ten real notification bodies a Docker Distribution 2.8.2 registry POSTed, in order. */
function realEvents(): RegistryNotificationEvent[] {
  return readFileSync(sharedData('registry', 'notification-events.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((line) => notificationEnvelopeSchema.parse((JSON.parse(line) as { body: unknown }).body).events);
}

test('real registry events: manifest pushes (OCI manifest and OCI index) and the tag delete go to the processor; blob push, pulls and mount are skipped', () => {
  const classes = realEvents().map((e) => [e.id, e.action, classifyEvent(e).kind]);
  assert.deepEqual(classes, [
    ['3752dec4-aa2f-4671-9d14-b4928a613a50', 'push', 'skip'],
    ['14cc2582-d46a-4986-9fec-5f34254dbff9', 'push', 'manifest-push'],
    ['e32d64de-e567-40e5-8180-51a7f7b1e26b', 'pull', 'skip'],
    ['3146f913-302f-46be-8674-d353172148b5', 'mount', 'skip'],
    ['90c1fe9b-39ab-48a2-a5da-a0235ee72b9e', 'push', 'manifest-push'],
    ['de037920-c906-466a-821c-fd076de4c59f', 'push', 'manifest-push'],
    ['cd945adf-4945-432e-ad3f-f1c71eb9e299', 'pull', 'skip'],
    ['3ce64230-aa3c-4fec-b08c-bc42ef1484b7', 'pull', 'skip'],
    ['4ed632ae-2983-4e99-a329-c0ce02a4d40c', 'pull', 'skip'],
    ['2ca237f7-4dce-49c8-ac3b-c4bec7f65062', 'delete', 'delete'],
  ]);
});

test('the stored form keeps every field the registry sent, and the skip reason', () => {
  const [blob, manifest] = realEvents();
  const storedBlob = toStoredEvent(blob as RegistryNotificationEvent);
  assert.equal(storedBlob.status, 'skipped');
  assert.match(storedBlob.note ?? '', /^blob push/);
  const stored = toStoredEvent(manifest as RegistryNotificationEvent);
  assert.deepEqual(
    { status: stored.status, repository: stored.repository, tag: stored.tag, mediaType: stored.mediaType, digest: stored.digest, timestamp: stored.timestamp },
    {
      status: 'fresh',
      repository: 'harness/bookworm-extras',
      tag: 'latest',
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: 'sha256:1b255487dfaee2fe55e6bcb97338811e47e3da908d94dab34afbecbc3cafc667',
      timestamp: '2026-11-23T15:44:39.707105859Z',
    },
  );
  assert.deepEqual(stored.payload, manifest, 'request, actor, source and target.references are kept as sent');
  assert.ok((stored.payload as { request?: { useragent?: string } }).request?.useragent?.startsWith('skopeo/'));
});

test('Docker schema 2 manifests and manifest lists are scanned; schema 1, other objects and malformed names are skipped with the reason', () => {
  const event = (target: Record<string, unknown>, action = 'push'): RegistryNotificationEvent =>
    notificationEnvelopeSchema.parse({ events: [{ id: 'x', action, target: { repository: 'team/app', digest: `sha256:${'a'.repeat(64)}`, ...target } }] }).events[0] as RegistryNotificationEvent;
  assert.equal(classifyEvent(event({ mediaType: 'application/vnd.docker.distribution.manifest.v2+json' })).kind, 'manifest-push');
  assert.equal(classifyEvent(event({ mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json' })).kind, 'manifest-push');
  assert.deepEqual(classifyEvent(event({ mediaType: 'application/vnd.docker.distribution.manifest.v1+prettyjws' })), {
    kind: 'skip',
    note: 'Docker schema 1 manifest (application/vnd.docker.distribution.manifest.v1+prettyjws) is not supported; push it again as schema 2 or OCI',
  });
  assert.deepEqual(classifyEvent(event({ mediaType: 'application/vnd.cncf.helm.config.v1+json' })), { kind: 'skip', note: 'push of application/vnd.cncf.helm.config.v1+json: not a manifest' });
  assert.deepEqual(classifyEvent(event({ mediaType: 'application/vnd.oci.image.manifest.v1+json', repository: "x'; DROP TABLE tags; --" })), {
    kind: 'skip',
    note: `malformed repository name "x'; DROP TABLE tags; --"`,
  });
  assert.deepEqual(classifyEvent(event({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:short' })), { kind: 'skip', note: 'malformed digest "sha256:short"' });
  assert.deepEqual(classifyEvent(event({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: undefined })), { kind: 'skip', note: 'manifest push without target.repository or target.digest' });
  assert.equal(classifyEvent(event({ digest: undefined, tag: 'old' }, 'delete')).kind, 'delete', 'a tag delete names no digest');
  assert.deepEqual(classifyEvent(event({}, 'replicate')), { kind: 'skip', note: 'unknown action "replicate"' });
});

test('the envelope schema keeps unknown fields and refuses what is not an envelope', () => {
  const parsed = notificationEnvelopeSchema.parse({ events: [{ id: 'a', action: 'push', newField: 1, target: { extra: true } }], other: 'x' });
  assert.deepEqual(parsed, { events: [{ id: 'a', action: 'push', newField: 1, target: { extra: true } }], other: 'x' });
  assert.equal(notificationEnvelopeSchema.safeParse({ events: {} }).success, false);
  assert.equal(notificationEnvelopeSchema.safeParse({ events: [{ action: 'push' }] }).success, false, 'an event without an id cannot be deduplicated');
  assert.equal(notificationEnvelopeSchema.safeParse([]).success, false);
});
