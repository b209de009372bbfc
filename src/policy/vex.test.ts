import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isPortcullisError } from '../domain/errors.js';
import type { Finding } from '../domain/finding.js';
import { sharedData } from '../../test/support/shared-data.js';
import { loadVex, parseVex, targetFromId, vexIds, vexSuppression, type VexImage } from './vex.js';
import { fixtureFindings, IMAGE_NAME, MANIFEST_DIGEST } from './test-support/scan-fixtures.js';

const UBUNTU_VEX = sharedData('feeds', 'ubuntu', 'vex', 'CVE-2023-38545.json');
const JAMMY: VexImage = { name: 'localhost:5000/ops/toolbox:22.04', digests: [] };

/** A finding as the Ubuntu matcher would report it for CVE-2023-38545 on one installed curl binary. */
function ubuntuCurl(name: string, version: string, release: string, id = 'CVE-2023-38545', aliases: string[] = []): Finding {
  const base = fixtureFindings()[0];
  assert.ok(base);
  return {
    ...base,
    id,
    aliases,
    namespace: `ubuntu:${release}`,
    package: {
      ecosystem: 'deb',
      name,
      version,
      sourceName: 'curl',
      arch: 'amd64',
      purl: `pkg:deb/ubuntu/${name}@${encodeURIComponent(version)}?arch=amd64&distro=ubuntu-${release}`,
      path: 'var/lib/dpkg/status',
      layer: 'sha256:0d9d5f0f84a1a4f7a3d6bcb04e7c6f7e9d47db1c7aa3a5e9a1a39b4b1f7b6e0a',
      layerIndex: 0,
    },
  };
}

describe('OpenVEX: the Ubuntu CVE-2023-38545 document', () => {
  const doc = loadVex(UBUNTU_VEX);

  test('is read whole: three statements with their products, ids from name, @id and aliases', () => {
    assert.equal(doc.format, 'openvex');
    assert.equal(doc.author, 'Canonical Ltd.');
    assert.equal(doc.id, 'https://github.com/canonical/ubuntu-security-notices/blob/main/vex/cve/2023/CVE-2023-38545');
    assert.deepEqual(doc.statements.map((s) => s.status), ['fixed', 'affected', 'not_affected']);
    assert.deepEqual(doc.statements.map((s) => s.products.length), [149, 113, 356]);
    assert.deepEqual(doc.statements[0]?.ids, ['CVE-2023-38545', 'USN-6429-1', 'USN-6429-3']);
    assert.equal(doc.statements[2]?.justification, 'vulnerable_code_not_present');
    assert.deepEqual(doc.statements[0]?.products[0]?.target, { kind: 'package', purl: 'pkg:deb/ubuntu/curl@7.81.0-1ubuntu1.24?arch=source&distro=jammy' });
  });

  test('fixed: the listed jammy version is suppressed, with the status notes as reason', () => {
    const s = vexSuppression([doc], ubuntuCurl('libcurl4', '7.81.0-1ubuntu1.24', '22.04'), JAMMY);
    assert.ok(s);
    assert.equal(s.status, 'fixed');
    assert.equal(s.reason, 'VEX fixed: This package (for the given release) was vulnerable, but an update has been uploaded and published. (by Canonical Ltd.)');
  });

  test('fixed applies to the version listed only: an older jammy build stays reported', () => {
    assert.equal(vexSuppression([doc], ubuntuCurl('libcurl4', '7.81.0-1ubuntu1.13', '22.04'), JAMMY), undefined);
  });

  test('not_affected keeps the justification and impact statement', () => {
    const s = vexSuppression([doc], ubuntuCurl('libcurl4', '7.68.0-1ubuntu2.25+esm3', '20.04'), JAMMY);
    assert.ok(s);
    assert.equal(s.status, 'not_affected');
    assert.match(s.reason, /^VEX not_affected \(vulnerable_code_not_present\): This package \(for the given release\), while related to the CVE/);
    assert.match(s.reason, /affects 7\.69 and higher/);
  });

  test('affected does not suppress', () => {
    assert.equal(vexSuppression([doc], ubuntuCurl('curl', '7.47.0-1ubuntu2.19', '16.04'), JAMMY), undefined);
  });

  test('matching is by id or alias: a USN finding and a finding aliased to the CVE are both covered', () => {
    assert.equal(vexSuppression([doc], ubuntuCurl('libcurl4', '7.81.0-1ubuntu1.24', '22.04', 'USN-6429-1'), JAMMY)?.status, 'fixed');
    assert.equal(vexSuppression([doc], ubuntuCurl('libcurl4', '7.81.0-1ubuntu1.24', '22.04', 'UBUNTU-CVE-2023-38545', ['CVE-2023-38545']), JAMMY)?.status, 'fixed');
    assert.equal(vexSuppression([doc], ubuntuCurl('libcurl4', '7.81.0-1ubuntu1.24', '22.04', 'CVE-2023-38546'), JAMMY), undefined);
  });

  test('the arch=source product covers binaries of that source not listed by name', () => {
    assert.equal(vexSuppression([doc], ubuntuCurl('libcurl4t64', '7.81.0-1ubuntu1.24', '22.04'), JAMMY)?.status, 'fixed');
  });

  test('a package of another source is not suppressed', () => {
    const wget = ubuntuCurl('wget', '7.81.0-1ubuntu1.24', '22.04');
    wget.package.sourceName = 'wget';
    assert.equal(vexSuppression([doc], wget, JAMMY), undefined);
  });
});

