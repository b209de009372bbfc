import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertValidCycloneDx } from '../../test/support/schemas.js';
import { evaluatePolicy } from '../policy/evaluate.js';
import { parseVex, vexSuppression } from '../policy/vex.js';
import { fixtureReport, IMAGE_NAME } from '../policy/test-support/scan-fixtures.js';
import { cyclonedxFormat, toCycloneDxReport } from './cyclonedx.js';
import { fixtureContext, ownedFixtureContext } from './test-support/context.js';

const assertValid = assertValidCycloneDx;

type Json = Record<string, unknown>;

describe('cyclonedx report format', () => {
  const doc = JSON.parse(cyclonedxFormat.render(fixtureContext())) as { components: Json[]; vulnerabilities: Json[]; metadata: Json };
  const vuln = (id: string): Json => doc.vulnerabilities.find((v) => v.id === id) ?? {};

  test('validates against CycloneDX 1.6 (library strict JSON validator), and the check can fail', async () => {
    await assertValid(doc);
    const broken = structuredClone(doc);
    (broken.vulnerabilities[0] as Json).ratings = [{ severity: 'catastrophic' }];
    await assert.rejects(assertValidCycloneDx(broken), /CycloneDX 1.6 strict schema errors/);
  });

  test('components from the inventory, one vulnerability per id and outcome', () => {
    assert.deepEqual(doc.components.filter((c) => c.type === 'library').length, 7);
    assert.deepEqual(doc.vulnerabilities.map((v) => v.id), ['CVE-2022-37434', 'CVE-2023-0286', 'CVE-2023-23916', 'GHSA-vfw5-hrgq-h5wf', 'PYSEC-2021-1', 'CVE-2022-32221', 'CVE-2023-50495']);
  });

  test('ratings, references, affects and recommendation of an unapproved finding', () => {
    const zlib = vuln('CVE-2022-37434');
    assert.deepEqual(zlib.ratings, [
      { source: { name: 'debian' }, severity: 'critical', method: 'other', justification: 'debian rates it critical' },
      { source: { name: 'nvd' }, score: 9.8, severity: 'critical', method: 'CVSSv31', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' },
    ]);
    assert.deepEqual(zlib.references, [{ id: 'DSA-5218-1', source: { name: 'debian-tracker' } }]);
    assert.deepEqual(zlib.affects, [{ ref: 'pkg:deb/debian/zlib1g@1:1.2.11.dfsg-2%2Bdeb11u1?arch=amd64&distro=debian-11&upstream=zlib', versions: [{ version: '1:1.2.11.dfsg-2+deb11u1', status: 'affected' }] }]);
    assert.equal(zlib.recommendation, 'Upgrade to zlib1g 1:1.2.11.dfsg-2+deb11u2');
    assert.equal(zlib.analysis, undefined);
    assert.deepEqual(zlib.properties, [{ name: 'portcullis:policy-status', value: 'unapproved' }]);
    assert.deepEqual((vuln('PYSEC-2021-1').ratings as Json[])[0], { source: { name: 'osv' }, severity: 'unknown', method: 'other', justification: 'osv rates it Unknown' });
  });

  test('suppressed findings carry a VEX analysis; approvals their reason', () => {
    assert.deepEqual(vuln('CVE-2022-32221').analysis, {
      state: 'not_affected',
      justification: 'code_not_reachable',
      detail: 'VEX not_affected (vulnerable_code_not_in_execute_path): libcurl is only used for GET requests (by Team Web) [web.openvex.json]',
    });
    assert.deepEqual((vuln('CVE-2022-32221').affects as Json[])[0]?.versions, [{ version: '7.74.0-1.3+deb11u3', status: 'unaffected' }]);
    assert.deepEqual(vuln('CVE-2023-50495').analysis, { state: 'not_affected', detail: 'ncurses: no terminfo from users [.portcullisignore:2]' });
    assert.deepEqual(vuln('GHSA-vfw5-hrgq-h5wf').properties, [
      { name: 'portcullis:policy-status', value: 'approved' },
      { name: 'portcullis:policy-reason', value: 'whitelisted as CVE-2018-17846: html parser is not fed user input' },
    ]);
  });

  test('our CycloneDX VEX output is read back by our VEX reader and suppresses the same finding', () => {
    const vex = parseVex(JSON.stringify(doc), 'report.cdx.json');
    const ctx = fixtureContext();
    const curl = ctx.report.findings.find((f) => f.id === 'CVE-2022-32221');
    assert.ok(curl);
    assert.equal(vexSuppression([vex], curl, { name: IMAGE_NAME, digests: [] })?.status, 'not_affected');
  });

  test('without an inventory, components come from the findings; one id on two packages shares an entry', async () => {
    const report = fixtureReport(false);
    const [zlib] = report.findings;
    assert.ok(zlib);
    report.findings.push({ ...structuredClone(zlib), package: { ...zlib.package, name: 'zlib1g-dev', purl: 'pkg:deb/debian/zlib1g-dev@1:1.2.11.dfsg-2%2Bdeb11u1?arch=amd64&distro=debian-11&upstream=zlib' } });
    const out = toCycloneDxReport({ report, policy: evaluatePolicy(report, { imageName: IMAGE_NAME }), imageName: IMAGE_NAME });
    await assertValid(out);
    const comps = (out.components as Json[]).filter((c) => c.type === 'library');
    assert.equal(comps.length, 7, '6 distinct packages with findings + zlib1g-dev');
    const z = (out.vulnerabilities as Json[]).filter((v) => v.id === 'CVE-2022-37434');
    assert.equal(z.length, 1);
    assert.deepEqual((z[0]?.affects as Json[]).map((a) => a.ref), [zlib.package.purl, 'pkg:deb/debian/zlib1g-dev@1:1.2.11.dfsg-2%2Bdeb11u1?arch=amd64&distro=debian-11&upstream=zlib']);
  });
});

describe('cyclonedx report format: language packages an OS package installed', () => {
  test('the component carries the owner as portcullis:os-owner:* properties, with or without an inventory', async () => {
    for (const withInventory of [true, false]) {
      const ctx = ownedFixtureContext();
      if (!withInventory) delete ctx.report.inventory;
      const owned = JSON.parse(cyclonedxFormat.render(ctx)) as { components: Json[] };
      await assertValid(owned);
      const ansible = owned.components.find((c) => c.name === 'ansible');
      const props = Object.fromEntries(((ansible?.properties ?? []) as { name: string; value: string }[]).map((p) => [p.name, p.value]));
      assert.deepEqual(
        Object.entries(props).filter(([k]) => k.startsWith('portcullis:os-owner:')),
        [
          ['portcullis:os-owner:ecosystem', 'deb'],
          ['portcullis:os-owner:name', 'ansible'],
          ['portcullis:os-owner:version', '2.9.10+dfsg-1'],
          ['portcullis:os-owner:source-name', 'ansible'],
          ['portcullis:os-owner:source-version', '2.9.10+dfsg-1'],
          ['portcullis:os-owner:arch', 'all'],
        ],
      );
    }
  });
});
