import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { sharedData } from '../../../test/support/shared-data.js';
import { isPortcullisError } from '../../domain/errors.js';
import { clairLayerName } from './backend.js';
import { convertLayer, parseLayerEnvelope } from './convert.js';

/** The answer a real Clair v2.0.9 gave for the top layer of a 6-layer image (synthetic CVE-0000-* vulnerabilities). */
function recordedTop(): unknown {
  const sample = JSON.parse(readFileSync(sharedData('api-samples', 'clair-v2', '32_synthetic_get_top_layer_multilayer_portus_query.json'), 'utf8')) as { response_body: unknown };
  return sample.response_body;
}

describe('Clair v2 layer answers -> findings', () => {
  test('the recorded answer: only features with vulnerabilities become findings; every field kept', () => {
    const output = convertLayer(parseLayerEnvelope(recordedTop(), 'GET'));
    assert.equal(output.packageCount, 128);
    assert.deepEqual(output.packages, [
      {
        name: 'ncurses',
        version: '6.4-4',
        namespace: 'debian:12',
        addedBy: 'sha256:6b90cd48b96c6d67bbe727f08ea716d8074f90a50c317c06062f3e4f487d3c27',
        vulnerabilities: [
          { id: 'CVE-0000-1002', severity: 'Low', backendSeverity: 'Low', link: 'https://security-tracker.debian.org/tracker/CVE-0000-1002', description: 'SYNTHETIC test vulnerability, no fix (Version None)', namespace: 'debian:12' },
        ],
      },
      {
        name: 'zlib',
        version: '1:1.2.13.dfsg-1',
        namespace: 'debian:12',
        addedBy: 'sha256:6b90cd48b96c6d67bbe727f08ea716d8074f90a50c317c06062f3e4f487d3c27',
        vulnerabilities: [
          {
            id: 'CVE-0000-1001',
            severity: 'High',
            backendSeverity: 'High',
            fixedBy: '1:1.2.13.dfsg-2',
            link: 'https://security-tracker.debian.org/tracker/CVE-0000-1001',
            description: 'SYNTHETIC test vulnerability inserted via the Clair v1 API (not real data)',
            namespace: 'debian:12',
            metadata: { NVD: { CVSSv2: { Score: 7.5, Vectors: 'AV:N/AC:L/Au:N/C:P/I:P/A:P' } } },
          },
          { id: 'CVE-0000-1004', severity: 'Unknown', backendSeverity: 'Unknown', fixedBy: '1:1.2.13.dfsg-1+deb12u9', link: 'https://security-tracker.debian.org/tracker/CVE-0000-1004', description: 'SYNTHETIC, severity Unknown, fixed later', namespace: 'debian:12' },
        ],
      },
    ]);
  });

  test('Defcon1, above Critical on Clair v2\'s scale, is Critical here and keeps its word', () => {
    const doc = recordedTop() as { Layer: { Features: { Name: string; Vulnerabilities?: { Severity: string }[] }[] } };
    const zlib = doc.Layer.Features.find((f) => f.Name === 'zlib');
    assert.ok(zlib?.Vulnerabilities?.[0]);
    zlib.Vulnerabilities[0].Severity = 'Defcon1';
    const v = convertLayer(parseLayerEnvelope(doc, 'GET')).packages.find((p) => p.name === 'zlib')?.vulnerabilities[0];
    assert.deepEqual([v?.id, v?.severity, v?.backendSeverity], ['CVE-0000-1001', 'Critical', 'Defcon1']);
  });

  test('a layer without a package DB (no Features key) has no findings and no packages', () => {
    assert.deepEqual(convertLayer(parseLayerEnvelope({ Layer: { Name: 'x', IndexedByVersion: 3 } }, 'GET')), { packageCount: 0, packages: [] });
  });

  test('a 200 of another shape is an error naming the first mismatch', () => {
    for (const [doc, reason] of [
      [{ Error: { Message: 'x' } }, /at Layer: /],
      [{ Layer: { Name: 'x', Features: [{ Name: 'zlib', Vulnerabilities: [{ Severity: 'High' }] }] } }, /at Layer\.Features\[0\]\.Vulnerabilities\[0\]\.Name: /],
      [[], /unexpected body/],
    ] as const) {
      assert.throws(() => parseLayerEnvelope(doc, 'GET /v1/layers/x'), (err: unknown) => isPortcullisError(err, 'E_INTERNAL') && err.message.startsWith('clair: GET /v1/layers/x answered 200 with an unexpected body') && reason.test(err.message));
    }
  });

  test('layer names: per image, so a blob two images share is two Clair layers; within Clair\'s 128-character column', () => {
    const layer = 'sha256:6b90cd48b96c6d67bbe727f08ea716d8074f90a50c317c06062f3e4f487d3c27';
    const a = clairLayerName(`sha256:${'1'.repeat(64)}`, layer);
    const b = clairLayerName(`sha256:${'2'.repeat(64)}`, layer);
    assert.notEqual(a, b);
    assert.equal(a, clairLayerName(`sha256:${'1'.repeat(64)}`, layer), 'stable: a re-scan reuses what Clair indexed');
    assert.match(a, /^sha256:[0-9a-f]{64}$/);
  });
});