describe('OpenVEX: products, subcomponents, ordering', () => {
  const [zlib, openssl, curl] = fixtureFindings();
  assert.ok(zlib && openssl && curl);
  const image: VexImage = { name: IMAGE_NAME, digests: [MANIFEST_DIGEST] };

  function openvex(statements: unknown[], extra: Record<string, unknown> = {}): string {
    return JSON.stringify({ '@context': 'https://openvex.dev/ns/v0.2.0', '@id': 'https://example.test/vex/1', author: 'Team Web', timestamp: '2026-01-10T00:00:00Z', version: 1, statements, ...extra });
  }

  test('purl without version or qualifiers matches every version of the package', () => {
    const d = parseVex(openvex([{ vulnerability: { name: 'CVE-2022-37434' }, products: [{ '@id': 'pkg:deb/debian/zlib1g' }], status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path' }]), 'z.json');
    assert.equal(vexSuppression([d], zlib, image)?.reason, 'VEX not_affected (vulnerable_code_not_in_execute_path) (by Team Web)');
  });

  test('arch=source designates the binaries built from that source', () => {
    const d = parseVex(openvex([{ vulnerability: { name: 'CVE-2023-0286' }, products: [{ '@id': 'pkg:deb/debian/openssl@1.1.1n-0%2Bdeb11u3?arch=source' }], status: 'not_affected', justification: 'component_not_present' }]), 's.json');
    assert.equal(vexSuppression([d], openssl, image)?.status, 'not_affected');
    const other = parseVex(openvex([{ vulnerability: { name: 'CVE-2023-0286' }, products: [{ '@id': 'pkg:deb/debian/openssl@1.1.1n-0%2Bdeb11u4?arch=source' }], status: 'not_affected', justification: 'component_not_present' }]), 's.json');
    assert.equal(vexSuppression([other], openssl, image), undefined);
  });

  test('a different arch does not match', () => {
    const d = parseVex(openvex([{ vulnerability: { name: 'CVE-2022-37434' }, products: [{ '@id': 'pkg:deb/debian/zlib1g?arch=arm64' }], status: 'not_affected', justification: 'component_not_present' }]), 'a.json');
    assert.equal(vexSuppression([d], zlib, image), undefined);
  });

  test('image product with subcomponents: only those packages of that image', () => {
    const d = parseVex(
      openvex([
        {
          vulnerability: { name: 'CVE-2022-32221' },
          products: [{ '@id': `pkg:oci/web@${encodeURIComponent(MANIFEST_DIGEST)}?repository_url=localhost:5000/team/web`, subcomponents: [{ '@id': 'pkg:deb/debian/libcurl4' }] }],
          status: 'not_affected',
          justification: 'vulnerable_code_cannot_be_controlled_by_adversary',
          impact_statement: 'curl is only used with fixed URLs at build time',
        },
      ]),
      'i.json',
    );
    assert.equal(vexSuppression([d], curl, image)?.reason, 'VEX not_affected (vulnerable_code_cannot_be_controlled_by_adversary): curl is only used with fixed URLs at build time (by Team Web)');
    assert.equal(vexSuppression([d], curl, { name: 'localhost:5000/team/api:1.0', digests: [] }), undefined, 'another image');
    assert.equal(vexSuppression([d], curl, { name: IMAGE_NAME, digests: ['sha256:1111111111111111111111111111111111111111111111111111111111111111'] }), undefined, 'another build of the image');
  });

  test('image product by plain reference, no subcomponents: every package of the image', () => {
    const d = parseVex(openvex([{ vulnerability: 'CVE-2022-32221', products: ['localhost:5000/team/web:1.4.2'], status: 'fixed' }]), 'r.json');
    assert.equal(vexSuppression([d], curl, image)?.status, 'fixed');
  });

  test('the latest statement wins: affected after not_affected un-suppresses', () => {
    const d = parseVex(
      openvex([
        { vulnerability: { name: 'CVE-2022-37434' }, products: [{ '@id': 'pkg:deb/debian/zlib1g' }], status: 'not_affected', justification: 'vulnerable_code_not_present', timestamp: '2026-02-01T00:00:00Z' },
        { vulnerability: { name: 'CVE-2022-37434' }, products: [{ '@id': 'pkg:deb/debian/zlib1g' }], status: 'affected', action_statement: 'upgrade', timestamp: '2026-03-01T00:00:00Z' },
      ]),
      'o.json',
    );
    assert.equal(vexSuppression([d], zlib, image), undefined);
    const reversed = parseVex(
      openvex([
        { vulnerability: { name: 'CVE-2022-37434' }, products: [{ '@id': 'pkg:deb/debian/zlib1g' }], status: 'affected', timestamp: '2026-03-01T00:00:00Z' },
        { vulnerability: { name: 'CVE-2022-37434' }, products: [{ '@id': 'pkg:deb/debian/zlib1g' }], status: 'not_affected', justification: 'vulnerable_code_not_present', timestamp: '2026-04-01T00:00:00Z' },
      ]),
      'o.json',
    );
    assert.equal(vexSuppression([reversed], zlib, image)?.status, 'not_affected');
  });

  test('identifiers.purl is used when @id is not a purl', () => {
    const d = parseVex(openvex([{ vulnerability: { name: 'CVE-2022-37434' }, products: [{ '@id': 'https://example.test/products/zlib', identifiers: { purl: 'pkg:deb/debian/zlib1g@1:1.2.11.dfsg-2%2Bdeb11u1' } }], status: 'not_affected', justification: 'component_not_present' }]), 'p.json');
    assert.equal(vexSuppression([d], zlib, image)?.status, 'not_affected');
  });
});

describe('CycloneDX VEX', () => {
  const [zlib, openssl, , , , ghsa] = fixtureFindings();
  assert.ok(zlib && openssl && ghsa);
  const image: VexImage = { name: IMAGE_NAME, digests: [] };
  const bom = {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79',
    version: 1,
    metadata: { timestamp: '2026-01-05T00:00:00Z' },
    components: [
      { 'bom-ref': 'zlib', type: 'library', name: 'zlib1g', version: '1:1.2.11.dfsg-2+deb11u1', purl: 'pkg:deb/debian/zlib1g@1:1.2.11.dfsg-2%2Bdeb11u1?arch=amd64' },
      { 'bom-ref': 'x-net', type: 'library', name: 'golang.org/x/net', purl: 'pkg:golang/golang.org/x/net@v0.0.0-20180724234803-3673e40ba225' },
    ],
    vulnerabilities: [
      { id: 'CVE-2022-37434', analysis: { state: 'not_affected', justification: 'code_not_reachable', detail: 'inflateGetHeader is never called' }, affects: [{ ref: 'zlib' }] },
      { id: 'CVE-2018-17846', analysis: { state: 'resolved', detail: 'patched in vendored copy' }, affects: [{ ref: 'x-net' }] },
      { id: 'CVE-2023-0286', analysis: { state: 'false_positive' }, affects: [{ ref: 'urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#pkg:deb/debian/libssl1.1' }] },
      { id: 'CVE-2022-32221', analysis: { state: 'exploitable', response: ['update'] }, affects: [{ ref: 'pkg:deb/debian/libcurl4' }] },
      { id: 'CVE-2023-23916' },
    ],
  };

  test('analysis states map to VEX statuses; bom-refs and BOM-Links resolve to purls', () => {
    const d = parseVex(JSON.stringify(bom), 'cdx.json');
    assert.equal(d.format, 'cyclonedx');
    assert.deepEqual(d.statements.map((s) => [s.vulnerability, s.status, s.rawStatus ?? null]), [
      ['CVE-2022-37434', 'not_affected', null],
      ['CVE-2018-17846', 'fixed', 'resolved'],
      ['CVE-2023-0286', 'not_affected', 'false_positive'],
      ['CVE-2022-32221', 'affected', 'exploitable'],
    ]);
    assert.equal(vexSuppression([d], zlib, image)?.reason, 'VEX not_affected (code_not_reachable): inflateGetHeader is never called');
    assert.equal(vexSuppression([d], ghsa, image)?.reason, 'VEX resolved: patched in vendored copy', 'GHSA finding suppressed through its CVE alias');
    assert.equal(vexSuppression([d], openssl, image)?.status, 'not_affected');
    const curl = fixtureFindings()[2];
    assert.ok(curl);
    assert.equal(vexSuppression([d], curl, image), undefined);
  });

  test('affects[].versions narrows to the listed versions', () => {
    const narrowed: { vulnerabilities: unknown[] } = structuredClone(bom);
    narrowed.vulnerabilities[0] = { ...bom.vulnerabilities[0], affects: [{ ref: 'pkg:deb/debian/zlib1g', versions: [{ version: '1:1.2.11.dfsg-2+deb11u2', status: 'unaffected' }] }] };
    const d = parseVex(JSON.stringify(narrowed), 'n.json');
    assert.equal(vexSuppression([d], zlib, image), undefined);
  });
});

describe('parseVex errors', () => {
  function expectInput(text: string, fragment: string): void {
    assert.throws(() => parseVex(text, 'bad.json'), (err: unknown) => isPortcullisError(err, 'E_INPUT') && err.message.startsWith('vex: bad.json: ') && err.message.includes(fragment) && err.details.file === 'bad.json');
  }
  test('invalid JSON, unknown formats and wrong shapes name the file and the problem', () => {
    expectInput('{"@context": ', 'invalid JSON');
    expectInput('[]', 'must be a JSON object');
    expectInput('{"statements": []}', 'not a VEX document');
    expectInput(JSON.stringify({ '@context': 'https://openvex.dev/ns/v0.2.0', statements: [{ vulnerability: { name: 'CVE-2022-37434' }, products: [], status: 'safe' }] }), 'at statements[0].status: status must be one of not_affected, affected, fixed, under_investigation');
    expectInput(JSON.stringify({ '@context': 'https://openvex.dev/ns/v0.2.0', statements: [{ products: [], status: 'fixed' }] }), 'at statements[0].vulnerability');
    expectInput(JSON.stringify({ '@context': 'https://openvex.dev/ns/v0.2.0', statements: [{ vulnerability: {}, status: 'fixed' }] }), 'no name, @id or aliases');
    expectInput(JSON.stringify({ '@context': 'https://example.test/ns', statements: [] }), 'not an OpenVEX context');
    expectInput(JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', vulnerabilities: [{ id: 'CVE-2022-37434', analysis: { state: 'safe' } }] }), 'at vulnerabilities[0].analysis.state');
  });
  test('loadVex names a missing file', () => {
    assert.throws(() => loadVex('/nonexistent/vex.json'), (err: unknown) => isPortcullisError(err, 'E_INPUT') && err.message === 'vex: /nonexistent/vex.json: file not found');
  });
  test('a real document re-read from text equals the loaded one', () => {
    assert.deepEqual(parseVex(readFileSync(UBUNTU_VEX, 'utf8'), UBUNTU_VEX), loadVex(UBUNTU_VEX));
  });
});

describe('helpers', () => {
  test('vexIds keeps ids and digs well-known ids out of URLs', () => {
    assert.deepEqual(vexIds('CVE-2023-38545'), ['CVE-2023-38545']);
    assert.deepEqual(vexIds('https://www.cve.org/CVERecord?id=CVE-2023-38545'), ['CVE-2023-38545']);
    assert.deepEqual(vexIds('https://ubuntu.com/security/notices/USN-6429-1'), ['USN-6429-1']);
    assert.deepEqual(vexIds('https://github.com/advisories/GHSA-5rrg-rr89-x9mv'), ['GHSA-5RRG-RR89-X9MV']);
    assert.deepEqual(vexIds('https://curl.se/docs/security.html'), []);
  });
  test('targetFromId classifies purls, OCI purls, image references and the rest', () => {
    assert.deepEqual(targetFromId('pkg:deb/debian/zlib1g'), { kind: 'package', purl: 'pkg:deb/debian/zlib1g' });
    assert.deepEqual(targetFromId('pkg:npm/lodash@4.17.21|app/node_modules/lodash/package.json'), { kind: 'package', purl: 'pkg:npm/lodash@4.17.21', path: 'app/node_modules/lodash/package.json' });
    assert.deepEqual(targetFromId('pkg:oci/debian@sha256%3Aabc?repository_url=docker.io/library/debian'), { kind: 'image', name: 'docker.io/library/debian', digest: 'sha256:abc' });
    assert.deepEqual(targetFromId('localhost:5000/team/web@sha256:abc'), { kind: 'image', name: 'localhost:5000/team/web', digest: 'sha256:abc' });
    assert.deepEqual(targetFromId('localhost:5000/team/web:1.4.2'), { kind: 'image', name: 'localhost:5000/team/web:1.4.2' });
    assert.deepEqual(targetFromId('https://example.test/product'), { kind: 'unresolved', id: 'https://example.test/product' });
    assert.deepEqual(targetFromId('cpe:2.3:a:haxx:curl:7.81.0:*:*:*:*:*:*:*'), { kind: 'unresolved', id: 'cpe:2.3:a:haxx:curl:7.81.0:*:*:*:*:*:*:*' });
  });
});
